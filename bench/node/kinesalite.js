// Starts kinesalite, the peer the hub is compared with, in memory on
// 127.0.0.1:PORT, with streams active at once (the benchmark measures
// records, not kinesalite's simulated stream creation delay).
'use strict';

const kinesalite = require('kinesalite');

const port = Number(process.argv[2] || 4568);
const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });

server.listen(port, '127.0.0.1', () => console.log(`kinesalite on 127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
