"""SubscribeToShard through boto3 against a hub (run by tests/e2e/boto3.sh).

    boto3_subscribe.py ENDPOINT STREAM LIFETIME
    boto3_subscribe.py ENDPOINT STREAM LIFETIME KEY SECRET

The hub serves STREAM with two shards, no write or push rate limits and
--subscription-seconds LIFETIME (more than the 5 s takeover grace). With KEY
and SECRET the hub requires SigV4 with that key (--auth sigv4), and only
signing is tested. Exits 1 with a FAIL line on the first thing a user of
boto3 would notice going wrong.
"""
import datetime
import json
import socket
import sys
import time
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

endpoint, stream, lifetime = sys.argv[1], sys.argv[2], float(sys.argv[3])
key, secret = sys.argv[4:6] if len(sys.argv) > 5 else ("AKIAALLEYCATBOTO3", "boto3-secret")


def client(secret_key):
    return boto3.client(
        "kinesis", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret_key,
        config=Config(retries={"max_attempts": 1}, read_timeout=30, connect_timeout=5))


kinesis = client(secret)
sent = {}       # shard id -> [(sequence number, data)] in the order put


def fail(what):
    print("FAIL: " + what, file=sys.stderr)
    sys.exit(1)


def check(ok, what):
    if not ok:
        fail(what)


def put(first, count):
    """Puts records first..first+count-1 with PutRecords, noting where each went."""
    for start in range(first, first + count, 500):
        batch = [{"Data": b"record-%06d" % i, "PartitionKey": "racer-%d" % (i % 37)}
                 for i in range(start, min(start + 500, first + count))]
        answer = kinesis.put_records(StreamName=stream, Records=batch)
        failed = [r for r in answer["Records"] if "ErrorCode" in r]
        check(not failed, "PutRecords failed %d records: %r" % (len(failed), failed[:1]))
        for record, result in zip(batch, answer["Records"]):
            sent.setdefault(result["ShardId"], []).append(
                (result["SequenceNumber"], record["Data"]))


def subscribe(arn, shard, position):
    return kinesis.subscribe_to_shard(ConsumerARN=arn, ShardId=shard,
                                      StartingPosition=position)["EventStream"]


def check_event(event):
    """One SubscribeToShardEvent as botocore parsed it."""
    records = event["Records"]
    check(event["MillisBehindLatest"] >= 0, "MillisBehindLatest: %r" % event)
    for r in records:
        check(isinstance(r["ApproximateArrivalTimestamp"], datetime.datetime),
              "ApproximateArrivalTimestamp is not a time: %r" % r)
        check(r["PartitionKey"].startswith("racer-"), "PartitionKey: %r" % r)
    if records and event.get("ContinuationSequenceNumber") is not None:
        check(event["ContinuationSequenceNumber"] == records[-1]["SequenceNumber"],
              "the continuation is not the last record delivered: %r" % event)


def read_until_end(arn, shard, position, during=None):
    """Reads one subscription to its end; calls during() after its first
    event. Returns the records, the last continuation and the events."""
    got, continuation, events, last = [], None, [], None
    started = time.monotonic()
    for message in subscribe(arn, shard, position):
        event = message["SubscribeToShardEvent"]
        check_event(event)
        events.append(event)
        got += [(r["SequenceNumber"], r["Data"]) for r in event["Records"]]
        continuation = event.get("ContinuationSequenceNumber")
        if len(events) == 1 and during:
            during()
        last = event
    elapsed = time.monotonic() - started
    check(last is not None, "a subscription ended without an event")
    return got, continuation, events, elapsed


def register(name):
    summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    consumer = kinesis.register_stream_consumer(StreamARN=summary["StreamARN"],
                                                ConsumerName=name)["Consumer"]
    return consumer["ConsumerARN"]


