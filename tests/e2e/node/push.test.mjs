// Push (enhanced fan-out over WebSockets) driven by the
// npm `ws` client: every record exactly once and in order, the first event at
// once, heartbeats, expiry and resumption, refused upgrades, error events.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
	DescribeStreamConsumerCommand,
	DescribeStreamSummaryCommand,
	ListShardsCommand,
	PutRecordsCommand,
	RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis';

import { EfoConnection, eventProblem, rawUpgrade, tryOpen } from './efo.mjs';
import {
	HOST, SUBPROTOCOL, cmpSeq, kinesisClient, listAllShards, payload, shardIdOf, sleep, startHub,
} from './hub.mjs';

const STREAM = 'e2e';

/** Registers a consumer and waits until it is ACTIVE; returns its ARN. */
async function registerConsumer(kin, name) {
	const { StreamDescriptionSummary: s } = await kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
	const r = await kin.send(new RegisterStreamConsumerCommand({ StreamARN: s.StreamARN, ConsumerName: name }));
	const arn = r.Consumer.ConsumerARN;
	for (let i = 0; i < 50; i++) {
		const d = await kin.send(new DescribeStreamConsumerCommand({ ConsumerARN: arn }));
		if (d.ConsumerDescription.ConsumerStatus === 'ACTIVE') return arn;
		await sleep(100);
	}
	throw new Error(`consumer ${name} did not become ACTIVE in 5 s`);
}

/**
 * Puts records (batches of at most 500) and files each PutRecords result
 * under its shard in `expected` (shardId -> [{seq, key, data}]).
 */
async function putMany(kin, expected, tag, n, keys) {
	for (let off = 0; off < n; off += 500) {
		const recs = [];
		for (let i = off; i < Math.min(n, off + 500); i++)
			recs.push({ PartitionKey: `${tag}-key-${i % keys}`, Data: payload(tag, i) });
		const res = await kin.send(new PutRecordsCommand({ StreamName: STREAM, Records: recs }));
		assert.equal(res.FailedRecordCount, 0, `PutRecords ${tag}: ${res.FailedRecordCount} records failed`);
		res.Records.forEach((r, i) => {
			if (!expected.has(r.ShardId)) expected.set(r.ShardId, []);
			expected.get(r.ShardId).push({ seq: r.SequenceNumber, key: recs[i].PartitionKey, data: recs[i].Data });
		});
	}
}

/** The records delivered by SubscribeToShardEvents of one shard (and consumer) on a connection. */
function delivered(conn, shardId, consumerARN, from = 0) {
	const out = [];
	for (const { ev } of conn.eventsFor(shardId, consumerARN, from))
		if (ev.Event === 'SubscribeToShardEvent' && Array.isArray(ev.Records)) out.push(...ev.Records);
	return out;
}

/** Asserts records delivered by push equal those put, exactly once and in order. */
function assertSameRecords(got, want, what) {
	const gotSeqs = got.map((r) => r.SequenceNumber);
	const seen = new Set();
	for (const s of gotSeqs) {
		assert.ok(!seen.has(s), `${what}: record ${s} delivered more than once`);
		seen.add(s);
	}
	const wantSeqs = new Set(want.map((w) => w.seq));
	const missing = want.filter((w) => !seen.has(w.seq)).map((w) => w.seq);
	const extra = gotSeqs.filter((s) => !wantSeqs.has(s));
	assert.deepEqual({ missing: missing.slice(0, 5), nMissing: missing.length, extra: extra.slice(0, 5) },
		{ missing: [], nMissing: 0, extra: [] }, `${what}: delivered ${got.length} records, put ${want.length}`);
	for (let i = 1; i < gotSeqs.length; i++)
		assert.ok(cmpSeq(gotSeqs[i - 1], gotSeqs[i]) < 0,
			`${what}: record #${i} (${gotSeqs[i]}) delivered after ${gotSeqs[i - 1]}: out of sequence order`);
	for (let i = 0; i < want.length; i++) {
		const g = got[i], w = want[i];
		assert.equal(g.SequenceNumber, w.seq, `${what}: record #${i}`);
		assert.equal(g.PartitionKey, w.key, `${what}: record ${w.seq} partition key`);
		assert.ok(Buffer.from(g.Data, 'base64').equals(w.data),
			`${what}: record ${w.seq} data ${JSON.stringify(Buffer.from(g.Data, 'base64').toString())}, put ` +
			JSON.stringify(w.data.toString()));
	}
}

