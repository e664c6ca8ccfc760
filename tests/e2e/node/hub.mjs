// Helpers for the end-to-end tests: start and stop an alleycat hub, talk to
// it with the AWS SDK for JavaScript v3, and the shard arithmetic of
// Kinesis (MD5 of the partition key into an even split of
// 0..2^128-1).  Works on Node 18 and later.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';

import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export { sleep };

// make check names the binary; by hand, the README's build directory.
export const ALLEYCAT = process.env.ALLEYCAT ||
	fileURLToPath(new URL('../../../build/alleycat', import.meta.url));
export const HOST = '127.0.0.1';
export const SUBPROTOCOL = 'alleycat-efo.v1';
export const SEQ_RE = /^(0|[1-9][0-9]{0,128})$/;
export const TWO_128 = 1n << 128n;

const VERBOSE = !!process.env.ALLEYCAT_E2E_VERBOSE;

/**
 * How kinesisClient reaches the hubs: 'http1' (the SDK with its HTTP/1.1
 * handler, NodeHttpHandler), or the SDK's default client, which speaks
 * HTTP/2: 'h2c' (http://, prior knowledge) or 'h2tls' (https://, ALPN h2;
 * every hub then serves TLS with a self-signed certificate).  Set before
 * this module loads (see sdk-h2c.test.mjs).
 */
export const TRANSPORT = process.env.ALLEYCAT_E2E_TRANSPORT || 'http1';
if (!['http1', 'h2c', 'h2tls'].includes(TRANSPORT))
	throw new Error(`ALLEYCAT_E2E_TRANSPORT=${TRANSPORT}: expected http1, h2c or h2tls`);

