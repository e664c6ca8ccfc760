// The SDK suite (sdk.test.mjs) with the AWS SDK v3's default Kinesis
// client against hubs serving TLS: HTTP/2 chosen by ALPN on the hub's one
// port. The SDK's default client takes no CA bundle, so this process
// trusts any certificate (the hubs' is self-signed).
process.env.ALLEYCAT_E2E_TRANSPORT = 'h2tls';
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
process.removeAllListeners('warning'); // the warning that the line above is insecure
await import('./sdk.test.mjs');
