// The bad-input catalogue (tests/bad-input/) against a running hub and
// board: every push case sent on a WebSocket of its own gets the answer its
// file expects (an Exception event, after which the connection still
// serves, the subscription starting, or the connection closed), while a
// good subscription on another connection receives every record put
// meanwhile, once and in order; and every telemetry case, put among the
// good records of a race, leaves the board's final standings those of the
// good records alone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import {
	DescribeStreamSummaryCommand,
	PutRecordsCommand,
	RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis';

import { EfoConnection } from './efo.mjs';
import { ALLEYCAT, cmpSeq, kinesisClient, rmTempDir, shardIdOf, startHub, tempDir } from './hub.mjs';

const run = promisify(execFile);
const STREAM = 'e2e';
const SHARDS = 4;

// make check exports top_srcdir; run by hand, the catalogue is beside tests/e2e.
const CATALOGUE = process.env.top_srcdir
	? path.join(process.env.top_srcdir, 'tests', 'bad-input')
	: fileURLToPath(new URL('../../bad-input/', import.meta.url));

/** The cases of one kind: { name, header, body (a Buffer, placeholders left) }. */
async function loadCases(kind, suffix) {
	const dir = path.join(CATALOGUE, kind);
	const names = (await readdir(dir)).filter((n) => n.endsWith(suffix)).sort();
	const cases = [];
	for (const name of names) {
		const raw = await readFile(path.join(dir, name));
		const eol = raw.indexOf(0x0a);
		assert.ok(eol >= 0, `${kind}/${name}: no header line`);
		cases.push({ name, header: raw.subarray(0, eol).toString('utf8'), body: raw.subarray(eol + 1) });
	}
	return cases;
}

/**
 * Expands {{NAME}} placeholders in the bytes of a case (latin1 keeps every
 * byte as it is); lookup(name) gives the text, PAD and PAD_TO are built in.
 */
async function expand(body, lookup) {
	let text = body.toString('latin1');
	const names = [...new Set([...text.matchAll(/\{\{([A-Z_]+(?::\d+)?)\}\}/g)].map((m) => m[1]))];
	for (const name of names) {
		if (name.startsWith('PAD_TO:')) continue;
		const value = name.startsWith('PAD:') ? 'x'.repeat(Number(name.slice(4))) : await lookup(name);
		assert.ok(value !== undefined, `unknown placeholder {{${name}}}`);
		text = text.split(`{{${name}}}`).join(value);
	}
	const padTo = text.match(/\{\{PAD_TO:(\d+)\}\}/);
	if (padTo) {
		const rest = Buffer.byteLength(text, 'latin1') - padTo[0].length;
		text = text.replace(padTo[0], 'x'.repeat(Math.max(0, Number(padTo[1]) - rest)));
	}
	return Buffer.from(text, 'latin1');
}

/** Sends one message as the case's framing asks. */
function sendFramed(conn, framing, data) {
	const ws = conn.ws;
	if (framing === 'text' || framing === 'binary') {
		ws.send(data, { binary: framing === 'binary' });
		return;
	}
	const m = framing.match(/^fragments=(\d+)$/);
	assert.ok(m, `unknown framing ${framing}`);
	const n = Number(m[1]);
	const size = Math.ceil(data.length / n);
	for (let i = 0; i < n; i++)
		ws.send(data.subarray(i * size, Math.min(data.length, (i + 1) * size)), { binary: false, fin: i === n - 1 });
}

/** Waits for the connection to close; resolves to the close code. */
function closed(conn, timeoutMs, what) {
	return new Promise((resolve, reject) => {
		if (conn.closed) return resolve(conn.closed.code);
		const t = setTimeout(() => reject(new Error(`${what}: still open after ${timeoutMs} ms; ${conn.summary()}`)), timeoutMs);
		conn.ws.once('close', (code) => { clearTimeout(t); resolve(code); });
	});
}

