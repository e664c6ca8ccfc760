// Access control: a hub started with --auth sigv4 and a credentials file
// serves the AWS SDK signing with a key from that file, and answers every
// other request with the AWS error type and no data; the push endpoint
// requires the same signature (made here by the SDK's own signer); the
// simulator and the board sign with the usual AWS variables.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import { ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

import { tryOpen } from './efo.mjs';
import { ALLEYCAT, HOST, kinesisClient, rmTempDir, startSigv4Hub } from './hub.mjs';

const run = promisify(execFile);
const STREAM = 'e2e';
const KEY = { accessKeyId: 'AKIAALLEYCAT0001', secretAccessKey: 's3cr3t/Key+For=Racing' };

describe('--auth sigv4', { timeout: 60000 }, () => {
	let hub, dir;

	before(async () => {
		({ hub, dir } = await startSigv4Hub(KEY, { stream: STREAM, shards: 2 }));
	});
	after(async () => {
		await hub?.stop();
		await rmTempDir(dir);
	});

	const errorType = async (credentials) => {
		const kin = kinesisClient(hub.endpoint, { credentials });
		try {
			await kin.send(new ListShardsCommand({ StreamName: STREAM }));
			return null;
		} catch (err) {
			return err.name;
		} finally {
			kin.destroy();
		}
	};

	test('the SDK with a known key is served', async () => {
		const kin = kinesisClient(hub.endpoint, { credentials: KEY });
		try {
			assert.equal((await kin.send(new ListShardsCommand({ StreamName: STREAM }))).Shards.length, 2);
			const res = await kin.send(new PutRecordsCommand({ StreamName: STREAM,
				Records: [{ PartitionKey: 'k', Data: Buffer.from('signed') }] }));
			assert.equal(res.FailedRecordCount, 0);
		} finally {
			kin.destroy();
		}
	});

	test('a wrong secret, an unknown key and no signature are refused with AWS error types', async () => {
		assert.equal(await errorType({ ...KEY, secretAccessKey: 'wrong' }), 'InvalidSignatureException');
		assert.equal(await errorType({ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' }), 'UnrecognizedClientException');
		const res = await fetch(`${hub.endpoint}/`, { method: 'POST', body: JSON.stringify({ StreamName: STREAM }),
			headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.ListShards' } });
		assert.equal(res.status, 400);
		const body = await res.json();
		assert.equal(body.__type, 'MissingAuthenticationTokenException');
		assert.equal(body.Shards, undefined, 'no data');
	});

	test('push requires the same signature', async () => {
		const url = `ws://${HOST}:${hub.port}/subscribe`;
		assert.match(await tryOpen(url, 'alleycat-efo.v1'), /^(unexpected-response|error)/, 'an unsigned upgrade is refused');

		const signer = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: 'kinesis', sha256: Sha256 });
		const signed = await signer.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: HOST,
			port: hub.port, path: '/subscribe', headers: { host: `${HOST}:${hub.port}` } }));
		const { WebSocket } = await import('ws');
		const opened = await new Promise((resolve) => {
			const ws = new WebSocket(url, 'alleycat-efo.v1', { headers: signed.headers });
			ws.on('open', () => { ws.close(); resolve('open'); });
			ws.on('unexpected-response', (_req, res) => resolve(`unexpected-response ${res.statusCode}`));
			ws.on('error', (err) => resolve(`error ${err.message}`));
		});
		assert.equal(opened, 'open', 'a signed upgrade is accepted');
	});

	test('the simulator and the board sign with the AWS variables', async () => {
		const env = { ...process.env, ALLEYCAT_CONFIG: '/dev/null', AWS_ACCESS_KEY_ID: KEY.accessKeyId,
			AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey };
		const sim = JSON.parse((await run(ALLEYCAT, ['sim', '--endpoint', hub.endpoint, '--stream', STREAM,
			'--racers', '20', '--duration', '5', '--speed', '0', '--quiet', '--stats', 'json'], { env })).stdout);
		assert.equal(sim.landed, 100);
		const { stdout } = await run(ALLEYCAT, ['board', '--endpoint', hub.endpoint.replace('http', 'ws'),
			'--stream', STREAM, '--db', path.join(dir, 'h.db'), '--once', '--format', 'json'], { env, timeout: 30000 });
		assert.equal(JSON.parse(stdout).races[0].racers.length, 20);

		const refused = await run(ALLEYCAT, ['sim', '--endpoint', hub.endpoint, '--stream', STREAM, '--racers', '5',
			'--duration', '2', '--speed', '0', '--quiet', '--stats', 'json'],
		{ env: { ...env, AWS_SECRET_ACCESS_KEY: 'wrong' } }).then(() => null, (err) => err);
		assert.equal(refused?.code, 1, 'a wrong key fails the simulator');
		assert.equal(JSON.parse(refused.stdout).failed, 10, 'and every record counts as failed, not retried forever');
	});
});
