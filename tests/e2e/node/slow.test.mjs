// A slow consumer: one of twenty registered consumers stops reading for
// 30 seconds while the producer and the other nineteen go on. The others
// keep up all along, the hub's memory stays flat (it keeps no copy per
// consumer), and the slow one catches up afterwards with every record, in
// order.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
	DescribeStreamSummaryCommand, ListShardsCommand, PutRecordsCommand, RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis';

import { EfoConnection } from './efo.mjs';
import { ALLEYCAT, Hub, kinesisClient, sleep } from './hub.mjs';

const STREAM = 'e2e';
const SECONDS = 30;

/* Under AddressSanitizer freed memory waits in a quarantine and every
 * allocation has a shadow: RSS says nothing about the hub's own memory. */
function sanitized() {
	try {
		return execFileSync('ldd', [ALLEYCAT], { encoding: 'utf8' }).includes('libasan');
	} catch {
		return false;
	}
}

function rssKiB(pid) {
	const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
	return m ? Number(m[1]) : 0;
}

function p99(values) {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

describe('a consumer that stops reading', { timeout: (SECONDS + 60) * 1000 }, () => {
	let hub, kin;

	before(async () => {
		hub = new Hub({ stream: STREAM, shards: 1 });
		await hub.start();
		kin = kinesisClient(hub.endpoint);
	});
	after(async () => {
		kin?.destroy();
		await hub?.stop();
	});

	test('slows no one, costs the hub no memory, and catches up', async (t) => {
		const { StreamDescriptionSummary: s } = await kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
		const [{ ShardId: shard }] = (await kin.send(new ListShardsCommand({ StreamName: STREAM }))).Shards;
		const arns = [];
		for (let i = 0; i < 20; i++)
			arns.push((await kin.send(new RegisterStreamConsumerCommand({ StreamARN: s.StreamARN, ConsumerName: `c${i}` }))).Consumer.ConsumerARN);
		const conns = [];
		for (const arn of arns) {
			const c = await EfoConnection.open(hub.wsUrl);
			c.subscribe(arn, shard, { Type: 'LATEST' });
			await c.waitFor((ev) => ev.Event === 'SubscribeToShardEvent', { what: 'the first event' });
			conns.push(c);
		}
		const slow = conns[19];
		slow.ws._socket.pause(); // reads nothing from here on

		// 200 records of ~820 B every 200 ms (within the shard's 1 MiB/s), each stamped with its send time.
		const sentAt = new Map();
		const rss = [];
		let n = 0;
		for (let tick = 0; tick < SECONDS * 5; tick++) {
			const records = [];
			for (let i = 0; i < 200; i++, n++)
				records.push({ PartitionKey: `k${n % 50}`, Data: Buffer.from(JSON.stringify({ n, pad: 'x'.repeat(800) })) });
			const res = await kin.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
			assert.equal(res.FailedRecordCount, 0);
			const now = Date.now();
			res.Records.forEach((r) => sentAt.set(r.SequenceNumber, now));
			if (tick % 25 === 0) rss.push(rssKiB(hub.proc.pid));
			await sleep(200);
		}
		const total = n;
		// What each of the others had when the last batch was acknowledged.
		const newest = (c) => Math.max(-1, ...c.events.flatMap(({ ev }) => ev.Records ?? [])
			.map((r) => JSON.parse(Buffer.from(r.Data, 'base64')).n));
		const atEnd = conns.slice(0, 19).map(newest);

		// The nineteen others received everything, all along: held up
		// behind the slow one, they would have stopped once its socket's
		// buffers filled (a few seconds in), not kept within the last five
		// seconds of the producer. Their latency is printed, not judged:
		// a test asserts no time.
		const lastFiveSeconds = total - 5 * 5 * 200;
		atEnd.forEach((k, i) => assert.ok(k >= lastFiveSeconds,
			`consumer c${i} had record ${k} of ${total} when the producer stopped`));
		const latencies = [];
		for (const c of conns.slice(0, 19)) {
			await c.until(() => c.events.reduce((k, { ev }) => k + (ev.Records?.length ?? 0), 0) >= total,
				{ timeoutMs: 10000, what: 'every record at a fast consumer' });
			for (const { at, ev } of c.events)
				for (const r of ev.Records ?? [])
					if (sentAt.has(r.SequenceNumber)) latencies.push(at - sentAt.get(r.SequenceNumber));
		}
		t.diagnostic(`the others' p99 latency: ${p99(latencies)} ms`);

		// The hub kept no queue for the slow one: memory grew by about the
		// records retained (~6 MiB), not by twenty copies of them.
		const growth = rss[rss.length - 1] - rss[0];
		if (!sanitized())
			assert.ok(growth < 48 * 1024, `the hub's RSS grew by ${growth} KiB: ${rss.join(', ')}`);

		// The slow one catches up: every record, in order, none twice.
		slow.ws._socket.resume();
		await slow.until(() => slow.events.reduce((k, { ev }) => k + (ev.Records?.length ?? 0), 0) >= total,
			{ timeoutMs: 40000, what: 'every record at the slow consumer' });
		const seen = slow.events.flatMap(({ ev }) => ev.Records ?? []).map((r) => JSON.parse(Buffer.from(r.Data, 'base64')).n);
		assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i));
		for (const c of conns) c.ws.terminate();
	});
});
