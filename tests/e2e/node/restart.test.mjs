// Durability: with --data-dir every acknowledged record
// survives a crash of the hub (SIGKILL), with the same sequence numbers, and
// sequence numbers are never reused after a restart.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
	DescribeStreamSummaryCommand,
	GetRecordsCommand,
	GetShardIteratorCommand,
	ListShardsCommand,
	ListStreamConsumersCommand,
	PutRecordCommand,
	PutRecordsCommand,
	RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis';

import {
	cmpSeq, listAllShards, payload, readShard, withHub,
} from './hub.mjs';

const STREAM = 'e2e';

describe('restart with --data-dir', { timeout: 45000 }, () => {
	let shardsBefore, consumerArn;
	const expected = new Map(); // shardId -> [{seq, key, data}] in sequence order
	const allSeqs = new Set();

	const h = withHub((dir) => ({ stream: STREAM, shards: 4, dataDir: dir }));

	const file = (shardId, seq, key, data) => {
		if (!expected.has(shardId)) expected.set(shardId, []);
		expected.get(shardId).push({ seq, key, data });
		allSeqs.add(seq);
	};

	test('records acknowledged before a SIGKILL are all there after a restart, with the same sequence numbers', async () => {
		shardsBefore = await listAllShards(h.kin, ListShardsCommand, STREAM);
		const { StreamDescriptionSummary: s } = await h.kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
		consumerArn = (await h.kin.send(new RegisterStreamConsumerCommand({ StreamARN: s.StreamARN, ConsumerName: 'durable' }))).Consumer.ConsumerARN;

		// Several PutRecords in flight at once, then one PutRecord; kill -9 as soon as all are acknowledged.
		const batches = Array.from({ length: 5 }, (_, b) =>
			Array.from({ length: 100 }, (_, i) => ({ PartitionKey: `crash-${b}-${i % 37}`, Data: payload(`crash${b}`, i, 64 + (i % 200)) })));
		const results = await Promise.all(batches.map((recs) => h.kin.send(new PutRecordsCommand({ StreamName: STREAM, Records: recs }))));
		const one = { PartitionKey: 'the-last-one', Data: payload('last', 0) };
		const last = await h.kin.send(new PutRecordCommand({ StreamName: STREAM, ...one }));
		const acked = [];
		results.forEach((res, b) => {
			assert.equal(res.FailedRecordCount, 0, `PutRecords #${b}: ${res.FailedRecordCount} records failed`);
			res.Records.forEach((r, i) => acked.push({ shardId: r.ShardId, seq: r.SequenceNumber, key: batches[b][i].PartitionKey, data: batches[b][i].Data }));
		});
		acked.push({ shardId: last.ShardId, seq: last.SequenceNumber, key: one.PartitionKey, data: one.Data });
		const exit = await h.hub.kill();
		assert.equal(exit.signal, 'SIGKILL', `the hub ${h.hub.describeExit()} before the SIGKILL`);

		// Sequence order within each shard (requests ran concurrently).
		acked.sort((x, y) => cmpSeq(x.seq, y.seq));
		for (const a of acked) file(a.shardId, a.seq, a.key, a.data);
		assert.equal(allSeqs.size, acked.length, 'sequence numbers are unique across shards');

		await h.hub.start(); // same port, same data dir
		const shardsAfter = await listAllShards(h.kin, ListShardsCommand, STREAM);
		assert.deepEqual(shardsAfter, shardsBefore, 'ListShards after the restart equals ListShards before it');

		for (const sh of shardsAfter) {
			const want = expected.get(sh.ShardId) || [];
			const it = await h.kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: sh.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
			const { records } = await readShard(h.kin, GetRecordsCommand, it.ShardIterator, { what: `GetRecords ${sh.ShardId} after restart` });
			const got = records.map((r) => r.SequenceNumber);
			const missing = want.filter((w) => !got.includes(w.seq)).map((w) => w.seq);
			assert.deepEqual(missing, [], `${sh.ShardId}: ${missing.length} of ${want.length} acknowledged records lost by the SIGKILL`);
			assert.deepEqual(got, want.map((w) => w.seq), `${sh.ShardId}: sequence numbers after the restart`);
			records.forEach((r, i) => {
				assert.equal(r.PartitionKey, want[i].key, `${sh.ShardId} record ${r.SequenceNumber} partition key`);
				assert.ok(Buffer.from(r.Data).equals(want[i].data), `${sh.ShardId} record ${r.SequenceNumber} data`);
			});
		}
	});

	test('new records get higher sequence numbers than any before the restart', async () => {
		const maxBefore = new Map();
		for (const [id, list] of expected) maxBefore.set(id, list[list.length - 1].seq);
		const recs = Array.from({ length: 200 }, (_, i) => ({ PartitionKey: `after-${i}`, Data: payload('after', i) }));
		const res = await h.kin.send(new PutRecordsCommand({ StreamName: STREAM, Records: recs }));
		assert.equal(res.FailedRecordCount, 0);
		res.Records.forEach((r, i) => {
			assert.ok(!allSeqs.has(r.SequenceNumber), `new record #${i}: sequence number ${r.SequenceNumber} was used before the restart`);
			const prev = maxBefore.get(r.ShardId);
			if (prev)
				assert.ok(cmpSeq(prev, r.SequenceNumber) < 0,
					`new record #${i} on ${r.ShardId}: ${r.SequenceNumber} is not above the shard's last record before the restart (${prev})`);
			file(r.ShardId, r.SequenceNumber, recs[i].PartitionKey, recs[i].Data);
		});
	});

	test('a second crash and restart keeps old and new records', async () => {
		await h.hub.kill();
		await h.hub.start();
		for (const sh of shardsBefore) {
			const want = expected.get(sh.ShardId) || [];
			const it = await h.kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: sh.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
			const { records } = await readShard(h.kin, GetRecordsCommand, it.ShardIterator, { what: `GetRecords ${sh.ShardId} after the second restart` });
			assert.deepEqual(records.map((r) => r.SequenceNumber), want.map((w) => w.seq),
				`${sh.ShardId}: sequence numbers after the second restart`);
		}
	});

	test('registered consumers survive the restart', async () => {
		const { StreamDescriptionSummary: s } = await h.kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
		const list = await h.kin.send(new ListStreamConsumersCommand({ StreamARN: s.StreamARN }));
		assert.deepEqual(list.Consumers.map((c) => c.ConsumerARN), [consumerArn], 'ListStreamConsumers after restarts');
	});
});
