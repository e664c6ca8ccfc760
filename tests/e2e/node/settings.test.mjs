// A stream's settings through the AWS SDK for JavaScript v3: a
// Terraform-style sequence (create, tag, set retention, enable encryption
// and monitoring, describe, untag, delete), every other new operation
// (tags by ARN, retention down, encryption off, monitoring off,
// DescribeLimits, UpdateStreamMode, resource policies), errors as the SDK
// names them, and a restart on the same --data-dir keeping the settings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
	AddTagsToStreamCommand,
	CreateStreamCommand,
	DecreaseStreamRetentionPeriodCommand,
	DeleteResourcePolicyCommand,
	DeleteStreamCommand,
	DescribeAccountSettingsCommand,
	DescribeLimitsCommand,
	DescribeStreamCommand,
	DescribeStreamSummaryCommand,
	DisableEnhancedMonitoringCommand,
	EnableEnhancedMonitoringCommand,
	GetResourcePolicyCommand,
	IncreaseStreamRetentionPeriodCommand,
	ListTagsForResourceCommand,
	ListTagsForStreamCommand,
	PutRecordCommand,
	PutResourcePolicyCommand,
	RemoveTagsFromStreamCommand,
	StartStreamEncryptionCommand,
	StopStreamEncryptionCommand,
	TagResourceCommand,
	UntagResourceCommand,
	UpdateAccountSettingsCommand,
	UpdateMaxRecordSizeCommand,
	UpdateStreamModeCommand,
	UpdateStreamWarmThroughputCommand,
} from '@aws-sdk/client-kinesis';

import { describeError, errorOf, kinesisClient, sleep, withHub } from './hub.mjs';

const T = { timeout: 30000 };

/** The stream's summary once it is ACTIVE again (a change makes it UPDATING). */
async function whenActive(kin, StreamName) {
	for (let i = 0; i < 100; i++) {
		const { StreamDescriptionSummary: d } = await kin.send(new DescribeStreamSummaryCommand({ StreamName }));
		if (d.StreamStatus === 'ACTIVE') return d;
		assert.equal(d.StreamStatus, 'UPDATING', `${StreamName}: status while a change applies`);
		await sleep(100);
	}
	throw new Error(`${StreamName} did not become ACTIVE`);
}

function assertError(err, name, what) {
	assert.equal(err.name, name, `${what}: expected ${name}, got ${describeError(err)}`);
	assert.equal(err.$metadata?.httpStatusCode, 400, `${what}: HTTP status`);
}

