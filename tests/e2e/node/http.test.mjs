// HTTP edges a client can hit: every refused request still gets a Kinesis
// error answer (never a dropped connection), and the hub stays up.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import cbor from 'cbor';

import { HOST, Hub } from './hub.mjs';

const CBOR_TYPE = 'application/x-amz-cbor-1.1';

/** One raw request; resolves { status, headers, body (text), bytes } or
 * rejects on a dropped connection. */
function request(port, { method = 'POST', path = '/', headers = {}, body, chunked = false }) {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: HOST, port, method, path, headers, agent: false }, (res) => {
			const chunks = [];
			res.on('data', (d) => chunks.push(d));
			res.on('end', () => {
				const bytes = Buffer.concat(chunks);
				resolve({ status: res.statusCode, headers: res.headers, body: bytes.toString('utf8'), bytes });
			});
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

/** An error answer: its type in the body (JSON, or CBOR when asked in
 * CBOR) and in x-amzn-ErrorType, as AWS sends it. */
function assertError(res, status, type, contentType = 'application/x-amz-json-1.1') {
	assert.equal(res.status, status, res.body);
	assert.equal(res.headers['content-type'], contentType);
	assert.equal(res.headers['x-amzn-errortype'], type);
	const body = contentType === CBOR_TYPE ? cbor.decodeFirstSync(res.bytes) : JSON.parse(res.body);
	assert.equal(body.__type, type, res.body);
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
		assertError(res, 404, 'UnknownOperationException');
	});

	test('a chunked POST without Content-Length is answered 411', async () => {
		const res = await request(hub.port, { chunked: true, body: '{"StreamName":"e2e"}',
			headers: { 'transfer-encoding': 'chunked', 'x-amz-target': 'Kinesis_20131202.ListShards' } });
		assertError(res, 411, 'SerializationException');
	});

	test('a body over the limit is refused with 413 before it is sent', async () => {
		const res = await request(hub.port, { body: '',
			headers: { 'content-length': String(64 * 1024 * 1024), 'x-amz-target': 'Kinesis_20131202.ListShards' } })
			.catch((err) => ({ status: 0, body: String(err) }));
		assertError(res, 413, 'ValidationException');
	});

	test('a CBOR request refused before the API runs is answered in CBOR', async () => {
		const body = cbor.encode({ StreamName: 'e2e' });
		const headers = { 'content-type': CBOR_TYPE, 'x-amz-target': 'Kinesis_20131202.ListShards' };
		assertError(await request(hub.port, { path: '/elsewhere', body,
			headers: { ...headers, 'content-length': body.length } }), 404, 'UnknownOperationException', CBOR_TYPE);
		assertError(await request(hub.port, { chunked: true, body,
			headers: { ...headers, 'transfer-encoding': 'chunked' } }), 411, 'SerializationException', CBOR_TYPE);
		assertError(await request(hub.port, { body: '',
			headers: { ...headers, 'content-length': String(64 * 1024 * 1024) } }), 413, 'ValidationException', CBOR_TYPE);
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
