// SubscribeToShardCommand of the AWS SDK for JavaScript v3, its client
// created as the SDK documents it (no request handler), over HTTP/2: h2c
// on a plain hub and ALPN h2 on a TLS hub. The hub answers with AWS's event
// stream (initial-response, SubscribeToShardEvent events, exceptions as
// exception messages), which the SDK decodes itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
	KinesisClient, ListShardsCommand, PutRecordsCommand, RegisterStreamConsumerCommand, SubscribeToShardCommand,
} from '@aws-sdk/client-kinesis';

import { Hub, cmpSeq, describeError, errorOf, keyForShard, listAllShards, payload, sleep, testCertificate } from './hub.mjs';

// The TLS hub's certificate is self-signed, and the SDK's default client
// takes no CA bundle: this process trusts any certificate.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
process.removeAllListeners('warning');

const STREAM = 'sub';
const LIFETIME_S = 7; // past the 5 s a takeover waits
const TOTAL = 10000;

for (const tls of [false, true]) {
	describe(`SubscribeToShardCommand over HTTP/2 (${tls ? 'TLS, ALPN h2' : 'h2c'})`, { timeout: 90000 }, () => {
		let hub, kinesis, consumerARN, shards;

		before(async () => {
			const cert = tls ? testCertificate() : null;
			hub = new Hub({ stream: STREAM, shards: 2, subscriptionSeconds: LIFETIME_S, shardRecordsPerSec: 0,
				shardBytesPerSec: 0, ...(cert ? { ca: cert.ca, extraArgs: ['--tls-cert', cert.cert, '--tls-key', cert.key] } : {}) });
			await hub.start();
			kinesis = new KinesisClient({ endpoint: hub.endpoint, region: 'us-east-1',
				credentials: { accessKeyId: 'any', secretAccessKey: 'any' }, maxAttempts: 1 });
			const reg = await kinesis.send(new RegisterStreamConsumerCommand({
				StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${STREAM}`, ConsumerName: 'h2' }));
			consumerARN = reg.Consumer.ConsumerARN;
			shards = await listAllShards(kinesis, ListShardsCommand, STREAM);
		});
		after(async () => {
			kinesis?.destroy();
			await hub?.stop();
		});

		/** Puts records [from, to) on the shard; their sequence numbers in order. */
		async function put(shardId, from, to) {
			const key = keyForShard(shards, shardId, 'h2');
			const seqs = [];
			for (let i = from; i < to; i += 500) {
				const Records = [];
				for (let j = i; j < Math.min(to, i + 500); j++) Records.push({ PartitionKey: key, Data: payload('h2', j) });
				const out = await kinesis.send(new PutRecordsCommand({ StreamName: STREAM, Records }));
				assert.equal(out.FailedRecordCount, 0);
				seqs.push(...out.Records.map((r) => r.SequenceNumber));
			}
			return seqs;
		}

		const subscribe = (shardId, StartingPosition) => kinesis.send(new SubscribeToShardCommand({
			ConsumerARN: consumerARN, ShardId: shardId, StartingPosition }));

		/** Reads a subscription to its end, or until `want` records. */
		async function drain(answer, want = Infinity, onFirst = null) {
			const seqs = [];
			let continuation, events = 0;
			for await (const ev of answer.EventStream) {
				const e = ev.SubscribeToShardEvent;
				assert.ok(e, `an event that is not a SubscribeToShardEvent: ${JSON.stringify(ev).slice(0, 200)}`);
				if (events++ === 0 && onFirst) await onFirst();
				for (const r of e.Records) seqs.push(r.SequenceNumber);
				assert.equal(typeof e.MillisBehindLatest, 'number');
				continuation = e.ContinuationSequenceNumber;
				if (seqs.length >= want) break;
			}
			return { seqs, continuation, events };
		}

		test('10,000 records across a resubscribe from the continuation: none lost, none twice', async () => {
			const shardId = shards[0].ShardId;
			const put1 = await put(shardId, 0, 6000);
			const t0 = Date.now();
			let put2;
			const first = await drain(await subscribe(shardId, { Type: 'TRIM_HORIZON' }), Infinity,
				async () => { put2 = await put(shardId, 6000, 8000); });
			const lasted = (Date.now() - t0) / 1000;
			assert.ok(lasted > LIFETIME_S - 1 && lasted < LIFETIME_S + 3,
				`the subscription ended after ${lasted} s (--subscription-seconds ${LIFETIME_S})`);
			const put3 = await put(shardId, 8000, TOTAL);
			const second = await drain(await subscribe(shardId, { Type: 'AFTER_SEQUENCE_NUMBER',
				SequenceNumber: first.continuation }), TOTAL - first.seqs.length);
			const got = [...first.seqs, ...second.seqs];
			assert.equal(got.length, TOTAL, `${first.seqs.length} + ${second.seqs.length} records`);
			assert.deepEqual(got, [...put1, ...put2, ...put3], 'every record once, in order');
			for (let i = 1; i < got.length; i++) assert.ok(cmpSeq(got[i - 1], got[i]) < 0);
		});

		test('takeover: ResourceInUseException within 5 s, then the older stream ends with it', async () => {
			const shardId = shards[1].ShardId;
			const older = await subscribe(shardId, { Type: 'LATEST' });
			const at = Date.now();
			const early = await errorOf(() => subscribe(shardId, { Type: 'LATEST' }), 'a second subscription at once');
			assert.equal(early.name, 'ResourceInUseException', describeError(early));
			await sleep(Math.max(0, 5300 - (Date.now() - at)));
			const newer = await subscribe(shardId, { Type: 'LATEST' });
			const ended = await errorOf(() => drain(older), 'the older subscription');
			assert.equal(ended.name, 'ResourceInUseException', `the older stream ended with ${describeError(ended)}`);
			const { events } = await drain(newer, 0);
			assert.ok(events >= 1, 'the newer subscription is served');
		});

		test('errors before the stream come as API errors', async () => {
			const missing = await errorOf(() => kinesis.send(new SubscribeToShardCommand({
				ConsumerARN: `${consumerARN.split('/consumer/')[0]}/consumer/ghost:1`, ShardId: shards[0].ShardId,
				StartingPosition: { Type: 'LATEST' } })), 'an unknown consumer');
			assert.equal(missing.name, 'ResourceNotFoundException', describeError(missing));
		});
	});
}
