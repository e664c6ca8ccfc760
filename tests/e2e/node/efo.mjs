// A small push (enhanced fan-out over WebSockets) client for the tests,
// built on the npm `ws` package: it opens ws://HOST:PORT/subscribe with the
// alleycat-efo.v1 subprotocol, sends SubscribeToShard, and keeps every event
// it receives (with its arrival time) so tests can wait for and inspect them.
import { randomBytes } from 'node:crypto';
import http from 'node:http';

import WebSocket from 'ws';

import { SEQ_RE, SUBPROTOCOL } from './hub.mjs';

const EVENT_TYPES = new Set(['SubscribeToShardEvent', 'SubscriptionExpired', 'Exception']);

export class EfoConnection {
	constructor(ws) {
		this.ws = ws;
		this.events = []; // { at, ev }
		this.problems = []; // protocol violations seen (binary frames, bad JSON, unknown events)
		this.waiters = new Set();
		this.closed = null;
		ws.on('message', (data, isBinary) => {
			const at = Date.now();
			if (isBinary) {
				this.problems.push(`a binary frame of ${data.length} bytes (the protocol uses JSON text frames)`);
				return;
			}
			let ev;
			try {
				ev = JSON.parse(data.toString('utf8'));
			} catch {
				this.problems.push(`a text frame that is not JSON: ${data.toString('utf8').slice(0, 200)}`);
				return;
			}
			if (!ev || !EVENT_TYPES.has(ev.Event))
				this.problems.push(`an event of unknown type: ${JSON.stringify(ev).slice(0, 300)}`);
			this.events.push({ at, ev });
			for (const w of this.waiters) w();
		});
		ws.on('close', (code, reason) => {
			this.closed = { code, reason: reason.toString() };
			for (const w of this.waiters) w();
		});
		ws.on('error', (err) => {
			this.problems.push(`WebSocket error: ${err.message}`);
		});
	}

	/** Opens a connection; rejects if the hub refuses the upgrade. */
	static open(url, { protocol = SUBPROTOCOL, timeoutMs = 5000 } = {}) {
		return new Promise((resolve, reject) => {
			const ws = new WebSocket(url, protocol);
			const t = setTimeout(() => { ws.terminate(); reject(new Error(`WebSocket ${url}: no open after ${timeoutMs} ms`)); }, timeoutMs);
			ws.once('open', () => {
				clearTimeout(t);
				if (ws.protocol !== protocol) {
					ws.terminate();
					reject(new Error(`WebSocket ${url}: the hub chose subprotocol '${ws.protocol}', expected '${protocol}'`));
					return;
				}
				resolve(new EfoConnection(ws));
			});
			ws.once('unexpected-response', (_req, res) => {
				clearTimeout(t);
				res.resume();
				ws.terminate();
				reject(new Error(`WebSocket ${url}: upgrade refused with HTTP ${res.statusCode}`));
			});
			ws.on('error', (err) => { clearTimeout(t); reject(err); });
		});
	}

	get isOpen() {
		return this.ws.readyState === WebSocket.OPEN;
	}

	send(obj) {
		this.ws.send(JSON.stringify(obj));
	}

	/** Sends SubscribeToShard; returns the time it was sent. */
	subscribe(consumerARN, shardId, startingPosition = { Type: 'TRIM_HORIZON' }) {
		const at = Date.now();
		this.send({ Action: 'SubscribeToShard', ConsumerARN: consumerARN, ShardId: shardId, StartingPosition: startingPosition });
		return at;
	}

	/**
	 * Waits for the first event at index >= from for which pred(ev) is true;
	 * resolves to { at, ev, index }.  Rejects after timeoutMs with `what`.
	 */
	waitFor(pred, { from = 0, timeoutMs = 5000, what = 'an event' } = {}) {
		return new Promise((resolve, reject) => {
			let i = from;
			const check = () => {
				for (; i < this.events.length; i++) {
					if (pred(this.events[i].ev)) {
						done();
						resolve({ ...this.events[i], index: i });
						return true;
					}
				}
				if (this.closed) {
					done();
					reject(new Error(`waiting for ${what}: the hub closed the connection (code ${this.closed.code} ${this.closed.reason})`));
					return true;
				}
				return false;
			};
			const t = setTimeout(() => {
				done();
				reject(new Error(`waiting for ${what}: nothing after ${timeoutMs} ms; events so far: ${this.summary()}`));
			}, timeoutMs);
			const done = () => { clearTimeout(t); this.waiters.delete(check); };
			if (!check()) this.waiters.add(check);
		});
	}

	/** Waits until cond() is true, re-checking on every event. */
	until(cond, { timeoutMs = 5000, what = 'a condition' } = {}) {
		return new Promise((resolve, reject) => {
			const check = () => {
				let ok;
				try {
					ok = cond();
				} catch (err) {
					done();
					reject(err);
					return true;
				}
				if (ok) {
					done();
					resolve();
					return true;
				}
				return false;
			};
			const t = setTimeout(() => {
				done();
				reject(new Error(`waiting for ${what}: not reached after ${timeoutMs} ms; events so far: ${this.summary()}`));
			}, timeoutMs);
			const done = () => { clearTimeout(t); this.waiters.delete(check); };
			if (!check()) this.waiters.add(check);
		});
	}