def test_read_resubscribe(arn, shard):
    """Records put before and during a subscription, and between it and the
    next from its continuation: every one arrives once, in order."""
    put(0, 1200)
    first, continuation, events, elapsed = read_until_end(
        arn, shard, {"Type": "TRIM_HORIZON"}, during=lambda: put(1200, 800))
    check(lifetime - 0.5 <= elapsed <= lifetime + 3,
          "the subscription lasted %.1f s, not about %s" % (elapsed, lifetime))
    check(len(events) >= 2, "no heartbeat or later event: %d events" % len(events))
    put(2000, 300)
    second, _, _, _ = read_until_end(
        arn, shard, {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": continuation})
    got = first + second
    want = sent[shard]
    seqs = [int(s) for s, _ in got]
    check(seqs == sorted(set(seqs)), "sequence numbers not strictly increasing")
    check(len(got) == len(want),
          "%d records read from %s across the resubscribe, %d put" % (len(got), shard, len(want)))
    check(got == want, "the records read differ from those put")
    print("read %d records of %s in two subscriptions (%d + %d), nothing lost or repeated"
          % (len(got), shard, len(first), len(second)))


def expect_client_error(code, call):
    try:
        call()
    except ClientError as e:
        check(e.response["Error"]["Code"] == code, "%s instead of %s" % (e, code))
        return
    fail("no %s" % code)


def test_takeover(arn, shard):
    """A second subscription within 5 s is refused; after them it takes the
    shard over and the first ends with ResourceInUseException."""
    first = subscribe(arn, shard, {"Type": "LATEST"})
    opened = time.monotonic()
    expect_client_error("ResourceInUseException",
                        lambda: subscribe(arn, shard, {"Type": "LATEST"}))
    time.sleep(max(0, 5.2 - (time.monotonic() - opened)))
    check(time.monotonic() - opened < lifetime, "the first subscription expired already")
    second = subscribe(arn, shard, {"Type": "LATEST"})
    try:
        for _ in first:
            pass
        fail("the first subscription ended without ResourceInUseException")
    except EventStreamError as e:
        check(e.response["Error"]["Code"] == "ResourceInUseException",
              "the first subscription ended with %s" % e)
    second.close()
    print("takeover: refused within 5 s, then the first ended with ResourceInUseException")


def test_shard_end(arn, shard):
    """A split shard read to its end: the last event names the children
    and the stream ends before its lifetime."""
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    parent = [s for s in shards if s["ShardId"] == shard][0]
    low = int(parent["HashKeyRange"]["StartingHashKey"])
    high = int(parent["HashKeyRange"]["EndingHashKey"])
    kinesis.split_shard(StreamName=stream, ShardToSplit=shard,
                        NewStartingHashKey=str((low + high) // 2))
    got, _, events, elapsed = read_until_end(arn, shard, {"Type": "TRIM_HORIZON"})
    check(got == sent.get(shard, []), "the closed shard's records differ from those put")
    children = [c["ShardId"] for c in events[-1].get("ChildShards", [])]
    check(len(children) == 2, "the last event names children %r" % children)
    check(events[-1].get("ContinuationSequenceNumber") is None,
          "a continuation at the shard's end: %r" % events[-1])
    check(elapsed < lifetime, "the stream did not end at the shard's end")
    print("shard end: %d records, then children %s" % (len(got), ", ".join(children)))


def records_sent(consumer, shard):
    """The hub's /metrics count of records a subscription has been given."""
    series = 'alleycat_consumer_records_sent{stream="%s",consumer="%s",shard="%s"} ' % (
        stream, consumer, shard)
    with urllib.request.urlopen(endpoint + "/metrics", timeout=10) as page:
        for line in page.read().decode().splitlines():
            if line.startswith(series):
                return int(line[len(series):])
    fail("no %s in /metrics" % series.strip())


def put_megabytes(megabytes, tag):
    """Puts that many MB of 100 kB records into shard 0 (hash key 0)."""
    for _ in range(megabytes // 3):
        answer = kinesis.put_records(StreamName=stream, Records=[
            {"Data": tag * 100000, "PartitionKey": "bulk", "ExplicitHashKey": "0"}
            for _ in range(30)])
        check(answer["FailedRecordCount"] == 0, "a bulk PutRecords failed")


def stalled_subscription(arn, shard, position):
    """Asks for a stream over a socket with a small window, and never reads."""
    url = urllib.parse.urlsplit(endpoint)
    body = json.dumps({"ConsumerARN": arn, "ShardId": shard,
                       "StartingPosition": position}).encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((url.hostname, url.port))
    sock.sendall(b"POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.1\r\n"
                 b"X-Amz-Target: Kinesis_20131202.SubscribeToShard\r\nContent-Length: %d\r\n\r\n"
                 % (url.netloc.encode(), len(body)) + body)
    return sock


def test_stalled_reader(shard):
    """A client that opens a stream and reads nothing: the hub takes from
    its shard no more than the connection took (the socket's buffers and
    the one message being written), whatever backlog waits (24 MB, with no
    push rate limit), and other subscribers are served as before."""
    after_earlier_tests = {"Type": "AFTER_SEQUENCE_NUMBER",
                           "SequenceNumber": sent["shardId-000000000000"][-1][0]}
    put_megabytes(24, b"a")
    stalled = stalled_subscription(register("stalled"), "shardId-000000000000",
                                   after_earlier_tests)
    time.sleep(1)
    put_megabytes(6, b"b")
    time.sleep(1)
    taken = records_sent("stalled", "shardId-000000000000")
    check(taken <= 80, "the hub took %d records of 100 kB for a client that reads nothing" % taken)
    prompt = subscribe(register("prompt"), shard, {"Type": "LATEST"})
    for _ in prompt:
        break
    already = len(sent.get(shard, []))
    put_at = time.monotonic()
    put(3000, 40)
    want, got = len(sent.get(shard, [])) - already, 0
    for message in prompt:
        got += len(message["SubscribeToShardEvent"]["Records"])
        if got >= want:
            break
    delay = time.monotonic() - put_at
    check(want > 0 and got == want and delay < 2,
          "another subscriber got %d of %d records in %.1f s" % (got, want, delay))
    check(records_sent("stalled", "shardId-000000000000") == taken,
          "the stalled subscription was given more while it read nothing")
    prompt.close()
    stalled.close()
    print("stalled reader: the hub took %d of 300 records of 100 kB for it; another subscriber "
          "had new records in %.2f s" % (taken, delay))


def test_signed():
    """Against a hub that requires SigV4: a subscription signed with its key
    streams; one signed with a wrong secret is refused before any stream."""
    arn = register("signed")
    _, _, events, _ = read_until_end(arn, "shardId-000000000000", {"Type": "LATEST"})
    check(len(events) >= 1, "no event on a signed subscription")
    expect_client_error("InvalidSignatureException", lambda: client("wrong").subscribe_to_shard(
        ConsumerARN=arn, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"}))
    print("signed: served with the hub's key, refused with a wrong secret")


def main():
    if len(sys.argv) > 5:
        test_signed()
        return
    arn = register("boto3")
    expect_client_error("ResourceNotFoundException", lambda: subscribe(
        arn + "-gone", "shardId-000000000000", {"Type": "LATEST"}))
    test_read_resubscribe(arn, "shardId-000000000000")
    test_takeover(arn, "shardId-000000000001")
    test_shard_end(arn, "shardId-000000000001")
    test_stalled_reader("shardId-000000000002")


main()
