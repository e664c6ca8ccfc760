// HTTP/2 on the hub's one port, beside HTTP/1.1 and the WebSocket push:
// curl with prior knowledge (h2c) and over TLS (ALPN h2), both HTTPs on the
// same port, and bad HTTP/2 input answered with a GOAWAY while the hub
// serves on.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import cbor from 'cbor';

import { HOST, Hub, sleep, testCertificate } from './hub.mjs';

const run = promisify(execFile);
const T = { timeout: 30000 };
const LIST_STREAMS = ['-H', 'X-Amz-Target: Kinesis_20131202.ListStreams',
	'-H', 'Content-Type: application/x-amz-json-1.1', '--data-binary', '{}'];

/** curl's answer: { version, status, body } (version as curl names it: 1.1, 2). */
async function curl(args) {
	const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_version} %{http_code}', ...args]);
	const cut = stdout.lastIndexOf('\n');
	const [version, status] = stdout.slice(cut + 1).split(' ');
	return { version, status: Number(status), body: stdout.slice(0, cut) };
}

function assertListStreams(res, version, what) {
	assert.equal(res.version, version, `${what}: curl spoke HTTP/${res.version}`);
	assert.equal(res.status, 200, `${what}: HTTP ${res.status} ${res.body}`);
	assert.deepEqual(JSON.parse(res.body).StreamNames, ['e2e'], `${what}: ${res.body}`);
}

/** One request over HTTP/2 with node's client (ca: trusted for https):
 * { status, headers, bytes }. */
function h2Request(endpoint, method, path, headers, body, ca) {
	return new Promise((resolve, reject) => {
		const session = http2.connect(endpoint, ca ? { ca } : {});
		session.on('error', reject);
		const req = session.request({ ':method': method, ':path': path, ...headers });
		const chunks = [];
		let head;
		req.on('response', (h) => { head = h; });
		req.on('data', (d) => chunks.push(d));
		req.on('end', () => {
			session.close();
			resolve({ status: head[':status'], headers: head, bytes: Buffer.concat(chunks) });
		});
		req.on('error', reject);
		req.end(body);
	});
}

function h2Post(endpoint, path, headers, body) {
	return h2Request(endpoint, 'POST', path, headers, body);
}

const ORIGIN = { origin: 'https://example.org' };
const DENIED = '<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be ' +
	'authorized</Message>\n</AccessDeniedException>\n';

/** What a browser page meets over HTTP/2 (docs/protocol.md, "Browsers
 * (CORS)" and "Endpoints"): the rules HTTP/1.1 follows. */
async function assertBrowserRules(endpoint, ca) {
	const preflight = await h2Request(endpoint, 'OPTIONS', '/', { ...ORIGIN,
		'access-control-request-method': 'POST',
		'access-control-request-headers': 'content-type,x-amz-target' }, undefined, ca);
	assert.equal(preflight.status, 200);
	assert.equal(preflight.bytes.length, 0);
	assert.equal(preflight.headers['access-control-allow-origin'], '*');
	assert.equal(preflight.headers['access-control-allow-methods'], 'POST');
	assert.equal(preflight.headers['access-control-allow-headers'], 'content-type,x-amz-target');
	assert.equal(preflight.headers['access-control-max-age'], '172800');

	const call = await h2Request(endpoint, 'POST', '/', { ...ORIGIN, 'x-amz-target': 'Kinesis_20131202.ListStreams',
		'content-type': 'application/x-amz-json-1.1' }, '{}', ca);
	assert.equal(call.status, 200);
	assert.equal(call.headers['access-control-allow-origin'], '*');
	assert.match(call.headers['access-control-expose-headers'], /(^|,)x-amzn-ErrorType(,|$)/);

	const error = await h2Request(endpoint, 'POST', '/', { ...ORIGIN, 'x-amz-target': 'Kinesis_20131202.FlyToTheMoon',
		'content-type': 'application/x-amz-json-1.1' }, '{}', ca);
	assert.equal(error.status, 400);
	assert.equal(error.headers['x-amzn-errortype'], 'UnknownOperationException');
	assert.equal(error.headers['access-control-allow-origin'], '*');

	for (const [method, headers] of [['GET', ORIGIN], ['PUT', {}], ['DELETE', {}], ['OPTIONS', {}]]) {
		const denied = await h2Request(endpoint, method, '/', headers, undefined, ca);
		assert.equal(denied.status, 403, `${method} /`);
		assert.equal(denied.headers['content-type'], 'application/xml');
		assert.equal(denied.headers['x-amzn-errortype'], 'AccessDeniedException');
		assert.equal(denied.bytes.toString(), DENIED);
		assert.equal(denied.headers['access-control-allow-origin'], headers.origin ? '*' : undefined, `${method} /`);
	}
}

