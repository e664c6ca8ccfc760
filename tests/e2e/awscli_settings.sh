#!/usr/bin/env bash
# The AWS CLI's stream settings against a hub with --data-dir, unsigned
# (--no-sign-request), over plain HTTP. Proves:
#  - add-tags-to-stream / list-tags-for-stream / remove-tags-from-stream,
#    and tag-resource / list-tags-for-resource / untag-resource by ARN;
#  - increase- and decrease-stream-retention-period, the stream ACTIVE
#    again after each (the unit tests follow its UPDATING state by the
#    clock), and the retention AWS's limits refuse (InvalidArgumentException);
#  - start-stream-encryption: describe-stream-summary says KMS and the key,
#    and put-record answers EncryptionType KMS; stop-stream-encryption;
#  - enable-enhanced-monitoring: /metrics gets the shard-level series;
#  - update-stream-mode to ON_DEMAND, and describe-limits counting it;
#  - put/get/delete-resource-policy;
#  - a restart on the same --data-dir keeps tags, retention, encryption,
#    monitoring and mode;
#  - a CORS preflight (curl) is answered with Access-Control-* headers and
#    GET / is AWS's AccessDeniedException.
# Needs aws and curl (Debian: apt-get install awscli curl).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/e2e/lib.sh"

: "${ALLEYCAT:?ALLEYCAT must name the alleycat binary}"
[ -x "$ALLEYCAT" ] || fail "no alleycat binary at $ALLEYCAT"
AWS=${ALLEYCAT_E2E_AWS:-aws}
need "$AWS" "awscli, or pip install awscli"
need curl curl

