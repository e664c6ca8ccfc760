// The consumer end to end: `alleycat board --until-finished` prints final
// standings identical to those computed from what the simulator sent, with
// duplicates on, and a board killed (SIGKILL) and restarted mid-race several
// times ends with the same results and the same history.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { ALLEYCAT, Hub, rmTempDir, sleep, tempDir } from './hub.mjs';
import { compare, reference } from './standings.mjs';

const run = promisify(execFile);
const STREAM = 'e2e';

function boardArgs(hub, db, extra = []) {
	return ['board', '--endpoint', hub.wsUrl.replace('/subscribe', ''), '--stream', STREAM,
		'--consumer', 'e2e-board', '--db', db, '--grace', '5', '--duration', '60', ...extra];
}

async function untilFinished(hub, db) {
	const { stdout } = await run(ALLEYCAT, boardArgs(hub, db, ['--until-finished', '--format', 'json']),
		{ timeout: 60000, maxBuffer: 64 * 1024 * 1024 });
	return JSON.parse(stdout);
}

async function simulate(hub, dir, seed) {
	const dump = path.join(dir, `dump-${seed}.jsonl`);
	const sim = spawn(ALLEYCAT, ['sim', '--endpoint', hub.endpoint, '--stream', STREAM, '--races', '3',
		'--racers', '100', '--duration', '60', '--speed', '6', '--seed', String(seed),
		'--dup-rate', '0.05', '--dump', dump, '--quiet'], { stdio: 'ignore' });
	const done = new Promise((resolve) => sim.on('exit', resolve));
	return { dump, done };
}

describe('board against the simulator', { timeout: 120000 }, () => {
	let hub, dir;

	// Each test rides its races on a hub of its own.
	beforeEach(async () => {
		dir = await tempDir();
		hub = new Hub({ stream: STREAM, shards: 4, shardRecordsPerSec: 0, shardBytesPerSec: 0 });
		await hub.start();
	});
	afterEach(async () => {
		await hub?.stop();
		await rmTempDir(dir);
	});

	test('final standings equal those computed from the records sent', async () => {
		const { dump, done } = await simulate(hub, dir, 21);
		await sleep(500);
		const got = await untilFinished(hub, path.join(dir, 'straight.db'));
		assert.equal(await done, 0, 'the simulator lands everything');
		compare(got, reference((await readFile(dump, 'utf8')).trim().split('\n')));
	});

	test('a board killed and restarted mid-race ends with the same results', async () => {
		const db = path.join(dir, 'killed.db');
		const { dump, done } = await simulate(hub, dir, 22);
		// Commit every second so kills land between and during commits.
		for (let i = 0; i < 4; i++) {
			const board = spawn(ALLEYCAT, boardArgs(hub, db, ['--window', '1', '--interval', '60']),
				{ stdio: 'ignore' });
			await sleep(700 + Math.floor(Math.random() * 1500));
			board.kill('SIGKILL');
			await new Promise((resolve) => board.on('exit', resolve));
		}
		const got = await untilFinished(hub, db);
		assert.equal(await done, 0);
		const expected = reference((await readFile(dump, 'utf8')).trim().split('\n'));
		compare(got, expected);

		// The history holds each race's results and the personal bests.
		for (const [raceId, racers] of expected) {
			const { stdout } = await run(ALLEYCAT, ['history', '--db', db, '--race', String(raceId),
				'--format', 'json']);
			assert.deepEqual(JSON.parse(stdout).races[0].racers, racers, `history of race ${raceId}`);
		}
		const { stdout } = await run(ALLEYCAT, ['history', '--db', db, '--format', 'json', '--top', '1000']);
		const leaders = JSON.parse(stdout).classes.flatMap((c) => c.leaders);
		const best = Math.max(...[...expected.values()].flat().map((r) => r.score));
		assert.equal(leaders.reduce((m, l) => Math.max(m, l.score), 0), best, 'the best score is a personal best');

		// A racer's profile: their best of the class, and every race they rode.
		const [raceId, racers] = [...expected][0];
		const winner = racers[0];
		const profile = JSON.parse((await run(ALLEYCAT, ['history', '--db', db, '--racer',
			String(winner.racerId), '--format', 'json'])).stdout).racer;
		assert.equal(profile.name, winner.name);
		assert.ok(profile.races.some((r) => r.raceId === raceId && r.rank === 1 && r.score === winner.score),
			`the profile lists the race won: ${JSON.stringify(profile)}`);
		assert.ok(profile.bests.some((b) => b.score >= winner.score), 'the profile holds the best');
	});
});
