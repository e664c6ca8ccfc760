// The hub's Kinesis JSON 1.1 API as the real AWS SDK
// for JavaScript v3 sees it: control plane, PutRecord(s) and shard routing,
// throttling, shard iterators and GetRecords, consumers, error types.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
	CreateStreamCommand,
	DeleteStreamCommand,
	DeregisterStreamConsumerCommand,
	DescribeStreamCommand,
	DescribeStreamConsumerCommand,
	DescribeStreamSummaryCommand,
	GetRecordsCommand,
	GetShardIteratorCommand,
	ListShardsCommand,
	ListStreamConsumersCommand,
	ListStreamsCommand,
	PutRecordCommand,
	PutRecordsCommand,
	RegisterStreamConsumerCommand,
} from '@aws-sdk/client-kinesis';

import {
	SEQ_RE, TWO_128, cmpSeq, describeError, errorOf, evenRanges, keyForShard, kinesisClient,
	listAllShards, md5Key, payload, readShard, shardForKey, shardIdOf, sleep, startHub,
} from './hub.mjs';

const STREAM = 'e2e';
const T = { timeout: 30000 };

/** Asserts err is the named service error, with HTTP 400. */
function assertServiceError(err, name, what) {
	assert.equal(err.name, name, `${what}: expected ${name}, got ${describeError(err)}`);
	assert.equal(err.$metadata && err.$metadata.httpStatusCode, 400,
		`${what}: ${name} should come with HTTP 400, got ${describeError(err)}`);
}

/** Polls fn until it returns a truthy value (or throws on timeout). */
async function eventually(fn, what, ms = 5000) {
	const deadline = Date.now() + ms;
	let last;
	for (;;) {
		last = await fn();
		if (last) return last;
		if (Date.now() > deadline) throw new Error(`${what}: not true after ${ms} ms`);
		await sleep(100);
	}
}

function assertRecordsEqual(got, want, what) {
	assert.equal(got.length, want.length,
		`${what}: read ${got.length} records, put ${want.length}`);
	for (let i = 0; i < want.length; i++) {
		const g = got[i], w = want[i];
		assert.equal(g.SequenceNumber, w.seq,
			`${what}: record #${i} has sequence number ${g.SequenceNumber}, PutRecords answered ${w.seq}`);
		assert.equal(g.PartitionKey, w.key, `${what}: record #${i} (${w.seq}) partition key`);
		assert.ok(Buffer.from(g.Data).equals(w.data),
			`${what}: record #${i} (${w.seq}) data ${JSON.stringify(Buffer.from(g.Data).toString())} ` +
			`differs from what was put ${JSON.stringify(w.data.toString())}`);
		assert.ok(g.ApproximateArrivalTimestamp instanceof Date &&
			Math.abs(g.ApproximateArrivalTimestamp.getTime() - Date.now()) < 120000,
		`${what}: record #${i} ApproximateArrivalTimestamp ${g.ApproximateArrivalTimestamp} is not a recent time`);
	}
}

