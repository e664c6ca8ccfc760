// The consumer end to end: `alleycat board --until-finished` prints final
// standings identical to those computed from what the simulator sent, with
// duplicates on; so does a board decoding on several threads (--parallel);
// a board killed (SIGKILL) at 10 random moments and restarted ends with
// the same results and the same history; a board restarted after a
// reshard reads only the open shards: its checkpoints recorded that the
// closed parents were read to their end; checkpoints of shards the
// stream no longer has are forgotten, not read forever; and simulators
// sharing a hub ride races of their own unless one joins another's race
// (--race-id), where records of another class are bad, not merged.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';

import { ListShardsCommand, UpdateShardCountCommand } from '@aws-sdk/client-kinesis';

import { ALLEYCAT, Hub, kinesisClient, rmTempDir, sleep, tempDir, withHub } from './hub.mjs';
import { compare, reference } from './standings.mjs';

const run = promisify(execFile);
const STREAM = 'e2e';

function boardArgs(hub, db, extra = []) {
	return ['board', '--endpoint', hub.wsUrl.replace('/subscribe', ''), '--stream', STREAM,
		'--consumer', 'e2e-board', '--db', db, '--grace', '5', '--duration', '60', ...extra];
}

async function untilFinished(hub, db, extra = []) {
	const { stdout } = await run(ALLEYCAT, boardArgs(hub, db, ['--until-finished', '--format', 'json', ...extra]),
		{ timeout: 60000, maxBuffer: 64 * 1024 * 1024 });
	return JSON.parse(stdout);
}

async function simulate(hub, dir, seed, speed = 6) {
	const dump = path.join(dir, `dump-${seed}.jsonl`);
	const sim = spawn(ALLEYCAT, ['sim', '--endpoint', hub.endpoint, '--stream', STREAM, '--races', '3',
		'--racers', '100', '--duration', '60', '--speed', String(speed), '--seed', String(seed),
		'--dup-rate', '0.05', '--dump', dump, '--quiet'], { stdio: 'ignore' });
	const done = new Promise((resolve) => sim.on('exit', resolve));
	return { dump, done };
}

/** Rides one short race (`--racers 3 --duration 5 --speed 0`, as in the
 * report of two simulators in one race) to the end; its records and stderr. */
async function shortRace(hub, dir, name, extra = []) {
	const dump = path.join(dir, `${name}.jsonl`);
	const { stderr } = await run(ALLEYCAT, ['sim', '--endpoint', hub.endpoint, '--stream', STREAM,
		'--racers', '3', '--duration', '5', '--speed', '0', '--dump', dump, ...extra], { timeout: 30000 });
	const lines = (await readFile(dump, 'utf8')).trim().split('\n');
	return { lines, records: lines.map((l) => JSON.parse(l)), stderr };
}

