#!/usr/bin/env bash
# Reading the stream as the rest of the Kinesis world does (issue 15):
# `board --read polling` (GetShardIterator and GetRecords) against the hub,
# through a 2 -> 3 shard reshard and five kills, against kinesalite and
# against kinesis-mock, and efo (SubscribeToShard; the default for http://)
# against the hub and kinesis-mock's TLS port, and efo over HTTP/2 (ALPN h2)
# against a hub that checks SigV4 signatures, through a 2 -> 4 -> 3 reshard
# and five kills, give the standings the push consumer gives (the
# reference); it resumes from its checkpoints; and --read,
# --region and --profile say clearly what is wrong with them, missing
# credentials in one line that names where they were looked for.
set -u
. "$top_srcdir/tests/e2e/lib.sh"

need curl curl
need jq jq
need sqlite3 sqlite3

dir=$(mktemp -d)
export ALLEYCAT_CONFIG=/dev/null LANG=C.UTF-8 LC_ALL=C.UTF-8
# No one's AWS set-up but the test's own.
export HOME="$dir/home"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION \
	AWS_DEFAULT_REGION AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE
mkdir -p "$HOME"
cleanup() {
	[ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null
	[ -n "${kl_pid:-}" ] && kill "$kl_pid" 2>/dev/null
	[ -n "${km_pid:-}" ] && kill "$km_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

# ---- options -----------------------------------------------------------

expect_status 2 "$ALLEYCAT" board --read carrier-pigeon --once
expect_match "$("$ALLEYCAT" board --read carrier-pigeon --once 2>&1)" "not push, efo or polling"
expect_status 2 "$ALLEYCAT" board --region 'us east' --once
expect_match "$("$ALLEYCAT" board --window-records 0 --once 2>&1)" "window-records"
expect_status 2 "$ALLEYCAT" board --window-records 0 --once
out=$("$ALLEYCAT" board --region eu-west-1 --stream s --once 2>&1)
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "missing credentials took more than one line: $out"
expect_match "$out" "no AWS credentials"
expect_match "$out" "$HOME/.aws/credentials"
expect_match "$out" "$HOME/.aws/config"
out=$("$ALLEYCAT" board --profile racing --endpoint http://127.0.0.1:1 --once 2>&1)
expect_match "$out" "profile 'racing'"
# A region that does not exist names the host it made of it.
out=$(AWS_ACCESS_KEY_ID=AKIDALLEYCATTEST AWS_SECRET_ACCESS_KEY=secret timeout 60 \
	"$ALLEYCAT" board --region xx-nowhere-1 --stream s --once --db "$dir/region.db" 2>&1)
expect_match "$out" "kinesis.xx-nowhere-1.amazonaws.com"
"$ALLEYCAT" board --help | grep -q -- "--read MODE" || fail "board --help lacks --read"
"$ALLEYCAT" watch --help | grep -q -- "--profile NAME" || fail "watch --help lacks --profile"

# ---- polling equals push -----------------------------------------------

start_hub "$dir" reads --shards 2
ep="http://127.0.0.1:$port"
sim() {
	"$ALLEYCAT" sim --endpoint "$ep" --stream reads --duration 6 --speed 0 --quiet "$@" ||
		fail "the simulator failed"
}
board() {
	"$ALLEYCAT" board --stream reads --db "$dir/$1.db" --consumer "$1" --duration 6 --grace 2 \
		--until-finished --format json "${@:2}" 2>"$dir/$1.err" ||
		fail "board $1 failed: $(cat "$dir/$1.err")"
}

sim --racers 30 --seed 11 --class 2
"$ALLEYCAT" hub reshard --shards 3 --endpoint "$ep" --stream reads >/dev/null ||
	fail "the reshard failed"
sim --racers 25 --seed 12 --class 4

reference=$(board push --endpoint "ws://127.0.0.1:$port")
[ -n "$reference" ] && printf '%s' "$reference" | grep -q '"racerId"' ||
	fail "the push reference has no standings: $reference"
polled=$(board polled --endpoint "$ep" --read polling)
[ "$polled" = "$reference" ] || fail "polling standings differ from push:
$polled
--- reference:
$reference"

# Checkpointed: a second run reads nothing again, and the standings stay.
again=$(board polled --endpoint "$ep" --read polling)
[ "$again" = "$reference" ] || fail "polling after a restart differs: $again"

# An http:// endpoint is read by enhanced fan-out without being asked: the
# hub's SubscribeToShard as an event stream, across the same reshard.
fanned=$(board fanned --endpoint "$ep")
[ "$fanned" = "$reference" ] || fail "efo standings (the http:// default) differ from push:
$fanned
--- reference:
$reference"
consumers=$(curl -s -H 'Content-Type: application/x-amz-json-1.1' \
	-H 'X-Amz-Target: Kinesis_20131202.ListStreamConsumers' \
	-d "{\"StreamARN\":\"$(curl -s -H 'Content-Type: application/x-amz-json-1.1' \
		-H 'X-Amz-Target: Kinesis_20131202.DescribeStreamSummary' -d '{"StreamName":"reads"}' \
		"$ep/" | jq -r .StreamDescriptionSummary.StreamARN)\"}" "$ep/")
printf '%s' "$consumers" | jq -e '.Consumers | map(.ConsumerName) | index("fanned")' >/dev/null ||
	fail "the efo board registered no consumer: $consumers"

# Killed (SIGKILL) five times while a race is written, then run to the
# end: the checkpoints committed with each window resume it with nothing
# lost or counted twice.
# kill_five_times NAME ARGS...: board NAME (its db and consumer) with ARGS,
# killed by SIGKILL five times at random moments, 0.5 to 2.4 s in; a
# command in $between, when set, runs after the third kill.
kill_five_times() {
	local name=$1 b i
	shift
	for i in 1 2 3 4 5; do
		"$ALLEYCAT" board --db "$dir/$name.db" --consumer "$name" --duration 6 --grace 2 \
			--window 1 "$@" >/dev/null 2>&1 &
		b=$!
		sleep "$((RANDOM % 20 / 10 + 0)).$((RANDOM % 10))"
		sleep 0.5
		kill -KILL "$b" 2>/dev/null
		wait "$b" 2>/dev/null
		[ "$i" = 3 ] && [ -n "${between:-}" ] && { eval "$between" || fail "$between failed"; }
	done
	return 0
}
sim --racers 15 --seed 13 --class 1 --race-id 7700002 --speed 2 &
sim_pid=$!
kill_five_times killed --stream reads --endpoint "$ep" --read polling
wait "$sim_pid" || fail "the simulator failed"
reference=$(board push3 --endpoint "ws://127.0.0.1:$port")
killed=$(board killed --endpoint "$ep" --read polling --window 1)
[ "$killed" = "$reference" ] || fail "polling killed five times differs from push:
$killed
--- reference:
$reference"

# ---- signed: a hub with --auth sigv4, credentials from a profile --------
# The hub checks every signature; the reader's key comes from the racing
# profile of ~/.aws/credentials, its region from ~/.aws/config.

mkdir -p "$HOME/.aws"
printf '[racing]\naws_access_key_id = AKIDRACING\naws_secret_access_key = racing-secret\n' \
	>"$HOME/.aws/credentials"
printf '[profile racing]\nregion = eu-west-1\n' >"$HOME/.aws/config"
printf '[default]\naws_access_key_id = AKIDRACING\naws_secret_access_key = racing-secret\n' \
	>"$dir/hub-keys"
main_port=$port main_pid=$hub_pid
start_hub "$dir" signed --shards 2 --auth sigv4 --credentials "$dir/hub-keys"
AWS_ACCESS_KEY_ID=AKIDRACING AWS_SECRET_ACCESS_KEY=racing-secret \
	"$ALLEYCAT" sim --endpoint "http://127.0.0.1:$port" --stream signed --duration 6 --speed 0 \
	--quiet --racers 12 --seed 41 --class 6 --race-id 7700006 || fail "the signed simulator failed"
signed=$("$ALLEYCAT" board --stream signed --db "$dir/signed.db" --consumer signed --duration 6 \
	--grace 2 --until-finished --format json --endpoint "http://127.0.0.1:$port" --read polling \
	--profile racing 2>"$dir/signed.err") || fail "polling with --profile failed: $(cat "$dir/signed.err")"
printf '%s' "$signed" | jq -e '.races[] | select(.raceId == 7700006) | .racers | length == 12' \
	>/dev/null || fail "polling a signed hub with --profile read wrong standings: $signed"
printf '[racing]\naws_access_key_id = AKIDRACING\naws_secret_access_key = wrong\n' \
	>"$HOME/.aws/credentials"
out=$("$ALLEYCAT" board --stream signed --db "$dir/signed2.db" --consumer signed2 --once \
	--endpoint "http://127.0.0.1:$port" --read polling --profile racing 2>&1)
expect_match "$out" "credentials|signature"
kill "$hub_pid" 2>/dev/null
rm -rf "$HOME/.aws"

# ---- efo, signed, through a 2 -> 4 -> 3 reshard, killed five times -------
# SubscribeToShard over HTTP/2 on a hub that checks every signature: two
# races before and between the reshards, a third written while the board
# is killed five times, the stream resharded from 4 to 3 between kills.

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >"$dir/openssl.log" 2>&1 ||
	fail "openssl cannot make a certificate: $(cat "$dir/openssl.log")"
start_hub "$dir" fanout --shards 2 --auth sigv4 --credentials "$dir/hub-keys" \
	--tls-cert "$dir/cert.pem" --tls-key "$dir/key.pem" --log-level debug
sep="https://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=AKIDRACING AWS_SECRET_ACCESS_KEY=racing-secret
fsim() {
	"$ALLEYCAT" sim --endpoint "$sep" --ca "$dir/cert.pem" --stream fanout --duration 6 \
		--quiet "$@" ||
		fail "the simulator failed on the signed hub"
}
fsim --speed 0 --racers 20 --seed 51 --class 2 --race-id 7700011
"$ALLEYCAT" hub reshard --shards 4 --endpoint "$sep" --ca "$dir/cert.pem" --stream fanout >/dev/null ||
	fail "the reshard to 4 failed"
fsim --speed 0 --racers 20 --seed 52 --class 3 --race-id 7700012
fsim --speed 1 --racers 15 --seed 53 --class 5 --race-id 7700013 &
sim_pid=$!
between='"$ALLEYCAT" hub reshard --shards 3 --endpoint "$sep" --ca "$dir/cert.pem" \
	--stream fanout >/dev/null'
kill_five_times efo-killed --stream fanout --endpoint "$sep" --ca "$dir/cert.pem" --read efo
between=
wait "$sim_pid" || fail "the simulator failed"
shards=$(curl -s --cacert "$dir/cert.pem" -H 'Content-Type: application/x-amz-json-1.1' \
	-H 'X-Amz-Target: Kinesis_20131202.ListShards' -d '{"StreamName":"fanout"}' "$sep/")
expect_match "$shards" "Unauthorized|signature|Signature|credentials|Missing"
shards=$(curl -s --cacert "$dir/cert.pem" --aws-sigv4 aws:amz:us-east-1:kinesis --user AKIDRACING:racing-secret \
	-H 'Content-Type: application/x-amz-json-1.1' \
	-H 'X-Amz-Target: Kinesis_20131202.ListShards' -d '{"StreamName":"fanout"}' "$sep/")
printf '%s' "$shards" | jq -e '[.Shards[] | select(.SequenceNumberRange.EndingSequenceNumber
	== null)] | length == 3' >/dev/null || fail "the stream was not resharded to 3: $shards"
# The killed boards got somewhere: checkpoints were committed between kills.
[ "$(sqlite3 "$dir/efo-killed.db" 'SELECT count(*) FROM checkpoints')" -gt 0 ] ||
	fail "the killed efo board committed no checkpoint"
reference=$(board fanout-push --stream fanout --endpoint "wss://127.0.0.1:$port" --ca "$dir/cert.pem")
printf '%s' "$reference" | jq -e '[.races[].raceId] | length == 3' >/dev/null ||
	fail "the signed push reference lacks a race: $reference"
h2_before=$(grep -c "an HTTP/2 connection (TLS, ALPN h2)" "$dir/hub.log")
killed=$(board efo-killed --stream fanout --endpoint "$sep" --ca "$dir/cert.pem" --read efo \
	--window 1)
[ "$killed" = "$reference" ] || fail "efo (signed, resharded, killed five times) differs from push:
$killed
--- reference:
$reference"
# Its SubscribeToShard went over HTTP/2 (ALPN h2): the board's calls share one client.
[ "$(grep -c "an HTTP/2 connection (TLS, ALPN h2)" "$dir/hub.log")" -gt "$h2_before" ] ||
	fail "the efo board did not speak HTTP/2 to the hub"
out=$(AWS_SECRET_ACCESS_KEY=wrong "$ALLEYCAT" board --stream fanout --db "$dir/efo-wrong.db" \
	--consumer efo-wrong --once --endpoint "$sep" --ca "$dir/cert.pem" --read efo 2>&1)
expect_match "$out" "credentials|signature"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
kill "$hub_pid" 2>/dev/null
port=$main_port hub_pid=$main_pid

# The peers come from npm (bench/node's lock).
have_peers=
npm_deps "$top_srcdir/bench/node" && have_peers=1

# ---- polling kinesalite -------------------------------------------------
# The same race written to the hub and to kinesalite (the npm in-memory
# Kinesis, installed by `npm ci` in bench/node) reads the same by polling.

kl_dir="$top_srcdir/bench/node"
if [ -n "$have_peers" ]; then
	# Another port when another test took the one drawn first.
	for try in 1 2 3 4 5; do
		kl_port=$(free_port)
		node "$kl_dir/kinesalite.js" "$kl_port" >"$dir/kl.log" 2>&1 &
		kl_pid=$!
		for _ in $(seq 50); do
			grep -q "kinesalite on" "$dir/kl.log" || port_taken "$dir/kl.log" && break
			sleep 0.1
		done
		port_taken "$dir/kl.log" || break
		wait "$kl_pid" 2>/dev/null
	done
	grep -q "kinesalite on" "$dir/kl.log" || fail "kinesalite did not start: $(cat "$dir/kl.log")"
	# kinesalite wants a signature, any signature.
	export AWS_ACCESS_KEY_ID=AKIDALLEYCATTEST AWS_SECRET_ACCESS_KEY=secret
	race="--racers 20 --seed 21 --class 3 --race-id 7700001"
	sim $race
	"$ALLEYCAT" sim --endpoint "http://127.0.0.1:$kl_port" --stream reads --create-stream --shards 2 \
		--duration 6 --speed 0 --quiet $race || fail "the simulator failed on kinesalite"
	one() { printf '%s' "$1" | jq -c '.races[] | select(.raceId == 7700001)'; }
	ref=$(one "$(board push2 --endpoint "ws://127.0.0.1:$port")")
	kl=$(one "$(board kl --endpoint "http://127.0.0.1:$kl_port" --read polling)")
	[ -n "$ref" ] && [ "$kl" = "$ref" ] || fail "polling kinesalite differs from push:
$kl
--- reference:
$ref"
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
else
	echo "note: without npm, kinesalite is not polled"
fi

# ---- KPL aggregates --------------------------------------------------------
# The records of a race written plainly to one stream and, aggregated by
# aws-kinesis-agg (some aggregates twice, some records plain), to another:
# push and polling of the aggregated stream give the plain one's standings.

agg_dir="$top_srcdir/bench/node"
if [ -n "$have_peers" ]; then
	"$ALLEYCAT" sim --endpoint "$ep" --stream plain --create-stream --shards 2 --duration 6 \
		--speed 0 --quiet --racers 25 --seed 31 --class 2 --race-id 7700004 \
		--dump "$dir/dump" || fail "the simulator failed"
	curl -sf "$ep/" -H 'content-type: application/x-amz-json-1.1' \
		-H 'x-amz-target: Kinesis_20131202.CreateStream' \
		-d '{"StreamName":"agg","ShardCount":2}' >/dev/null || fail "cannot create the stream agg"
	node "$agg_dir/aggregate.js" "$ep" agg "$dir/dump" >"$dir/agg.log" 2>&1 ||
		fail "aggregate.js failed: $(cat "$dir/agg.log")"
	expect_match "$(cat "$dir/agg.log")" "records, [1-9][0-9]* aggregates"
	one() { printf '%s' "$1" | jq -c '.races[] | select(.raceId == 7700004)'; }
	ref=$(one "$("$ALLEYCAT" board --stream plain --db "$dir/plain.db" --consumer plain \
		--duration 6 --grace 2 --until-finished --format json --endpoint "ws://127.0.0.1:$port")")
	for mode in push polling; do
		got=$(one "$("$ALLEYCAT" board --stream agg --db "$dir/agg-$mode.db" --consumer "agg-$mode" \
			--duration 6 --grace 2 --until-finished --format json --endpoint "$ep" \
			--read $mode 2>"$dir/agg-$mode.err")")
		[ -n "$ref" ] && [ "$got" = "$ref" ] || fail "KPL-aggregated records read by $mode differ:
$got
--- reference:
$ref
$(cat "$dir/agg-$mode.err")"
	done

	# Checkpoints inside aggregates: aggregates of 40 user records read by
	# a board that commits every 7 records, killed (SIGKILL) five times, each
	# time once its database holds a new checkpoint inside an aggregate
	# (a sub-sequence), then run to the end: it resumes inside the
	# aggregate, and gives the plain stream's standings.
	main_port=$port main_pid=$hub_pid
	start_hub "$dir" plain2 --shards 2 --shard-bytes-per-sec 0 --shard-records-per-sec 0
	aep="http://127.0.0.1:$port"
	"$ALLEYCAT" sim --endpoint "$aep" --stream plain2 --duration 6 --speed 0 --quiet --races 4 \
		--racers 100 --seed 61 --class 3 --dump "$dir/dump2" || fail "the simulator failed"
	curl -sf "$aep/" -H 'content-type: application/x-amz-json-1.1' \
		-H 'x-amz-target: Kinesis_20131202.CreateStream' \
		-d '{"StreamName":"aggk","ShardCount":2}' >/dev/null || fail "cannot create the stream aggk"
	node "$agg_dir/aggregate.js" "$aep" aggk "$dir/dump2" 40 >"$dir/agg2.log" 2>&1 ||
		fail "aggregate.js failed: $(cat "$dir/agg2.log")"
	ref=$("$ALLEYCAT" board --stream plain2 --db "$dir/plain2.db" --consumer plain2 \
		--duration 6 --grace 2 --until-finished --format json --endpoint "ws://127.0.0.1:$port")
	printf '%s' "$ref" | jq -e '.races | length == 4' >/dev/null ||
		fail "the plain reference lacks races: $ref"
	inside_query="SELECT group_concat(shard_id || ':' || sequence_number || ':' || sub_sequence)
		FROM checkpoints WHERE sub_sequence > 0"
	for mode in polling efo; do
		db="$dir/aggk-$mode.db" seen= inside=0
		for _ in 1 2 3 4 5; do
			"$ALLEYCAT" board --stream aggk --db "$db" --consumer "aggk-$mode" --duration 6 \
				--grace 2 --window-records 7 --endpoint "$aep" --read $mode \
				>/dev/null 2>&1 &
			b=$!
			for _ in $(seq 1200); do
				kill -0 "$b" 2>/dev/null || break
				now=$(sqlite3 "$db" "$inside_query" 2>/dev/null)
				if [ -n "$now" ] && [ "$now" != "$seen" ]; then
					kill -KILL "$b"
					seen=$now inside=$((inside + 1))
					break
				fi
				sleep 0.02
			done
			kill -KILL "$b" 2>/dev/null
			wait "$b" 2>/dev/null
		done
		[ "$inside" -gt 0 ] || fail "$mode: no checkpoint inside an aggregate was seen"
		got=$("$ALLEYCAT" board --stream aggk --db "$db" --consumer "aggk-$mode" --duration 6 \
			--grace 2 --window-records 7 --until-finished --format json --endpoint "$aep" \
			--read $mode 2>"$dir/aggk.err")
		[ "$got" = "$ref" ] || fail "$mode, killed $inside times inside aggregates, differs:
$got
--- reference:
$ref
$(cat "$dir/aggk.err")"
	done
	kill "$hub_pid" 2>/dev/null
	port=$main_port hub_pid=$main_pid
else
	echo "note: without npm, aggregates are not tested"
fi

# ---- kinesis-mock: polling over HTTP, efo over its TLS port -------------
# kinesis-local (npm, kinesis-mock) serves SubscribeToShard as AWS does,
# over HTTP/2 on its TLS port (self-signed: --insecure).

if [ -n "$have_peers" ]; then
	export AWS_ACCESS_KEY_ID=AKIDALLEYCATTEST AWS_SECRET_ACCESS_KEY=secret
	race="--racers 20 --seed 22 --class 5 --race-id 7700003"
	start_kinesis_mock "$dir" reads
	# Its stream is ready once the simulator's race lands.
	km_up=""
	for _ in $(seq 100); do
		if "$ALLEYCAT" sim --endpoint "http://127.0.0.1:$km_plain" --stream reads --duration 6 \
			--speed 0 --quiet $race 2>/dev/null; then
			km_up=1
			break
		fi
		sleep 0.2
	done
	[ -n "$km_up" ] || fail "the simulator failed on kinesis-mock: $(tail -3 "$dir/km.log")"
	sim $race
	one() { printf '%s' "$1" | jq -c '.races[] | select(.raceId == 7700003)'; }
	ref=$(one "$(board push4 --endpoint "ws://127.0.0.1:$port")")
	polled=$(one "$(board kmp --endpoint "http://127.0.0.1:$km_plain" --read polling)")
	[ -n "$ref" ] && [ "$polled" = "$ref" ] || fail "polling kinesis-mock differs from push:
$polled
--- reference:
$ref"
	efo=$(one "$(board kme --endpoint "https://127.0.0.1:$km_tls" --insecure --read efo)")
	[ "$efo" = "$ref" ] || fail "efo from kinesis-mock differs from push:
$efo
--- reference:
$ref"
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
else
	echo "note: without npm, kinesis-mock is not read"
fi

pass "reader: polling (hub, reshard, kills, kinesalite, kinesis-mock), efo (signed HTTP/2 hub through 2 -> 4 -> 3 and kills; kinesis-mock over TLS) and KPL aggregates equal push; option and credential errors"