describe('bad push messages and telemetry records', { timeout: 150000 }, () => {
	let hub, kin, streamARN, dir;

	before(async () => {
		dir = await tempDir();
		hub = await startHub({ stream: STREAM, shards: SHARDS, shardRecordsPerSec: 0, shardBytesPerSec: 0,
			extraArgs: ['--max-consumers', '100'] });
		kin = kinesisClient(hub.endpoint);
		({ StreamARN: streamARN } = (await kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM })))
			.StreamDescriptionSummary);
	});
	after(async () => {
		kin?.destroy();
		await hub?.stop();
		await rmTempDir(dir);
	});

	async function register(name) {
		const r = await kin.send(new RegisterStreamConsumerCommand({ StreamARN: streamARN, ConsumerName: name }));
		return r.Consumer.ConsumerARN;
	}

	test('every push case gets its answer; a good subscription loses nothing', async () => {
		const cases = await loadCases('push', '.msg');
		assert.ok(cases.length >= 25, `${cases.length} push cases, expected at least 25`);
		const probeARN = await register('probe');
		const goodARN = await register('good');
		let fresh = 0;
		const lookup = async (name) => {
			if (name === 'ARN') return probeARN;
			if (name === 'STREAM_ARN') return streamARN;
			if (name === 'FRESH_ARN') return register(`fresh-${fresh++}`);
			return undefined;
		};

		// The good subscription: every shard from the start, on a connection of its own.
		const good = await EfoConnection.open(hub.wsUrl);
		for (let i = 0; i < SHARDS; i++) good.subscribe(goodARN, shardIdOf(i));
		const put = new Map(); // shardId -> [seq]
		let batch = 0;
		const putSome = async () => {
			const recs = [];
			for (let i = 0; i < 8; i++)
				recs.push({ PartitionKey: `bad-input-${batch}-${i}`, Data: Buffer.from(`{"batch":${batch},"i":${i}}`) });
			batch++;
			const res = await kin.send(new PutRecordsCommand({ StreamName: STREAM, Records: recs }));
			assert.equal(res.FailedRecordCount, 0);
			for (const r of res.Records) {
				if (!put.has(r.ShardId)) put.set(r.ShardId, []);
				put.get(r.ShardId).push(r.SequenceNumber);
			}
		};

		const failures = [];
		for (const c of cases) {
			await putSome();
			const [framing, expect, ...words] = c.header.split(' ');
			const what = `push/${c.name} (${c.header})`;
			const data = await expand(c.body, lookup);
			const conn = await EfoConnection.open(hub.wsUrl);
			try {
				sendFramed(conn, framing, data);
				if (expect === 'closed') {
					await closed(conn, 5000, what);
				} else if (expect.startsWith('close=')) {
					const code = await closed(conn, 5000, what);
					assert.equal(code, Number(expect.slice(6)), `${what}: closed with code ${code}`);
				} else if (expect === 'subscribed') {
					await conn.waitFor((ev) => ev.Event === 'SubscribeToShardEvent', { what });
				} else {
					const { ev } = await conn.waitFor((e) => e.Event === 'Exception', { what });
					assert.equal(ev.__type, expect, `${what}: ${ev.__type}: ${ev.message}`);
					const text = words.join(' ');
					assert.ok(typeof ev.message === 'string' && ev.message.includes(text),
						`${what}: message ${JSON.stringify(ev.message)} lacks ${JSON.stringify(text)}`);
					// Exceptions do not close the connection: it answers the next message.
					const next = conn.events.length;
					conn.send({});
					const { ev: again } = await conn.waitFor((e) => e.Event === 'Exception',
						{ from: next, what: `${what}: the answer to a second message` });
					assert.equal(again.__type, 'ValidationException', `${what}: then ${again.__type}`);
				}
				assert.deepEqual(conn.problems.filter((p) => !p.startsWith('WebSocket error')), [],
					`${what}: protocol problems`);
			} catch (err) {
				failures.push(err.message);
			} finally {
				await conn.close();
			}
			hub.assertAlive();
		}
		assert.deepEqual(failures, [], `${failures.length} of ${cases.length} push cases failed`);

		// The hub still serves, and the good subscription got every record.
		await putSome();
		const health = await fetch(`${hub.endpoint}/healthz`);
		assert.equal(health.status, 200);
		const delivered = (shardId) => good.eventsFor(shardId, goodARN)
			.filter(({ ev }) => ev.Event === 'SubscribeToShardEvent')
			.flatMap(({ ev }) => ev.Records.map((r) => r.SequenceNumber));
		await good.until(() => [...put].every(([shardId, seqs]) => delivered(shardId).length >= seqs.length),
			{ timeoutMs: 10000, what: 'every record on the good subscription' });
		for (const [shardId, seqs] of put) {
			const got = delivered(shardId);
			assert.deepEqual(got, seqs, `${shardId}: the good subscription's records`);
			for (let i = 1; i < got.length; i++) assert.ok(cmpSeq(got[i - 1], got[i]) < 0);
		}
		const ended = good.events.filter(({ ev }) => ev.Event !== 'SubscribeToShardEvent');
		assert.deepEqual(ended.map(({ ev }) => `${ev.Event} ${ev.__type}`), [], 'the good subscription went on');
		assert.equal(good.closed, null, 'the good connection stayed open');
		await good.close();
	});

	// A client must see the close code itself, every time, not 1006 (the
	// hub once closed the socket with the rest of a message unread, and
	// the reset hid the close frame): each close case runs ten times, and
	// once more followed at once by messages the hub must discard, while a
	// subscription on another connection receives every record.
	test('close codes (1003, 1007, 1009) arrive every time; the hub serves on', async () => {
		const cases = (await loadCases('push', '.msg')).filter((c) => /^\S+ close=\d+$/.test(c.header));
		const codes = new Set(cases.map((c) => c.header.split('close=')[1]));
		assert.deepEqual([...codes].sort(), ['1003', '1007', '1009'], 'the catalogue closes with each code');
		const watcherARN = await register('close-watcher');
		const lookup = async (name) => (name === 'ARN' ? watcherARN : name === 'FRESH_ARN' ? watcherARN : undefined);
		const watcher = await EfoConnection.open(hub.wsUrl);
		watcher.subscribe(watcherARN, shardIdOf(0), { Type: 'LATEST' });
		await watcher.waitFor((ev) => ev.Event === 'SubscribeToShardEvent', { what: 'the watcher\'s first event' });

		const seen = [];
		let put = 0;
		for (const c of cases) {
			const [framing, expect] = c.header.split(' ');
			const data = await expand(c.body, lookup);
			for (let round = 0; round <= 10; round++) {
				const conn = await EfoConnection.open(hub.wsUrl);
				sendFramed(conn, framing, data);
				if (round === 10) for (let i = 0; i < 5; i++) conn.send({ Action: 'SubscribeToShard' });
				const code = await closed(conn, 10000, `push/${c.name} round ${round}`);
				seen.push(`${c.name} ${expect.slice(6)} ${code}`);
				await conn.close();
			}
			await kin.send(new PutRecordsCommand({ StreamName: STREAM,
				Records: [{ PartitionKey: 'close-codes', ExplicitHashKey: '0', Data: Buffer.from(`{"after":"${c.name}"}`) }] }));
			put++;
		}
		const wrong = seen.filter((line) => { const [, want, got] = line.split(' '); return want !== got; });
		assert.deepEqual(wrong, [], `${wrong.length} of ${seen.length} closes had the wrong code (name, expected, seen)`);
		const records = () => watcher.events.flatMap(({ ev }) => ev.Records ?? []);
		await watcher.until(() => records().length >= put, { timeoutMs: 10000, what: 'a record after every case' });
		assert.equal(watcher.closed, null, 'the watcher\'s connection stayed open');
		hub.assertAlive();
		await watcher.close();
	});

	test('bad telemetry records are skipped; the standings are those of the good ones', async () => {
		const cases = await loadCases('telemetry', '.rec');
		assert.ok(cases.length >= 15, `${cases.length} telemetry cases, expected at least 15`);
		const race = Math.floor(Date.now() / 300000);
		const lookup = async (name) => (name === 'RACE' ? String(race) : undefined);

		// Four racers ride seconds 1..4, the last one final; the cases go
		// in the middle of the race, between seconds 2 and 3.
		const racer = (id, second) => ({
			event: second === 4 ? 'final' : 'update', deviceTimestamp: Date.now(), second, raceId: race,
			name: `Rider ${id}`, racerId: id, classId: 3, cadence: 60 + id % 7 + second, resistance: 40 + second,
		});
		const good = []; // the records the standings must come from, as objects
		const data = [];
		for (const second of [1, 2]) {
			for (const id of [101, 102, 103, 104]) {
				good.push(racer(id, second));
				data.push(Buffer.from(JSON.stringify(racer(id, second))));
			}
		}
		for (const c of cases) {
			const rec = await expand(c.body, lookup);
			data.push(rec);
			if (c.header === 'good') good.push(JSON.parse(rec.toString('utf8')));
			else assert.ok(c.header.startsWith('bad '), `telemetry/${c.name}: line 1 is ${c.header}`);
		}
		for (const second of [3, 4]) {
			for (const id of [101, 102, 103, 104]) {
				good.push(racer(id, second));
				data.push(Buffer.from(JSON.stringify(racer(id, second))));
			}
		}
		// One partition key: one shard, the records in the order above.
		for (let off = 0; off < data.length; off += 500) {
			const res = await kin.send(new PutRecordsCommand({ StreamName: STREAM,
				Records: data.slice(off, off + 500).map((d) => ({ PartitionKey: String(race), Data: d })) }));
			assert.equal(res.FailedRecordCount, 0);
		}

		const { stdout } = await run(ALLEYCAT, ['board', '--endpoint', hub.endpoint, '--stream', STREAM,
			'--consumer', 'bad-input-board', '--db', path.join(dir, 'board.db'), '--grace', '3',
			'--duration', '60', '--until-finished', '--format', 'json'], { timeout: 60000 });
		hub.assertAlive();
		// No raw control character reaches the output, whatever the names held.
		assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(stdout), 'raw control characters in the board\'s output');
		const got = JSON.parse(stdout);
		assert.equal(got.races.length, 1, `one race: ${JSON.stringify(got.races.map((r) => r.raceId))}`);
		assert.equal(got.races[0].raceId, race);
		assert.equal(got.races[0].status, 'finished');
		assert.deepEqual(got.races[0].racers, standings(good));
	});
});

/** Output in 1/10000 units, as Alleycat computes it. */
function output(rec) {
	return Math.round(100 * (rec.cadence + 35) * (rec.resistance + 65));
}

/** The final standings of one race's records, as the board prints them. */
function standings(records) {
	const racers = new Map();
	for (const rec of records) {
		const out = output(rec);
		const r = racers.get(rec.racerId) ?? { racerId: rec.racerId, name: rec.name, score: 0, second: 0 };
		r.score = Math.max(r.score, out);
		if (rec.second > r.second)
			Object.assign(r, { second: rec.second, output: out, cadence: rec.cadence, resistance: rec.resistance, name: rec.name });
		racers.set(rec.racerId, r);
	}
	const list = [...racers.values()].sort((a, b) => b.score - a.score || a.racerId - b.racerId);
	return list.map((r, i) => ({
		rank: i + 1, racerId: r.racerId, name: r.name, score: r.score / 10000, output: r.output / 10000,
		cadence: r.cadence, resistance: r.resistance, second: r.second, gap: (list[0].score - r.score) / 10000,
	}));
}
