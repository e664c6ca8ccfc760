// TLS: a hub started with --tls-cert/--tls-key serves HTTPS and WSS (here
// over HTTP/1.1; HTTP/2 in h2.test.mjs and sdk-h2tls.test.mjs). The AWS SDK
// with its HTTP/1.1 handler works against https:// with a CA bundle; the
// simulator and the board verify the certificate (--ca), refuse one they
// cannot verify, and accept any with --insecure.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import { KinesisClient, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

import { ALLEYCAT, HOST, Hub, rmTempDir, tempDir } from './hub.mjs';

const run = promisify(execFile);
const STREAM = 'e2e';
const env = { ...process.env, ALLEYCAT_CONFIG: '/dev/null' };

describe('TLS', { timeout: 60000 }, () => {
	let hub, dir, cert, key, ca;

	before(async () => {
		dir = await tempDir();
		cert = path.join(dir, 'cert.pem');
		key = path.join(dir, 'key.pem');
		await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
			'-days', '2', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=IP:${HOST},DNS:localhost`]);
		ca = await readFile(cert);
		hub = new Hub({ stream: STREAM, shards: 2, extraArgs: ['--tls-cert', cert, '--tls-key', key], ca });
		await hub.start();
	});
	after(async () => {
		await hub?.stop();
		await rmTempDir(dir);
	});

	const httpsEndpoint = () => `https://${HOST}:${hub.port}`;

	test('the AWS SDK works against https:// with the CA bundle', async () => {
		const kin = new KinesisClient({
			endpoint: httpsEndpoint(), region: 'us-east-1',
			credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
			requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca }) }),
		});
		try {
			const { Shards } = await kin.send(new ListShardsCommand({ StreamName: STREAM }));
			assert.equal(Shards.length, 2);
			const res = await kin.send(new PutRecordsCommand({ StreamName: STREAM,
				Records: [{ PartitionKey: 'k', Data: Buffer.from('over tls') }] }));
			assert.equal(res.FailedRecordCount, 0);
		} finally {
			kin.destroy();
		}
	});

	test('the simulator verifies the certificate', async () => {
		const args = ['sim', '--endpoint', httpsEndpoint(), '--stream', STREAM, '--racers', '20',
			'--duration', '5', '--speed', '0', '--quiet', '--stats', 'json', '--max-retries', '1'];
		const ok = JSON.parse((await run(ALLEYCAT, [...args, '--ca', cert], { env })).stdout);
		assert.equal(ok.landed, 100);
		const insecure = JSON.parse((await run(ALLEYCAT, [...args, '--insecure'], { env })).stdout);
		assert.equal(insecure.landed, 100);
		const refused = await run(ALLEYCAT, args, { env }).then(() => null, (err) => err);
		assert.ok(refused, 'without the CA the simulator must fail');
		assert.equal(refused.code, 1);
		assert.equal(JSON.parse(refused.stdout).landed, 0, 'nothing goes to a server it cannot verify');
	});

	test('the board reads over wss:// with the CA bundle', async () => {
		const { stdout } = await run(ALLEYCAT, ['board', '--endpoint', `wss://${HOST}:${hub.port}`, '--ca', cert,
			'--stream', STREAM, '--db', path.join(dir, 'h.db'), '--once', '--format', 'json'],
		{ env, timeout: 30000 });
		const races = JSON.parse(stdout).races;
		assert.ok(races.length >= 1 && races[0].racers.length === 20, stdout);
	});
});
