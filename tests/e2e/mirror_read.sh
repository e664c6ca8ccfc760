#!/usr/bin/env bash
# hub --mirror --read (issue 17): a mirror reads its upstream by the push
# (ws://, or --read push), by SubscribeToShard (http://, or --read efo) or
# by GetRecords (--read polling). A chain, upstream -> city (push) -> gym
# (efo), serves boards the standings a board on the upstream prints. Bad
# uses are refused with a clear message: --read without --mirror, an
# unknown --read, a --profile without a key, and an upstream whose sequence
# numbers are wider than a hub's 77 digits (the API allows 129), which must
# not be taken for a malformed answer. A mirror of kinesis-mock, which
# numbers records as Amazon Kinesis does (56 digits), read by
# SubscribeToShard over TLS with the key of the environment, serves the
# standings a board reading kinesis-mock prints and the same sequence
# numbers, and resumes from its 56-digit checkpoints after a restart; a
# mirror of kinesalite (no SubscribeToShard) by --read polling likewise.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/mirrorlib.sh"

need python3 python3
need jq jq

start_hub "$dir" race --shards 2
up="http://127.0.0.1:$port"
mirror_port
launch_mirror --mirror "ws://127.0.0.1:$port" --log-level info
city=$mirror
extra_pids+=("$mirror_pid")
mirror_port
launch_mirror --mirror "$city" --log-level info
gym=$mirror

grep -q "mirroring stream race of ws://127.0.0.1:$port as race (push)" "$dir/mirror.log" ||
	fail "the city does not read by the push: $(cat "$dir/mirror.log")"
grep -q "mirroring stream race of $city as race (efo)" "$dir/mirror.log" ||
	fail "the gym does not read by SubscribeToShard: $(cat "$dir/mirror.log")"

"$ALLEYCAT" sim --endpoint "$up" --stream race --racers 20 --duration 6 --seed 8 --class 5 \
	--speed 0 --quiet || fail "the simulator failed"
total=$(curl -s "$up/metrics" |
	awk '/^alleycat_shard_records_in_total\{stream="race"/ { n += $2 } END { print n + 0 }')
gym_has_all() { [ "$(mirrored "$gym" stored)" = "$total" ]; }
eventually gym_has_all || fail "the gym stored $(mirrored "$gym" stored) of $total records"

# board ENDPOINT NAME [OPTION]...: the standings a board reads there.
board() {
	"$ALLEYCAT" board --endpoint "$1" --stream race --db "$dir/$2.db" --consumer "$2" \
		--duration 6 --grace 2 --until-finished --format csv "${@:3}" ||
		fail "board $2 failed"
}
reference=$(board "$up" reference)
[ "$(board "$gym" gym)" = "$reference" ] || fail "the gym's standings differ from the upstream's"
pass "upstream -> push -> city -> SubscribeToShard -> gym: the gym's board equals the upstream's"

# refused STATUS OPTION...: the hub exits with STATUS; its message in out.
refused() {
	local want=$1 status
	shift
	out=$("$ALLEYCAT" hub --listen "127.0.0.1:$spare_port" "$@" 2>&1)
	status=$?
	[ "$status" = "$want" ] || fail "hub $* exited $status, not $want: $out"
}
spare_port=$(free_port)
refused 2 --read efo
expect_match "$out" '--read needs --mirror' "--read without --mirror"
refused 2 --mirror "$up" --read carrier-pigeon
expect_match "$out" 'not push, efo or polling' "--read carrier-pigeon"
pass "--read without --mirror and an unknown --read are refused"