/** The value of an unlabelled or labelled series in a /metrics page. */
function series(page, name) {
	const m = page.match(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm'));
	assert.ok(m, `no ${name} in /metrics`);
	return Number(m[1]);
}

/** Every frame the hub sends on a raw connection until it closes it. */
function rawSession(port, bytes) {
	return new Promise((resolve, reject) => {
		const sock = net.connect(port, HOST, () => sock.write(bytes));
		let got = Buffer.alloc(0);
		sock.on('data', (d) => { got = Buffer.concat([got, d]); });
		sock.on('error', reject);
		sock.on('close', () => {
			const types = [];
			for (let i = 0; i + 9 <= got.length; i += 9 + got.readUIntBE(i, 3)) types.push(got[i + 3]);
			resolve(types);
		});
		sock.setTimeout(5000, () => sock.destroy(new Error('the hub did not close the connection')));
	});
}

describe('h2c: HTTP/2 with prior knowledge on the plain port', T, () => {
	let hub;
	before(async () => {
		hub = new Hub({ stream: 'e2e', shards: 2, extraArgs: ['--max-connections', '3'] });
		await hub.start();
	});
	after(async () => {
		await hub?.stop();
	});

	test('curl --http2-prior-knowledge: the API, /healthz and /metrics', async () => {
		assertListStreams(await curl(['--http2-prior-knowledge', ...LIST_STREAMS, `${hub.endpoint}/`]), '2', 'h2c POST');
		const health = await curl(['--http2-prior-knowledge', `${hub.endpoint}/healthz`]);
		assert.deepEqual([health.version, health.status, health.body], ['2', 200, 'ok\n']);
		const metrics = await curl(['--http2-prior-knowledge', `${hub.endpoint}/metrics`]);
		assert.equal(metrics.status, 200);
		assert.match(metrics.body, /alleycat_connections/);
	});

	test('HTTP/1.1 on the same port', async () => {
		assertListStreams(await curl(['--http1.1', ...LIST_STREAMS, `${hub.endpoint}/`]), '1.1', 'HTTP/1.1 POST');
	});

	test('errors as HTTP/1.1 gives them', async () => {
		const unknown = await curl(['--http2-prior-knowledge', '-H', 'X-Amz-Target: Kinesis_20131202.FlyToTheMoon',
			'--data-binary', '{}', `${hub.endpoint}/`]);
		assert.equal(unknown.status, 400);
		assert.equal(JSON.parse(unknown.body).__type, 'UnknownOperationException');
		const page = await curl(['--http2-prior-knowledge', `${hub.endpoint}/nothing`]);
		assert.equal(page.status, 404);
		const big = await curl(['--http2-prior-knowledge', '-H', `x-padding: ${'a'.repeat(9000)}`, `${hub.endpoint}/healthz`]);
		assert.equal(big.status, 431, `headers over 8 KiB: HTTP ${big.status}`);
	});

	test('errors name their type in x-amzn-errortype, and come in CBOR when asked in CBOR', async () => {
		const json = await h2Post(hub.endpoint, '/', { 'x-amz-target': 'Kinesis_20131202.DescribeStreamSummary',
			'content-type': 'application/x-amz-json-1.1' }, '{"StreamName":"nope"}');
		assert.equal(json.status, 400);
		assert.equal(json.headers['x-amzn-errortype'], 'ResourceNotFoundException');
		const type = 'application/x-amz-cbor-1.1';
		const elsewhere = await h2Post(hub.endpoint, '/elsewhere', { 'content-type': type }, cbor.encode({}));
		assert.equal(elsewhere.status, 404);
		assert.equal(elsewhere.headers['content-type'], type);
		assert.equal(elsewhere.headers['x-amzn-errortype'], 'UnknownOperationException');
		assert.equal(cbor.decodeFirstSync(elsewhere.bytes).__type, 'UnknownOperationException');
	});

	test('a browser page: CORS preflight, Access-Control-* on answers and errors, AWS\'s 403', async () => {
		await assertBrowserRules(hub.endpoint);
	});

	test('/metrics counts connections by protocol and HTTP/2 streams', async () => {
		const before = (await curl([`${hub.endpoint}/metrics`])).body;
		await curl(['--http2-prior-knowledge', `${hub.endpoint}/healthz`]);
		const after = (await curl(['--http2-prior-knowledge', `${hub.endpoint}/metrics`])).body;
		const grew = (name) => series(after, name) - series(before, name);
		assert.equal(grew('alleycat_connections_accepted_total{protocol="h2"}'), 2);
		assert.equal(grew('alleycat_connections_accepted_total{protocol="http1"}'), 0);
		assert.equal(grew('alleycat_h2_streams_total'), 2);
		assert.equal(grew('alleycat_h2_streams_reset_total{by="hub"}'), 0);
		assert.equal(grew('alleycat_h2_streams_reset_total{by="client"}'), 0);
	});

	test('a broken frame after the preface: GOAWAY, and the hub serves on', async () => {
		const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
		const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
		const dataOnStream0 = Buffer.from([0, 0, 1, 0, 0, 0, 0, 0, 0, 0x78]);
		const types = await rawSession(hub.port, Buffer.concat([preface, settings, dataOnStream0]));
		assert.ok(types.includes(7), `frames from the hub: ${JSON.stringify(types)}, expected a GOAWAY (7)`);
		const health = await curl(['--http2-prior-knowledge', `${hub.endpoint}/healthz`]);
		assert.equal(health.status, 200);
		hub.assertAlive();
	});

	test("the README's AWS SDK v3 example runs as written", async () => {
		const srcdir = process.env.top_srcdir || path.join(path.dirname(fileURLToPath(import.meta.url)), '../../..');
		const readme = await readFile(path.join(srcdir, 'README'), 'utf8');
		const block = readme.match(/\n((?: {4}.*\n|\n)*? {4}import \{ KinesisClient[^]*?)\n(?=\S)/);
		assert.ok(block, 'the README has an SDK example (an indented block importing KinesisClient)');
		const code = block[1].replace(/^ {4}/gm, '').replaceAll('http://127.0.0.1:4567', hub.endpoint)
			.replaceAll("StreamName: 'alleycat'", "StreamName: 'e2e'");
		const file = `readme-example-${process.pid}.mjs`; // here, where node_modules is
		await writeFile(file, code);
		try {
			const { stdout } = await run(process.execPath, [file], { timeout: 20000 });
			assert.match(stdout, /shardId-000000000000/, `the example printed: ${stdout}`);
		} finally {
			await rm(file, { force: true });
		}
	});

	test('idle HTTP/2 connections make room at the cap (--max-connections 3)', async () => {
		const idle = [];
		for (let i = 0; i < 3; i++) {
			const s = http2.connect(hub.endpoint);
			s.on('error', () => {});
			idle.push(s);
			await new Promise((resolve) => s.once('remoteSettings', resolve));
		}
		// All three places are held by connections that asked nothing.
		assertListStreams(await curl(['--http2-prior-knowledge', ...LIST_STREAMS, `${hub.endpoint}/`]), '2', 'at the cap');
		await sleep(200);
		assert.ok(idle.some((s) => s.closed || s.destroyed), 'one idle connection was closed to make room');
		for (const s of idle) s.destroy();
	});
});

describe('TLS: HTTP/2 by ALPN beside HTTP/1.1 on one port', T, () => {
	let hub, cert;
	before(async () => {
		const tls = testCertificate();
		cert = tls.cert;
		hub = new Hub({ stream: 'e2e', shards: 2, extraArgs: ['--tls-cert', tls.cert, '--tls-key', tls.key], ca: tls.ca });
		await hub.start();
	});
	after(async () => {
		await hub?.stop();
	});

	test('curl --http2 negotiates h2; curl --http1.1 gets HTTP/1.1', async () => {
		assertListStreams(await curl(['--http2', '--cacert', cert, ...LIST_STREAMS, `${hub.endpoint}/`]), '2', 'TLS h2');
		assertListStreams(await curl(['--http1.1', '--cacert', cert, ...LIST_STREAMS, `${hub.endpoint}/`]), '1.1', 'TLS HTTP/1.1');
		const health = await curl(['--http2', '--cacert', cert, `${hub.endpoint}/healthz`]);
		assert.deepEqual([health.version, health.status], ['2', 200]);
	});

	test('a browser page over https (h2 by ALPN) meets the rules of HTTP/1.1', async () => {
		await assertBrowserRules(hub.endpoint, hub.opts.ca);
	});
});
