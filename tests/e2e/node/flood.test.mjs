// A flood of connections against a hub capped at 64 (--max-connections).
//
// What it proves:
// - Four times as many raw TCP connections as the hub has places, opened
//   in waves while the test runs (silent ones, ones that send a request
//   header a byte at a time, ones that send whole headers and then a body a
//   byte at a time, ones that ask once and keep the connection alive
//   without asking again), do not stop service to others: the AWS SDK, on a new
//   connection for every call, puts records and reads them back with
//   GetRecords; a push subscriber connected before the flood receives every
//   record put during it; one that connects during the flood subscribes and
//   receives too. No connection is refused meanwhile: the flood's
//   connections, which are not asking anything, give up their places.
// - Every flood connection is closed by the hub, without the client doing
//   anything: evicted for a newcomer, or by the time limits (10 s for
//   headers, 5 s for a kept-alive connection's next request, 30 s for a
//   body).
// - A connection kept alive after its answer, waiting for a next request
//   that does not come, gives up its place too: with every place held by
//   such connections, the SDK still gets in.
// - A push connection holds its place only while it holds a subscription:
//   connections that sent messages the hub could not serve (answered with
//   an Exception) give their places up to the SDK; at the cap with every
//   place held by a subscriber, a newcomer is answered 503 at once, the
//   subscribers are undisturbed, and /metrics counts the refusals.
// Timing is checked only against generous limits.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import {
	DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, PutRecordCommand,
	RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

import { EfoConnection } from './efo.mjs';
import { HOST, kinesisClient, shardIdOf, sleep, startHub } from './hub.mjs';

const STREAM = 'e2e';
const CAP = 64;
const FLOOD = 4 * CAP;       // flood connections in all: few enough for a CI's ulimit -n
const WAVE = 8;              // opened every WAVE_MS
const WAVE_MS = 100;
const DRIBBLE_MS = 500;      // a byte from each dribbling connection this often