// ---------------------------------------------------------------------
describe('control plane', T, () => {
	let hub, kin;
	before(async () => {
		hub = await startHub({ stream: STREAM, shards: 4 });
		kin = kinesisClient(hub.endpoint);
	});
	after(async () => {
		kin?.destroy();
		await hub?.stop();
	});

	test('GET /healthz answers 200 "ok"', async () => {
		const res = await fetch(`${hub.endpoint}/healthz`);
		assert.equal(res.status, 200);
		assert.equal((await res.text()).trim(), 'ok');
	});

	test('ListStreams lists the stream created at start', async () => {
		const res = await kin.send(new ListStreamsCommand({}));
		assert.ok(Array.isArray(res.StreamNames), `ListStreams: no StreamNames in ${JSON.stringify(res)}`);
		assert.ok(res.StreamNames.includes(STREAM),
			`ListStreams: ${JSON.stringify(res.StreamNames)} lacks the stream '${STREAM}' the hub was started with`);
		assert.equal(res.HasMoreStreams, false, 'ListStreams: HasMoreStreams should be false');
	});

	test('DescribeStreamSummary of the stream', async () => {
		const res = await kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
		const d = res.StreamDescriptionSummary;
		assert.ok(d, `DescribeStreamSummary: no StreamDescriptionSummary in ${JSON.stringify(res)}`);
		assert.equal(d.StreamName, STREAM);
		assert.equal(d.StreamStatus, 'ACTIVE', 'StreamStatus');
		assert.equal(d.OpenShardCount, 4, 'OpenShardCount');
		assert.match(d.StreamARN, /^arn:aws:kinesis:us-east-1:\d{12}:stream\/e2e$/, 'StreamARN');
		assert.equal(d.RetentionPeriodHours, 24, 'RetentionPeriodHours (default 24)');
		assert.ok(d.StreamCreationTimestamp instanceof Date && !isNaN(d.StreamCreationTimestamp),
			`StreamCreationTimestamp ${d.StreamCreationTimestamp} should be epoch seconds`);
		assert.ok(Math.abs(d.StreamCreationTimestamp.getTime() - Date.now()) < 3600e3,
			`StreamCreationTimestamp ${d.StreamCreationTimestamp.toISOString()} is not recent (seconds vs milliseconds?)`);
		assert.equal(typeof d.ConsumerCount, 'number', 'ConsumerCount');
	});

	test('ListShards: 4 shards whose hash key ranges tile 0..2^128-1 evenly', async () => {
		const res = await kin.send(new ListShardsCommand({ StreamName: STREAM }));
		const shards = res.Shards;
		assert.equal(shards.length, 4, `ListShards: ${shards.length} shards, expected 4`);
		assert.equal(res.NextToken, undefined, 'ListShards: no NextToken for 4 shards');
		const want = evenRanges(4);
		let next = 0n;
		shards.forEach((s, i) => {
			assert.equal(s.ShardId, shardIdOf(i), `shard #${i} id`);
			const start = BigInt(s.HashKeyRange.StartingHashKey);
			const end = BigInt(s.HashKeyRange.EndingHashKey);
			assert.equal(start, next, `${s.ShardId} starts at ${start}, expected ${next} (no gap, no overlap)`);
			assert.equal(start, want[i].start, `${s.ShardId} StartingHashKey (i*floor(2^128/4))`);
			assert.equal(end, want[i].end, `${s.ShardId} EndingHashKey`);
			assert.match(s.HashKeyRange.StartingHashKey, /^(0|[1-9][0-9]*)$/, 'hash keys are plain decimal');
			assert.match(s.SequenceNumberRange.StartingSequenceNumber, SEQ_RE,
				`${s.ShardId} StartingSequenceNumber`);
			assert.equal(s.SequenceNumberRange.EndingSequenceNumber, undefined,
				`${s.ShardId} is open: no EndingSequenceNumber`);
			assert.equal(s.ParentShardId, undefined, `${s.ShardId} has no parent`);
			next = end + 1n;
		});
		assert.equal(next, TWO_128, 'the last shard ends at 2^128-1');

		// DescribeStream agrees with ListShards.
		const ds = await kin.send(new DescribeStreamCommand({ StreamName: STREAM }));
		const desc = ds.StreamDescription;
		assert.equal(desc.StreamStatus, 'ACTIVE');
		assert.equal(desc.HasMoreShards, false, 'DescribeStream HasMoreShards');
		assert.deepEqual(desc.Shards, shards, 'DescribeStream Shards equal ListShards Shards');

		// Paging: MaxResults 3 gives a NextToken that yields the last shard.
		const p1 = await kin.send(new ListShardsCommand({ StreamName: STREAM, MaxResults: 3 }));
		assert.equal(p1.Shards.length, 3, 'ListShards MaxResults 3');
		assert.ok(p1.NextToken, 'ListShards MaxResults 3 gives a NextToken');
		const p2 = await kin.send(new ListShardsCommand({ NextToken: p1.NextToken }));
		assert.deepEqual(p2.Shards.map((s) => s.ShardId), [shardIdOf(3)], 'ListShards second page');
	});

	test('CreateStream, then ResourceInUseException on a second create, then DeleteStream', async () => {
		const name = 'e2e-created';
		await kin.send(new CreateStreamCommand({ StreamName: name, ShardCount: 2 }));
		const list = await kin.send(new ListStreamsCommand({}));
		assert.ok(list.StreamNames.includes(name), `ListStreams ${JSON.stringify(list.StreamNames)} lacks '${name}'`);
		const summary = await eventually(async () => {
			const r = await kin.send(new DescribeStreamSummaryCommand({ StreamName: name }));
			return r.StreamDescriptionSummary.StreamStatus === 'ACTIVE' && r.StreamDescriptionSummary;
		}, `stream ${name} becomes ACTIVE`);
		assert.equal(summary.OpenShardCount, 2, 'the created stream has the 2 shards asked for');
		const shards = await listAllShards(kin, ListShardsCommand, name);
		assert.deepEqual(shards.map((s) => [s.HashKeyRange.StartingHashKey, s.HashKeyRange.EndingHashKey]),
			evenRanges(2).map((r) => [String(r.start), String(r.end)]), 'hash key ranges of a 2-shard stream');

		const err = await errorOf(() => kin.send(new CreateStreamCommand({ StreamName: name, ShardCount: 2 })),
			'second CreateStream of the same name');
		assertServiceError(err, 'ResourceInUseException', 'second CreateStream');
		const err2 = await errorOf(() => kin.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 1 })),
			'CreateStream of the stream created at start');
		assertServiceError(err2, 'ResourceInUseException', 'CreateStream of the start-up stream');

		await kin.send(new DeleteStreamCommand({ StreamName: name }));
		await eventually(async () => {
			try {
				await kin.send(new DescribeStreamSummaryCommand({ StreamName: name }));
				return false;
			} catch (e) {
				assertServiceError(e, 'ResourceNotFoundException', 'DescribeStreamSummary of a deleted stream');
				return true;
			}
		}, `deleted stream ${name} disappears`);
	});

	test('CreateStream validates its input', async () => {
		const e1 = await errorOf(() => kin.send(new CreateStreamCommand({ StreamName: 'bad name!', ShardCount: 1 })),
			'CreateStream with an invalid name');
		assertServiceError(e1, 'ValidationException', 'CreateStream "bad name!"');
		const e2 = await errorOf(() => kin.send(new CreateStreamCommand({ StreamName: 'zero-shards', ShardCount: 0 })),
			'CreateStream with ShardCount 0');
		assertServiceError(e2, 'ValidationException', 'CreateStream ShardCount 0');
	});

	test('RegisterStreamConsumer, ListStreamConsumers, DescribeStreamConsumer, DeregisterStreamConsumer', async () => {
		const { StreamDescriptionSummary: s } = await kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
		const arn = s.StreamARN;
		const reg = await kin.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'c1' }));
		const c = reg.Consumer;
		assert.ok(c, `RegisterStreamConsumer: no Consumer in ${JSON.stringify(reg)}`);
		assert.equal(c.ConsumerName, 'c1');
		assert.ok(typeof c.ConsumerARN === 'string' && c.ConsumerARN.startsWith(`${arn}/consumer/c1:`),
			`ConsumerARN ${c.ConsumerARN} should be ${arn}/consumer/c1:<creation time> as in Kinesis`);
		assert.ok(['CREATING', 'ACTIVE'].includes(c.ConsumerStatus), `ConsumerStatus ${c.ConsumerStatus}`);
		assert.ok(c.ConsumerCreationTimestamp instanceof Date &&
			Math.abs(c.ConsumerCreationTimestamp.getTime() - Date.now()) < 3600e3,
		`ConsumerCreationTimestamp ${c.ConsumerCreationTimestamp} should be a recent time in epoch seconds`);

		const dup = await errorOf(() => kin.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'c1' })),
			'registering c1 twice');
		assertServiceError(dup, 'ResourceInUseException', 'second RegisterStreamConsumer of c1');

		const list = await kin.send(new ListStreamConsumersCommand({ StreamARN: arn }));
		assert.deepEqual(list.Consumers.map((x) => x.ConsumerName), ['c1'], 'ListStreamConsumers');
		assert.equal(list.Consumers[0].ConsumerARN, c.ConsumerARN, 'ListStreamConsumers ConsumerARN');

		const d1 = await eventually(async () => {
			const r = await kin.send(new DescribeStreamConsumerCommand({ ConsumerARN: c.ConsumerARN }));
			return r.ConsumerDescription.ConsumerStatus === 'ACTIVE' && r.ConsumerDescription;
		}, 'consumer c1 becomes ACTIVE');
		assert.equal(d1.ConsumerName, 'c1');
		assert.equal(d1.StreamARN, arn, 'DescribeStreamConsumer StreamARN');
		const d2 = await kin.send(new DescribeStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'c1' }));
		assert.equal(d2.ConsumerDescription.ConsumerARN, c.ConsumerARN, 'DescribeStreamConsumer by stream and name');
		const sum = await kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
		assert.equal(sum.StreamDescriptionSummary.ConsumerCount, 1, 'ConsumerCount after one registration');

		await kin.send(new DeregisterStreamConsumerCommand({ ConsumerARN: c.ConsumerARN }));
		await eventually(async () => {
			try {
				await kin.send(new DescribeStreamConsumerCommand({ ConsumerARN: c.ConsumerARN }));
				return false;
			} catch (e) {
				assertServiceError(e, 'ResourceNotFoundException', 'DescribeStreamConsumer after deregistration');
				return true;
			}
		}, 'deregistered consumer disappears');
		const after = await kin.send(new ListStreamConsumersCommand({ StreamARN: arn }));
		assert.deepEqual(after.Consumers, [], 'ListStreamConsumers after deregistration');
	});

	test('at most 20 registered consumers per stream (LimitExceededException)', async () => {
		const { StreamDescriptionSummary: s } = await kin.send(new DescribeStreamSummaryCommand({ StreamName: STREAM }));
		const arns = [];
		for (let i = 0; i < 20; i++) {
			const r = await kin.send(new RegisterStreamConsumerCommand({ StreamARN: s.StreamARN, ConsumerName: `many${i}` }));
			arns.push(r.Consumer.ConsumerARN);
		}
		const err = await errorOf(() => kin.send(new RegisterStreamConsumerCommand({ StreamARN: s.StreamARN, ConsumerName: 'many20' })),
			'the 21st consumer');
		assertServiceError(err, 'LimitExceededException', 'registering a 21st consumer');
		for (const a of arns) await kin.send(new DeregisterStreamConsumerCommand({ ConsumerARN: a }));
	});

	test('a missing stream is ResourceNotFoundException', async () => {
		const calls = {
			DescribeStreamSummary: () => kin.send(new DescribeStreamSummaryCommand({ StreamName: 'no-such-stream' })),
			DescribeStream: () => kin.send(new DescribeStreamCommand({ StreamName: 'no-such-stream' })),
			ListShards: () => kin.send(new ListShardsCommand({ StreamName: 'no-such-stream' })),
			PutRecord: () => kin.send(new PutRecordCommand({ StreamName: 'no-such-stream', PartitionKey: 'k', Data: Buffer.from('x') })),
			PutRecords: () => kin.send(new PutRecordsCommand({ StreamName: 'no-such-stream', Records: [{ PartitionKey: 'k', Data: Buffer.from('x') }] })),
			GetShardIterator: () => kin.send(new GetShardIteratorCommand({ StreamName: 'no-such-stream', ShardId: shardIdOf(0), ShardIteratorType: 'TRIM_HORIZON' })),
			DeleteStream: () => kin.send(new DeleteStreamCommand({ StreamName: 'no-such-stream' })),
		};
		for (const [op, fn] of Object.entries(calls)) {
			const err = await errorOf(fn, `${op} of a missing stream`);
			assertServiceError(err, 'ResourceNotFoundException', `${op} of a missing stream`);
		}
		const e2 = await errorOf(() => kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: 'shardId-000000000099', ShardIteratorType: 'TRIM_HORIZON' })),
			'GetShardIterator of a missing shard');
		assertServiceError(e2, 'ResourceNotFoundException', 'GetShardIterator of a missing shard');
		const e3 = await errorOf(() => kin.send(new DescribeStreamConsumerCommand({ ConsumerARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/e2e/consumer/ghost:1' })),
			'DescribeStreamConsumer of a missing consumer');
		assertServiceError(e3, 'ResourceNotFoundException', 'DescribeStreamConsumer of a missing consumer');
	});

	test('validation errors: ShardIteratorType, partition key length, batch size', async () => {
		const e1 = await errorOf(() => kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardIdOf(0), ShardIteratorType: 'SIDEWAYS' })),
			'GetShardIterator with ShardIteratorType SIDEWAYS');
		assertServiceError(e1, 'ValidationException', 'ShardIteratorType SIDEWAYS');
		const e1b = await errorOf(() => kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardIdOf(0), ShardIteratorType: 'AT_SEQUENCE_NUMBER' })),
			'AT_SEQUENCE_NUMBER without StartingSequenceNumber');
		// Kinesis itself answers InvalidArgumentException here (the request is well-formed).
		assertServiceError(e1b, 'InvalidArgumentException', 'AT_SEQUENCE_NUMBER without a StartingSequenceNumber');

		const e2 = await errorOf(() => kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k'.repeat(257), Data: Buffer.from('x') })),
			'PutRecord with a 257-char partition key');
		assertServiceError(e2, 'ValidationException', 'PutRecord 257-char partition key');
		const e3 = await errorOf(() => kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: '', Data: Buffer.from('x') })),
			'PutRecord with an empty partition key');
		assertServiceError(e3, 'ValidationException', 'PutRecord empty partition key');
		const ok = await kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k'.repeat(256), Data: Buffer.from('x') }));
		assert.match(ok.SequenceNumber, SEQ_RE, 'a 256-char partition key is accepted');

		const e4 = await errorOf(() => kin.send(new PutRecordsCommand({ StreamName: STREAM,
			Records: [{ PartitionKey: 'k'.repeat(257), Data: Buffer.from('x') }] })), 'PutRecords with a 257-char key');
		assertServiceError(e4, 'ValidationException', 'PutRecords 257-char partition key');
		const e5 = await errorOf(() => kin.send(new PutRecordsCommand({ StreamName: STREAM,
			Records: Array.from({ length: 501 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.from('x') })) })),
		'PutRecords of 501 records');
		assertServiceError(e5, 'ValidationException', 'PutRecords of 501 records');
		const e6 = await errorOf(() => kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k',
			Data: Buffer.from('x'), ExplicitHashKey: TWO_128.toString() })), 'ExplicitHashKey 2^128');
		assert.ok(['ValidationException', 'InvalidArgumentException'].includes(e6.name) && e6.$metadata.httpStatusCode === 400,
			`PutRecord ExplicitHashKey 2^128 (out of range): expected a 400 client error, got ${describeError(e6)}`);
	});

	test('an unknown X-Amz-Target is HTTP 400 UnknownOperationException', async () => {
		const res = await fetch(`${hub.endpoint}/`, {
			method: 'POST',
			headers: {
				'Content-Type': 'application/x-amz-json-1.1',
				'X-Amz-Target': 'Kinesis_20131202.FlyToTheMoon',
			},
			body: '{}',
		});
		const text = await res.text();
		assert.equal(res.status, 400, `unknown operation: HTTP ${res.status}, body ${text}`);
		let body;
		assert.doesNotThrow(() => { body = JSON.parse(text); }, `unknown operation: body is not JSON: ${text}`);
		assert.equal(body.__type, 'UnknownOperationException', `unknown operation: body ${text}`);
		assert.equal(typeof body.message, 'string', `unknown operation: body has no message: ${text}`);
	});

	test('a body that is not JSON is HTTP 400 SerializationException', async () => {
		const res = await fetch(`${hub.endpoint}/`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Kinesis_20131202.ListStreams' },
			body: '{"Limit":',
		});
		const text = await res.text();
		assert.equal(res.status, 400, `malformed JSON: HTTP ${res.status}, body ${text}`);
		assert.equal(JSON.parse(text).__type, 'SerializationException', `malformed JSON: body ${text}`);
	});
});