dir=$(mktemp -d "${TMPDIR:-/tmp}/alleycat-settings.XXXXXX") || fail "cannot make a temporary directory"
hub_pid=
cleanup() {
	[ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

for v in $(compgen -e | grep '^AWS_'); do
	unset "$v"
done
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export ALLEYCAT_CONFIG=/dev/null
export AWS_CONFIG_FILE=$dir/aws-config AWS_SHARED_CREDENTIALS_FILE=$dir/aws-credentials
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
export AWS_PAGER="" AWS_CLI_AUTO_PROMPT=off AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_EC2_METADATA_DISABLED=true

stream=settings
arn=arn:aws:kinesis:us-east-1:000000000000:stream/$stream

start_hub "$dir" "$stream" --shards 2 --data-dir "$dir/data"
endpoint=http://127.0.0.1:$port

# kin ARG...: one call of `aws kinesis`, bounded to a minute.
kin() {
	timeout 60 "$AWS" kinesis --endpoint-url "$endpoint" --region us-east-1 --no-sign-request \
		--output text "$@"
}

# ok WHAT ARG...: the call succeeds; its output is in $out.
ok() {
	local what=$1
	shift
	out=$(kin "$@" 2>&1) || fail "$what: aws kinesis $*: $out"
}

# refused TYPE WHAT ARG...: the call fails with the AWS error TYPE.
refused() {
	local type=$1 what=$2
	shift 2
	out=$(kin "$@" 2>&1) && fail "$what: aws kinesis $* succeeded: $out"
	expect_match "$out" "$type" "$what"
}

# The stream is UPDATING for a moment after a change, then ACTIVE again.
wait_active() {
	for _ in $(seq 50); do
		ok "describe-stream-summary" describe-stream-summary --stream-name "$stream" \
			--query StreamDescriptionSummary.StreamStatus
		[ "$out" = ACTIVE ] && return 0
		sleep 0.1
	done
	fail "the stream stayed $out"
}

# Tags, by name and by ARN.
ok "add tags" add-tags-to-stream --stream-name "$stream" --tags team=red,env=dev
ok "list tags" list-tags-for-stream --stream-name "$stream" --query 'Tags[].[Key,Value]'
expect_match "$(echo $out)" "^env dev team red$" "list-tags-for-stream after add"
ok "tag by ARN" tag-resource --resource-arn "$arn" --tags owner=ops
ok "untag by name" remove-tags-from-stream --stream-name "$stream" --tag-keys env
ok "list by ARN" list-tags-for-resource --resource-arn "$arn" --query 'Tags[].Key'
expect_match "$(echo $out)" "^owner team$" "list-tags-for-resource"
ok "untag by ARN" untag-resource --resource-arn "$arn" --tag-keys owner
pass "tags by name and by ARN"

# Retention, with the stream UPDATING while it changes.
ok "increase retention" increase-stream-retention-period --stream-name "$stream" \
	--retention-period-hours 72
wait_active
ok "decrease retention" decrease-stream-retention-period --stream-name "$stream" \
	--retention-period-hours 48
wait_active
refused InvalidArgumentException "retention over 8760 hours" increase-stream-retention-period \
	--stream-name "$stream" --retention-period-hours 9000
refused InvalidArgumentException "an increase that decreases" increase-stream-retention-period \
	--stream-name "$stream" --retention-period-hours 30
pass "retention changes, ACTIVE after, limits refused"

# Encryption shows in the description and in what put-record answers.
ok "start encryption" start-stream-encryption --stream-name "$stream" --encryption-type KMS \
	--key-id alias/aws/kinesis
wait_active
ok "describe" describe-stream-summary --stream-name "$stream" \
	--query 'StreamDescriptionSummary.[EncryptionType,KeyId]'
expect_match "$(echo $out)" "^KMS alias/aws/kinesis$" "describe-stream-summary after start-stream-encryption"
ok "put-record" put-record --stream-name "$stream" --partition-key k --data aGVsbG8= \
	--query EncryptionType
[ "$out" = KMS ] || fail "put-record on an encrypted stream says EncryptionType $out"
pass "encryption on: described and in put-record"

# Enhanced monitoring adds the shard-level metrics to /metrics.
curl -sf "$endpoint/metrics" | grep -q alleycat_shard_level_metric'{' &&
	fail "shard-level metrics before enhanced monitoring"
ok "enable monitoring" enable-enhanced-monitoring --stream-name "$stream" \
	--shard-level-metrics IncomingRecords --query 'DesiredShardLevelMetrics'
expect_match "$out" "IncomingRecords" "enable-enhanced-monitoring"
curl -sf "$endpoint/metrics" | grep -Eq 'alleycat_shard_level_metric\{stream="settings",shard="shardId-[0-9]+",metric="IncomingRecords"\} [0-9]+' ||
	fail "no IncomingRecords series in /metrics after enable-enhanced-monitoring"
pass "enhanced monitoring shows in /metrics"

# On-demand mode, counted by describe-limits.
ok "update mode" update-stream-mode --stream-arn "$arn" --stream-mode-details StreamMode=ON_DEMAND
wait_active
ok "limits" describe-limits --query OnDemandStreamCount
[ "$out" = 1 ] || fail "describe-limits counts $out on-demand streams, not 1"
pass "on-demand mode, counted by describe-limits"

# A resource policy, kept as given.
policy='{"Version":"2012-10-17","Statement":[]}'
ok "put policy" put-resource-policy --resource-arn "$arn" --policy "$policy"
ok "get policy" get-resource-policy --resource-arn "$arn" --query Policy
[ "$out" = "$policy" ] || fail "get-resource-policy gave $out"
pass "resource policy"

# Every setting survives a restart on the same data directory.
kill "$hub_pid" && wait "$hub_pid" 2>/dev/null
start_hub "$dir" "$stream" --shards 2 --data-dir "$dir/data"
endpoint=http://127.0.0.1:$port
ok "describe after restart" describe-stream-summary --stream-name "$stream" --query \
	'StreamDescriptionSummary.[RetentionPeriodHours,EncryptionType,StreamModeDetails.StreamMode,EnhancedMonitoring[0].ShardLevelMetrics[0]]'
expect_match "$(echo $out)" "^48 KMS ON_DEMAND IncomingRecords$" "the stream after a restart"
ok "tags after restart" list-tags-for-stream --stream-name "$stream" --query 'Tags[].Key'
[ "$out" = team ] || fail "tags after a restart: $out"
ok "policy after restart" get-resource-policy --resource-arn "$arn" --query Policy
[ "$out" = "$policy" ] || fail "policy after a restart: $out"
ok "stop encryption" stop-stream-encryption --stream-name "$stream" --encryption-type KMS \
	--key-id alias/aws/kinesis
ok "delete policy" delete-resource-policy --resource-arn "$arn"
pass "a restart keeps tags, retention, encryption, monitoring, mode and policy"

# A browser page's preflight, and the API's other methods.
headers=$(curl -s -D - -o /dev/null -X OPTIONS "$endpoint/" -H 'Origin: http://example.com' \
	-H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: content-type,x-amz-target') ||
	fail "the preflight was not answered"
expect_match "$headers" "^HTTP/1.1 200" "the preflight's status"
expect_match "$headers" "^access-control-allow-origin: \*" "the preflight's allowed origin"
expect_match "$headers" "^access-control-allow-headers: content-type,x-amz-target" \
	"the preflight's allowed headers"
body=$(curl -s -w ' %{http_code}' "$endpoint/")
expect_match "$(echo $body)" "AccessDeniedException.* 403$" "GET /"
pass "CORS preflight and GET / answered as AWS answers them"
