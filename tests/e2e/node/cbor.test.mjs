// The hub's Kinesis API with CBOR bodies (application/x-amz-cbor-1.1), as the
// AWS SDK for Java v2 and the KCL send them by default: every operation of
// the SDK suite, through a small client that writes what the Java SDK's
// Jackson CBOR generator writes (indefinite-length maps and arrays, Data as
// a byte string, timestamps as tag 1 holding epoch milliseconds), with the
// headers it sends (signed with SigV4 by the SDK's own signer against a hub
// with --auth sigv4), and reads the answers with an independent decoder
// (npm `cbor`).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import cbor from 'cbor';

import { rmTempDir, sleep, startHub, startSigv4Hub } from './hub.mjs';

const CBOR_TYPE = 'application/x-amz-cbor-1.1';
const STREAM = 'cbor';
const T = { timeout: 30000 };

/** A timestamp as the Java SDK writes it: tag 1, epoch milliseconds. */
class Millis {
	constructor(date) { this.ms = date.getTime(); }
}

/** Encodes a request as Jackson's CBORGenerator does for the SDK. */
function javaCbor(v) {
	const indefinite = (head, parts) => Buffer.concat([Buffer.from([head]), ...parts, Buffer.from([0xff])]);
	if (v instanceof Millis) return Buffer.concat([Buffer.from([0xc1]), cbor.encode(v.ms)]);
	if (Array.isArray(v)) return indefinite(0x9f, v.map(javaCbor));
	if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
		return indefinite(0xbf, Object.entries(v).flatMap(([k, x]) => [cbor.encode(k), javaCbor(x)]));
	}
	return cbor.encode(v);
}

/** A timestamp in an answer: tag 1 around an integer of epoch milliseconds
 * (the SDK reads it with Long.parseLong). */
class Stamp {
	constructor(v) { this.value = v; }
}

function decodeAnswer(buf) {
	return cbor.decodeFirstSync(buf, { tags: { 1: (v) => new Stamp(v) } });
}

/** Asserts an answer's timestamp is tag 1 with integer milliseconds near now. */
function assertRecent(stamp, what) {
	assert.ok(stamp instanceof Stamp, `${what}: ${JSON.stringify(stamp)} is not tagged 1`);
	assert.ok(Number.isInteger(stamp.value), `${what}: ${stamp.value} is not an integer`);
	assert.ok(Math.abs(stamp.value - Date.now()) < 10 * 60 * 1000,
		`${what}: ${stamp.value} ms is not a recent time in epoch milliseconds`);
}

/** POSTs body to / with these headers: { status, type, errorType, bytes }. */
function post(endpoint, headers, body) {
	return new Promise((resolve, reject) => {
		const req = http.request(`${endpoint}/`, { method: 'POST', headers: { ...headers, 'content-length': body.length } },
			(res) => {
				const chunks = [];
				res.on('data', (c) => chunks.push(c));
				res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'],
					errorType: res.headers['x-amzn-errortype'], bytes: Buffer.concat(chunks) }));
				res.on('error', reject);
			});
		req.on('error', reject);
		req.end(body);
	});
}

/** The headers the Java SDK sends, signed with SigV4 when a key is given. */
async function javaHeaders(endpoint, op, body, key) {
	const url = new URL(endpoint);
	const headers = {
		host: url.host,
		'content-type': CBOR_TYPE,
		'x-amz-target': `Kinesis_20131202.${op}`,
		'user-agent': 'aws-sdk-java/2.x alleycat-e2e',
	};
	if (!key) return headers;
	const signer = new SignatureV4({ credentials: key, region: 'us-east-1', service: 'kinesis', sha256: Sha256 });
	const signed = await signer.sign(new HttpRequest({ method: 'POST', protocol: url.protocol,
		hostname: url.hostname, port: Number(url.port), path: '/', headers, body }));
	return signed.headers;
}

/** One API call with a CBOR body (req encoded, or raw bytes as they are):
 * { status, errorType, body } with the answer decoded. */
