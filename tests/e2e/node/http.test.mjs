// HTTP edges a client can hit: every refused request still gets a Kinesis
// error answer (never a dropped connection), and the hub stays up.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { HOST, Hub } from './hub.mjs';

/** One raw request; resolves { status, body } or rejects on a dropped connection. */
function request(port, { method = 'POST', path = '/', headers = {}, body, chunked = false }) {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: HOST, port, method, path, headers, agent: false }, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { text += d; });
			res.on('end', () => resolve({ status: res.statusCode, body: text }));
		});
		req.on('error', reject);
		if (chunked) {
			req.write(body);
			req.end();
		} else {
			req.end(body);
		}
	});
}

describe('HTTP edges', { timeout: 30000 }, () => {
	let hub;

	before(async () => {
		hub = new Hub({ stream: 'e2e', shards: 1 });
		await hub.start();
	});
	after(async () => {
		await hub?.stop();
	});

	test('a POST with a body to another path is answered 404', async () => {
		const body = '{"StreamName":"e2e"}';
		const res = await request(hub.port, { path: '/elsewhere', body,
			headers: { 'content-length': Buffer.byteLength(body), 'x-amz-target': 'Kinesis_20131202.ListShards' } });
		assert.equal(res.status, 404);
		assert.equal(JSON.parse(res.body).__type, 'UnknownOperationException', res.body);
	});

	test('a chunked POST without Content-Length is answered 411', async () => {
		const res = await request(hub.port, { chunked: true, body: '{"StreamName":"e2e"}',
			headers: { 'transfer-encoding': 'chunked', 'x-amz-target': 'Kinesis_20131202.ListShards' } });
		assert.equal(res.status, 411);
		assert.equal(JSON.parse(res.body).__type, 'SerializationException');
	});

	test('a body over the limit is refused with 413 before it is sent', async () => {
		const res = await request(hub.port, { body: '',
			headers: { 'content-length': String(64 * 1024 * 1024), 'x-amz-target': 'Kinesis_20131202.ListShards' } })
			.catch((err) => ({ status: 0, body: String(err) }));
		assert.equal(res.status, 413, res.body);
		assert.equal(JSON.parse(res.body).__type, 'ValidationException');
	});

	test('the hub is still serving', async () => {
		const body = '{"StreamName":"e2e"}';
		const res = await request(hub.port, { body,
			headers: { 'content-length': Buffer.byteLength(body), 'x-amz-target': 'Kinesis_20131202.ListShards',
				'content-type': 'application/x-amz-json-1.1' } });
		assert.equal(res.status, 200);
		assert.equal(JSON.parse(res.body).Shards.length, 1);
	});
});