	/** Events since index `from` of one shard (and consumer, if given). */
	eventsFor(shardId, consumerARN, from = 0) {
		return this.events.slice(from).filter(({ ev }) => ev.ShardId === shardId &&
			(consumerARN === undefined || ev.ConsumerARN === consumerARN));
	}

	summary() {
		const counts = {};
		for (const { ev } of this.events) {
			const k = `${ev.Event}${ev.__type ? '/' + ev.__type : ''} ${ev.ShardId}`;
			counts[k] = (counts[k] || 0) + 1;
		}
		return `${this.events.length} events ${JSON.stringify(counts)}${this.closed ? `, closed ${this.closed.code}` : ''}`;
	}

	close() {
		return new Promise((resolve) => {
			if (this.ws.readyState === WebSocket.CLOSED) return resolve();
			this.ws.once('close', () => resolve());
			this.ws.terminate();
		});
	}
}

/**
 * Checks the shape of a SubscribeToShardEvent; returns
 * a description of the first problem, or null.
 */
export function eventProblem(ev, consumerARN, shardId) {
	if (ev.Event !== 'SubscribeToShardEvent') return `not a SubscribeToShardEvent: ${JSON.stringify(ev).slice(0, 300)}`;
	if (ev.ConsumerARN !== consumerARN) return `ConsumerARN ${ev.ConsumerARN}, expected ${consumerARN}`;
	if (ev.ShardId !== shardId) return `ShardId ${ev.ShardId}, expected ${shardId}`;
	if (!Array.isArray(ev.Records)) return 'no Records array';
	if (typeof ev.MillisBehindLatest !== 'number' || ev.MillisBehindLatest < 0)
		return `MillisBehindLatest ${JSON.stringify(ev.MillisBehindLatest)}`;
	if (!Array.isArray(ev.ChildShards) || ev.ChildShards.length !== 0)
		return `ChildShards ${JSON.stringify(ev.ChildShards)}, expected [] on an open shard`;
	if (typeof ev.ContinuationSequenceNumber !== 'string' || !SEQ_RE.test(ev.ContinuationSequenceNumber))
		return `ContinuationSequenceNumber ${JSON.stringify(ev.ContinuationSequenceNumber)} is not a sequence number`;
	for (const r of ev.Records) {
		if (typeof r.SequenceNumber !== 'string' || !SEQ_RE.test(r.SequenceNumber))
			return `a record with SequenceNumber ${JSON.stringify(r.SequenceNumber)}`;
		if (typeof r.Data !== 'string') return `record ${r.SequenceNumber}: Data is not a base64 string`;
		if (typeof r.PartitionKey !== 'string') return `record ${r.SequenceNumber}: no PartitionKey`;
		if (typeof r.ApproximateArrivalTimestamp !== 'number' ||
			Math.abs(r.ApproximateArrivalTimestamp - Date.now() / 1000) > 3600)
			return `record ${r.SequenceNumber}: ApproximateArrivalTimestamp ${r.ApproximateArrivalTimestamp} is not recent epoch seconds`;
	}
	if (ev.Records.length && ev.ContinuationSequenceNumber !== ev.Records[ev.Records.length - 1].SequenceNumber)
		return `ContinuationSequenceNumber ${ev.ContinuationSequenceNumber} is not the last record delivered ` +
			`(${ev.Records[ev.Records.length - 1].SequenceNumber})`;
	return null;
}

/**
 * Sends a raw WebSocket upgrade request; resolves to { status, headers }
 * (status 101 means the hub accepted the upgrade).
 */
export function rawUpgrade(host, port, path, protocol) {
	return new Promise((resolve, reject) => {
		const headers = {
			Connection: 'Upgrade',
			Upgrade: 'websocket',
			'Sec-WebSocket-Version': '13',
			'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
		};
		if (protocol) headers['Sec-WebSocket-Protocol'] = protocol;
		const req = http.request({ host, port, path, headers, timeout: 5000, agent: false });
		req.on('upgrade', (res, socket) => {
			socket.destroy();
			resolve({ status: res.statusCode, headers: res.headers });
		});
		req.on('response', (res) => {
			res.resume();
			resolve({ status: res.statusCode, headers: res.headers });
		});
		req.on('timeout', () => req.destroy(new Error(`upgrade request to ${path}: no answer in 5 s`)));
		req.on('error', (err) => {
			// A hub that closes the connection without answering refuses too.
			if (err.code === 'ECONNRESET' || err.message === 'socket hang up') resolve({ status: 0, headers: {}, closed: true });
			else reject(err);
		});
		req.end();
	});
}

/**
 * Tries to open a WebSocket with the `ws` client; resolves to how it ended:
 * 'open', 'unexpected-response <status>', or 'error <message>'.
 */
export function tryOpen(url, protocols) {
	return new Promise((resolve) => {
		const ws = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
		const t = setTimeout(() => { ws.terminate(); resolve('timeout'); }, 5000);
		ws.on('error', () => {}); // terminate() of a connecting socket reports an error too
		ws.once('open', () => { clearTimeout(t); ws.terminate(); resolve(`open (subprotocol '${ws.protocol}')`); });
		ws.once('unexpected-response', (_req, res) => { clearTimeout(t); res.resume(); ws.terminate(); resolve(`unexpected-response ${res.statusCode}`); });
		ws.once('error', (err) => { clearTimeout(t); resolve(`error ${err.message}`); });
	});
}