/** GET over a connection of its own that closes after the answer. */
function get(port, path) {
	return new Promise((resolve, reject) => {
		const req = http.get({ host: HOST, port, path, agent: false, timeout: 5000 }, (res) => {
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode, body }));
		});
		req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 5 s`)));
		req.on('error', reject);
	});
}

/** Waits until the hub counts at most n open connections (this GET's included). */
async function waitForConnections(port, n) {
	for (let i = 0; i < 100; i++) {
		const { status, body } = await get(port, '/metrics');
		const m = body.match(/^alleycat_connections (\d+)$/m);
		if (status === 200 && m && Number(m[1]) <= n) return;
		await sleep(100);
	}
	throw new Error(`the hub still counts more than ${n} connections after 10 s`);
}

async function metric(port, name) {
	const { status, body } = await get(port, '/metrics');
	assert.equal(status, 200, `GET /metrics answered ${status}`);
	const m = body.match(new RegExp(`^${name} (\\d+)$`, 'm'));
	assert.ok(m, `/metrics has no ${name}`);
	return Number(m[1]);
}

/**
 * The flood: connections that never send a whole request. Each records
 * when the hub closed it; none is closed from this side until stop().
 */
class Flood {
	constructor(port) {
		this.port = port;
		this.conns = [];
		this.timer = setInterval(() => this.#dribble(), DRIBBLE_MS);
	}

	open(kind) {
		const sock = net.connect(this.port, HOST);
		const c = { kind, sock, sent: 0, closedAt: null };
		sock.on('error', () => {});          // a reset is one way for the hub to close it
		sock.on('data', () => {});
		sock.on('close', () => { c.closedAt = Date.now(); });
		if (kind === 'kept')
			sock.write('GET /healthz HTTP/1.1\r\nHost: flood\r\n\r\n');
		if (kind === 'body')
			sock.write('POST / HTTP/1.1\r\nHost: flood\r\nContent-Type: application/x-amz-json-1.1\r\n' +
				'X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 4096\r\n\r\n');
		this.conns.push(c);
	}

	#dribble() {
		const header = 'GET /healthz HTTP/1.1\r\nHost: flood\r\nX-Padding: ' + 'x'.repeat(4096);
		for (const c of this.conns) {
			if (c.closedAt || c.kind === 'silent' || c.kind === 'kept') continue;
			c.sock.write(c.kind === 'header' ? header[c.sent % header.length] : '{');
			c.sent++;
		}
	}

	get stillOpen() {
		return this.conns.filter((c) => !c.closedAt);
	}

	stop() {
		clearInterval(this.timer);
		for (const c of this.conns) c.sock.destroy();
	}
}

describe('a flood of connections', { timeout: 180000 }, () => {
	let hub, consumerARN, lateARN, flood;

	before(async () => {
		hub = await startHub({ stream: STREAM, shards: 1, shardRecordsPerSec: 0, shardBytesPerSec: 0,
			extraArgs: ['--max-connections', String(CAP)] });
		const kin = kinesisClient(hub.endpoint);
		const { StreamDescriptionSummary: s } = await kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
		const register = async (name) => (await kin.send(new RegisterStreamConsumerCommand({
			StreamARN: s.StreamARN, ConsumerName: name }))).Consumer.ConsumerARN;
		consumerARN = await register('flood');
		lateARN = await register('flood-late');
		kin.destroy();
	});
	after(async () => {
		flood?.stop();
		await hub?.stop();
	});

	test('does not stop service to clients that ask, and every flood connection is closed', async (t) => {
		// Before the flood: a subscriber, reading the shard from now on.
		const early = await EfoConnection.open(hub.wsUrl);
		early.subscribe(consumerARN, shardIdOf(0), { Type: 'LATEST' });
		await early.waitFor((ev) => ev.Event === 'SubscribeToShardEvent', { what: 'the early subscriber\'s first event' });

		// A new connection for every SDK call: each must win a place from the flood.
		const agent = new http.Agent({ keepAlive: false });
		const kin = kinesisClient(hub.endpoint, {
			requestHandler: new NodeHttpHandler({ httpAgent: agent, connectionTimeout: 5000, requestTimeout: 15000 }),
		});
		flood = new Flood(hub.port);
		const kinds = ['silent', 'header', 'body', 'kept'];
		const put = [];
		let late = null;
		const { ShardIterator: first } = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM,
			ShardId: shardIdOf(0), ShardIteratorType: 'LATEST' }));
		let iterator = first;
		const read = [];
		for (let wave = 0; flood.conns.length < FLOOD; wave++) {
			for (let i = 0; i < WAVE; i++) flood.open(kinds[(wave * WAVE + i) % kinds.length]);
			const res = await kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: `flood-${wave}`,
				Data: Buffer.from(JSON.stringify({ wave })) }));
			put.push(res.SequenceNumber);
			const got = await kin.send(new GetRecordsCommand({ ShardIterator: iterator }));
			read.push(...got.Records.map((r) => r.SequenceNumber));
			iterator = got.NextShardIterator;
			if (wave === 4) {
				// A push connection opened in the middle of the flood.
				late = await EfoConnection.open(hub.wsUrl);
				late.subscribe(lateARN, shardIdOf(0), { Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: put[0] });
			}
			await sleep(WAVE_MS);
		}
		// GetRecords is read by read: whatever the last call missed comes now.
		const rest = await kin.send(new GetRecordsCommand({ ShardIterator: iterator }));
		read.push(...rest.Records.map((r) => r.SequenceNumber));
		assert.deepEqual(read, put, 'GetRecords read every record put during the flood');

		const delivered = (conn) => conn.events.flatMap(({ ev }) => ev.Records ?? []).map((r) => r.SequenceNumber);
		await early.until(() => delivered(early).length >= put.length,
			{ timeoutMs: 10000, what: 'every record at the early subscriber' });
		assert.deepEqual(delivered(early), put, 'the early subscriber got every record, once, in order');
		assert.equal(early.closed, null, 'the early subscriber stayed connected');
		assert.ok(late, 'the late subscriber connected');
		await late.until(() => delivered(late).length >= put.length,
			{ timeoutMs: 10000, what: 'every record at the late subscriber' });
		assert.deepEqual(delivered(late), put, 'the late subscriber got every record from the first on');
		assert.deepEqual(await metric(hub.port, 'alleycat_connections_refused_total'), 0,
			'no connection was refused');
		const evicted = await metric(hub.port, 'alleycat_connections_evicted_total');
		// Some of the flood may have timed out rather than made room, but the
		// cap must have been reached, or this test proved nothing.
		assert.ok(evicted > 0, 'no connection was evicted: the flood never reached the cap');

		// Stop opening; the hub closes the rest itself: 10 s for headers,
		// 30 s for a body, from when they connected.
		const stoppedAt = Date.now();
		const left = flood.stillOpen.length;
		while (flood.stillOpen.length > 0 && Date.now() - stoppedAt < 60000) await sleep(500);
		const open = flood.stillOpen.map((c) => c.kind);
		assert.deepEqual(open, [], `flood connections the hub left open after 60 s (${left} were open when the flood stopped)`);
		const lastClose = Math.max(...flood.conns.map((c) => c.closedAt)) - stoppedAt;
		hub.assertAlive();
		kin.destroy();
		await early.close();
		await late.close();
		// Recorded for the report: how long the last idle connection lived on.
		t.diagnostic(`${evicted} evicted; ${left} open when the flood stopped; the last closed ${lastClose} ms later`);
	});

	test('kept-alive connections waiting for a next request give up their places', async () => {
		await waitForConnections(hub.port, 1);
		const evictedBefore = await metric(hub.port, 'alleycat_connections_evicted_total');
		const kept = new Flood(hub.port);
		for (let i = 0; i < CAP; i++) kept.open('kept');
		// Every one answered (200) and kept alive: every place is held.
		await Promise.all(kept.conns.map((c) => new Promise((resolve) => {
			c.sock.once('data', resolve);
			c.sock.once('close', resolve);
		})));
		const kin = kinesisClient(hub.endpoint, {
			requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: false }) }),
		});
		for (let i = 0; i < 3; i++)
			await kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: `kept-${i}`, Data: Buffer.from('{}') }));
		kin.destroy();
		kept.stop();
		// The first call's connection took a kept-alive one's place; the
		// next ones took the place it left.
		assert.ok(await metric(hub.port, 'alleycat_connections_evicted_total') > evictedBefore,
			'no kept-alive connection gave up its place');
	});
});

// The cap's last case on a hub of its own, capped at 8: a push connection
// holds its place while it holds a subscription, and only then.
describe('push connections at the cap', { timeout: 120000 }, () => {
	const SMALL = 8;
	let hub, arns;

	before(async () => {
		hub = await startHub({ stream: STREAM, shards: 2, shardRecordsPerSec: 0, shardBytesPerSec: 0,
			extraArgs: ['--max-connections', String(SMALL)] });
		const kin = kinesisClient(hub.endpoint);
		const { StreamDescriptionSummary: s } = await kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
		arns = [];
		for (let i = 0; i < SMALL / 2; i++) {
			arns.push((await kin.send(new RegisterStreamConsumerCommand({ StreamARN: s.StreamARN,
				ConsumerName: `cap-${i}` }))).Consumer.ConsumerARN);
		}
		kin.destroy();
	});
	after(async () => { await hub?.stop(); });

	/** A connection subscribed as the i-th (consumer, shard) pair. */
	async function subscriber(i) {
		const c = await EfoConnection.open(hub.wsUrl);
		c.subscribe(arns[i >> 1], shardIdOf(i & 1), { Type: 'TRIM_HORIZON' });
		await c.waitFor((ev) => ev.Event === 'SubscribeToShardEvent', { what: `subscriber ${i}'s first event` });
		return c;
	}

	test('connections that only sent messages do not hold their places', async () => {
		// Every place taken by a connection that asked something the hub
		// could not serve (answered with an Exception, no subscription).
		const junk = [];
		for (let i = 0; i < SMALL; i++) {
			const c = await EfoConnection.open(hub.wsUrl);
			c.send({});
			await c.waitFor((ev) => ev.Event === 'Exception', { what: `junk ${i}'s answer` });
			junk.push(c);
		}
		// Reading /metrics needs a place: a junk connection gives up its own.
		assert.ok(await metric(hub.port, 'alleycat_connections_evicted_total') >= 1,
			'a junk connection gave up its place');
		const kin = kinesisClient(hub.endpoint);
		await kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'past-junk', Data: Buffer.from('{}') }));
		kin.destroy();
		for (let i = 0; i < 50 && !junk.some((c) => c.closed); i++) await sleep(100);
		assert.ok(junk.some((c) => c.closed), 'the hub closed the evicted junk connections');
		for (const c of junk) await c.close();
		await waitForConnections(hub.port, 1);
	});

	test('at the cap with every place subscribed, a newcomer gets 503 and the others go on', async () => {
		const subscribers = [];
		for (let i = 0; i < SMALL; i++) subscribers.push(await subscriber(i));
		const t0 = Date.now();
		const refused = [];
		for (let i = 0; i < 5; i++) refused.push(await get(hub.port, '/healthz'));
		assert.deepEqual(refused.map((r) => r.status), [503, 503, 503, 503, 503], 'newcomers are refused');
		assert.equal(JSON.parse(refused[0].body).__type, 'ServiceUnavailableException');
		assert.ok(Date.now() - t0 < 5000, `five refusals took ${Date.now() - t0} ms`);

		// The established connections were not disturbed: heartbeats went
		// on, and none was closed.
		const watcher = subscribers[0];
		const before = watcher.events.length;
		await watcher.waitFor((ev) => ev.Event === 'SubscribeToShardEvent', { from: before, what: 'a heartbeat at the cap' });
		assert.deepEqual(subscribers.filter((c) => c.closed).length, 0, 'subscribers closed by the hub');
		assert.ok(await metricAfterRoom(subscribers) >= 5, 'refusals are counted');
		hub.assertAlive();
	});

	/** Closes all but the first subscriber, then reads the refusal count. */
	async function metricAfterRoom(subscribers) {
		for (const c of subscribers.slice(1)) await c.close();
		await waitForConnections(hub.port, 2);
		const n = await metric(hub.port, 'alleycat_connections_refused_total');
		await subscribers[0].close();
		return n;
	}
});