let tls = null;
/** One self-signed certificate for this process's hubs: {cert, key, ca}. */
export function testCertificate() {
	if (tls) return tls;
	const dir = mkdtempSync(path.join(os.tmpdir(), 'alleycat-e2e-tls-'));
	const cert = path.join(dir, 'cert.pem');
	const key = path.join(dir, 'key.pem');
	execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
		'-days', '2', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=IP:${HOST},DNS:localhost`],
	{ stdio: 'ignore' });
	process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
	tls = { cert, key, ca: readFileSync(cert) };
	return tls;
}

// Hubs still running when this process exits (a failed before() hook, an
// uncaught error) are killed so that none outlives the tests.
const running = new Set();
process.on('exit', () => {
	for (const proc of running) {
		try {
			proc.kill('SIGKILL');
		} catch {
			// already gone
		}
	}
});

/** A TCP port that was free a moment ago: bind port 0, read it, close. */
export function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, HOST, () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

/** A fresh temporary directory; remove it with rmTempDir. */
export function tempDir(prefix = 'alleycat-e2e-') {
	return mkdtemp(path.join(os.tmpdir(), prefix));
}

export function rmTempDir(dir) {
	return dir ? rm(dir, { recursive: true, force: true }) : Promise.resolve();
}

/**
 * A running `alleycat hub`.  start() spawns it and waits for GET /healthz;
 * stop() sends SIGTERM (SIGKILL after a grace period); kill() sends SIGKILL
 * and waits for the exit.  The hub's stderr is kept (last 64 KiB) for
 * failure messages; ALLEYCAT_E2E_VERBOSE=1 echoes it.
 */
export class Hub {
	constructor(opts = {}) {
		this.opts = {
			stream: 'e2e',
			shards: 4,
			port: 0,
			dataDir: null,
			subscriptionSeconds: null,
			shardRecordsPerSec: null,
			shardBytesPerSec: null,
			extraArgs: [],
			...opts,
		};
		if (TRANSPORT === 'h2tls' && !this.opts.ca) {
			const { cert, key, ca } = testCertificate();
			this.opts.extraArgs = [...this.opts.extraArgs, '--tls-cert', cert, '--tls-key', key];
			this.opts.ca = ca;
		}
		this.port = this.opts.port || 0;
		this.proc = null;
		this.stderr = '';
		this.stdout = '';
		this.exit = null;
		this.expectExit = false;
	}

	get endpoint() {
		return `${this.opts.ca ? 'https' : 'http'}://${HOST}:${this.port}`;
	}

	get wsUrl() {
		return `${this.opts.ca ? 'wss' : 'ws'}://${HOST}:${this.port}/subscribe`;
	}

	args() {
		const o = this.opts;
		const a = ['hub', '--listen', `${HOST}:${this.port}`, '--stream', o.stream,
			'--shards', String(o.shards), '--log-level', 'info'];
		if (o.dataDir) a.push('--data-dir', o.dataDir);
		if (o.subscriptionSeconds != null) a.push('--subscription-seconds', String(o.subscriptionSeconds));
		if (o.shardRecordsPerSec != null) a.push('--shard-records-per-sec', String(o.shardRecordsPerSec));
		if (o.shardBytesPerSec != null) a.push('--shard-bytes-per-sec', String(o.shardBytesPerSec));
		return a.concat(o.extraArgs);
	}

	/** The last lines of the hub's stderr, for failure messages. */
	logTail(lines = 30) {
		const all = this.stderr.trimEnd().split('\n');
		return all.slice(-lines).join('\n');
	}

	describeExit() {
		if (!this.exit) return 'still running';
		const { code, signal } = this.exit;
		return signal ? `killed by ${signal}` : `exited with status ${code}`;
	}

	/** Spawns the hub; a free port is picked unless one was given (up to 3 tries). */
	async start({ timeoutMs = 10000 } = {}) {
		const fixedPort = !!this.port;
		let lastErr;
		for (let attempt = 0; attempt < (fixedPort ? 1 : 3); attempt++) {
			if (!fixedPort) this.port = await freePort();
			try {
				await this.#spawnAndWait(timeoutMs);
				return this;
			} catch (err) {
				lastErr = err;
				await this.kill().catch(() => {});
			}
		}
		throw lastErr;
	}

	async #spawnAndWait(timeoutMs) {
		this.stderr = '';
		this.stdout = '';
		this.exit = null;
		this.expectExit = false;
		const argv = this.args();
		const proc = spawn(ALLEYCAT, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
		this.proc = proc;
		running.add(proc);
		this.exited = new Promise((resolve) => {
			proc.on('exit', (code, signal) => {
				running.delete(proc);
				this.exit = { code, signal };
				if (!this.expectExit && VERBOSE)
					process.stderr.write(`[hub :${this.port}] unexpected exit: ${this.describeExit()}\n`);
				resolve(this.exit);
			});
		});
		let spawnError = null;
		proc.on('error', (err) => { spawnError = err; });
		proc.stdout.on('data', (d) => {
			// The hub prints one line on stdout once it listens: kept, as
			// is anything else it prints, for a test to see.
			this.stdout += d.toString();
			this.stderr += `[stdout] ${d}`;
		});
		proc.stderr.on('data', (d) => {
			this.stderr += d.toString();
			if (this.stderr.length > 65536) this.stderr = this.stderr.slice(-65536);
			if (VERBOSE) process.stderr.write(`[hub :${this.port}] ${d}`);
		});

		const deadline = Date.now() + timeoutMs;
		for (;;) {
			if (spawnError)
				throw new Error(`cannot run ${ALLEYCAT}: ${spawnError.message}`);
			if (this.exit)
				throw new Error(`hub (${ALLEYCAT} ${argv.join(' ')}) ${this.describeExit()} before it was ` +
					`healthy; its stderr:\n${this.logTail()}`);
			// Only this hub says it is ready on this port: another test's
			// hub that took the port first cannot pass for it.
			if (!this.stdout.includes(`hub ready on ${this.endpoint}:`)) {
				if (Date.now() > deadline)
					throw new Error(`hub (${argv.join(' ')}) did not say it was ready on ${this.endpoint} ` +
						`after ${timeoutMs} ms; its output:\n${this.logTail()}`);
				await sleep(50);
				continue;
			}
			try {
				const { status, body } = await this.#health();
				if (status === 200) {
					if (body.trim() !== 'ok')
						throw new Error(`GET /healthz answered 200 with body ${JSON.stringify(body)}, expected "ok"`);
					return;
				}
			} catch (err) {
				if (err.message.startsWith('GET /healthz')) throw err;
			}
			if (Date.now() > deadline)
				throw new Error(`hub (${argv.join(' ')}) not healthy on ${this.endpoint}/healthz after ` +
					`${timeoutMs} ms; its stderr:\n${this.logTail()}`);
			await sleep(50);
		}
	}

	/** GET /healthz, over TLS (trusting opts.ca) when the hub serves it. */
	#health() {
		if (!this.opts.ca) {
			return fetch(`${this.endpoint}/healthz`, { signal: AbortSignal.timeout(1000) })
				.then(async (res) => ({ status: res.status, body: await res.text() }));
		}
		return new Promise((resolve, reject) => {
			const req = https.get({ host: HOST, port: this.port, path: '/healthz', ca: this.opts.ca,
				timeout: 1000 }, (res) => {
				let body = '';
				res.on('data', (d) => { body += d; });
				res.on('end', () => resolve({ status: res.statusCode, body }));
			});
			req.on('error', reject);
			req.on('timeout', () => req.destroy(new Error('timeout')));
		});
	}

	/** Throws if the hub died by itself. */
	assertAlive() {
		if (this.exit && !this.expectExit)
			throw new Error(`the hub ${this.describeExit()} unexpectedly; its stderr:\n${this.logTail()}`);
	}

	/** SIGTERM, then SIGKILL after graceMs; resolves to {code, signal}. */
	async stop({ graceMs = 5000 } = {}) {
		if (!this.proc) return null;
		const died = this.exit && !this.expectExit ? this.exit : null;
		this.expectExit = true;
		if (!this.exit) {
			this.proc.kill('SIGTERM');
			const t = setTimeout(() => { if (!this.exit) this.proc.kill('SIGKILL'); }, graceMs);
			await this.exited;
			clearTimeout(t);
		}
		if (died)
			throw new Error(`the hub ${this.describeExit()} on its own during the tests; its stderr:\n` +
				this.logTail());
		return this.exit;
	}

	/** SIGKILL: the hub gets no chance to flush anything. */
	async kill() {
		if (!this.proc) return null;
		this.expectExit = true;
		if (!this.exit) {
			this.proc.kill('SIGKILL');
			await this.exited;
		}
		return this.exit;
	}
}

