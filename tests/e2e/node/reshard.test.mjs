// Resharding: UpdateShardCount, SplitShard and MergeShards as Kinesis does
// them (parents close, children name them, ListShards shows the lineage),
// GetRecords ends a closed shard with its children, UpdateShardCount 5 -> 3
// -> 5 leaves every shard descending from all the shards its keys were in
// (so a reader that follows the lineage keeps each key in order), and a
// board reading through 2 -> 4 -> 3 -> 2 shards during a run ends with
// standings equal to the reference: no record lost or counted twice. A
// closed shard is forgotten once the retention has passed since it closed:
// no longer listed, no iterator or subscription, over a restart too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import {
	CreateStreamCommand, DescribeStreamCommand, DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, MergeShardsCommand,
	PutRecordsCommand, PutRecordCommand, RegisterStreamConsumerCommand, SplitShardCommand, UpdateShardCountCommand,
} from '@aws-sdk/client-kinesis';

import { EfoConnection } from './efo.mjs';

import { ALLEYCAT, sleep, withHub } from './hub.mjs';
import { compare, reference } from './standings.mjs';

function runToEnd(args) {
	const proc = spawn(ALLEYCAT, args, { env: { ...process.env, ALLEYCAT_CONFIG: '/dev/null' } });
	let stdout = '', stderr = '';
	proc.stdout.on('data', (d) => { stdout += d; });
	proc.stderr.on('data', (d) => { stderr += d; });
	return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
}

async function shards(kin, stream, filter) {
	return (await kin.send(new ListShardsCommand({ StreamName: stream, ...(filter ? { ShardFilter: filter } : {}) }))).Shards;
}

const parentsOf = (s) => [s.ParentShardId, s.AdjacentParentShardId].filter(Boolean);
const isOpen = (s) => !s.SequenceNumberRange.EndingSequenceNumber;

// The shard ids a shard descends from, itself included.
function lineage(all, id, found = new Set()) {
	found.add(id);
	for (const p of parentsOf(all.find((s) => s.ShardId === id))) lineage(all, p, found);
	return found;
}

function overlap(a, b) {
	const r = (s) => [BigInt(s.HashKeyRange.StartingHashKey), BigInt(s.HashKeyRange.EndingHashKey)];
	const [as, ae] = r(a), [bs, be] = r(b);
	return as <= be && bs <= ae;
}

// Every open shard descends from every one of the old shards it overlaps.
function assertLineageCovers(all, old) {
	for (const s of all.filter(isOpen)) {
		const from = lineage(all, s.ShardId);
		for (const o of old.filter((o) => overlap(o, s)))
			assert.ok(from.has(o.ShardId), `${s.ShardId} overlaps ${o.ShardId} but does not descend from it`);
	}
}

// One record for each key, numbered by round, through PutRecords.
async function putRound(kin, stream, keys, round) {
	const r = await kin.send(new PutRecordsCommand({ StreamName: stream, Records: keys.map((k) => ({
		PartitionKey: k, Data: Buffer.from(String(round)) })) }));
	assert.equal(r.FailedRecordCount, 0);
}

