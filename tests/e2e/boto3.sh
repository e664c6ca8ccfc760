#!/usr/bin/env bash
# boto3, the AWS SDK for Python, as its users write it (an endpoint_url, no
# custom handler), reads SubscribeToShard from a hub over HTTP/1.1: the
# answer is an application/vnd.amazon.eventstream body in chunks that
# botocore decodes itself. tests/e2e/boto3_subscribe.py proves:
#  - records put with PutRecords before and during a subscription, and
#    between it and the next one from its ContinuationSequenceNumber, all
#    arrive, once each, in sequence order, with their bytes, partition keys
#    and arrival times; every event's continuation is its last record;
#  - the stream ends after --subscription-seconds, heartbeats meanwhile;
#  - a second subscription within 5 s is refused (ResourceInUseException);
#    after that it takes the shard over and the first stream ends with an
#    event-stream ResourceInUseException;
#  - an unknown consumer is refused (ResourceNotFoundException);
#  - a split shard read to its end: the last event names the child shards,
#    has no continuation, and the stream ends;
#  - a client that opens a stream and never reads: of a 30 MB backlog the
#    hub takes for it (/metrics alleycat_consumer_records_sent) no more than
#    its connection could hold, and another subscriber still gets new
#    records at once;
#  - against a hub with --auth sigv4, a subscription signed with its key is
#    served and one signed with a wrong secret is refused
#    (InvalidSignatureException).
# The AWS CLI (v1 and v2) has no subscribe-to-shard command, so boto3 is
# the Python client tested. Needs python3 with boto3 (./quickstart test
# installs it; Debian: apt-get install python3-boto3).
#
# Environment: top_srcdir and ALLEYCAT (set by `make check`);
# ALLEYCAT_E2E_PYTHON names the python to test (default: the first of
# python3 on PATH and /usr/bin/python3 that has boto3).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/e2e/lib.sh"

: "${ALLEYCAT:?ALLEYCAT must name the alleycat binary}"
[ -x "$ALLEYCAT" ] || fail "no alleycat binary at $ALLEYCAT"
need python3 python3
python=
for p in ${ALLEYCAT_E2E_PYTHON:-} python3 /usr/bin/python3; do
	if "$p" -c 'import boto3' >/dev/null 2>&1; then
		python=$p
		break
	fi
done
[ -n "$python" ] || skip "boto3 is not installed for python3 (Debian: apt-get install python3-boto3)"
echo "testing boto3 $("$python" -c 'import boto3, botocore; print(boto3.__version__, "botocore", botocore.__version__)') with $python"

dir=$(mktemp -d "${TMPDIR:-/tmp}/alleycat-boto3.XXXXXX") || fail "cannot make a temporary directory"
hub_pid=
cleanup() {
	[ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# No one's AWS settings but the test's own; no proxy between it and the hub.
forget_aws_settings
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true

lifetime=7
start_hub "$dir" boto3 --shards 2 --subscription-seconds "$lifetime" --shard-records-per-sec 0 \
	--shard-bytes-per-sec 0 --push-bytes-per-sec 0
timeout 120 "$python" "$top_srcdir/tests/e2e/boto3_subscribe.py" "http://127.0.0.1:$port" boto3 \
	"$lifetime" || fail "boto3 SubscribeToShard (hub log: $(tail -n 20 "$dir/hub.log"))"
kill -0 "$hub_pid" 2>/dev/null || fail "the hub died: $(tail -n 20 "$dir/hub.log")"
kill "$hub_pid" && wait "$hub_pid" 2>/dev/null

key=AKIAALLEYCATSIGNED secret='signed/Secret+Key=For-Racing'
printf '[racing]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$key" "$secret" \
	>"$dir/credentials"
start_hub "$dir" boto3 --shards 1 --subscription-seconds 2 --auth sigv4 --credentials "$dir/credentials"
timeout 60 "$python" "$top_srcdir/tests/e2e/boto3_subscribe.py" "http://127.0.0.1:$port" boto3 2 \
	"$key" "$secret" || fail "boto3 SubscribeToShard signed (hub log: $(tail -n 20 "$dir/hub.log"))"
pass "boto3 reads SubscribeToShard event streams"
