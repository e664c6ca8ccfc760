// The simulator's HTTP client against servers that are not the hub: a small
// Node server that speaks just enough PutRecords, and answers slowly, cuts
// an answer short, or closes idle connections. The simulator waits as long
// as --timeout says, says which call failed and why, reuses connections,
// opens a new one when the server has closed the old, and speaks HTTP/2 to
// a TLS server that offers it.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import http2 from 'node:http2';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';

import { ALLEYCAT, HOST, rmTempDir, tempDir } from './hub.mjs';

/** Runs `alleycat sim` to its end: { code, stats, stderr }. */
function sim(endpoint, args) {
	const proc = spawn(ALLEYCAT, ['sim', '--endpoint', endpoint, '--stream', 'fake', '--quiet',
		'--stats', 'json', '--speed', '0', ...args], { env: { ...process.env, ALLEYCAT_CONFIG: '/dev/null' } });
	let stdout = '', stderr = '';
	proc.stdout.on('data', (d) => { stdout += d; });
	proc.stderr.on('data', (d) => { stderr += d; });
	return new Promise((resolve) => proc.on('exit', (code) => {
		let stats = null;
		try {
			stats = JSON.parse(stdout.trim().split('\n').pop());
		} catch {
			// no stats line: the assertions say so
		}
		resolve({ code, stats, stderr });
	}));
}

/**
 * A PutRecords server. behave(n, req, res, answer) decides what the n-th
 * request (from 1) gets; answer(res) sends a good answer. Counts requests
 * and TCP connections.
 */
class FakeKinesis {
	constructor(behave, tls = null) {
		this.requests = 0;
		this.connections = 0;
		this.records = 0;
		this.versions = new Set();
		const create = tls ? (handler) => http2.createSecureServer({ ...tls, allowHTTP1: true }, handler)
			: (handler) => http.createServer(handler);
		this.tls = !!tls;
		this.server = create((req, res) => {
			this.versions.add(req.httpVersion);
			let body = '';
			req.on('data', (d) => { body += d; });
			req.on('end', () => {
				this.requests++;
				const target = req.headers['x-amz-target'] ?? '';
				const { Records = [] } = JSON.parse(body || '{}');
				const answer = (r) => {
					this.records += Records.length;
					const text = JSON.stringify({ FailedRecordCount: 0, Records: Records.map((_, i) => ({
						SequenceNumber: String(this.records * 1000 + i), ShardId: 'shardId-000000000000' })) });
					r.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text) });
					r.end(text);
				};
				assert.equal(target, 'Kinesis_20131202.PutRecords');
				behave(this.requests, req, res, answer, Records.length);
			});
		});
		this.server.on(tls ? 'secureConnection' : 'connection', () => { this.connections++; });
	}

	async start() {
		await new Promise((resolve) => this.server.listen(0, HOST, resolve));
		this.endpoint = `${this.tls ? 'https' : 'http'}://${HOST}:${this.server.address().port}`;
	}

	stop() {
		this.server.closeAllConnections?.();
		return new Promise((resolve) => this.server.close(resolve));
	}
}

describe('a server that answers PutRecords after 8 s', { timeout: 60000 }, () => {
	let fake;

	before(async () => {
		fake = new FakeKinesis((n, req, res, answer) => { setTimeout(() => answer(res), 8000); });
		await fake.start();
	});
	after(() => fake?.stop());

	test('with the default --timeout, every record lands', async () => {
		const t0 = Date.now();
		const { code, stats, stderr } = await sim(fake.endpoint, ['--racers', '10', '--duration', '3']);
		assert.equal(code, 0, stderr);
		assert.equal(stats.sent, 30);
		assert.equal(stats.landed, 30, `every record lands: ${JSON.stringify(stats)}`);
		assert.equal(stats.retried, 0, `nothing was sent twice: ${stderr}`);
		assert.equal(fake.requests, 1);
		assert.ok(Date.now() - t0 >= 8000, 'the answer came after 8 s');
	});

	// A one-shot sim gives up at the first time-out (alleycat(1), DIAGNOSTICS),
	// retry budget or not: the records it gives up on have failed, and none
	// was sent again.
	test('with --timeout 2, it says which call got no answer, and in how long', async () => {
		const t0 = Date.now();
		const { code, stats, stderr } = await sim(fake.endpoint, ['--racers', '10', '--duration', '3',
			'--timeout', '2', '--max-retries', '1']);
		assert.equal(code, 1, 'the records failed');
		assert.equal(stats.failed, 30);
		assert.equal(stats.retried, 0, `it gave up instead of sending them again: ${JSON.stringify(stats)}`);
		assert.equal(stats.sent, stats.landed + stats.failed + stats.unanswered);
		assert.match(stderr, /PutRecords: no answer within 2 s \(--timeout\)/);
		assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
		assert.ok(Date.now() - t0 < 8000, 'it did not wait for the late answer');
	});
});

