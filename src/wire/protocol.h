/* What both sides of the wire agree on: the Kinesis API's target and
 * content types, its size limits, where the hub's WebSocket push lives and
 * where a hub is found by default.
 * The hub answers by these and the clients send by them; nothing here
 * belongs to either side. */
#ifndef ALLEYCAT_PROTOCOL_H
#define ALLEYCAT_PROTOCOL_H

/* The Kinesis Data Streams API, JSON 1.1 over HTTP POST. */
#define KINESIS_TARGET_PREFIX "Kinesis_20131202."
#define KINESIS_CONTENT_TYPE "application/x-amz-json-1.1"
#define KINESIS_RECORD_MAX (1024 * 1024)
/* The largest a stream's record limit may be set (UpdateMaxRecordSize). */
#define KINESIS_RECORD_MAX_LARGEST (10 * 1024 * 1024)
#define KINESIS_KEY_CHARS_MAX 256
#define KINESIS_PUT_RECORDS_MAX 500
#define KINESIS_PUT_BYTES_MAX (5 * 1024 * 1024)

/* The same API with CBOR bodies, as the AWS SDK for Java sends it by
 * default (src/wire/cborjson.h). A request holds at most a few items per
 * record of the largest PutRecords, and nests no deeper than a list of
 * structures holding a structure: bounds that a decoder can refuse beyond. */
#define KINESIS_CBOR_CONTENT_TYPE "application/x-amz-cbor-1.1"
#define KINESIS_REQUEST_ITEMS_MAX (16 * KINESIS_PUT_RECORDS_MAX)
#define KINESIS_REQUEST_DEPTH_MAX 8

/* The hub's push (enhanced fan-out over WebSocket, docs/protocol.md). */
#define PUSH_SUBPROTOCOL "alleycat-efo.v1"
#define PUSH_PATH "/subscribe"
#define PUSH_EVENT_BYTES_MAX (1024 * 1024)

/* Where a hub serves unless told otherwise, and so where a client looks for
 * one: the API over http:// and push over ws:// share the address. */
#define HUB_DEFAULT_ADDRESS "127.0.0.1:4567"
#define HUB_DEFAULT_URL "http://" HUB_DEFAULT_ADDRESS
#define HUB_DEFAULT_PUSH_URL "ws://" HUB_DEFAULT_ADDRESS

#endif