async function call(endpoint, op, req, raw, key) {
	const body = raw ?? javaCbor(req);
	const res = await post(endpoint, await javaHeaders(endpoint, op, body, key), body);
	assert.equal(res.type, CBOR_TYPE, `${op}: the answer's Content-Type`);
	let decoded;
	try {
		decoded = decodeAnswer(res.bytes);
	} catch (err) {
		assert.fail(`${op}: the answer (HTTP ${res.status}, ${res.bytes.length} bytes) is not CBOR: ${err.message}`);
	}
	return { status: res.status, errorType: res.errorType, body: decoded };
}

/** A call that must succeed: its decoded answer. */
async function ok(endpoint, op, req, key) {
	const r = await call(endpoint, op, req, undefined, key);
	assert.equal(r.status, 200, `${op}: HTTP ${r.status}: ${JSON.stringify(r.body)}`);
	assert.equal(r.body.__type, undefined, `${op}: a success with an error type`);
	assert.equal(r.errorType, undefined, `${op}: a success with an x-amzn-ErrorType header`);
	return r.body;
}

/** A call that must fail with HTTP 400 and this error type, in CBOR and
 * in the x-amzn-ErrorType header (where the Java SDK v2 reads it). */
async function refused(endpoint, op, req, type, raw) {
	const r = await call(endpoint, op, req, raw);
	assert.equal(r.status, 400, `${op}: HTTP ${r.status}, expected 400 ${type}`);
	assert.equal(r.body.__type, type, `${op}: ${JSON.stringify(r.body)}`);
	assert.equal(r.errorType, type, `${op}: x-amzn-ErrorType`);
	assert.equal(typeof r.body.message, 'string', `${op}: an error without a message`);
	return r.body;
}

async function readAll(endpoint, iterator, want) {
	const got = [];
	for (let i = 0; i < 50 && got.length < want; i++) {
		const out = await ok(endpoint, 'GetRecords', { ShardIterator: iterator, Limit: 100 });
		assert.ok(Number.isInteger(out.MillisBehindLatest), 'MillisBehindLatest is an integer');
		assert.deepEqual(out.ChildShards, [], 'ChildShards of an open shard');
		got.push(...out.Records);
		iterator = out.NextShardIterator;
	}
	return got;
}

async function iterator(endpoint, shardId, type, extra = {}) {
	const out = await ok(endpoint, 'GetShardIterator',
		{ StreamName: STREAM, ShardId: shardId, ShardIteratorType: type, ...extra });
	assert.equal(typeof out.ShardIterator, 'string');
	return out.ShardIterator;
}