// ---------------------------------------------------------------------
describe('PutRecord, PutRecords, GetShardIterator, GetRecords', T, () => {
	let hub, kin, shards;
	const perShard = new Map(); // shardId -> [{seq, key, data}] in put order
	before(async () => {
		hub = await startHub({ stream: STREAM, shards: 4 });
		kin = kinesisClient(hub.endpoint);
		shards = await listAllShards(kin, ListShardsCommand, STREAM);
		for (const s of shards) perShard.set(s.ShardId, []);
	});
	after(async () => {
		kin?.destroy();
		await hub?.stop();
	});

	test('PutRecords of 500 records: per-record results in order, routed by MD5(partition key)', async () => {
		const recs = Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `racer-${i * 7919}`, Data: payload('bulk', i) }));
		const res = await kin.send(new PutRecordsCommand({ StreamName: STREAM, Records: recs }));
		assert.equal(res.FailedRecordCount, 0, `FailedRecordCount ${res.FailedRecordCount}`);
		assert.equal(res.Records.length, 500, 'one result per record');
		const seen = new Set();
		res.Records.forEach((r, i) => {
			const key = recs[i].PartitionKey;
			assert.equal(r.ErrorCode, undefined, `record #${i}: ErrorCode ${r.ErrorCode} ${r.ErrorMessage}`);
			assert.match(r.SequenceNumber, SEQ_RE, `record #${i} SequenceNumber`);
			const want = shardForKey(shards, key);
			assert.equal(r.ShardId, want,
				`record #${i} key ${key} (MD5 ${md5Key(key)}) landed on ${r.ShardId}, its hash key is in ${want}`);
			assert.ok(!seen.has(r.SequenceNumber), `record #${i}: sequence number ${r.SequenceNumber} reused`);
			seen.add(r.SequenceNumber);
			const list = perShard.get(r.ShardId);
			if (list.length) {
				const prev = list[list.length - 1].seq;
				assert.ok(cmpSeq(prev, r.SequenceNumber) < 0,
					`record #${i}: ${r.SequenceNumber} is not above the previous record of ${r.ShardId} (${prev})`);
			}
			list.push({ seq: r.SequenceNumber, key, data: recs[i].Data });
		});
		for (const [id, list] of perShard)
			assert.ok(list.length > 50, `500 keys spread over 4 shards, but ${id} got only ${list.length}`);
		// Every StartingSequenceNumber is below every record in its shard.
		for (const s of shards) {
			const first = perShard.get(s.ShardId)[0].seq;
			assert.ok(cmpSeq(s.SequenceNumberRange.StartingSequenceNumber, first) < 0,
				`${s.ShardId}: StartingSequenceNumber ${s.SequenceNumberRange.StartingSequenceNumber} not below its first record ${first}`);
		}
	});

	test('PutRecord routes by MD5 and by ExplicitHashKey', async () => {
		const key = 'single-record';
		const data = payload('single', 0);
		const r = await kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: key, Data: data }));
		assert.match(r.SequenceNumber, SEQ_RE, 'PutRecord SequenceNumber');
		assert.equal(r.ShardId, shardForKey(shards, key), `PutRecord key ${key} shard`);
		perShard.get(r.ShardId).push({ seq: r.SequenceNumber, key, data });

		// ExplicitHashKey overrides the MD5 of the key: 0 -> shard 0, 2^128-1 -> shard 3,
		// and the first hash key of each shard lands on that shard.
		const probes = [['0', 0], [String(TWO_128 - 1n), 3]];
		for (const s of shards) probes.push([s.HashKeyRange.StartingHashKey, Number(s.ShardId.slice(-12))]);
		for (const [ehk, idx] of probes) {
			const pk = keyForShard(shards, shardIdOf((idx + 1) % 4), 'ehk'); // its MD5 points elsewhere
			const d = payload('ehk', idx);
			const e = await kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: pk, Data: d, ExplicitHashKey: ehk }));
			assert.equal(e.ShardId, shardIdOf(idx), `ExplicitHashKey ${ehk} should land on ${shardIdOf(idx)}, got ${e.ShardId}`);
			perShard.get(e.ShardId).push({ seq: e.SequenceNumber, key: pk, data: d });
		}
	});

	test('GetRecords from TRIM_HORIZON reads back exactly what was put, in order', async () => {
		for (const s of shards) {
			const want = perShard.get(s.ShardId);
			const it = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: s.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
			assert.equal(typeof it.ShardIterator, 'string', `${s.ShardId}: GetShardIterator gave no ShardIterator`);
			const { records, responses } = await readShard(kin, GetRecordsCommand, it.ShardIterator,
				{ what: `GetRecords ${s.ShardId} TRIM_HORIZON` });
			assertRecordsEqual(records, want, `${s.ShardId} TRIM_HORIZON`);
			const last = responses[responses.length - 1];
			assert.equal(last.MillisBehindLatest, 0, `${s.ShardId}: MillisBehindLatest at the tip`);
		}
	});

	test('GetRecords honours Limit', async () => {
		const id = shardIdOf(1);
		const want = perShard.get(id);
		const it = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: id, ShardIteratorType: 'TRIM_HORIZON' }));
		const { records, responses } = await readShard(kin, GetRecordsCommand, it.ShardIterator,
			{ limit: 7, what: `GetRecords ${id} Limit 7` });
		assertRecordsEqual(records, want, `${id} read 7 at a time`);
		assert.equal(responses[0].Records.length, 7, 'the first call of a full shard returns Limit records');
		assert.ok(responses[0].MillisBehindLatest >= 0);
	});

	test('AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER', async () => {
		const id = shardIdOf(2);
		const want = perShard.get(id);
		const k = 17;
		for (const [type, from] of [['AT_SEQUENCE_NUMBER', k], ['AFTER_SEQUENCE_NUMBER', k + 1]]) {
			const it = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: id,
				ShardIteratorType: type, StartingSequenceNumber: want[k].seq }));
			const { records } = await readShard(kin, GetRecordsCommand, it.ShardIterator, { what: `GetRecords ${id} ${type}` });
			assertRecordsEqual(records, want.slice(from), `${id} ${type} ${want[k].seq}`);
		}
		// AFTER_SEQUENCE_NUMBER of the shard's StartingSequenceNumber reads the whole shard.
		const s = shards.find((x) => x.ShardId === id);
		const it = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: id,
			ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: s.SequenceNumberRange.StartingSequenceNumber }));
		const { records } = await readShard(kin, GetRecordsCommand, it.ShardIterator, { what: `GetRecords ${id} AFTER start` });
		assertRecordsEqual(records, want, `${id} AFTER_SEQUENCE_NUMBER StartingSequenceNumber`);
	});

	test('LATEST sees only records put after the iterator was taken', async () => {
		const id = shardIdOf(3);
		const it = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: id, ShardIteratorType: 'LATEST' }));
		const first = await kin.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
		assert.deepEqual(first.Records, [], `${id} LATEST: no records before new ones are put`);
		assert.equal(first.MillisBehindLatest, 0, 'LATEST is at the tip');
		assert.deepEqual(first.ChildShards, [], 'ChildShards [] on an open shard');
		const key = keyForShard(shards, id, 'latest');
		const added = [];
		for (let i = 0; i < 3; i++) {
			const d = payload('latest', i);
			const r = await kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: key, Data: d }));
			assert.equal(r.ShardId, id);
			added.push({ seq: r.SequenceNumber, key, data: d });
			perShard.get(id).push(added[added.length - 1]);
		}
		const { records } = await readShard(kin, GetRecordsCommand, first.NextShardIterator, { what: `GetRecords ${id} after LATEST` });
		assertRecordsEqual(records, added, `${id} LATEST`);
	});

	test('AT_TIMESTAMP', { timeout: 20000 }, async () => {
		const id = shardIdOf(0);
		const key = keyForShard(shards, id, 'ts');
		const put = async (tag, n) => {
			const out = [];
			for (let i = 0; i < n; i++) {
				const d = payload(tag, i);
				const r = await kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: key, Data: d }));
				out.push({ seq: r.SequenceNumber, key, data: d });
			}
			perShard.get(id).push(...out);
			return out;
		};
		await put('ts-before', 3);
		await sleep(1100);
		const t = new Date();
		await sleep(1100);
		const later = await put('ts-after', 4);
		const it = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: id,
			ShardIteratorType: 'AT_TIMESTAMP', Timestamp: t }));
		const { records } = await readShard(kin, GetRecordsCommand, it.ShardIterator, { what: `GetRecords ${id} AT_TIMESTAMP` });
		assertRecordsEqual(records, later, `${id} AT_TIMESTAMP ${t.toISOString()} (${t.getTime() / 1000})`);
		for (const r of records)
			assert.ok(r.ApproximateArrivalTimestamp.getTime() >= t.getTime() - 5,
				`record ${r.SequenceNumber} arrived ${r.ApproximateArrivalTimestamp.toISOString()}, before ${t.toISOString()}`);

		const past = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: id,
			ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(Date.now() - 3600e3) }));
		const all = await readShard(kin, GetRecordsCommand, past.ShardIterator, { what: 'AT_TIMESTAMP an hour ago' });
		assertRecordsEqual(all.records, perShard.get(id), `${id} AT_TIMESTAMP an hour ago reads the whole shard`);

		const future = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: id,
			ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(Date.now() + 3600e3) }));
		const none = await kin.send(new GetRecordsCommand({ ShardIterator: future.ShardIterator }));
		assert.deepEqual(none.Records, [], 'AT_TIMESTAMP an hour ahead reads nothing');
	});

	test('GetRecords with a bad iterator, or Limit above 10000, fails', async () => {
		const e1 = await errorOf(() => kin.send(new GetRecordsCommand({ ShardIterator: 'not-an-iterator' })), 'GetRecords with garbage');
		assert.ok(['InvalidArgumentException', 'ExpiredIteratorException', 'ValidationException'].includes(e1.name),
			`GetRecords with a garbage iterator: ${describeError(e1)}`);
		assert.equal(e1.$metadata.httpStatusCode, 400, describeError(e1));
		const it = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shardIdOf(0), ShardIteratorType: 'TRIM_HORIZON' }));
		const e2 = await errorOf(() => kin.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 10001 })), 'Limit 10001');
		assertServiceError(e2, 'ValidationException', 'GetRecords Limit 10001');
	});

	test('/metrics is Prometheus text', async () => {
		const res = await fetch(`${hub.endpoint}/metrics`);
		const text = await res.text();
		assert.equal(res.status, 200, `/metrics HTTP ${res.status}`);
		assert.match(res.headers.get('content-type') || '', /^text\/plain/, '/metrics Content-Type');
		for (const line of text.split('\n')) {
			if (line === '' || line.startsWith('#')) continue;
			assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? ([-+]?[0-9.eE+-]+|NaN|[+-]Inf)( -?\d+)?$/,
				`/metrics: not a Prometheus sample line: ${JSON.stringify(line)}`);
		}
		assert.match(text, /shardId-000000000000/, '/metrics names the shards');
	});
});

