#!/usr/bin/env bash
# The AWS CLI (`aws kinesis`, v1 or v2) against a hub that serves HTTPS with
# --tls-cert/--tls-key, trusting a throwaway CA through --ca-bundle.  Proves:
#  - the CLI works against https:// with a CA bundle: create-stream,
#    describe-stream-summary, list-streams, list-shards, put-record (text,
#    binary from fileb://, and for v2 its default base64 --data), put-records,
#    get-shard-iterator + get-records (every record comes back with its
#    bytes, partition key and sequence number), register-stream-consumer,
#    describe-stream-consumer, list-stream-consumers and update-shard-count
#    (the new shards are listed, the old records still read);
#  - the hub's TLS is real: without the CA bundle the CLI refuses the
#    certificate and nothing it tried reaches the stream;
#  - with --auth sigv4 and a credentials file, the CLI signing with a key
#    from that file (from the environment, or from the same file as its
#    shared credentials file) is served, and a wrong secret or an unknown key
#    is refused with the AWS error type and no data.
# The answers are checked with the CLI's own --query (JMESPath): no jq or
# python3 needed.  Needs aws, openssl and curl (./quickstart test installs
# them; Debian: apt-get install awscli).
#
# Environment: top_srcdir and ALLEYCAT (set by `make check`);
# ALLEYCAT_E2E_AWS names the aws command to test (default: aws on PATH,
# e.g. ALLEYCAT_E2E_AWS=/usr/bin/aws for Debian's v2 when a v1 comes first).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/e2e/lib.sh"

: "${ALLEYCAT:?ALLEYCAT must name the alleycat binary}"
[ -x "$ALLEYCAT" ] || fail "no alleycat binary at $ALLEYCAT"
AWS=${ALLEYCAT_E2E_AWS:-aws}
need "$AWS" "awscli, or pip install awscli"
need openssl openssl
need curl curl
need base64 coreutils

version=$("$AWS" --version 2>&1) || fail "'$AWS --version' failed: $version"
major=${version#aws-cli/}
major=${major%%.*}
case $major in
1) binfmt=() ;;
[2-9]) binfmt=(--cli-binary-format raw-in-base64-out) ;; # --data and Data are text, not base64
*) fail "cannot tell the version of the AWS CLI from '$version'" ;;
esac
echo "testing $(command -v "$AWS"): $version"
# Every call of the CLI gives up after a minute.
aws=("$AWS")
command -v timeout >/dev/null 2>&1 && aws=(timeout 60 "$AWS")