// ---------------------------------------------------------------------
describe('CBOR bodies', T, () => {
	let hub, ep;
	before(async () => {
		hub = await startHub({ stream: STREAM, shards: 4 });
		ep = hub.endpoint;
	});
	after(async () => {
		await hub?.stop();
	});

	test('control plane: ListStreams, CreateStream, Describe*, ListShards, DeleteStream', async () => {
		const list = await ok(ep, 'ListStreams', {});
		assert.ok(list.StreamNames.includes(STREAM), JSON.stringify(list));
		assert.equal(list.HasMoreStreams, false);
		for (const s of list.StreamSummaries ?? []) assertRecent(s.StreamCreationTimestamp, 'StreamSummaries');

		await ok(ep, 'CreateStream', { StreamName: 'cbor-2', ShardCount: 2 });
		const summary = (await ok(ep, 'DescribeStreamSummary', { StreamName: 'cbor-2' })).StreamDescriptionSummary;
		assert.equal(summary.OpenShardCount, 2);
		assertRecent(summary.StreamCreationTimestamp, 'DescribeStreamSummary');

		const desc = (await ok(ep, 'DescribeStream', { StreamName: STREAM, Limit: 10 })).StreamDescription;
		assert.equal(desc.Shards.length, 4);
		assert.equal(desc.StreamStatus, 'ACTIVE');
		assertRecent(desc.StreamCreationTimestamp, 'DescribeStream');

		const shards = await ok(ep, 'ListShards', {
			StreamName: STREAM,
			ShardFilter: { Type: 'FROM_TIMESTAMP', Timestamp: new Millis(new Date(Date.now() - 60000)) },
		});
		assert.deepEqual(shards.Shards.map((s) => s.ShardId), desc.Shards.map((s) => s.ShardId));

		await ok(ep, 'DeleteStream', { StreamName: 'cbor-2', EnforceConsumerDeletion: true });
		await refused(ep, 'DescribeStreamSummary', { StreamName: 'cbor-2' }, 'ResourceNotFoundException');
	});

	test('resharding: UpdateShardCount, MergeShards, SplitShard', async () => {
		await ok(ep, 'CreateStream', { StreamName: 'cbor-3', ShardCount: 2 });
		const up = await ok(ep, 'UpdateShardCount',
			{ StreamName: 'cbor-3', TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' });
		assert.equal(up.TargetShardCount, 4);
		const open = async () => (await ok(ep, 'ListShards',
			{ StreamName: 'cbor-3', ShardFilter: { Type: 'AT_LATEST' } })).Shards;
		const four = await open();
		assert.equal(four.length, 4);
		await ok(ep, 'MergeShards',
			{ StreamName: 'cbor-3', ShardToMerge: four[0].ShardId, AdjacentShardToMerge: four[1].ShardId });
		const three = await open();
		assert.equal(three.length, 3);
		const merged = three.find((s) => s.ParentShardId === four[0].ShardId);
		const mid = (BigInt(merged.HashKeyRange.StartingHashKey) + BigInt(merged.HashKeyRange.EndingHashKey)) / 2n;
		await ok(ep, 'SplitShard', { StreamName: 'cbor-3', ShardToSplit: merged.ShardId, NewStartingHashKey: String(mid) });
		assert.equal((await open()).length, 4);
	});

	test('PutRecord and PutRecords, then GetRecords: the same bytes, as byte strings', async () => {
		const put = [];
		for (let i = 0; i < 3; i++) {
			// Bytes no text encoding would keep: NUL, 0xff, invalid UTF-8.
			const data = Buffer.concat([Buffer.from([0, 0xff, 0xc3, 0x28, i]), randomBytes(64)]);
			const out = await ok(ep, 'PutRecord', { StreamName: STREAM, Data: data, PartitionKey: 'racer-7' });
			assert.match(out.SequenceNumber, /^[1-9][0-9]*$/);
			put.push({ data, seq: out.SequenceNumber, shard: out.ShardId });
		}
		const batch = [0, 1, 2].map((i) => ({ Data: randomBytes(100 + i), PartitionKey: 'racer-7' }));
		const many = await ok(ep, 'PutRecords', { Records: batch, StreamName: STREAM });
		assert.equal(many.FailedRecordCount, 0);
		assert.equal(many.Records.length, 3);
		many.Records.forEach((r, i) => put.push({ data: batch[i].Data, seq: r.SequenceNumber, shard: r.ShardId }));
		assert.ok(put.every((p) => p.shard === put[0].shard), 'one partition key, one shard');

		const got = await readAll(ep, await iterator(ep, put[0].shard, 'TRIM_HORIZON'), put.length);
		assert.equal(got.length, put.length);
		got.forEach((r, i) => {
			assert.equal(r.SequenceNumber, put[i].seq);
			assert.equal(r.PartitionKey, 'racer-7');
			assert.ok(Buffer.isBuffer(r.Data), `record ${i}: Data is not a byte string`);
			assert.ok(r.Data.equals(put[i].data), `record ${i}: Data differs from what was put`);
			assertRecent(r.ApproximateArrivalTimestamp, `record ${i} ApproximateArrivalTimestamp`);
		});
	});

	test('AT_TIMESTAMP reads the Timestamp as epoch milliseconds', async () => {
		const key = 'racer-at';
		const before = await ok(ep, 'PutRecord', { StreamName: STREAM, Data: Buffer.from('before'), PartitionKey: key });
		await sleep(30);
		const at = new Date();
		await sleep(30);
		const later = await ok(ep, 'PutRecord', { StreamName: STREAM, Data: Buffer.from('after'), PartitionKey: key });
		const it = await iterator(ep, before.ShardId, 'AT_TIMESTAMP', { Timestamp: new Millis(at) });
		const got = await readAll(ep, it, 1);
		assert.deepEqual(got.map((r) => r.SequenceNumber), [later.SequenceNumber],
			'AT_TIMESTAMP between two records reads the later one only');
		assert.ok(got[0].ApproximateArrivalTimestamp.value >= at.getTime());
	});

	test('consumers: Register, Describe, List, Deregister', async () => {
		const arn = (await ok(ep, 'DescribeStreamSummary', { StreamName: STREAM })).StreamDescriptionSummary.StreamARN;
		const reg = (await ok(ep, 'RegisterStreamConsumer', { StreamARN: arn, ConsumerName: 'kcl-app' })).Consumer;
		assert.equal(reg.ConsumerName, 'kcl-app');
		assertRecent(reg.ConsumerCreationTimestamp, 'RegisterStreamConsumer');
		const desc = (await ok(ep, 'DescribeStreamConsumer', { ConsumerARN: reg.ConsumerARN })).ConsumerDescription;
		assert.equal(desc.ConsumerStatus, 'ACTIVE');
		assertRecent(desc.ConsumerCreationTimestamp, 'DescribeStreamConsumer');
		const list = await ok(ep, 'ListStreamConsumers', { StreamARN: arn, MaxResults: 10 });
		assert.ok(list.Consumers.some((c) => c.ConsumerARN === reg.ConsumerARN), JSON.stringify(list));
		await ok(ep, 'DeregisterStreamConsumer', { ConsumerARN: reg.ConsumerARN });
		await refused(ep, 'DescribeStreamConsumer', { ConsumerARN: reg.ConsumerARN }, 'ResourceNotFoundException');
	});

	test('errors come back in CBOR: __type and message in a map', async () => {
		const e = await refused(ep, 'DescribeStreamSummary', { StreamName: 'no-such-stream' }, 'ResourceNotFoundException');
		assert.match(e.message, /no-such-stream/);
		await refused(ep, 'PutRecord', { StreamName: STREAM, Data: Buffer.from('x'), PartitionKey: '' }, 'ValidationException');
		// SubscribeToShard's refusals, before any event, are answers like any other.
		await refused(ep, 'SubscribeToShard', {}, 'ValidationException');
		const body = javaCbor({ StreamName: STREAM, Data: Buffer.from('x'), PartitionKey: 'k' });
		const cut = await refused(ep, 'PutRecord', null, 'SerializationException', body.subarray(0, body.length - 4));
		assert.match(cut.message, /not valid CBOR/);
		await refused(ep, 'ListStreams', null, 'SerializationException', Buffer.from('{}'));
		const deep = Buffer.concat([Buffer.from([0xa1, 0x61, 0x61]), Buffer.alloc(64, 0x9f), Buffer.alloc(64, 0xff)]);
		await refused(ep, 'ListStreams', null, 'SerializationException', deep);
	});

	test('JSON clients on the same hub still get JSON', async () => {
		const res = await fetch(`${ep}/`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'Kinesis_20131202.ListStreams' },
			body: '{}',
		});
		assert.equal(res.status, 200);
		assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.1');
		assert.ok((await res.json()).StreamNames.includes(STREAM));
	});
});

// ---------------------------------------------------------------------
describe('CBOR bodies with --auth sigv4', T, () => {
	const KEY = { accessKeyId: 'AKIAALLEYCATCBOR1', secretAccessKey: 'cbor/Secret+Key=1' };
	let hub, dir;
	before(async () => {
		({ hub, dir } = await startSigv4Hub(KEY, { stream: STREAM, shards: 1 }));
	});
	after(async () => {
		await hub?.stop();
		await rmTempDir(dir);
	});

	test('a signed binary body is served; a refusal is answered in CBOR', async () => {
		const data = Buffer.from([0, 1, 0xfe, 0xff]);
		const put = await ok(hub.endpoint, 'PutRecord', { StreamName: STREAM, Data: data, PartitionKey: 'k' }, KEY);
		const it = (await ok(hub.endpoint, 'GetShardIterator', { StreamName: STREAM, ShardId: put.ShardId,
			ShardIteratorType: 'TRIM_HORIZON' }, KEY)).ShardIterator;
		const got = await ok(hub.endpoint, 'GetRecords', { ShardIterator: it }, KEY);
		assert.ok(got.Records[0].Data.equals(data));
		await refused(hub.endpoint, 'ListStreams', {}, 'MissingAuthenticationTokenException');
	});
});
