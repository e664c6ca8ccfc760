// Faults. The hub killed (SIGKILL) mid-run and restarted on its data
// directory. The simulator retries, the board reconnects, every record the
// simulator had acknowledged arrives, and the final standings equal those
// computed from what was sent.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ALLEYCAT, Hub, rmTempDir, sleep, tempDir } from './hub.mjs';
import { compare, reference } from './standings.mjs';

const STREAM = 'e2e';

/** Runs a command to its end; resolves { code, stdout, stderr }. */
function runToEnd(args) {
	const proc = spawn(ALLEYCAT, args, { env: { ...process.env, ALLEYCAT_CONFIG: '/dev/null' } });
	let stdout = '', stderr = '';
	proc.stdout.on('data', (d) => { stdout += d; });
	proc.stderr.on('data', (d) => { stderr += d; });
	return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
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