dir=$(mktemp -d "${TMPDIR:-/tmp}/alleycat-awscli.XXXXXX") || fail "cannot make a temporary directory"
hubs=()
cleanup() {
	local pid
	for pid in "${hubs[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT

# No one's AWS settings but ours: no profile, config, CA bundle, endpoint or
# proxy from the environment; no pager, prompt, retries or metadata lookups.
forget_aws_settings
export ALLEYCAT_CONFIG=/dev/null
export AWS_CONFIG_FILE=$dir/aws-config AWS_SHARED_CREDENTIALS_FILE=$dir/aws-credentials
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
export AWS_PAGER="" AWS_CLI_AUTO_PROMPT=off AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKIAALLEYCATCLI01 AWS_SECRET_ACCESS_KEY='cli/Secret+Key=For-Racing'

# A throwaway CA, and a certificate for 127.0.0.1 that it signs.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 2 \
	-subj "/CN=Alleycat e2e CA" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" >"$dir/openssl.log" 2>&1 &&
	openssl req -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.csr" \
		-subj "/CN=127.0.0.1" >>"$dir/openssl.log" 2>&1 &&
	printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
		"extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$dir/cert.ext" &&
	openssl x509 -req -in "$dir/cert.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
		-days 2 -extfile "$dir/cert.ext" -out "$dir/cert.pem" >>"$dir/openssl.log" 2>&1 ||
	fail "openssl cannot make the test CA and certificate: $(cat "$dir/openssl.log")"

# start_tls_hub NAME ARG...: starts `alleycat hub --tls-cert ... ARG...` on a
# free port (another when a test took it first), waits for its ready line
# and its answer to GET /healthz over HTTPS; sets port and endpoint. Its
# log is $dir/NAME.log.
start_tls_hub() {
	local name=$1 log=$dir/$1.log pid try
	shift
	for try in 1 2 3 4 5; do
		port=$(free_port)
		"$ALLEYCAT" hub --listen "127.0.0.1:$port" --tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" \
			"$@" >"$log" 2>&1 &
		pid=$!
		hubs+=("$pid")
		if hub_ready "$log" "$port" 10; then
			for _ in $(seq 100); do
				if curl -sf --max-time 2 --cacert "$dir/ca.pem" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
					endpoint=https://127.0.0.1:$port
					return 0
				fi
				sleep 0.1
			done
		fi
		port_taken "$log" || break
		wait "$pid" 2>/dev/null
	done
	fail "the $name hub ($*) did not answer https://127.0.0.1:$port/healthz: $(tail -n 20 "$log")"
}

# kin ARG...: `aws kinesis ARG...` against $endpoint, trusting the test CA.
# Its standard error is in $dir/err.
kin() {
	"${aws[@]}" --endpoint-url "$endpoint" --ca-bundle "$dir/ca.pem" --region us-east-1 --output json \
		--cli-connect-timeout 10 --cli-read-timeout 30 kinesis "$@" 2>"$dir/err"
}

# call ARG...: kin, failing the test with the CLI's message if it fails;
# the answer is in $out.
call() {
	out=$(kin "$@") || fail "aws kinesis $1 exited $?: $(cat "$dir/err")"
}

# q QUERY ARG...: call with --query QUERY --output text; the answer is in $out.
q() {
	local query=$1
	shift
	call "$@" --query "$query" --output text
}

# expect WHAT WANT: $out must be WANT.
expect() {
	[ "$out" = "$2" ] || fail "$1: got '$out', expected '$2'"
}

b64() {
	base64 -w0 "$@"
}

# ----------------------------------------------------------------------
# The API over HTTPS with the CA bundle
# ----------------------------------------------------------------------
start_tls_hub tls --stream alleycat --shards 1
S=awscli

call create-stream --stream-name "$S" --shard-count 2
q StreamDescriptionSummary.[StreamName,StreamStatus,OpenShardCount,ConsumerCount] describe-stream-summary --stream-name "$S"
expect "describe-stream-summary after create-stream" "$S	ACTIVE	2	0"
q StreamDescriptionSummary.StreamARN describe-stream-summary --stream-name "$S"
arn=$out
expect_match "$arn" "^arn:aws:kinesis:us-east-1:[0-9]{12}:stream/$S\$" "describe-stream-summary's StreamARN"
q "length(StreamNames[?@=='$S' || @=='alleycat'])" list-streams
expect "list-streams names the hub's --stream and the created one" 2
q "Shards[].[ShardId,HashKeyRange.StartingHashKey,HashKeyRange.EndingHashKey]" list-shards --stream-name "$S"
expect "list-shards: two shards splitting the hash keys" \
	"$(printf 'shardId-000000000000\t0\t170141183460469231731687303715884105727\nshardId-000000000001\t170141183460469231731687303715884105728\t340282366920938463463374607431768211455')"

# Records written, then each read back from its own sequence number: the
# same bytes, partition key and sequence number.
keys=() seqs=() shards=() datas=()
# put KEY BASE64 ARG...: put-record ARG..., remembering what must come back.
put() {
	q "[ShardId,SequenceNumber]" put-record --stream-name "$S" --partition-key "$1" "${@:3}"
	expect_match "$out" "^shardId-00000000000[01]	[0-9]+\$" "put-record $1"
	keys+=("$1") datas+=("$2") shards+=("${out%%	*}") seqs+=("${out##*	}")
}
text='{"event":"update","second":1,"raceId":5775288,"name":"Hélène","racerId":100,"cadence":81.5}'
put 5775288 "$(printf '%s' "$text" | b64)" --data "$text" "${binfmt[@]}"
openssl rand -out "$dir/binary" 300 || fail "openssl rand failed"
printf '\0\n\377' >>"$dir/binary"
put binary "$(b64 "$dir/binary")" --data "fileb://$dir/binary"
if [ "$major" -ge 2 ]; then
	# v2's own default: --data is base64.
	put base64 "$(printf 'v2 default' | b64)" --data "$(printf 'v2 default' | b64)"
fi

recs='[{"PartitionKey":"racer-1","Data":"{\"racerId\":1}"},{"PartitionKey":"racer-2","Data":"{\"racerId\":2}"},'
recs+='{"PartitionKey":"racer-3","Data":"{\"racerId\":3}","ExplicitHashKey":"0"}]'
q "[FailedRecordCount,length(Records),length(Records[?ErrorCode])]" put-records --stream-name "$S" --records "$recs" "${binfmt[@]}"
expect "put-records: none failed" "0	3	0"
q "Records[].[ShardId,SequenceNumber]" put-records --stream-name "$S" --records "$recs" "${binfmt[@]}"
i=1
while IFS=$'\t' read -r shard seq; do
	keys+=("racer-$i") datas+=("$(printf '{"racerId":%d}' "$i" | b64)") shards+=("$shard") seqs+=("$seq")
	i=$((i + 1))
done <<<"$out"
[ "$i" = 4 ] || fail "put-records answered $((i - 1)) records, expected 3: $out"
[ "${shards[-1]}" = shardId-000000000000 ] || fail "put-records: ExplicitHashKey 0 landed on ${shards[-1]}"

for i in "${!keys[@]}"; do
	q ShardIterator get-shard-iterator --stream-name "$S" --shard-id "${shards[i]}" \
		--shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "${seqs[i]}"
	iter=$out
	q "Records[0].[PartitionKey,SequenceNumber,Data]" get-records --shard-iterator "$iter" --limit 1
	expect "get-records of ${keys[i]} on ${shards[i]}" "${keys[i]}	${seqs[i]}	${datas[i]}"
done
q '[length(Records),MillisBehindLatest,NextShardIterator!=`null`]' get-records --shard-iterator \
	"$(kin get-shard-iterator --stream-name "$S" --shard-id shardId-000000000000 --shard-iterator-type LATEST \
		--query ShardIterator --output text)"
expect "get-records at LATEST" "0	0	True"
pass "the AWS CLI over HTTPS with the CA bundle: streams, shards and records"

# ----------------------------------------------------------------------
# Without the CA bundle the certificate is refused
# ----------------------------------------------------------------------
refused() {
	"${aws[@]}" --endpoint-url "$endpoint" --region us-east-1 --output json kinesis "$@" >"$dir/out" 2>"$dir/err" &&
		fail "aws kinesis $1 without the CA bundle succeeded: $(cat "$dir/out")"
	grep -Eqi 'CERTIFICATE_VERIFY_FAILED|certificate verify failed' "$dir/err" ||
		fail "aws kinesis $1 without the CA bundle did not fail on the certificate: $(cat "$dir/err")"
	[ -s "$dir/out" ] && fail "aws kinesis $1 without the CA bundle printed an answer: $(cat "$dir/out")"
	return 0
}
refused create-stream --stream-name untrusted --shard-count 1
refused put-record --stream-name "$S" --partition-key untrusted --explicit-hash-key 0 --data untrusted "${binfmt[@]}"
q "length(StreamNames[?@=='untrusted'])" list-streams
expect "a stream created without the CA bundle" 0
# The untrusted record would follow racer-3's on shard 0: there is none.
q ShardIterator get-shard-iterator --stream-name "$S" --shard-id "${shards[-1]}" \
	--shard-iterator-type AFTER_SEQUENCE_NUMBER --starting-sequence-number "${seqs[-1]}"
q "Records[].PartitionKey" get-records --shard-iterator "$out"
expect "records after the last one written with the CA bundle" ""
pass "without the CA bundle the AWS CLI refuses the hub's certificate"

# ----------------------------------------------------------------------
# More of the API over HTTPS: push consumers, resharding
# ----------------------------------------------------------------------
q "Consumer.[ConsumerName,ConsumerStatus]" register-stream-consumer --stream-arn "$arn" --consumer-name awscli-board
expect_match "$out" "^awscli-board	(CREATING|ACTIVE)\$" "register-stream-consumer"
q "Consumers[].ConsumerName" list-stream-consumers --stream-arn "$arn"
expect "list-stream-consumers" awscli-board
q "ConsumerDescription.[ConsumerName,ConsumerStatus,StreamARN]" describe-stream-consumer --stream-arn "$arn" \
	--consumer-name awscli-board
expect "describe-stream-consumer" "awscli-board	ACTIVE	$arn"

# Resharding: 2 -> 4 open shards; a record from before is still read.
q "[CurrentShardCount,TargetShardCount]" update-shard-count --stream-name "$S" --target-shard-count 4 \
	--scaling-type UNIFORM_SCALING
expect "update-shard-count" "2	4"
for _ in $(seq 50); do
	q "StreamDescriptionSummary.[StreamStatus,OpenShardCount,ConsumerCount]" describe-stream-summary --stream-name "$S"
	[ "$out" = "ACTIVE	4	1" ] && break
	sleep 0.2
done
expect "describe-stream-summary after update-shard-count" "ACTIVE	4	1"
q 'length(Shards[?SequenceNumberRange.EndingSequenceNumber==`null`])' list-shards --stream-name "$S"
expect "open shards in list-shards after update-shard-count" 4
q ShardIterator get-shard-iterator --stream-name "$S" --shard-id "${shards[0]}" \
	--shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "${seqs[0]}"
q "Records[0].Data" get-records --shard-iterator "$out" --limit 1
expect "get-records on a closed parent shard" "${datas[0]}"
pass "the AWS CLI over HTTPS with the CA bundle: consumers and resharding"

# ----------------------------------------------------------------------
# --auth sigv4 with a credentials file
# ----------------------------------------------------------------------
printf '[racing]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$dir/hub-credentials"
start_tls_hub auth --stream signed --shards 2 --auth sigv4 --credentials "$dir/hub-credentials"
S=signed

q "length(Shards)" list-shards --stream-name "$S"
expect "list-shards signed with a key of the credentials file" 2
q SequenceNumber put-record --stream-name "$S" --partition-key signed --data signed "${binfmt[@]}"
expect_match "$out" "^[0-9]+\$" "put-record signed with a key of the credentials file"
seq=$out
q ShardId put-record --stream-name "$S" --partition-key signed --data again "${binfmt[@]}"
q ShardIterator get-shard-iterator --stream-name "$S" --shard-id "$out" \
	--shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "$seq"
q "Records[].Data" get-records --shard-iterator "$out"
expect "get-records signed with a key of the credentials file" \
	"$(printf signed | b64)	$(printf again | b64)"
# The same file as the CLI's own shared credentials file, by profile.
out=$(env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$dir/hub-credentials" \
	"${aws[@]}" --endpoint-url "$endpoint" --ca-bundle "$dir/ca.pem" --region us-east-1 --profile racing \
	kinesis describe-stream-summary --stream-name "$S" --query StreamDescriptionSummary.OpenShardCount \
	--output text 2>"$dir/err") || fail "describe-stream-summary with --profile racing from the hub's credentials file: $(cat "$dir/err")"
expect "describe-stream-summary with --profile racing" 2

# denied WANT-TYPE WHAT VAR=VALUE...: list-shards with other keys is refused
# with the AWS error type WANT-TYPE and answers no data.
denied() {
	local want=$1 what=$2
	shift 2
	if env "$@" "${aws[@]}" --endpoint-url "$endpoint" --ca-bundle "$dir/ca.pem" --region us-east-1 --output json \
		kinesis list-shards --stream-name "$S" >"$dir/out" 2>"$dir/err"; then
		fail "list-shards with $what was served: $(cat "$dir/out")"
	fi
	grep -q "($want)" "$dir/err" || fail "list-shards with $what: expected $want, got: $(cat "$dir/err")"
	[ -s "$dir/out" ] && fail "list-shards with $what printed an answer: $(cat "$dir/out")"
	return 0
}
denied InvalidSignatureException "a wrong secret" AWS_SECRET_ACCESS_KEY=wrong
denied UnrecognizedClientException "an unknown key" AWS_ACCESS_KEY_ID=AKIAUNKNOWN0000000 AWS_SECRET_ACCESS_KEY=x
pass "--auth sigv4 serves the AWS CLI with a known key and refuses it with others"
pass "awscli"