/** Starts a hub with the given options (see Hub). */
export async function startHub(opts) {
	const hub = new Hub(opts);
	await hub.start();
	return hub;
}

/**
 * Starts a hub with --auth sigv4 whose credentials file (in a temporary
 * directory) holds key: { hub, dir }. Stop the hub, then rmTempDir(dir).
 */
export async function startSigv4Hub(key, opts = {}) {
	const dir = await tempDir();
	const creds = path.join(dir, 'credentials');
	await writeFile(creds, `[racing]\naws_access_key_id = ${key.accessKeyId}\n` +
		`aws_secret_access_key = ${key.secretAccessKey}\n`);
	const hub = new Hub({ ...opts, extraArgs: ['--auth', 'sigv4', '--credentials', creds] });
	await hub.start();
	return { hub, dir };
}

/**
 * The real AWS SDK v3 Kinesis client, pointed at the hub: over HTTP/1.1,
 * or created as the SDK documents it (no request handler: HTTP/2) when
 * TRANSPORT says so.
 */
export function kinesisClient(endpoint, extra = {}) {
	return new KinesisClient({
		endpoint,
		region: 'us-east-1',
		credentials: { accessKeyId: 'AKIDALLEYCATE2E', secretAccessKey: 'alleycat-e2e-secret' },
		...(TRANSPORT === 'http1'
			? { requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 15000 }) }
			: {}),
		maxAttempts: 1, // a retry would hide what the hub answered
		...extra,
	});
}

/**
 * The hub of a describe() block: before() makes a temporary directory,
 * starts a Hub and a kinesisClient for it; after() destroys the client,
 * stops the hub and removes the directory.  options: the Hub's options, or
 * a function of the directory that returns them (for a --data-dir in it).
 * Returns {hub, kin, dir}, filled in once before() has run; a test that
 * restarts the hub may replace kin.
 */
export function withHub(options = {}) {
	const h = { hub: null, kin: null, dir: null };
	before(async () => {
		h.dir = await tempDir();
		h.hub = new Hub(typeof options === 'function' ? options(h.dir) : options);
		await h.hub.start();
		h.kin = kinesisClient(h.hub.endpoint);
	});
	after(async () => {
		h.kin?.destroy();
		await h.hub?.stop();
		await rmTempDir(h.dir);
	});
	return h;
}

/** Runs fn and returns the error it throws; fails if it does not throw. */
export async function errorOf(fn, what) {
	try {
		const out = await fn();
		throw Object.assign(new Error(`${what}: expected an error, got success: ${JSON.stringify(out)}`),
			{ noError: true });
	} catch (err) {
		if (err.noError) throw err;
		return err;
	}
}

/** "name (HTTP status): message" of an SDK service error, for messages. */
export function describeError(err) {
	const status = err.$metadata ? err.$metadata.httpStatusCode : undefined;
	return `${err.name} (HTTP ${status}): ${err.message}`;
}

// ---------------------------------------------------------------------
// Hash keys and sequence numbers
// ---------------------------------------------------------------------

