// The simulator as a producer: against a hub that throttles it retries until
// every record lands, in order per partition key; its partition key
// strategies spread records over the shards as they promise.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';

import {
	GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand,
} from '@aws-sdk/client-kinesis';

import {
	ALLEYCAT, Hub, listAllShards, readShard, withHub,
} from './hub.mjs';

const run = promisify(execFile);
const STREAM = 'e2e';

/** Runs `alleycat sim` to the end; returns its --stats json figures. */
async function sim(endpoint, args) {
	const { stdout } = await run(ALLEYCAT, ['sim', '--endpoint', endpoint, '--stream', STREAM,
		'--quiet', '--stats', 'json', ...args], { timeout: 60000 });
	return JSON.parse(stdout.trim().split('\n').pop());
}

async function readAll(kin, shardId) {
	const { ShardIterator } = await kin.send(new GetShardIteratorCommand({
		StreamName: STREAM, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
	return (await readShard(kin, GetRecordsCommand, ShardIterator)).records;
}

async function recordsPerShard(hub) {
	const text = await (await fetch(`${hub.endpoint}/metrics`)).text();
	const counts = [];
	for (const m of text.matchAll(/^alleycat_shard_records_in_total\{stream="e2e",shard="shardId-(\d+)"\} (\d+)$/gm))
		counts[Number(m[1])] = Number(m[2]);
	return counts;
}

describe('sim against a one-shard hub at the default limits', { timeout: 60000 }, () => {
	const h = withHub({ stream: STREAM, shards: 1 });

	test('offered twice what the shard takes, it is throttled, retries, and lands every record in order per key', async () => {
		const dump = path.join(h.dir, 'dump.jsonl');
		// 1,000 racers at --speed 2 offer 2,000 records/s to a shard that takes 1,000.
		const stats = await sim(h.hub.endpoint, ['--racers', '1000', '--speed', '2', '--duration', '8',
			'--seed', '5', '--dump', dump]);
		assert.equal(stats.sent, 8000);
		assert.equal(stats.landed, 8000, `every record lands: ${JSON.stringify(stats)}`);
		assert.equal(stats.failed, 0);
		assert.ok(stats.throttled > 0, `the shard throttles: ${JSON.stringify(stats)}`);
		assert.ok(stats.retried >= stats.throttled, 'every throttled record is retried');

		const sent = (await readFile(dump, 'utf8')).trim().split('\n');
		assert.equal(sent.length, 8000, 'the dump has one line per record');
		const [shard] = await listAllShards(h.kin, ListShardsCommand, STREAM);
		const got = await readAll(h.kin, shard.ShardId);
		const texts = got.map((r) => Buffer.from(r.Data).toString('utf8'));
		assert.equal(texts.length, 8000, 'the stream holds each record once');
		assert.deepEqual([...texts].sort(), [...sent].sort(), 'the stream holds exactly the records sent');

		// Per partition key (the racer), seconds arrive in order.
		const last = new Map();
		for (const [i, r] of got.entries()) {
			const rec = JSON.parse(texts[i]);
			assert.equal(r.PartitionKey, String(rec.racerId), 'the default key is the racer');
			const prev = last.get(r.PartitionKey) ?? 0;
			assert.ok(rec.second > prev, `racer ${rec.racerId}: second ${rec.second} after ${prev}`);
			last.set(r.PartitionKey, rec.second);
		}
		assert.equal(last.size, 1000);
	});
});

describe('partition key strategies on a four-shard hub', { timeout: 60000 }, () => {
	const strategies = {
		same: (c) => assert.equal(c.filter((n) => n > 0).length, 1, `one hot shard: ${c}`),
		random: (c) => c.forEach((n) => assert.ok(n > 1500 && n < 3500, `even spread: ${c}`)),
		racer: (c) => c.forEach((n) => assert.ok(n > 1000, `every shard used: ${c}`)),
		race: (c) => assert.equal(c.filter((n) => n > 0).length, 1, `a race on one shard: ${c}`),
	};
	for (const [key, check] of Object.entries(strategies)) {
		test(`--key ${key}`, async () => {
			const hub = new Hub({ stream: STREAM, shards: 4, shardRecordsPerSec: 0, shardBytesPerSec: 0 });
			await hub.start();
			try {
				const stats = await sim(hub.endpoint, ['--racers', '100', '--duration', '100',
					'--speed', '0', '--seed', '9', '--key', key]);
				assert.equal(stats.landed, 10000);
				const counts = await recordsPerShard(hub);
				assert.equal(counts.reduce((a, b) => a + b, 0), 10000);
				check(counts);
			} finally {
				await hub.stop();
			}
		});
	}
});

describe('duplicates on purpose', { timeout: 60000 }, () => {
	test('--dup-rate sends extra copies and counts them apart', async () => {
		const hub = new Hub({ stream: STREAM, shards: 2, shardRecordsPerSec: 0, shardBytesPerSec: 0 });
		await hub.start();
		try {
			const stats = await sim(hub.endpoint, ['--racers', '50', '--duration', '60', '--speed', '0',
				'--seed', '2', '--dup-rate', '0.2']);
			assert.equal(stats.sent, 3000);
			assert.equal(stats.landed, 3000);
			assert.ok(stats.duplicates > 400 && stats.duplicates < 800, `about 20% duplicates: ${stats.duplicates}`);
			const counts = await recordsPerShard(hub);
			assert.equal(counts.reduce((a, b) => a + b, 0), 3000 + stats.duplicates, 'the copies reach the stream');
		} finally {
			await hub.stop();
		}
	});
});