describe('a server that closes the connection half-way through an answer', { timeout: 60000 }, () => {
	let fake;

	before(async () => {
		fake = new FakeKinesis((n, req, res, answer) => {
			if (n > 1) {
				answer(res);
				return;
			}
			res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': '4096' });
			res.write('{"FailedRecordCount":0,"Records":[');
			setTimeout(() => res.socket.destroy(), 100);
		});
		await fake.start();
	});
	after(() => fake?.stop());

	test('the sim says what happened, sends the batch again, and lands every record', async () => {
		const { code, stats, stderr } = await sim(fake.endpoint, ['--racers', '10', '--duration', '3']);
		assert.equal(code, 0, stderr);
		assert.match(stderr, /^alleycat: warn: .*PutRecords: the connection closed before the answer was complete.*; retrying$/m);
		assert.equal(stderr.match(/closed before/g).length, 1, `said once: ${stderr}`);
		assert.equal(stats.landed, 30, `every record lands: ${JSON.stringify(stats)}`);
		assert.equal(stats.retried, 30, 'the cut batch was sent again, once');
		assert.ok(fake.requests >= 2);
	});
});

describe('connections', { timeout: 60000 }, () => {
	let fake, idle;

	before(async () => {
		fake = new FakeKinesis((n, req, res, answer) => answer(res));
		await fake.start();
		// This one closes each connection 50 ms after its answer.
		idle = new FakeKinesis((n, req, res, answer) => {
			res.on('finish', () => setTimeout(() => req.socket.destroy(), 50));
			answer(res);
		});
		await idle.start();
	});
	after(async () => {
		await fake?.stop();
		await idle?.stop();
	});

	test('are kept alive: 40 batches over at most 2 connections', async () => {
		const { code, stats, stderr } = await sim(fake.endpoint, ['--racers', '100', '--duration', '20',
			'--batch', '50', '--in-flight', '2']);
		assert.equal(code, 0, stderr);
		assert.equal(stats.landed, 2000);
		assert.equal(fake.requests, 40);
		assert.ok(fake.connections <= 2, `${fake.connections} connections for 40 requests`);
	});

	test('are opened again when the server has closed them', async () => {
		// --speed 2: a batch every 500 ms, each after the server closed the last connection.
		const { code, stats, stderr } = await sim(idle.endpoint, ['--racers', '10',
			'--duration', '4', '--speed', '2', '--in-flight', '1']);
		assert.equal(code, 0, stderr);
		assert.equal(stats.landed, 40, `every record lands: ${JSON.stringify(stats)}`);
		assert.equal(stats.retried, 0, `no request failed: ${stderr}`);
		assert.equal(idle.connections, idle.requests, 'a connection per request: the server closed each');
		assert.ok(idle.requests >= 3);
	});
});


describe('a TLS server that offers HTTP/2', { timeout: 60000 }, () => {
	let fake, dir, cert;

	before(async () => {
		dir = await tempDir();
		cert = path.join(dir, 'cert.pem');
		const key = path.join(dir, 'key.pem');
		await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
			'-out', cert, '-days', '2', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=IP:${HOST}`]);
		fake = new FakeKinesis((n, req, res, answer) => answer(res),
			{ key: await readFile(key), cert: await readFile(cert) });
		await fake.start();
	});
	after(async () => {
		await fake?.stop();
		await rmTempDir(dir);
	});

	test('gets every request over HTTP/2, four at once on one connection', async () => {
		const { code, stats, stderr } = await sim(fake.endpoint, ['--ca', cert, '--racers', '100',
			'--duration', '20', '--batch', '50', '--in-flight', '4']);
		assert.equal(code, 0, stderr);
		assert.equal(stats.landed, 2000);
		assert.deepEqual([...fake.versions], ['2.0']);
		assert.equal(fake.connections, 1, `${fake.connections} TLS connections for ${fake.requests} requests`);
	});
});