/** MD5 of the partition key (UTF-8) as a 128-bit big-endian integer. */
export function md5Key(partitionKey) {
	return BigInt('0x' + createHash('md5').update(partitionKey, 'utf8').digest('hex'));
}

/** The hash key ranges of an even split: shard i starts at i*floor(2^128/N). */
export function evenRanges(n) {
	const step = TWO_128 / BigInt(n);
	const ranges = [];
	for (let i = 0; i < n; i++) {
		const start = BigInt(i) * step;
		const end = i === n - 1 ? TWO_128 - 1n : BigInt(i + 1) * step - 1n;
		ranges.push({ start, end });
	}
	return ranges;
}

export function shardIdOf(index) {
	return `shardId-${String(index).padStart(12, '0')}`;
}

/** The shard id a hash key lands on, given ListShards' shards. */
export function shardForHash(shards, hash) {
	for (const s of shards) {
		if (BigInt(s.HashKeyRange.StartingHashKey) <= hash && hash <= BigInt(s.HashKeyRange.EndingHashKey))
			return s.ShardId;
	}
	throw new Error(`no shard holds hash key ${hash}`);
}

/** The shard id a partition key lands on. */
export function shardForKey(shards, partitionKey) {
	return shardForHash(shards, md5Key(partitionKey));
}

/** Numeric comparison of decimal sequence numbers (longer is larger). */
export function cmpSeq(a, b) {
	if (a.length !== b.length) return a.length < b.length ? -1 : 1;
	return a < b ? -1 : a > b ? 1 : 0;
}

/** A partition key that lands on the given shard (searching key0, key1, ...). */
export function keyForShard(shards, shardId, prefix = 'key') {
	for (let i = 0; i < 100000; i++) {
		const k = `${prefix}${i}`;
		if (shardForKey(shards, k) === shardId) return k;
	}
	throw new Error(`no key found for ${shardId}`);
}

// ---------------------------------------------------------------------
// Reading a shard back
// ---------------------------------------------------------------------

/**
 * Reads a shard with GetRecords from the given iterator until `want`
 * records have arrived, or (when want is undefined) until a call returns no
 * records with MillisBehindLatest 0.  Checks the answer shape of every call.
 * Returns { records, responses, nextIterator }.
 */
export async function readShard(client, GetRecordsCommand, iterator, { want, limit, maxCalls = 200, what = 'GetRecords' } = {}) {
	const records = [];
	const responses = [];
	let it = iterator;
	for (let call = 0; call < maxCalls; call++) {
		const res = await client.send(new GetRecordsCommand({ ShardIterator: it, ...(limit ? { Limit: limit } : {}) }));
		responses.push(res);
		if (!Array.isArray(res.Records))
			throw new Error(`${what}: answer without a Records array: ${JSON.stringify(res)}`);
		if (typeof res.MillisBehindLatest !== 'number' || res.MillisBehindLatest < 0)
			throw new Error(`${what}: MillisBehindLatest is ${JSON.stringify(res.MillisBehindLatest)}, expected a number >= 0`);
		if (!Array.isArray(res.ChildShards) || res.ChildShards.length !== 0)
			throw new Error(`${what}: ChildShards is ${JSON.stringify(res.ChildShards)}, expected [] on an open shard`);
		if (typeof res.NextShardIterator !== 'string' || res.NextShardIterator === '')
			throw new Error(`${what}: no NextShardIterator on an open shard`);
		if (limit && res.Records.length > limit)
			throw new Error(`${what}: ${res.Records.length} records with Limit ${limit}`);
		records.push(...res.Records);
		it = res.NextShardIterator;
		if (want !== undefined && records.length >= want) break;
		if (want === undefined && res.Records.length === 0 && res.MillisBehindLatest === 0) break;
	}
	return { records, responses, nextIterator: it };
}

/** Every shard of a stream, following NextToken. */
export async function listAllShards(client, ListShardsCommand, streamName) {
	const shards = [];
	let token;
	for (let i = 0; i < 100; i++) {
		const res = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: streamName }));
		shards.push(...res.Shards);
		token = res.NextToken;
		if (!token) break;
	}
	return shards;
}

/** Random-ish but reproducible payload bytes for record i. */
export function payload(tag, i, size = 0) {
	const base = JSON.stringify({ event: 'update', tag, i, second: (i % 300) + 1, racerId: 1000 + i });
	if (size <= base.length) return Buffer.from(base);
	return Buffer.concat([Buffer.from(base), Buffer.alloc(size - base.length, 0x61 + (i % 26))]);
}