/** board --until-finished for races of 5 seconds: its JSON and stderr. */
async function finalBoard(hub, dir, db) {
	const { stdout, stderr } = await run(ALLEYCAT, ['board', '--endpoint', hub.wsUrl.replace('/subscribe', ''),
		'--stream', STREAM, '--consumer', 'e2e-shared', '--db', path.join(dir, db), '--grace', '3',
		'--duration', '5', '--until-finished', '--format', 'json'], { timeout: 60000 });
	return { got: JSON.parse(stdout), stderr };
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

	test('--parallel 1, 4 and 10 give the standings of the records sent', async () => {
		const { dump, done } = await simulate(hub, dir, 23);
		assert.equal(await done, 0, 'the simulator lands everything');
		const expected = reference((await readFile(dump, 'utf8')).trim().split('\n'));
		for (const n of [1, 4, 10]) {
			const got = await untilFinished(hub, path.join(dir, `parallel-${n}.db`),
				['--parallel', String(n), '--consumer', `e2e-parallel-${n}`]);
			compare(got, expected);
		}
	});

	test('two runs a few seconds apart ride two races', async () => {
		const first = await shortRace(hub, dir, 'first');
		await sleep(2500);
		const second = await shortRace(hub, dir, 'second');
		const ids = (r) => [...new Set(r.records.map((x) => x.raceId))];
		assert.equal(ids(first).length, 1);
		assert.equal(ids(second).length, 1);
		assert.notEqual(ids(first)[0], ids(second)[0], 'each run rides a race of its own');
		for (const r of [first, second]) {
			assert.ok(Number.isSafeInteger(ids(r)[0]), `raceId ${ids(r)[0]} is exact in JSON`);
			assert.match(r.stderr, new RegExp(`sim: race ${ids(r)[0]}: 15 records sent`), 'the summary names the race');
		}

		const { got, stderr } = await finalBoard(hub, dir, 'two.db');
		compare(got, reference([...first.lines, ...second.lines]), 5);
		for (const r of [first, second]) {
			const race = got.races.find((x) => x.raceId === ids(r)[0]);
			assert.equal(race.classId, r.records[0].classId, 'the class its records agree on');
			assert.equal(race.racers.length, 3);
		}
		assert.doesNotMatch(stderr, /bad records/, 'nothing is bad');
	});

	test('--race-id joins a race, in its class', async () => {
		const first = await shortRace(hub, dir, 'first');
		const raceId = first.records[0].raceId;
		await sleep(1000);
		// Five racers: the first run's three and two more. Without --class the
		// class follows from the race, so the joiner rides the first one's.
		const joined = await shortRace(hub, dir, 'joined', ['--racers', '5', '--race-id', String(raceId)]);
		assert.ok(joined.records.every((r) => r.raceId === raceId && r.classId === first.records[0].classId));

		const { got, stderr } = await finalBoard(hub, dir, 'joined.db');
		assert.equal(got.races.length, 1, 'one race');
		const [race] = got.races;
		assert.equal(race.raceId, raceId);
		assert.equal(race.classId, first.records[0].classId);
		// A racer both rode scores the best of both.
		const expected = reference([...first.lines, ...joined.lines]).get(raceId);
		assert.deepEqual(race.racers.map((r) => [r.racerId, r.score]), expected.map((r) => [r.racerId, r.score]));
		assert.equal(race.racers.length, 5);
		assert.doesNotMatch(stderr, /bad records/, 'nothing is bad');
	});

	test('records of another class for the same race are bad, not merged', async () => {
		// The report: one run as class 6, one as class 4, in one raceId.
		const six = await shortRace(hub, dir, 'six', ['--race-id', '5987848000', '--class', '6']);
		await sleep(1000);
		const four = await shortRace(hub, dir, 'four', ['--race-id', '5987848000', '--class', '4']);
		assert.ok(four.records.every((r) => r.classId === 4));

		const { got, stderr } = await finalBoard(hub, dir, 'collided.db');
		compare(got, reference(six.lines), 5);
		assert.equal(got.races[0].classId, 6);
		assert.match(stderr, /15 bad records dropped of another class than their race \(the last: race 5987848000 is class 6; racer 10[0-2] sent class 4\)/);
	});

	test('a board killed and restarted mid-race ends with the same results', async () => {
		const db = path.join(dir, 'killed.db');
		const { dump, done } = await simulate(hub, dir, 22);
		// Commit every second so kills land between and during commits.
		for (let i = 0; i < 10; i++) {
			// Restarts alternate between one and three decoding threads.
			const board = spawn(ALLEYCAT, boardArgs(hub, db, ['--window', '1', '--interval', '60',
				'--parallel', String(1 + 2 * (i % 2))]),
				{ stdio: 'ignore' });
			await sleep(400 + Math.floor(Math.random() * 1000));
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

async function subscriptionsOpened(hub) {
	const text = await (await fetch(`${hub.endpoint}/metrics`)).text();
	return Number(/^alleycat_subscriptions_total (\d+)$/m.exec(text)[1]);
}

/** A hub of `shards` shards without write limits, for one describe block. */
function suiteHub(shards) {
	return withHub({ stream: STREAM, shards, shardRecordsPerSec: 0, shardBytesPerSec: 0 });
}

/** The final standings of everything the simulators that wrote these dumps sent. */
async function expectedOf(dumps) {
	return reference((await Promise.all(dumps.map((f) => readFile(f, 'utf8')))).join('').trim().split('\n'));
}

/** Rides races at full speed; the dump once every record landed. */
async function rideAll(hub, dir, seed) {
	const sim = await simulate(hub, dir, seed, 0);
	assert.equal(await sim.done, 0, 'the simulator lands everything');
	return sim.dump;
}

describe('board across a reshard', { timeout: 120000 }, () => {
	const ctx = suiteHub(2);

	test('a restarted board skips the shards it read to their end', async () => {
		const { hub, dir, kin } = ctx;
		const db = path.join(dir, 'reshard.db');
		const first = await rideAll(hub, dir, 31);
		// The two shards close; the next races land in their four children.
		await kin.send(new UpdateShardCountCommand({ StreamName: STREAM, TargetShardCount: 4,
			ScalingType: 'UNIFORM_SCALING' }));
		const expected = await expectedOf([first, await rideAll(hub, dir, 32)]);

		const before = await subscriptionsOpened(hub);
		compare(await untilFinished(hub, db), expected);
		const read = await subscriptionsOpened(hub) - before;
		assert.ok(read >= 6, `the first board read the 2 parents and 4 children (${read} subscriptions)`);

		// Restarted, it subscribes to the 4 open shards only, and still
		// knows it is caught up and every race it saw.
		const again = await subscriptionsOpened(hub);
		compare(await untilFinished(hub, db), expected);
		assert.equal(await subscriptionsOpened(hub) - again, 4, 'only the open shards are read again');
	});
});

describe('board and a long lineage', { timeout: 120000 }, () => {
	const ctx = suiteHub(2);

	// Resharding back and forth leaves closed shards behind (kept for the
	// retention period): the board follows a stream with more than 300.
	test('a board follows a stream with hundreds of closed shards', async () => {
		const { hub, dir, kin } = ctx;
		for (let i = 0, all = 0; all <= 300; i++) {
			await kin.send(new UpdateShardCountCommand({ StreamName: STREAM, TargetShardCount: i % 2 ? 2 : 3,
				ScalingType: 'UNIFORM_SCALING' }));
			all = (await kin.send(new ListShardsCommand({ StreamName: STREAM, MaxResults: 10000 }))).Shards.length;
		}
		const expected = await expectedOf([await rideAll(hub, dir, 51)]);
		compare(await untilFinished(hub, path.join(dir, 'lineage.db')), expected);
	});
});

describe('board and a wide stream', { timeout: 120000 }, () => {
	const ctx = suiteHub(300);

	// Every open shard is subscribed on the consumer's one connection.
	test('a board follows a stream of 300 open shards', async () => {
		const { hub, dir } = ctx;
		const expected = await expectedOf([await rideAll(hub, dir, 61)]);
		compare(await untilFinished(hub, path.join(dir, 'wide.db')), expected);
	});
});

async function checkpointedShards(db) {
	const { stdout } = await run('sqlite3', [db, 'SELECT shard_id FROM checkpoints ORDER BY shard_id']);
	return stdout.trim().split('\n');
}

describe('board and a stream that lost shards', { timeout: 120000 }, () => {
	let dir;

	before(async () => { dir = await tempDir(); });
	after(async () => { await rmTempDir(dir); });

	// A database that followed a stream resharded from 2 to 4 shards (0 and
	// 1 read to their end, 2 to 5 open), then a stream of that name with 2
	// shards (a hub started afresh): shards 2 to 5 are gone, and 0 and 1 are
	// open again, new shards under old names, to be read whole.
	test('checkpoints of shards the stream no longer has, or has anew, are not trusted', { skip:
		existsSync('/usr/bin/sqlite3') ? false : 'needs the sqlite3 shell (apt-get install sqlite3)' }, async () => {
		const db = path.join(dir, 'gone.db');
		const ids = (n) => Array.from({ length: n }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
		const dumps = [];

		let hub = new Hub({ stream: STREAM, shards: 2, shardRecordsPerSec: 0, shardBytesPerSec: 0 });
		await hub.start();
		const kin = kinesisClient(hub.endpoint);
		try {
			await kin.send(new UpdateShardCountCommand({ StreamName: STREAM, TargetShardCount: 4,
				ScalingType: 'UNIFORM_SCALING' }));
			dumps.push(await rideAll(hub, dir, 41));
			compare(await untilFinished(hub, db), await expectedOf(dumps));
			const { stdout } = await run('sqlite3', [db, "SELECT count(*) FROM checkpoints WHERE sequence_number = 'SHARD_END'"]);
			assert.equal(stdout.trim(), '2', 'the two closed parents are checkpointed as read to their end');
		} finally {
			kin.destroy();
			await hub.stop();
		}

		hub = new Hub({ stream: STREAM, shards: 2, shardRecordsPerSec: 0, shardBytesPerSec: 0 });
		await hub.start();
		try {
			dumps.push(await rideAll(hub, dir, 42));
			compare(await untilFinished(hub, db), await expectedOf(dumps));
			assert.deepEqual(await checkpointedShards(db), ids(2), 'a checkpoint per shard of the stream');
		} finally {
			await hub.stop();
		}
	});
});
