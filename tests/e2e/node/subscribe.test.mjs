// SubscribeToShardCommand of the AWS SDK for JavaScript v3 over HTTP/1.1
// (NodeHttpHandler): the hub answers with AWS's event stream, which the
// SDK decodes itself.  10,000 records read across a resubscribe from the
// continuation sequence number, nothing lost or repeated; a takeover ends
// the older subscription with ResourceInUseException.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
	ListShardsCommand,
	PutRecordsCommand,
	RegisterStreamConsumerCommand,
	SubscribeToShardCommand,
} from '@aws-sdk/client-kinesis';

import { Hub, cmpSeq, describeError, errorOf, keyForShard, kinesisClient, listAllShards, payload, sleep } from './hub.mjs';

const STREAM = 'subscribe';
const LIFETIME_S = 6;
const TOTAL = 10000;

describe('SubscribeToShardCommand (event stream over HTTP/1.1)', { timeout: 90000 }, () => {
	let hub, client, consumerARN, shards;

	before(async () => {
		hub = new Hub({ stream: STREAM, shards: 2, subscriptionSeconds: LIFETIME_S,
			shardRecordsPerSec: 0, shardBytesPerSec: 0 });
		await hub.start();
		client = kinesisClient(hub.endpoint);
		const c = await client.send(new RegisterStreamConsumerCommand({
			StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${STREAM}`, ConsumerName: 'sdk' }));
		consumerARN = c.Consumer.ConsumerARN;
		shards = await listAllShards(client, ListShardsCommand, STREAM);
	});
	after(async () => {
		client?.destroy();
		await hub?.stop();
	});

	/** Puts records from..to-1 under one key of the shard; their sequence numbers. */
	async function put(shardId, from, to) {
		const key = keyForShard(shards, shardId, 'sub');
		const seqs = [];
		for (let i = from; i < to; i += 500) {
			const n = Math.min(500, to - i);
			const out = await client.send(new PutRecordsCommand({ StreamName: STREAM,
				Records: Array.from({ length: n }, (_, j) => ({ Data: payload('sub', i + j), PartitionKey: key })) }));
			assert.equal(out.FailedRecordCount, 0, `PutRecords failed: ${JSON.stringify(out.Records.find((r) => r.ErrorCode))}`);
			for (const r of out.Records) {
				assert.equal(r.ShardId, shardId);
				seqs.push(r.SequenceNumber);
			}
		}
		return seqs;
	}

	function subscribe(shardId, position) {
		return client.send(new SubscribeToShardCommand({ ConsumerARN: consumerARN, ShardId: shardId,
			StartingPosition: position }));
	}

	/** Reads one subscription until it ends or `want` records are in. */
	async function read(shardId, position, { want, during } = {}) {
		const got = [];
		let continuation = null, events = 0;
		const answer = await subscribe(shardId, position);
		for await (const ev of answer.EventStream) {
			const e = ev.SubscribeToShardEvent;
			assert.ok(e, `not a SubscribeToShardEvent: ${JSON.stringify(ev).slice(0, 300)}`);
			events++;
			for (const r of e.Records) {
				assert.ok(r.ApproximateArrivalTimestamp instanceof Date, 'ApproximateArrivalTimestamp is a Date');
				got.push({ seq: r.SequenceNumber, data: Buffer.from(r.Data).toString() });
			}
			if (e.Records.length > 0)
				assert.equal(e.ContinuationSequenceNumber, e.Records.at(-1).SequenceNumber, 'continuation is the last record');
			continuation = e.ContinuationSequenceNumber;
			if (events === 1 && during) await during();
			if (want && got.length >= want) break;
		}
		return { got, continuation, events };
	}

	test('10,000 records across a resubscribe: all, once each, in order', async () => {
		const shardId = shards[0].ShardId;
		const sent = await put(shardId, 0, TOTAL / 2);
		const started = Date.now();
		const first = await read(shardId, { Type: 'TRIM_HORIZON' }, {
			during: async () => { sent.push(...await put(shardId, TOTAL / 2, TOTAL * 3 / 4)); } });
		const lasted = (Date.now() - started) / 1000;
		assert.ok(lasted >= LIFETIME_S - 0.5 && lasted < LIFETIME_S + 3, `the first subscription lasted ${lasted} s`);
		sent.push(...await put(shardId, TOTAL * 3 / 4, TOTAL));
		const second = await read(shardId, { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: first.continuation },
			{ want: TOTAL - first.got.length });
		const got = [...first.got, ...second.got];
		assert.equal(got.length, TOTAL, `${first.got.length} + ${second.got.length} records read`);
		assert.deepEqual(got.map((r) => r.seq), sent, 'the sequence numbers read are those put, in order');
		for (let i = 1; i < got.length; i++) assert.ok(cmpSeq(got[i - 1].seq, got[i].seq) < 0);
		assert.equal(JSON.parse(got[TOTAL - 1].data).i, TOTAL - 1);
	});

	test('a takeover ends the older subscription with ResourceInUseException', async () => {
		const shardId = shards[1].ShardId;
		const older = await subscribe(shardId, { Type: 'LATEST' });
		const opened = Date.now();
		const refused = await errorOf(() => subscribe(shardId, { Type: 'LATEST' }), 'a second subscription at once');
		assert.equal(refused.name, 'ResourceInUseException', describeError(refused));
		await sleep(5200 - (Date.now() - opened));
		const newer = await subscribe(shardId, { Type: 'LATEST' });
		const ended = await errorOf(async () => {
			for await (const ev of older.EventStream) assert.ok(ev.SubscribeToShardEvent);
		}, 'the older subscription');
		assert.equal(ended.name, 'ResourceInUseException', describeError(ended));
		for await (const ev of newer.EventStream) {
			assert.ok(ev.SubscribeToShardEvent);
			break;
		}
	});
});
