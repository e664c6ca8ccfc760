#!/usr/bin/env bash
# hub --mirror (issue 17): a hub serving a copy of another hub's stream to
# many boards through one consumer upstream. 50 boards on the mirror print the
# standings a board on the upstream prints, after the mirror was killed
# with -9 mid-race and restarted on its data directory, after the
# upstream resharded 4 -> 2 -> 4 -> 3 while mirrored, and after both were
# killed with -9 and restarted, the copy first; the copy's shard list is
# the upstream's, lineage and sequence numbers included; writes to the
# copy are refused.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/mirrorlib.sh"

up_options=(--shards 4 --shard-records-per-sec 0 --shard-bytes-per-sec 0 --data-dir "$dir/up-data")
start_hub "$dir" race "${up_options[@]}"
up="http://127.0.0.1:$port"
mirror_port

start_mirror() {
	launch_mirror --mirror "$up" --data-dir "$dir/mirror-data" --max-consumers 100
}

# same_on_both FUNCTION WHAT: waits for FUNCTION to print the same for the
# mirror as for the upstream.
same() { [ "$("$1" "$mirror")" = "$("$1" "$up")" ]; }
same_on_both() {
	eventually same "$1" || fail "$2: $("$1" "$mirror") vs $("$1" "$up")"
}

sim() {
	"$ALLEYCAT" sim --endpoint "$up" --stream race --racers 30 --duration 10 --seed "$1" \
		--class 5 --quiet "${@:2}" || fail "the simulator failed"
}

# board URL NAME: the final standings as a board at URL prints them.
board() {
	"$ALLEYCAT" board --endpoint "$1" --stream race --db "$dir/$2.db" --consumer "$2" \
		--duration 10 --grace 2 --until-finished --format csv || fail "board $2 failed"
}

start_mirror

# A race while the mirror is killed with -9 and restarted on its data.
sim 11 --speed 4 &
sim_pid=$!
sleep 1.2
kill -9 "$mirror_pid"
wait "$mirror_pid" 2>/dev/null
start_mirror
wait "$sim_pid" || fail "the simulator failed"

# Upstream reshards while mirrored: a race on each layout.
"$ALLEYCAT" hub reshard --endpoint "$up" --stream race --shards 2 >/dev/null ||
	fail "reshard to 2 failed"
sim 12 --speed 0
"$ALLEYCAT" hub reshard --endpoint "$up" --stream race --shards 4 >/dev/null ||
	fail "reshard to 4 failed"
sim 15 --speed 0
"$ALLEYCAT" hub reshard --endpoint "$up" --stream race --shards 3 >/dev/null ||
	fail "reshard to 3 failed"
sim 13 --speed 0

# Both killed with -9: the copy restarts first and serves what it kept,
# then catches up with the upstream once that is back.
kill -9 "$mirror_pid" "$hub_pid"
wait "$mirror_pid" "$hub_pid" 2>/dev/null
start_mirror
"$ALLEYCAT" hub --listen "127.0.0.1:$port" --stream race "${up_options[@]}" >>"$dir/hub.log" 2>&1 &
hub_pid=$!
answers "$up" 5 || fail "the upstream did not restart: $(cat "$dir/hub.log")"
sim 14 --speed 0

# The copy's shards are the upstream's, lineage and numbers included.
shards() { call "$1" ListShards '{"StreamName":"race"}'; }
same_on_both shards "the mirror's shards differ"
pass "the mirror lists the upstream's shards after 4 -> 2 -> 4 -> 3"

# The mirror has caught up once each shard's last sequence number is the
# upstream's (a board that starts earlier may finish before the records);
# each shard then holds as many records as upstream: none lost or repeated
# across the kill.
last_seqs() { curl -s "$1/metrics" | grep -E '^alleycat_shard_(info|retained_records)'; }
same_on_both last_seqs "the mirror did not catch up"

boards=()
screens=$(seq 50)
for n in $screens; do
	board "$mirror" "screen-$n" >"$dir/screen-$n.csv" &
	boards+=($!)
done
for b in "${boards[@]}"; do
	wait "$b" || fail "a board on the mirror failed"
done

consumers=$(call "$up" ListStreamConsumers \
	"{\"StreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/race\"}")
count=$(printf '%s' "$consumers" | grep -o '"ConsumerName"' | wc -l)
[ "$count" = 1 ] || fail "the upstream has $count consumers, not 1: $consumers"
pass "50 boards on the mirror (more than the upstream's 20 consumers), one consumer upstream"

board "$up" reference >"$dir/reference.csv"
[ "$(wc -l <"$dir/reference.csv")" -gt 30 ] || fail "the reference is short: $(cat "$dir/reference.csv")"
for n in $screens; do
	cmp -s "$dir/reference.csv" "$dir/screen-$n.csv" ||
		fail "screen-$n differs from the reference: $(diff "$dir/reference.csv" "$dir/screen-$n.csv" | head)"
done
pass "every board on the mirror equals the reference, across kills of the mirror and the upstream"

metrics=$(curl -s "$mirror/metrics")
expect_match "$metrics" '^alleycat_mirror_lag_ms\{stream="race"\} [0-9]+' "mirror lag metric"
expect_match "$metrics" 'alleycat_mirror_records_total\{stream="race",outcome="bad"\} 0' \
	"bad records"
pass "/metrics shows the mirror's lag"

answer=$(call "$mirror" PutRecords \
	'{"StreamName":"race","Records":[{"Data":"eA==","PartitionKey":"k"}]}')
expect_match "$answer" 'AccessDeniedException' "PutRecords to the mirror"
answer=$(call "$mirror" UpdateShardCount \
	'{"StreamName":"race","TargetShardCount":2,"ScalingType":"UNIFORM_SCALING"}')
expect_match "$answer" 'AccessDeniedException' "UpdateShardCount on the mirror"
answer=$(call "$mirror" DeleteStream '{"StreamName":"race"}')
expect_match "$answer" 'AccessDeniedException' "DeleteStream on the mirror"
pass "writes and reshards on the mirror are refused"