function assertEventsWellFormed(conn, arn, shardId, what) {
	for (const { ev } of conn.eventsFor(shardId, arn)) {
		if (ev.Event !== 'SubscribeToShardEvent') continue;
		const p = eventProblem(ev, arn, shardId);
		assert.equal(p, null, `${what}: malformed event: ${p}`);
	}
}

// ---------------------------------------------------------------------
describe('push: delivery, heartbeats, errors', { timeout: 45000 }, () => {
	let hub, kin, shards, arn, conn;
	const expected = new Map();
	const subscribedAt = new Map();
	before(async () => {
		hub = await startHub({ stream: STREAM, shards: 4 });
		kin = kinesisClient(hub.endpoint);
		shards = (await listAllShards(kin, ListShardsCommand, STREAM)).map((s) => s.ShardId);
		for (const s of shards) expected.set(s, []);
	});
	after(async () => {
		await conn?.close();
		kin?.destroy();
		await hub?.stop();
	});

	test('backlog from TRIM_HORIZON: every record exactly once, in order, first event at once', async () => {
		arn = await registerConsumer(kin, 'push1');
		await putMany(kin, expected, 'backlog', 1000, 250);
		for (const s of shards) assert.ok(expected.get(s).length > 0, `test set-up: no records on ${s}`);

		conn = await EfoConnection.open(hub.wsUrl);
		for (const s of shards) subscribedAt.set(s, conn.subscribe(arn, s, { Type: 'TRIM_HORIZON' }));

		for (const s of shards) {
			const first = await conn.waitFor((ev) => ev.ShardId === s, { timeoutMs: 5000, what: `the first event of ${s}` });
			assert.equal(first.ev.Event, 'SubscribeToShardEvent', `first event of ${s}: ${JSON.stringify(first.ev).slice(0, 300)}`);
			const delay = first.at - subscribedAt.get(s);
			assert.ok(delay < 1000, `the first event of ${s} came ${delay} ms after SubscribeToShard; it should go out at once`);
		}
		await conn.until(() => shards.every((s) => delivered(conn, s, arn).length >= expected.get(s).length),
			{ timeoutMs: 15000, what: 'all 1000 records pushed' });
		await sleep(300); // anything extra (repeats) would show up now
		for (const s of shards) {
			assertEventsWellFormed(conn, arn, s, s);
			assertSameRecords(delivered(conn, s, arn), expected.get(s), `push ${s} backlog`);
		}
		assert.deepEqual(conn.problems, [], 'protocol problems on the connection');
	});

	test('records put while subscribed are pushed promptly, exactly once', async () => {
		const t0 = Date.now();
		await putMany(kin, expected, 'live', 400, 100);
		await conn.until(() => shards.every((s) => delivered(conn, s, arn).length >= expected.get(s).length),
			{ timeoutMs: 5000, what: 'the 400 live records pushed' });
		const took = Date.now() - t0;
		assert.ok(took < 3000, `live records took ${took} ms to be pushed`);
		await sleep(300);
		for (const s of shards) {
			assertEventsWellFormed(conn, arn, s, s);
			assertSameRecords(delivered(conn, s, arn), expected.get(s), `push ${s} backlog + live`);
		}
	});

	test('heartbeats (Records []) at least every second while idle', { timeout: 10000 }, async () => {
		const from = conn.events.length;
		const start = Date.now();
		await sleep(3500);
		const end = Date.now();
		for (const s of shards) {
			const evs = conn.eventsFor(s, arn, from);
			const last = expected.get(s)[expected.get(s).length - 1].seq;
			assert.ok(evs.length >= 3, `${s}: ${evs.length} events in 3.5 idle seconds, expected a heartbeat every second`);
			const times = [start, ...evs.map((e) => e.at), end];
			for (let i = 1; i < times.length; i++) {
				const gap = times[i] - times[i - 1];
				assert.ok(gap <= 1300, `${s}: ${gap} ms without an event while idle (heartbeats at least every second)`);
			}
			for (const { ev } of evs) {
				assert.equal(ev.Event, 'SubscribeToShardEvent', `${s} idle event type`);
				assert.deepEqual(ev.Records, [], `${s}: an idle heartbeat carries Records []`);
				assert.equal(ev.ContinuationSequenceNumber, last,
					`${s}: heartbeat ContinuationSequenceNumber should be the last record delivered (${last})`);
				assert.equal(ev.MillisBehindLatest, 0, `${s}: MillisBehindLatest of a caught-up heartbeat`);
				assert.deepEqual(ev.ChildShards, [], `${s}: heartbeat ChildShards`);
			}
		}
	});

	test('an unknown ConsumerARN gets an Exception event; the connection stays usable', async () => {
		const ghost = `${arn.replace(/\/consumer\/.*$/, '')}/consumer/ghost:1`;
		const from = conn.events.length;
		conn.subscribe(ghost, shardIdOf(0));
		const { ev } = await conn.waitFor((e) => e.ConsumerARN === ghost, { from, what: 'the answer to an unknown ConsumerARN' });
		assert.equal(ev.Event, 'Exception', `unknown ConsumerARN: got ${JSON.stringify(ev)}`);
		assert.equal(ev.__type, 'ResourceNotFoundException', `unknown ConsumerARN: got ${JSON.stringify(ev)}`);
		assert.equal(typeof ev.message, 'string', 'the Exception event has a message');
		assert.equal(ev.ShardId, shardIdOf(0), 'the Exception event names the shard');

		// An unknown shard of a real consumer.
		const arn2 = await registerConsumer(kin, 'push2');
		const f2 = conn.events.length;
		conn.subscribe(arn2, 'shardId-000000000099');
		const bad = await conn.waitFor((e) => e.ShardId === 'shardId-000000000099', { from: f2, what: 'the answer to an unknown shard' });
		assert.equal(bad.ev.Event, 'Exception', `unknown shard: got ${JSON.stringify(bad.ev)}`);
		assert.equal(bad.ev.__type, 'ResourceNotFoundException', `unknown shard: got ${JSON.stringify(bad.ev)}`);

		// Still open, still serving the old subscriptions and a new one.
		await sleep(200);
		assert.ok(conn.isOpen, `the connection closed after an Exception event: ${JSON.stringify(conn.closed)}`);
		const f3 = conn.events.length;
		conn.subscribe(arn2, shardIdOf(1), { Type: 'TRIM_HORIZON' });
		await conn.until(() => delivered(conn, shardIdOf(1), arn2, f3).length >= expected.get(shardIdOf(1)).length,
			{ timeoutMs: 5000, what: 'push2 reading shard 1 after the Exception events' });
		assertSameRecords(delivered(conn, shardIdOf(1), arn2, f3), expected.get(shardIdOf(1)), 'push2 shard 1');
		const hb = await conn.waitFor((e) => e.ShardId === shardIdOf(0) && e.ConsumerARN === arn, { from: f3, what: 'push1 shard 0 heartbeat' });
		assert.equal(hb.ev.Event, 'SubscribeToShardEvent', 'push1 subscriptions go on');
		assert.deepEqual(conn.problems, [], 'protocol problems on the connection');
	});

	test('LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP starting positions', async () => {
		const arn3 = await registerConsumer(kin, 'positions');
		const s = shardIdOf(2);
		const want = expected.get(s);
		const k = Math.floor(want.length / 2);
		const c = await EfoConnection.open(hub.wsUrl);
		try {
			const cases = [
				[{ Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: want[k].seq }, want.slice(k)],
				[{ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: want[k].seq }, want.slice(k + 1)],
				[{ Type: 'AT_TIMESTAMP', Timestamp: Date.now() / 1000 - 3600 }, want],
			];
			for (const [pos, wantRecs] of cases) {
				// One consumer per position: the same consumer and shard again within 5 s
				// would be ResourceInUseException.
				const shard = s;
				const cc = await EfoConnection.open(hub.wsUrl);
				try {
					const consumer = await registerConsumer(kin, `pos-${pos.Type.toLowerCase()}`);
					cc.subscribe(consumer, shard, pos);
					await cc.until(() => delivered(cc, shard, consumer).length >= wantRecs.length &&
						cc.eventsFor(shard, consumer).length > 0, { timeoutMs: 5000, what: `push from ${JSON.stringify(pos)}` });
					await sleep(300);
					assertSameRecords(delivered(cc, shard, consumer), wantRecs, `push from ${JSON.stringify(pos)}`);
				} finally {
					await cc.close();
				}
			}
			// LATEST: nothing old, then what is put afterwards.
			c.subscribe(arn3, s, { Type: 'LATEST' });
			const first = await c.waitFor((e) => e.ShardId === s, { what: 'the first LATEST event' });
			assert.equal(first.ev.Event, 'SubscribeToShardEvent', JSON.stringify(first.ev));
			assert.deepEqual(first.ev.Records, [], 'LATEST starts with no old records');
			const newOnes = new Map();
			await putMany(kin, newOnes, 'after-latest', 200, 50);
			for (const [sh, list] of newOnes) expected.get(sh).push(...list);
			await c.until(() => delivered(c, s, arn3).length >= newOnes.get(s).length, { what: 'records after LATEST' });
			await sleep(300);
			assertSameRecords(delivered(c, s, arn3), newOnes.get(s), 'push from LATEST');
		} finally {
			await c.close();
		}
	});

	test('a second subscription within 5 s is ResourceInUseException; after 5 s it takes over', { timeout: 15000 }, async () => {
		const arn4 = await registerConsumer(kin, 'takeover');
		const s = shardIdOf(3);
		const a = await EfoConnection.open(hub.wsUrl);
		const b = await EfoConnection.open(hub.wsUrl);
		try {
			const tA = a.subscribe(arn4, s, { Type: 'LATEST' });
			await a.waitFor((e) => e.ShardId === s, { what: 'A: first event' });
			b.subscribe(arn4, s, { Type: 'LATEST' });
			const refused = await b.waitFor((e) => e.ShardId === s, { what: 'B: answer to a second subscription' });
			assert.equal(refused.ev.Event, 'Exception', `B within 5 s: got ${JSON.stringify(refused.ev)}`);
			assert.equal(refused.ev.__type, 'ResourceInUseException', `B within 5 s: got ${JSON.stringify(refused.ev)}`);
			const aFrom = a.events.length;
			await a.waitFor((e) => e.ShardId === s, { from: aFrom, what: 'A still served after B was refused' });

			await sleep(Math.max(0, tA + 5600 - Date.now()));
			const aBefore = a.events.length;
			const bFrom = b.events.length;
			const tSub = b.subscribe(arn4, s, { Type: 'LATEST' });
			const took = await b.waitFor((e) => e.ShardId === s, { from: bFrom, what: 'B: answer after 5 s' });
			assert.equal(took.ev.Event, 'SubscribeToShardEvent', `B after 5 s should take over, got ${JSON.stringify(took.ev)}`);
			// A's subscription ends with an event, then A hears nothing more of it
			// (no heartbeats) while B is served.
			const tTake = took.at;
			await sleep(2600);
			const aAfter = a.eventsFor(s, arn4, aBefore).filter((e) => e.at >= tSub);
			assert.ok(aAfter.length >= 1, 'A: no event ended the subscription that B took over');
			const last = aAfter[aAfter.length - 1];
			assert.ok(last.at - tTake < 1100,
				`A still received events ${last.at - tTake} ms after B took over: ${aAfter.map(({ ev }) => ev.Event).join(', ')}`);
			const bEvents = b.eventsFor(s, arn4, bFrom).filter(({ ev }) => ev.Event === 'SubscribeToShardEvent');
			assert.ok(bEvents.length >= 2, `B: ${bEvents.length} events in 2.6 s after taking over, expected heartbeats`);
		} finally {
			await a.close();
			await b.close();
		}
	});

	test('upgrades without the subprotocol, with another one, or on another path are refused', async () => {
		const ok = await rawUpgrade(HOST, hub.port, '/subscribe', SUBPROTOCOL);
		assert.equal(ok.status, 101, 'control: an upgrade of /subscribe with alleycat-efo.v1 is accepted');
		assert.equal(ok.headers['sec-websocket-protocol'], SUBPROTOCOL, 'control: the hub selects alleycat-efo.v1');

		const cases = [
			['/subscribe', undefined, 'no subprotocol'],
			['/subscribe', 'chat.v2', 'another subprotocol'],
			['/elsewhere', SUBPROTOCOL, 'another path'],
			['/', SUBPROTOCOL, 'the API path'],
		];
		for (const [path, proto, what] of cases) {
			const raw = await rawUpgrade(HOST, hub.port, path, proto);
			assert.notEqual(raw.status, 101, `an upgrade with ${what} (${path}, ${proto}) was accepted (HTTP 101)`);
			const url = `ws://${HOST}:${hub.port}${path}`;
			const how = await tryOpen(url, proto);
			assert.match(how, /^(unexpected-response|error)/, `ws client, ${what}: ${how}`);
		}
		// The hub still serves after the refusals.
		const res = await fetch(`${hub.endpoint}/healthz`);
		assert.equal(res.status, 200);
	});
});

