// Writes the records of a simulator's --dump FILE to a stream as the
// Kinesis Producer Library would: most of them in KPL aggregates (made by
// aws-kinesis-agg, the AWS aggregation library), every fourth one plain,
// and every third aggregate sent twice (a producer's retry), so that a
// reader's deaggregation and its duplicate handling can be checked against
// the same records read plainly.
//
//   node aggregate.js URL STREAM FILE [PER]   (an unsigned hub: no --auth)
//
// PER is the user records per aggregate (default 7).
'use strict';

const fs = require('fs');
const { RecordAggregator } = require('aws-kinesis-agg');

const [url, stream, file, per] = process.argv.slice(2);
const PER_AGGREGATE = per ? Number(per) : 7;
if (!(PER_AGGREGATE >= 1)) throw new Error(`not a number of records per aggregate: ${per}`);

async function put(records) {
	const body = JSON.stringify({
		StreamName: stream,
		Records: records.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data.toString('base64') })),
	});
	const answer = await fetch(url + '/', {
		method: 'POST',
		headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.PutRecords' },
		body,
	});
	const j = await answer.json();
	if (answer.status !== 200 || j.FailedRecordCount) throw new Error(`PutRecords: ${answer.status} ${JSON.stringify(j).slice(0, 200)}`);
}

async function main() {
	const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
	const agg = new RecordAggregator();
	let out = [], aggregates = 0;

	for (let i = 0; i < lines.length; i++) {
		const record = { partitionKey: `k${i % 5}`, data: Buffer.from(lines[i]) };
		if (i % 4 === 3) {
			out.push(record);
			continue;
		}
		agg.addUserRecord(record);
		if (agg.length() === PER_AGGREGATE || i === lines.length - 1) {
			const encoded = agg.build();
			out.push(encoded);
			if (++aggregates % 3 === 0) out.push(encoded);
		}
		if (out.length >= 100) {
			await put(out);
			out = [];
		}
	}
	if (agg.length() > 0) out.push(agg.build());
	if (out.length) await put(out);
	console.log(`${lines.length} records, ${aggregates} aggregates`);
}

main().catch((e) => { console.error(e.message); process.exit(1); });
