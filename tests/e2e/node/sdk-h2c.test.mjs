// The SDK suite (sdk.test.mjs) and the signature checks (auth.test.mjs)
// again, with the AWS SDK v3 Kinesis client created as its documentation
// shows, with no request handler: it speaks HTTP/2 with prior knowledge
// (h2c) to http:// endpoints, which the hub serves on its one port.
process.env.ALLEYCAT_E2E_TRANSPORT = 'h2c';
await import('./sdk.test.mjs');
await import('./auth.test.mjs');