// Reads whole shards with GetRecords, each only once its parents are read,
// the newest ready child first: the order that would overtake a parent the
// lineage left out. Returns each key's rounds in the order read.
async function readFollowingLineage(kin, stream, all) {
	const done = new Set(), rounds = {};
	while (done.size < all.length) {
		const ready = all.filter((s) => !done.has(s.ShardId) && parentsOf(s).every((p) => done.has(p)));
		const shard = ready.findLast((s) => parentsOf(s).length) ?? ready[0];
		let { ShardIterator: it } = await kin.send(new GetShardIteratorCommand({ StreamName: stream,
			ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
		while (it) {
			const got = await kin.send(new GetRecordsCommand({ ShardIterator: it }));
			for (const r of got.Records) (rounds[r.PartitionKey] ??= []).push(Number(Buffer.from(r.Data).toString()));
			it = isOpen(shard) && got.Records.length === 0 ? null : got.NextShardIterator;
		}
		done.add(shard.ShardId);
	}
	return rounds;
}

describe('resharding', { timeout: 120000 }, () => {
	const h = withHub((dir) => ({ stream: 'e2e', shards: 2, shardRecordsPerSec: 0, shardBytesPerSec: 0,
		dataDir: path.join(dir, 'hub') }));

	test('split, merge and uniform scaling keep the lineage, also after a restart', async () => {
		await h.kin.send(new UpdateShardCountCommand({ StreamName: 'e2e', TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' }));
		let open = await shards(h.kin, 'e2e', { Type: 'AT_LATEST' });
		assert.equal(open.length, 4);
		assert.ok(open.every((s) => s.ParentShardId), 'every child names a parent');
		const all = await shards(h.kin, 'e2e');
		assert.equal(all.length, 6);
		assert.equal(all.filter((s) => s.SequenceNumberRange.EndingSequenceNumber).length, 2, 'the parents closed');

		// A record put now lands in an open shard; the closed parent ends with its children.
		await h.kin.send(new PutRecordCommand({ StreamName: 'e2e', PartitionKey: 'k', Data: Buffer.from('x') }));
		const { ShardIterator } = await h.kin.send(new GetShardIteratorCommand({ StreamName: 'e2e',
			ShardId: all[0].ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
		const end = await h.kin.send(new GetRecordsCommand({ ShardIterator }));
		assert.equal(end.NextShardIterator, undefined);
		assert.ok(end.ChildShards.length >= 1 && end.ChildShards.every((c) => c.ParentShards.includes(all[0].ShardId)));

		const [a, b] = open;
		await h.kin.send(new MergeShardsCommand({ StreamName: 'e2e', ShardToMerge: a.ShardId, AdjacentShardToMerge: b.ShardId }));
		open = await shards(h.kin, 'e2e', { Type: 'AT_LATEST' });
		assert.equal(open.length, 3);
		const merged = open.find((s) => s.ParentShardId === a.ShardId);
		assert.equal(merged.AdjacentParentShardId, b.ShardId);
		const mid = (BigInt(merged.HashKeyRange.StartingHashKey) + BigInt(merged.HashKeyRange.EndingHashKey)) / 2n;
		await h.kin.send(new SplitShardCommand({ StreamName: 'e2e', ShardToSplit: merged.ShardId, NewStartingHashKey: String(mid) }));
		open = await shards(h.kin, 'e2e', { Type: 'AT_LATEST' });
		assert.equal(open.length, 4);
		const after = await shards(h.kin, 'e2e', { Type: 'AFTER_SHARD_ID', ShardId: all[5].ShardId });
		assert.ok(after.every((s) => s.ShardId > all[5].ShardId));

		// Closed shards refuse resharding; out-of-range counts are refused.
		await assert.rejects(h.kin.send(new SplitShardCommand({ StreamName: 'e2e', ShardToSplit: a.ShardId, NewStartingHashKey: '1' })),
			{ name: 'ResourceInUseException' });
		await assert.rejects(h.kin.send(new UpdateShardCountCommand({ StreamName: 'e2e', TargetShardCount: 9, ScalingType: 'UNIFORM_SCALING' })),
			{ name: 'InvalidArgumentException' });

		const before = await shards(h.kin, 'e2e');
		await h.hub.kill();
		await h.hub.start();
		assert.deepEqual(await shards(h.kin, 'e2e'), before, 'the lineage survives a restart');
	});

	test('UpdateShardCount 5 -> 3 -> 5: every shard descends from all it overlaps, keys stay in order, over a kill -9', async () => {
		const stream = 'uneven';
		const keys = Array.from({ length: 200 }, (_, i) => `racer-${i}`);
		await h.kin.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 5 }));
		const five = await shards(h.kin, stream);
		await putRound(h.kin, stream, keys, 0);

		const down = await h.kin.send(new UpdateShardCountCommand({ StreamName: stream, TargetShardCount: 3, ScalingType: 'UNIFORM_SCALING' }));
		assert.equal(down.CurrentShardCount, 5);
		assert.equal(down.TargetShardCount, 3);
		let all = await shards(h.kin, stream);
		assert.deepEqual(all.map((s) => s.ShardId), all.map((_, i) => `shardId-${String(i).padStart(12, '0')}`), 'ids count up');
		assert.equal(all.filter(isOpen).length, 3);
		const mid = all.find((s) => parentsOf(s).length === 2 && !isOpen(s));
		assert.ok(mid, 'an intermediate merge stays in the lineage');
		for (const s of all.filter((s) => !isOpen(s))) {
			const { StartingSequenceNumber: from, EndingSequenceNumber: to } = s.SequenceNumberRange;
			assert.ok(BigInt(to) >= BigInt(from), `${s.ShardId} ends at or above its start`);
		}
		assertLineageCovers(all, five);
		await putRound(h.kin, stream, keys, 1);

		const three = all.filter(isOpen);
		await h.kin.send(new UpdateShardCountCommand({ StreamName: stream, TargetShardCount: 5, ScalingType: 'UNIFORM_SCALING' }));
		all = await shards(h.kin, stream);
		const byStart = (a, b) => (BigInt(a.StartingHashKey) < BigInt(b.StartingHashKey) ? -1 : 1);
		assert.deepEqual(all.filter(isOpen).map((s) => s.HashKeyRange).sort(byStart), five.map((s) => s.HashKeyRange),
			'the even split of 5 again');
		assertLineageCovers(all, three);
		assertLineageCovers(all, five);
		await putRound(h.kin, stream, keys, 2);

		await h.hub.kill();
		await h.hub.start();
		assert.deepEqual(await shards(h.kin, stream), all, 'the lineage survives a kill -9');
		const rounds = await readFollowingLineage(h.kin, stream, all);
		for (const k of keys) assert.deepEqual(rounds[k], [0, 1, 2], `key ${k} in order`);

		// A push subscription to an intermediate shard ends at once with its child.
		const child = all.find((s) => parentsOf(s).includes(mid.ShardId));
		const { StreamDescriptionSummary: summary } = await h.kin.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
		const { Consumer: consumer } = await h.kin.send(new RegisterStreamConsumerCommand({ StreamARN: summary.StreamARN, ConsumerName: 'lineage' }));
		const conn = await EfoConnection.open(h.hub.wsUrl);
		try {
			conn.subscribe(consumer.ConsumerARN, mid.ShardId);
			const { ev } = await conn.waitFor((e) => e.ShardId === mid.ShardId && e.ChildShards?.length > 0,
				{ what: `the end of ${mid.ShardId}` });
			assert.equal(ev.Records.length, 0);
			assert.equal(ev.ContinuationSequenceNumber, null);
			assert.deepEqual(ev.ChildShards.map((c) => [c.ShardId, c.ParentShards]), [[child.ShardId, parentsOf(child)]]);
		} finally {
			await conn.close();
		}
	});

	test('a board reading through 2 -> 4 -> 3 -> 2 shards loses and doubles nothing', async () => {
		await h.kin.send(new UpdateShardCountCommand({ StreamName: 'e2e', TargetShardCount: 2, ScalingType: 'UNIFORM_SCALING' }));
		const stream = 'e2e';
		const dump = path.join(h.dir, 'dump.jsonl');
		const sim = runToEnd(['sim', '--endpoint', h.hub.endpoint, '--stream', stream, '--races', '2', '--racers', '100',
			'--duration', '60', '--speed', '4', '--seed', '51', '--dup-rate', '0.05', '--dump', dump, '--quiet']);
		const board = runToEnd(['board', '--endpoint', h.hub.endpoint.replace('http', 'ws'), '--stream', stream,
			'--consumer', 'through', '--db', path.join(h.dir, 'h.db'), '--duration', '60', '--grace', '20',
			'--until-finished', '--format', 'json']);
		// The first step from the command line, the others through the SDK.
		await sleep(3000);
		const cli = await runToEnd(['hub', 'reshard', '--endpoint', h.hub.endpoint, '--stream', stream, '--shards', '4']);
		assert.equal(cli.code, 0, cli.stderr);
		assert.match(cli.stdout, /2 -> 4 open shards/);
		for (const target of [3, 2]) {
			await sleep(3000);
			await h.kin.send(new UpdateShardCountCommand({ StreamName: stream, TargetShardCount: target, ScalingType: 'UNIFORM_SCALING' }));
		}
		const s = await sim;
		assert.equal(s.code, 0, s.stderr);
		const b = await board;
		assert.equal(b.code, 0, b.stderr);
		// (The earlier test's one record is not telemetry: counted bad, no race.)
		compare(JSON.parse(b.stdout), reference((await readFile(dump, 'utf8')).trim().split('\n')));
	});
});

describe('closed shards past retention', { timeout: 60000 }, () => {
	const RETENTION_S = 3;
	const stream = 'expiry';
	let consumerARN;

	const h = withHub((dir) => ({ stream, shards: 2, dataDir: path.join(dir, 'hub'), extraArgs: ['--retention-seconds', String(RETENTION_S)] }));
	before(async () => {
		const { StreamDescriptionSummary: summary } = await h.kin.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
		assert.equal(summary.RetentionPeriodHours, 1, 'seconds are reported as a whole hour');
		({ Consumer: { ConsumerARN: consumerARN } } = await h.kin.send(new RegisterStreamConsumerCommand({ StreamARN: summary.StreamARN, ConsumerName: 'expiry' })));
	});

	// ListShards one shard a page, through NextToken.
	async function listByPages() {
		const ids = [];
		let page = await h.kin.send(new ListShardsCommand({ StreamName: stream, MaxResults: 1 }));
		for (;;) {
			ids.push(...page.Shards.map((s) => s.ShardId));
			if (!page.NextToken) return ids;
			page = await h.kin.send(new ListShardsCommand({ NextToken: page.NextToken, MaxResults: 1 }));
		}
	}

	// What a client sees of forgotten shards: gone from every listing (their
	// children still name them), no iterator, no subscription.
	async function assertForgotten(gone, open) {
		const ids = (list) => list.map((s) => s.ShardId);
		const listed = await shards(h.kin, stream);
		assert.deepEqual(ids(listed), ids(open), 'only the open shards are listed');
		assert.ok(listed.every((s) => parentsOf(s).every((p) => gone.some((g) => g.ShardId === p))), 'children still name their parents');
		assert.deepEqual(await listByPages(), ids(open));
		const { StreamDescription: d } = await h.kin.send(new DescribeStreamCommand({ StreamName: stream }));
		assert.deepEqual(ids(d.Shards), ids(open));
		assert.equal(d.HasMoreShards, false);
		for (const g of gone) {
			await assert.rejects(h.kin.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: g.ShardId, ShardIteratorType: 'TRIM_HORIZON' })),
				{ name: 'ResourceNotFoundException', message: new RegExp(`Shard ${g.ShardId} in stream ${stream} under account \\d+ does not exist`) });
		}
		const conn = await EfoConnection.open(h.hub.wsUrl);
		try {
			conn.subscribe(consumerARN, gone[0].ShardId);
			const { ev } = await conn.waitFor((e) => e.ShardId === gone[0].ShardId, { what: `an answer for ${gone[0].ShardId}` });
			assert.equal(ev.Event, 'Exception');
			assert.equal(ev.__type, 'ResourceNotFoundException');
			conn.subscribe(consumerARN, open[0].ShardId);
			const { ev: child } = await conn.waitFor((e) => e.ShardId === open[0].ShardId, { what: `an answer for ${open[0].ShardId}` });
			assert.equal(child.Event, 'SubscribeToShardEvent');
		} finally {
			await conn.close();
		}
	}

	test('a reshard on a running hub: the closed shards are listed for the retention, then forgotten', async () => {
		await h.kin.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'k', Data: Buffer.from('x') }));
		await h.kin.send(new UpdateShardCountCommand({ StreamName: stream, TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' }));
		const closedAt = Date.now();
		const all = await shards(h.kin, stream);
		const gone = all.filter((s) => !isOpen(s)), open = all.filter(isOpen);
		assert.equal(gone.length, 2);
		await h.kin.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: gone[0].ShardId, ShardIteratorType: 'TRIM_HORIZON' }));

		// The hub applies retention about once a second.
		while ((await shards(h.kin, stream)).length === all.length) {
			assert.ok(Date.now() - closedAt < (RETENTION_S + 5) * 1000, 'the closed shards are forgotten in time');
			await sleep(200);
		}
		assert.ok(Date.now() - closedAt >= RETENTION_S * 1000 - 200, 'and not before the retention has passed');
		await assertForgotten(gone, open);
	});

	test('a shard that expired while the hub was down is forgotten as it starts: its closing time was kept', async () => {
		const before = await shards(h.kin, stream);
		await h.kin.send(new UpdateShardCountCommand({ StreamName: stream, TargetShardCount: 2, ScalingType: 'UNIFORM_SCALING' }));
		const all = await shards(h.kin, stream);
		const open = all.filter(isOpen), gone = all.filter((s) => !isOpen(s));
		assert.deepEqual(gone.map((s) => s.ShardId), before.map((s) => s.ShardId), 'the four open shards closed');
		await h.hub.kill();
		await sleep(RETENTION_S * 1000 + 500);
		await h.hub.start();
		await assertForgotten(gone, open);
	});
});