describe('stream settings through the SDK', { timeout: 90000 }, () => {
	const h = withHub((dir) => ({ stream: 'main', shards: 2, dataDir: dir }));

	test('a Terraform-style sequence: create, tag, retention, encryption, monitoring, describe, untag, delete', T, async () => {
		const StreamName = 'tf';
		await h.kin.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
		await whenActive(h.kin, StreamName);
		await h.kin.send(new AddTagsToStreamCommand({ StreamName, Tags: { Name: 'tf', Env: 'test' } }));
		await h.kin.send(new IncreaseStreamRetentionPeriodCommand({ StreamName, RetentionPeriodHours: 168 }));
		await whenActive(h.kin, StreamName);
		await h.kin.send(new StartStreamEncryptionCommand({ StreamName, EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }));
		await whenActive(h.kin, StreamName);
		const mon = await h.kin.send(new EnableEnhancedMonitoringCommand({
			StreamName, ShardLevelMetrics: ['IncomingBytes', 'OutgoingBytes'],
		}));
		assert.deepEqual(mon.DesiredShardLevelMetrics, ['IncomingBytes', 'OutgoingBytes']);

		const { StreamDescription: d } = await h.kin.send(new DescribeStreamCommand({ StreamName }));
		assert.equal(d.StreamStatus, 'ACTIVE');
		assert.equal(d.RetentionPeriodHours, 168);
		assert.equal(d.EncryptionType, 'KMS');
		assert.equal(d.KeyId, 'alias/aws/kinesis');
		assert.deepEqual(d.EnhancedMonitoring, [{ ShardLevelMetrics: ['IncomingBytes', 'OutgoingBytes'] }]);
		const tags = await h.kin.send(new ListTagsForStreamCommand({ StreamName }));
		assert.deepEqual(tags.Tags, [{ Key: 'Env', Value: 'test' }, { Key: 'Name', Value: 'tf' }]);
		assert.equal(tags.HasMoreTags, false);
		const put = await h.kin.send(new PutRecordCommand({ StreamName, PartitionKey: 'k', Data: Buffer.from('x') }));
		assert.equal(put.EncryptionType, 'KMS', 'PutRecord on an encrypted stream');

		await h.kin.send(new RemoveTagsFromStreamCommand({ StreamName, TagKeys: ['Env'] }));
		const left = await h.kin.send(new ListTagsForStreamCommand({ StreamName }));
		assert.deepEqual(left.Tags, [{ Key: 'Name', Value: 'tf' }]);
		await h.kin.send(new DeleteStreamCommand({ StreamName }));
		const gone = await errorOf(() => h.kin.send(new DescribeStreamSummaryCommand({ StreamName })), 'describe after delete');
		assertError(gone, 'ResourceNotFoundException', 'DescribeStreamSummary after DeleteStream');
	});

	test('the other operations: tags by ARN, retention down, encryption and monitoring off, limits, mode, policy', T, async () => {
		const StreamName = 'main';
		const { StreamDescriptionSummary: s } = await h.kin.send(new DescribeStreamSummaryCommand({ StreamName }));
		const ResourceARN = s.StreamARN;

		await h.kin.send(new TagResourceCommand({ ResourceARN, Tags: { team: 'red' } }));
		assert.deepEqual((await h.kin.send(new ListTagsForResourceCommand({ ResourceARN }))).Tags,
			[{ Key: 'team', Value: 'red' }]);
		await h.kin.send(new UntagResourceCommand({ ResourceARN, TagKeys: ['team'] }));
		assert.deepEqual((await h.kin.send(new ListTagsForResourceCommand({ ResourceARN }))).Tags, []);

		await h.kin.send(new IncreaseStreamRetentionPeriodCommand({ StreamName, RetentionPeriodHours: 72 }));
		const busy = await errorOf(() => h.kin.send(new DecreaseStreamRetentionPeriodCommand({
			StreamName, RetentionPeriodHours: 48,
		})), 'a change while UPDATING');
		assertError(busy, 'ResourceInUseException', 'DecreaseStreamRetentionPeriod while UPDATING');
		await whenActive(h.kin, StreamName);
		await h.kin.send(new DecreaseStreamRetentionPeriodCommand({ StreamName, RetentionPeriodHours: 48 }));
		assert.equal((await whenActive(h.kin, StreamName)).RetentionPeriodHours, 48);

		await h.kin.send(new StartStreamEncryptionCommand({ StreamARN: ResourceARN, EncryptionType: 'KMS', KeyId: 'k1' }));
		await whenActive(h.kin, StreamName);
		await h.kin.send(new StopStreamEncryptionCommand({ StreamName, EncryptionType: 'KMS', KeyId: 'k1' }));
		assert.equal((await whenActive(h.kin, StreamName)).EncryptionType, 'NONE');

		await h.kin.send(new EnableEnhancedMonitoringCommand({ StreamName, ShardLevelMetrics: ['ALL'] }));
		const off = await h.kin.send(new DisableEnhancedMonitoringCommand({ StreamName, ShardLevelMetrics: ['ALL'] }));
		assert.equal(off.CurrentShardLevelMetrics.length, 7);
		assert.deepEqual(off.DesiredShardLevelMetrics ?? [], []);

		await h.kin.send(new UpdateStreamModeCommand({ StreamARN: ResourceARN, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
		assert.equal((await whenActive(h.kin, StreamName)).StreamModeDetails.StreamMode, 'ON_DEMAND');
		const limits = await h.kin.send(new DescribeLimitsCommand({}));
		assert.equal(limits.OnDemandStreamCount, 1);
		assert.equal(limits.OnDemandStreamCountLimit, 50);
		assert.equal(limits.OpenShardCount, 2);

		const Policy = JSON.stringify({ Version: '2012-10-17', Statement: [] });
		await h.kin.send(new PutResourcePolicyCommand({ ResourceARN, Policy }));
		assert.equal((await h.kin.send(new GetResourcePolicyCommand({ ResourceARN }))).Policy, Policy);
		await h.kin.send(new DeleteResourcePolicyCommand({ ResourceARN }));
		assert.equal((await h.kin.send(new GetResourcePolicyCommand({ ResourceARN }))).Policy, '{}');
	});

	test('CreateStream with tags, on-demand and warm throughput; UpdateStreamWarmThroughput, UpdateMaxRecordSize', T, async () => {
		const StreamName = 'warm';
		await h.kin.send(new CreateStreamCommand({
			StreamName, StreamModeDetails: { StreamMode: 'ON_DEMAND' }, Tags: { Name: 'warm' },
			WarmThroughputMiBps: 300,
		}));
		const d = await whenActive(h.kin, StreamName);
		assert.equal(d.StreamModeDetails.StreamMode, 'ON_DEMAND');
		assert.deepEqual(d.WarmThroughput, { TargetMiBps: 300, CurrentMiBps: 300 });
		assert.deepEqual((await h.kin.send(new ListTagsForStreamCommand({ StreamName }))).Tags, [{ Key: 'Name', Value: 'warm' }]);
		const up = await h.kin.send(new UpdateStreamWarmThroughputCommand({ StreamARN: d.StreamARN, WarmThroughputMiBps: 600 }));
		assert.deepEqual(up.WarmThroughput, { TargetMiBps: 600, CurrentMiBps: 600 });
		await whenActive(h.kin, StreamName);
		await h.kin.send(new UpdateMaxRecordSizeCommand({ StreamARN: d.StreamARN, MaxRecordSizeInKiB: 2048 }));
		assert.equal((await whenActive(h.kin, StreamName)).MaxRecordSizeInKiB, 2048);
		const big = Buffer.alloc(1536 * 1024, 7);
		const put = await h.kin.send(new PutRecordCommand({ StreamName, PartitionKey: 'big', Data: big }));
		assert.match(put.SequenceNumber, /^[0-9]+$/, 'a 1.5 MiB record after UpdateMaxRecordSize');
		await h.kin.send(new DeleteStreamCommand({ StreamName }));
	});

	test('account settings: the billing commitment runs its first day even when disabled', T, async () => {
		const before = await h.kin.send(new DescribeAccountSettingsCommand({}));
		assert.equal(before.MinimumThroughputBillingCommitment.Status, 'DISABLED');
		const on = await h.kin.send(new UpdateAccountSettingsCommand({
			MinimumThroughputBillingCommitment: { Status: 'ENABLED' },
		}));
		assert.equal(on.MinimumThroughputBillingCommitment.Status, 'ENABLED');
		assert.ok(on.MinimumThroughputBillingCommitment.StartedAt instanceof Date);
		const off = await h.kin.send(new UpdateAccountSettingsCommand({
			MinimumThroughputBillingCommitment: { Status: 'DISABLED' },
		}));
		assert.equal(off.MinimumThroughputBillingCommitment.Status, 'ENABLED_UNTIL_EARLIEST_ALLOWED_END');
		const ms = off.MinimumThroughputBillingCommitment.EarliestAllowedEndAt - off.MinimumThroughputBillingCommitment.StartedAt;
		assert.equal(ms, 24 * 3600 * 1000, 'the commitment lasts at least a day');
	});

	test('errors as AWS names and words them', T, async () => {
		const StreamName = 'main';
		const Tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
		const many = await errorOf(() => h.kin.send(new AddTagsToStreamCommand({ StreamName, Tags })), '51 tags');
		assertError(many, 'LimitExceededException', 'AddTagsToStream with 51 tags');
		const long = await errorOf(() => h.kin.send(new IncreaseStreamRetentionPeriodCommand({
			StreamName, RetentionPeriodHours: 9000,
		})), 'retention 9000');
		assertError(long, 'InvalidArgumentException', 'retention over 8760 hours');
		const bad = await errorOf(() => h.kin.send(new UpdateStreamModeCommand({
			StreamARN: 'not-an-arn', StreamModeDetails: { StreamMode: 'ON_DEMAND' },
		})), 'a bad ARN');
		assertError(bad, 'ValidationException', 'UpdateStreamMode with a bad ARN');
		assert.match(bad.message, /^1 validation error detected: Value 'not-an-arn' at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: /);
	});

	test('a restart on the same --data-dir keeps tags, retention, mode and policy', T, async () => {
		const StreamName = 'main';
		const { StreamDescriptionSummary: s } = await h.kin.send(new DescribeStreamSummaryCommand({ StreamName }));
		await h.kin.send(new AddTagsToStreamCommand({ StreamName, Tags: { kept: 'yes' } }));
		await h.kin.send(new PutResourcePolicyCommand({ ResourceARN: s.StreamARN, Policy: '{"Statement":[]}' }));
		await h.hub.stop();
		await h.hub.start();
		h.kin.destroy();
		h.kin = kinesisClient(h.hub.endpoint);
		const after = await whenActive(h.kin, StreamName);
		assert.equal(after.RetentionPeriodHours, 48);
		assert.equal(after.StreamModeDetails.StreamMode, 'ON_DEMAND');
		assert.deepEqual((await h.kin.send(new ListTagsForStreamCommand({ StreamName }))).Tags, [{ Key: 'kept', Value: 'yes' }]);
		assert.equal((await h.kin.send(new GetResourcePolicyCommand({ ResourceARN: s.StreamARN }))).Policy, '{"Statement":[]}');
	});
});