# An upstream that answers ListShards with 80-digit numbers.
wide_port=$(free_port)
python3 - "$wide_port" >"$dir/wide.log" 2>&1 <<'PY' &
import http.server, json, sys
class Upstream(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        body = json.dumps({"Shards": [{
            "ShardId": "shardId-000000000000",
            "HashKeyRange": {"StartingHashKey": "0",
                             "EndingHashKey": str(2 ** 128 - 1)},
            "SequenceNumberRange": {"StartingSequenceNumber":
                "4965418304949829093412773489340727163485892539821339443449654183049498290934"
                "1277"}}]}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/x-amz-json-1.1')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Upstream).serve_forever()
PY
extra_pids+=($!)
answers "http://127.0.0.1:$wide_port" 5 || fail "the fake upstream did not start: $(cat "$dir/wide.log")"
refused 1 --mirror "http://127.0.0.1:$wide_port"
expect_match "$out" 'wider than the 77 digits a hub keeps' "an upstream of 80-digit numbers"
pass "an upstream of 80-digit sequence numbers is refused, and says why"

# ---- Amazon Kinesis's numbers: a mirror of kinesis-mock --------------------

npm_deps "$top_srcdir/bench/node" || skip "kinesis-mock and kinesalite come from npm"
start_kinesis_mock "$dir" race
extra_pids+=("$km_pid")
km="http://127.0.0.1:$km_plain"
# kinesis-mock wants a signature, any signature; so does the mirror's
# upstream, and the mirror signs with the key of the environment.
export AWS_ACCESS_KEY_ID=AKIDALLEYCATTEST AWS_SECRET_ACCESS_KEY=secret
km_race() {
	local _
	for _ in $(seq 150); do
		"$ALLEYCAT" sim --endpoint "$km" --stream race --duration 6 --speed 0 --quiet \
			--racers 20 --class 5 "$@" 2>/dev/null && return 0
		sleep 0.2
	done
	fail "the simulator failed on kinesis-mock: $(tail -3 "$dir/km.log")"
}
km_race --seed 23 --race-id 7700017

# signed_call URL OPERATION JSON: a call with a signature kinesis-mock and
# kinesalite take.
signed_call() {
	curl -s -X POST "$1/" -H 'Content-Type: application/x-amz-json-1.1' \
		-H "X-Amz-Target: Kinesis_20131202.$2" -H 'X-Amz-Date: 20261204T150000Z' \
		-H "Authorization: AWS4-HMAC-SHA256 Credential=$AWS_ACCESS_KEY_ID/20261204/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0" \
		--data "$3"
}
# records URL: "SequenceNumber PartitionKey Data" of every record of both
# shards, by GetRecords from their start.
records() {
	local shard it
	for shard in shardId-000000000000 shardId-000000000001; do
		it=$(signed_call "$1" GetShardIterator "{\"StreamName\":\"race\",\"ShardId\":\"$shard\",
			\"ShardIteratorType\":\"TRIM_HORIZON\"}" | jq -r .ShardIterator)
		signed_call "$1" GetRecords "{\"ShardIterator\":\"$it\",\"Limit\":10000}" |
			jq -r '.Records[] | .SequenceNumber + " " + .PartitionKey + " " + .Data'
	done
}

mirror_port
extra_pids+=("$mirror_pid")
launch_mirror --mirror "https://127.0.0.1:$km_tls" --insecure --data-dir "$dir/kmm-data" \
	--log-level info
kmm=$mirror
grep -q "mirroring stream race of https://127.0.0.1:$km_tls as race (efo)" "$dir/mirror.log" ||
	fail "the mirror of kinesis-mock does not read by SubscribeToShard: $(cat "$dir/mirror.log")"
upstream=$(records "$km")
total=$(printf '%s\n' "$upstream" | grep -c .)
[ "$total" -gt 0 ] || fail "kinesis-mock holds no records"
printf '%s\n' "$upstream" | awk '{ print length($1) }' | sort -u | grep -qx 56 ||
	fail "kinesis-mock's sequence numbers are not of 56 digits: $(printf '%s' "$upstream" | head -2)"
# stored_all URL N: whether the mirror at URL stored N records.
stored_all() { [ "$(mirrored "$1" stored)" = "$2" ]; }
eventually stored_all "$kmm" "$total" || fail "the mirror stored $(mirrored "$kmm" stored) of $total records"
[ "$(records "$kmm")" = "$upstream" ] ||
	fail "the mirror's records differ from kinesis-mock's: $(records "$kmm" | head -3)"
[ "$(mirrored "$kmm" bad)" = 0 ] || fail "the mirror refused records: $(mirrored "$kmm" bad) bad"

direct=$(board "https://127.0.0.1:$km_tls" kmdirect --insecure)
[ -n "$direct" ] && [ "$(board "$kmm" kmm)" = "$direct" ] ||
	fail "the standings of the mirror of kinesis-mock differ from kinesis-mock's"
pass "a mirror of kinesis-mock (56-digit numbers, SubscribeToShard over TLS, signed) serves its records with their numbers, and its standings"

# Restarted on its data directory, the mirror resumes after its 56-digit
# checkpoints: the next race is copied, nothing twice.
kill "$mirror_pid"
wait "$mirror_pid" 2>/dev/null
km_race --seed 24 --race-id 7700018
upstream=$(records "$km")
added=$(($(printf '%s\n' "$upstream" | grep -c .) - total))
[ "$added" -gt 0 ] || fail "the second race added no records to kinesis-mock"
launch_mirror --mirror "https://127.0.0.1:$km_tls" --insecure --data-dir "$dir/kmm-data"
eventually stored_all "$kmm" "$added" || fail "the restarted mirror stored $(mirrored "$kmm" stored) of $added new records"
[ "$(records "$kmm")" = "$upstream" ] || fail "after a restart the mirror's records differ from kinesis-mock's"
[ "$(mirrored "$kmm" repeated)" = 0 ] || fail "the restarted mirror read $(mirrored "$kmm" repeated) records again"
pass "restarted, the mirror of kinesis-mock resumes from its 56-digit checkpoints"

# A profile named must hold a key.
mkdir -p "$dir/home"
HOME="$dir/home" refused 1 --mirror "https://127.0.0.1:$km_tls" --insecure --profile nobody
expect_match "$out" "profile 'nobody'" "--profile without a key"
pass "--profile without a key is refused, naming it"

# ---- --read polling: a mirror of kinesalite --------------------------------

kl_port=$(free_port)
node "$top_srcdir/bench/node/kinesalite.js" "$kl_port" >"$dir/kl.log" 2>&1 &
extra_pids+=($!)
for _ in $(seq 100); do grep -q "kinesalite on" "$dir/kl.log" && break; sleep 0.1; done
grep -q "kinesalite on" "$dir/kl.log" || fail "kinesalite did not start: $(cat "$dir/kl.log")"
kl="http://127.0.0.1:$kl_port"
"$ALLEYCAT" sim --endpoint "$kl" --stream race --create-stream --shards 2 --duration 6 --speed 0 \
	--quiet --racers 20 --class 3 --seed 25 --race-id 7700019 || fail "the simulator failed on kinesalite"
extra_pids+=("$mirror_pid")
mirror_port
launch_mirror --mirror "$kl" --read polling --log-level info
klm=$mirror
grep -q "mirroring stream race of $kl as race (polling)" "$dir/mirror.log" ||
	fail "the mirror of kinesalite does not read by GetRecords: $(cat "$dir/mirror.log")"
upstream=$(records "$kl")
total=$(printf '%s\n' "$upstream" | grep -c .)
printf '%s\n' "$upstream" | awk '{ print length($1) }' | sort -u | grep -qx 56 ||
	fail "kinesalite's sequence numbers are not of 56 digits: $(printf '%s' "$upstream" | head -2)"
eventually stored_all "$klm" "$total" || fail "the polling mirror stored $(mirrored "$klm" stored) of $total records"
[ "$(records "$klm")" = "$upstream" ] || fail "the polling mirror's records differ from kinesalite's"
direct=$(board "$kl" kldirect --read polling)
[ -n "$direct" ] && [ "$(board "$klm" klm)" = "$direct" ] ||
	fail "the standings of the polling mirror of kinesalite differ from kinesalite's"
pass "a mirror of kinesalite by --read polling serves its records with their 56-digit numbers, and its standings"