// ---------------------------------------------------------------------
describe('push: subscription expiry and resumption', { timeout: 45000 }, () => {
	let hub, kin, conn;
	before(async () => {
		hub = await startHub({ stream: STREAM, shards: 4, subscriptionSeconds: 3 });
		kin = kinesisClient(hub.endpoint);
	});
	after(async () => {
		await conn?.close();
		kin?.destroy();
		await hub?.stop();
	});

	test('--subscription-seconds 3: SubscriptionExpired, then AFTER_SEQUENCE_NUMBER resumes with no gap and no repeat', { timeout: 30000 }, async () => {
		const shards = (await listAllShards(kin, ListShardsCommand, STREAM)).map((s) => s.ShardId);
		const arn = await registerConsumer(kin, 'expiry');
		const expected = new Map(shards.map((s) => [s, []]));
		await putMany(kin, expected, 'before', 400, 100);

		conn = await EfoConnection.open(hub.wsUrl);
		const subscribed = new Map(); // shardId -> time of the latest SubscribeToShard
		const expiries = new Map(shards.map((s) => [s, []])); // shardId -> [{after ms, csn, lastDelivered}]
		const resubscribe = () => {
			// On every SubscriptionExpired: subscribe again right away, after its continuation number.
			for (let i = handled; i < conn.events.length; i++) {
				const { at, ev } = conn.events[i];
				if (ev.Event !== 'SubscriptionExpired') continue;
				const got = deliveredUpTo(ev.ShardId, i);
				expiries.get(ev.ShardId).push({
					after: at - subscribed.get(ev.ShardId), csn: ev.ContinuationSequenceNumber,
					lastDelivered: got.length ? got[got.length - 1].SequenceNumber : null, consumer: ev.ConsumerARN,
				});
				if (typeof ev.ContinuationSequenceNumber === 'string') {
					subscribed.set(ev.ShardId, conn.subscribe(arn, ev.ShardId,
						{ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: ev.ContinuationSequenceNumber }));
				}
			}
			handled = conn.events.length;
		};
		let handled = 0;
		const deliveredUpTo = (s, idx) => {
			const out = [];
			for (let i = 0; i < idx; i++) {
				const { ev } = conn.events[i];
				if (ev.ShardId === s && ev.Event === 'SubscribeToShardEvent' && Array.isArray(ev.Records)) out.push(...ev.Records);
			}
			return out;
		};
		conn.waiters.add(resubscribe);
		for (const s of shards) subscribed.set(s, conn.subscribe(arn, s, { Type: 'TRIM_HORIZON' }));

		// Keep producing across the first expiry (at about 3 s) and the resubscriptions.
		const producingUntil = Date.now() + 5000;
		let batch = 0;
		while (Date.now() < producingUntil) {
			await putMany(kin, expected, `during${batch++}`, 20, 20);
			await sleep(100);
		}
		await conn.until(() => shards.every((s) => delivered(conn, s, arn).length >= expected.get(s).length),
			{ timeoutMs: 10000, what: 'every record put before and during the expiries pushed' });
		await sleep(500);
		conn.waiters.delete(resubscribe);

		const exceptions = conn.events.filter(({ ev }) => ev.Event === 'Exception').map(({ ev }) => ev);
		assert.deepEqual(exceptions, [], 'no Exception events (resubscribing after expiry must not be ResourceInUse)');
		for (const s of shards) {
			const ex = expiries.get(s);
			assert.ok(ex.length >= 1, `${s}: no SubscriptionExpired in ${Date.now() - subscribed.get(s)} ms with --subscription-seconds 3`);
			const e = ex[0];
			assert.ok(e.after >= 2500 && e.after <= 5000,
				`${s}: SubscriptionExpired came ${e.after} ms after SubscribeToShard, expected about 3000`);
			assert.equal(e.consumer, arn, `${s}: SubscriptionExpired names the consumer`);
			for (const x of ex) {
				assert.equal(typeof x.csn, 'string', `${s}: SubscriptionExpired without a ContinuationSequenceNumber`);
				assert.equal(x.csn, x.lastDelivered,
					`${s}: SubscriptionExpired ContinuationSequenceNumber ${x.csn} should be the last record delivered (${x.lastDelivered})`);
			}
			assertEventsWellFormed(conn, arn, s, s);
			assertSameRecords(delivered(conn, s, arn), expected.get(s), `push ${s} across expiry and resubscription`);
		}
		assert.ok(batch >= 10, `test set-up: only ${batch} batches were put while subscribed`);
		assert.deepEqual(conn.problems, [], 'protocol problems on the connection');
	});
});