// ---------------------------------------------------------------------
describe('throttling', T, () => {
	let hub, kin;
	after(async () => {
		kin?.destroy();
		await hub?.stop();
	});

	test('--shard-records-per-sec 10: 50 records of one key, the first 10 succeed', async () => {
		hub = await startHub({ stream: STREAM, shards: 4, shardRecordsPerSec: 10 });
		kin = kinesisClient(hub.endpoint);
		const recs = Array.from({ length: 50 }, (_, i) => ({ PartitionKey: 'same-key', Data: payload('throttle', i) }));
		const res = await kin.send(new PutRecordsCommand({ StreamName: STREAM, Records: recs }));
		assert.equal(res.Records.length, 50, 'one result per record');
		const ok = res.Records.map((r, i) => (r.ErrorCode ? null : i)).filter((i) => i !== null);
		assert.deepEqual(ok, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
			`the successful records should be the first 10, got indexes ${JSON.stringify(ok)}`);
		assert.equal(res.FailedRecordCount, 40, 'FailedRecordCount');
		res.Records.forEach((r, i) => {
			if (i < 10) {
				assert.match(r.SequenceNumber || '', SEQ_RE, `record #${i} succeeded: SequenceNumber`);
				assert.ok(r.ShardId, `record #${i} succeeded: ShardId`);
			} else {
				assert.equal(r.ErrorCode, 'ProvisionedThroughputExceededException', `record #${i} ErrorCode`);
				assert.equal(typeof r.ErrorMessage, 'string', `record #${i} ErrorMessage`);
				assert.equal(r.SequenceNumber, undefined, `record #${i} failed: no SequenceNumber`);
			}
		});
		// The window slides: a second later the shard takes 10 more.
		await sleep(1100);
		const again = await kin.send(new PutRecordsCommand({ StreamName: STREAM, Records: recs.slice(0, 10) }));
		assert.equal(again.FailedRecordCount, 0, 'after one second the shard accepts 10 records again');

		// Only the accepted records are in the shard.
		const shards = await listAllShards(kin, ListShardsCommand, STREAM);
		const id = shardForKey(shards, 'same-key');
		const it = await kin.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: id, ShardIteratorType: 'TRIM_HORIZON' }));
		const { records } = await readShard(kin, GetRecordsCommand, it.ShardIterator, { what: 'GetRecords after throttling' });
		assert.deepEqual(records.map((r) => r.SequenceNumber),
			[...res.Records.slice(0, 10), ...again.Records].map((r) => r.SequenceNumber),
			'the shard holds exactly the 20 accepted records');

		const m = await (await fetch(`${hub.endpoint}/metrics`)).text();
		assert.match(m, /throttl/i, '/metrics reports throttling');
	});

	test('a throttled PutRecord is ProvisionedThroughputExceededException', async () => {
		// The shard of 'same-key' took 10 records in the last second above.
		const err = await errorOf(() => kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'same-key', Data: Buffer.from('x') })),
			'PutRecord over the limit');
		assertServiceError(err, 'ProvisionedThroughputExceededException', 'PutRecord over the records/s limit');
	});

	test('--shard-bytes-per-sec: once a record is refused, later records of the request for that shard are too', async () => {
		await hub.stop();
		kin.destroy();
		hub = await startHub({ stream: STREAM, shards: 4, shardBytesPerSec: 1000 });
		kin = kinesisClient(hub.endpoint);
		const shards = await listAllShards(kin, ListShardsCommand, STREAM);
		const other = keyForShard(shards, shardIdOf(1), 'o');
		const recs = [
			{ PartitionKey: 'k', Data: Buffer.alloc(500, 0x61) }, // fits
			{ PartitionKey: 'k', Data: Buffer.alloc(600, 0x62) }, // over 1000 bytes: refused
			{ PartitionKey: other, Data: Buffer.alloc(10, 0x63) }, // another shard: fine
			{ PartitionKey: 'k', Data: Buffer.alloc(50, 0x64) }, // would fit, but after a refusal: refused
		];
		assert.notEqual(shardForKey(shards, 'k'), shardIdOf(1), 'test set-up: k is not on shard 1');
		const res = await kin.send(new PutRecordsCommand({ StreamName: STREAM, Records: recs }));
		const codes = res.Records.map((r) => r.ErrorCode || 'ok');
		assert.deepEqual(codes, ['ok', 'ProvisionedThroughputExceededException', 'ok', 'ProvisionedThroughputExceededException'],
			'per-record results of a request that overflows one shard\'s bytes/s');
		assert.equal(res.FailedRecordCount, 2);
	});
});

// ---------------------------------------------------------------------
describe('shutdown', T, () => {
	test('SIGTERM stops the hub with status 0; on stdout only its ready line', async () => {
		const hub = await startHub({ stream: STREAM, shards: 2 });
		const kin = kinesisClient(hub.endpoint);
		await kin.send(new PutRecordCommand({ StreamName: STREAM, PartitionKey: 'k', Data: Buffer.from('x') }));
		kin.destroy();
		const t0 = Date.now();
		const exit = await hub.stop({ graceMs: 5000 });
		assert.deepEqual(exit, { code: 0, signal: null },
			`after SIGTERM the hub ${hub.describeExit()} (${Date.now() - t0} ms); its stderr:\n${hub.logTail()}`);
		assert.doesNotMatch(hub.stderr, /Sanitizer|runtime error:/, `sanitizer report:\n${hub.logTail(60)}`);
		assert.equal(hub.stdout, `hub ready on ${hub.endpoint}: stream ${STREAM} (2 shards); in memory (gone when the hub stops)\n`,
			'the hub prints one line on stdout: that it is ready');
	});
});
