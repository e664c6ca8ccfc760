// Faults. The hub killed (SIGKILL) mid-run and restarted on its data
// directory. The simulator retries, the board reconnects, every record the
// simulator had acknowledged arrives, and the final standings equal those
// computed from what was sent.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ALLEYCAT, Hub, rmTempDir, sleep, tempDir } from './hub.mjs';
import { compare, reference } from './standings.mjs';

const STREAM = 'e2e';

/** Runs a command to its end; resolves { code, stdout, stderr }. The
 *  promise's proc is the process, for killing it when a test fails. */
function runToEnd(args) {
	const proc = spawn(ALLEYCAT, args, { env: { ...process.env, ALLEYCAT_CONFIG: '/dev/null' } });
	let stdout = '', stderr = '';
	proc.stdout.on('data', (d) => { stdout += d; });
	proc.stderr.on('data', (d) => { stderr += d; });
	const done = new Promise((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
	done.proc = proc;
	return done;
}

describe('a hub crash mid-run', { timeout: 120000 }, () => {
	let hub, dir;

	before(async () => {
		dir = await tempDir();
		hub = new Hub({ stream: STREAM, shards: 4, dataDir: path.join(dir, 'hub'),
			shardRecordsPerSec: 0, shardBytesPerSec: 0 });
		await hub.start();
	});
	after(async () => {
		await hub?.stop();
		await rmTempDir(dir);
	});

	test('loses nothing acknowledged: the standings equal the reference', async () => {
		const dump = path.join(dir, 'dump.jsonl');
		const sim = runToEnd(['sim', '--endpoint', hub.endpoint, '--stream', STREAM, '--races', '2',
			'--racers', '100', '--duration', '60', '--speed', '5', '--seed', '31', '--dup-rate', '0.05',
			'--dump', dump, '--quiet', '--stats', 'json']);
		await sleep(1000);
		const board = runToEnd(['board', '--endpoint', hub.endpoint.replace('http', 'ws'), '--stream', STREAM,
			'--consumer', 'survivor', '--db', path.join(dir, 'h.db'), '--duration', '60', '--grace', '20',
			'--window', '1', '--until-finished', '--format', 'json']);

		await sleep(3000);
		const exit = await hub.kill();
		assert.equal(exit.signal, 'SIGKILL');
		await sleep(1500);
		await hub.start(); // the same port and data directory

		const s = await sim;
		assert.equal(s.code, 0, `the simulator lands everything: ${s.stderr}`);
		const stats = JSON.parse(s.stdout.trim());
		assert.equal(stats.landed, stats.sent);
		assert.ok(stats.retried > 0, `the crash made the simulator retry: ${s.stdout}`);

		const b = await board;
		assert.equal(b.code, 0, `the board finishes: ${b.stderr}`);
		compare(JSON.parse(b.stdout), reference((await readFile(dump, 'utf8')).trim().split('\n')));
	});
});

// Disk full: the board's database is on a small tmpfs that fills up while
// races run. The board keeps the live standings, reports that it cannot
// save, retries each window, and once space returns loses nothing: its
// final results equal the reference. Mounting needs root (as CI runs).
describe('a full disk under the history database', { timeout: 120000 }, () => {
	let hub, dir, mnt, mounted = false;

	before(async () => {
		dir = await tempDir();
		mnt = path.join(dir, 'db');
		await mkdir(mnt);
		try {
			execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { stdio: 'ignore' });
			mounted = true;
		} catch {
			// Not root: the test below says so and skips.
		}
		hub = new Hub({ stream: STREAM, shards: 4, shardRecordsPerSec: 0, shardBytesPerSec: 0 });
		await hub.start();
	});
	after(async () => {
		await hub?.stop();
		if (mounted) execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
		await rmTempDir(dir);
	});

	test('loses no results once space returns', async (t) => {
		if (!mounted) {
			t.skip('mounting a small tmpfs needs root');
			return;
		}
		const dump = path.join(dir, 'dump.jsonl');
		const sim = runToEnd(['sim', '--endpoint', hub.endpoint, '--stream', STREAM, '--races', '2',
			'--racers', '100', '--duration', '60', '--speed', '4', '--seed', '41', '--dump', dump, '--quiet']);
		await sleep(1000);
		const board = runToEnd(['board', '--endpoint', hub.endpoint.replace('http', 'ws'), '--stream', STREAM,
			'--consumer', 'full-disk', '--db', path.join(mnt, 'h.db'), '--duration', '60', '--grace', '20',
			'--window', '1', '--until-finished', '--format', 'json']);
		await sleep(2000);
		// Fill what is left of the tmpfs.
		const filler = path.join(mnt, 'filler');
		try {
			execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
		} catch {
			// dd stops with "No space left on device": that is the point.
		}
		await sleep(5000);
		await rm(filler);
		const s = await sim;
		assert.equal(s.code, 0);
		const b = await board;
		assert.equal(b.code, 0, `the board finishes: ${b.stderr}`);
		assert.match(b.stderr, /cannot save/, 'the board reported that it could not save');
		compare(JSON.parse(b.stdout), reference((await readFile(dump, 'utf8')).trim().split('\n')));
	});
});

/** chattr +i (on) or -i: files no one may write, root included, even
 *  through descriptors opened before. Never the -shm file: SQLite maps it,
 *  and a write to an immutable mapping kills the process (SIGBUS). */
function immutable(on, ...files) {
	execFileSync('chattr', [on ? '+i' : '-i', ...files], { stdio: 'ignore' });
}

/** Whether files in dir can be made immutable: root, and a file system
 *  with the attribute. */
async function canMakeImmutable(dir) {
	if (process.getuid?.() !== 0) return false;
	const probe = path.join(dir, 'probe');
	await writeFile(probe, '');
	try {
		immutable(true, probe);
		immutable(false, probe);
		return true;
	} catch {
		return false;
	}
}

/** A hub for one read-only case, a temporary directory and its clean-up
 *  (an immutable file cannot be removed). */
function readOnlyCase(name, body) {
	describe(name, { timeout: 120000 }, () => {
		const ctx = {};

		before(async () => {
			ctx.dir = await tempDir();
			ctx.db = path.join(ctx.dir, 'h.db');
			ctx.possible = await canMakeImmutable(ctx.dir);
			ctx.hub = new Hub({ stream: STREAM, shards: 4, shardRecordsPerSec: 0, shardBytesPerSec: 0 });
			await ctx.hub.start();
		});
		after(async () => {
			ctx.run?.sim.proc.kill('SIGKILL');
			ctx.run?.board.proc.kill('SIGKILL');
			await ctx.hub?.stop();
			try {
				immutable(false, ctx.db, `${ctx.db}-wal`);
			} catch {
				// Not made immutable, or already writable again.
			}
			await rmTempDir(ctx.dir);
		});
		body(ctx);
	});
}

/** A sim of two races and a board on ctx.db: their promises, in ctx.run. */
function simAndBoard(ctx, consumer, seed) {
	const sim = runToEnd(['sim', '--endpoint', ctx.hub.endpoint, '--stream', STREAM, '--races', '2',
		'--racers', '100', '--duration', '60', '--speed', '4', '--seed', String(seed),
		'--dump', path.join(ctx.dir, 'dump.jsonl'), '--quiet']);
	const board = runToEnd(['board', '--endpoint', ctx.hub.endpoint.replace('http', 'ws'), '--stream', STREAM,
		'--consumer', consumer, '--db', ctx.db, '--duration', '60', '--grace', '20',
		'--window', '1', '--until-finished', '--format', 'json']);
	ctx.run = { sim, board };
}

/** The board finished, said why it could not save and that it saved
 *  again, and its results equal the reference: nothing lost, nothing
 *  counted twice. A board that never saves again never finishes. */
async function checkRecovered(ctx) {
	const { sim, board } = ctx.run;
	assert.equal((await sim).code, 0);
	const b = await Promise.race([board, sleep(60000, null, { ref: false })]);
	assert.ok(b, 'the board finishes within a minute of the sim: it never saved again');
	assert.equal(b.code, 0, `the board finishes: ${b.stderr}`);
	assert.match(b.stderr, /cannot save to .*the history database is read-only/);
	assert.match(b.stderr, /saved to .* again/);
	const dump = await readFile(path.join(ctx.dir, 'dump.jsonl'), 'utf8');
	compare(JSON.parse(b.stdout), reference(dump.trim().split('\n')));
}

// The database and its write-ahead log made immutable under a running
// board, then writable again. This proves the board keeps going through
// writes the system refuses (SQLite's "disk I/O error", as on a file
// system remounted read-only), names them read-only, retries each window,
// and once the files are writable loses nothing. (A read-only remount is
// refused with EBUSY while SQLite holds the files open for writing, and
// chmod stops no open descriptor: chattr +i is how a test gets there.)
readOnlyCase('a history database made read-only under a running board', (ctx) => {
	test('loses no results once it is writable again', async (t) => {
		if (!ctx.possible) {
			t.skip('making an open file read-only needs root and chattr +i');
			return;
		}
		simAndBoard(ctx, 'read-only-later', 43);
		await sleep(3000);
		immutable(true, ctx.db, `${ctx.db}-wal`);
		await sleep(5000);
		immutable(false, ctx.db, `${ctx.db}-wal`);
		await checkRecovered(ctx);
	});
});

// A board started on a database it may not write. SQLite opens it
// read-only without a word and keeps the connection so: this proves the
// board starts all the same (it used to exit), names the failure, and
// reopens the connection once the file is writable, losing nothing.
readOnlyCase('a board started on a read-only history database', (ctx) => {
	test('starts, and loses no results once it is writable', async (t) => {
		if (!ctx.possible) {
			t.skip('making a file read-only to root needs chattr +i');
			return;
		}
		// As a user gets one: a board run creates it (history only reads).
		const made = await runToEnd(['board', '--once', '--endpoint', ctx.hub.endpoint.replace('http', 'ws'),
			'--stream', STREAM, '--consumer', 'makes-the-db', '--db', ctx.db]);
		assert.equal(made.code, 0, `a board creates the database: ${made.stderr}`);
		immutable(true, ctx.db);
		simAndBoard(ctx, 'read-only-first', 47);
		await sleep(5000);
		immutable(false, ctx.db);
		await checkRecovered(ctx);
	});
});
