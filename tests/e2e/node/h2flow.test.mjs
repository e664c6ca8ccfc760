// SubscribeToShard over HTTP/2 with a client that stops reading: the hub
// honours the HTTP/2 window, so it stops reading the shard instead of
// buffering it. Its memory stays put while the shard grows by much more,
// and another consumer of the same shard reads everything meanwhile.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';

import {
	KinesisClient, ListShardsCommand, PutRecordsCommand, RegisterStreamConsumerCommand, SubscribeToShardCommand,
} from '@aws-sdk/client-kinesis';

import { Hub, keyForShard, listAllShards, sleep } from './hub.mjs';

// Under AddressSanitizer freed memory is quarantined, not reused, and the
// hub's size would say nothing: no quarantine for this file's hubs.
process.env.ASAN_OPTIONS = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=0'].filter(Boolean).join(':');

const STREAM = 'flow';
const RECORD = Buffer.alloc(50000, 0x61); // 50 kB
const BATCHES = 20; // of 20 records: 20 MB in all

function rssKiB(pid) {
	return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

describe('an HTTP/2 subscriber that stops reading', { timeout: 60000 }, () => {
	let hub, client, arns, shardId, key;
	before(async () => {
		hub = new Hub({ stream: STREAM, shards: 1, shardRecordsPerSec: 0, shardBytesPerSec: 0,
			extraArgs: ['--push-bytes-per-sec', '0'] });
		await hub.start();
		client = new KinesisClient({ endpoint: hub.endpoint, region: 'us-east-1',
			credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
		arns = [];
		for (const name of ['stalled', 'reader']) {
			const c = await client.send(new RegisterStreamConsumerCommand({
				StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${STREAM}`, ConsumerName: name }));
			arns.push(c.Consumer.ConsumerARN);
		}
		const shards = await listAllShards(client, ListShardsCommand, STREAM);
		shardId = shards[0].ShardId;
		key = keyForShard(shards, shardId, 'flow');
	});
	after(async () => {
		client?.destroy();
		await hub?.stop();
	});

	test('the hub holds no more for it while 20 MB arrive; the other consumer gets them all', async (t) => {
		// The stalled subscriber: a raw HTTP/2 stream that is never read.
		const session = http2.connect(hub.endpoint);
		session.on('error', () => {});
		const stalled = session.request({ ':method': 'POST', ':path': '/',
			'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.SubscribeToShard' });
		stalled.on('error', () => {});
		stalled.end(JSON.stringify({ ConsumerARN: arns[0], ShardId: shardId, StartingPosition: { Type: 'LATEST' } }));
		await new Promise((resolve) => stalled.once('response', resolve));
		stalled.pause();

		const reader = (await client.send(new SubscribeToShardCommand({ ConsumerARN: arns[1], ShardId: shardId,
			StartingPosition: { Type: 'LATEST' } }))).EventStream;
		let read = 0;
		const reading = (async () => {
			for await (const ev of reader) {
				read += ev.SubscribeToShardEvent.Records.length;
				if (read >= BATCHES * 20) break;
			}
		})();

		await sleep(500);
		const before = rssKiB(hub.proc.pid);
		for (let b = 0; b < BATCHES; b++) {
			const out = await client.send(new PutRecordsCommand({ StreamName: STREAM,
				Records: Array.from({ length: 20 }, () => ({ PartitionKey: key, Data: RECORD })) }));
			assert.equal(out.FailedRecordCount, 0);
		}
		await reading;
		await sleep(500);
		const grown = rssKiB(hub.proc.pid) - before;
		assert.equal(read, BATCHES * 20, 'the reading consumer got every record');
		t.diagnostic(`the hub grew by ${grown} KiB while 20 MB of records arrived`);
		// The shard itself holds the 20 MB (in memory, no --data-dir); what
		// the stalled subscriber may add on top is its window and one event.
		// Had the hub queued the stream for it, the events (base64 in JSON:
		// 27 MB) would come on top: 47 MB in all.
		assert.ok(grown < 32 * 1024, `the hub grew by ${grown} KiB for 20 MB of records`);
		assert.ok(!stalled.closed, 'the stalled stream is still open (the hub waits, it does not drop it)');
		session.destroy();
	});
});
