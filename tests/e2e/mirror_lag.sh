#!/usr/bin/env bash
# hub --mirror (issue 17): readers of a mirror are told how far behind the
# upstream's latest the mirror is, not only how far behind the copy they
# are. The upstream's push is slowed so that a chain, upstream -> city ->
# gym (a mirror of a mirror), falls behind: a reader at the newest record
# of either copy, by GetRecords and by SubscribeToShard, sees
# MillisBehindLatest above zero while the upstream still holds records the
# copies have not, and zero once they caught up.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/mirrorlib.sh"

# About 2 KB/s from the upstream: a race of 100 records takes some 10 s.
start_hub "$dir" race --shards 1 --push-bytes-per-sec 2000
up="http://127.0.0.1:$port"
mirror_port
launch_mirror --mirror "$up"
city=$mirror
city_pid=$mirror_pid
mirror_port
launch_mirror --mirror "$city"
gym=$mirror
extra_pids+=("$city_pid")

# tip_behind URL: MillisBehindLatest of GetRecords at the copy's newest.
tip_behind() {
	local it
	it=$(call "$1" GetShardIterator \
		'{"StreamName":"race","ShardId":"shardId-000000000000","ShardIteratorType":"LATEST"}' |
		sed -n 's/.*"ShardIterator":"\([^"]*\)".*/\1/p')
	call "$1" GetRecords "{\"ShardIterator\":\"$it\"}" |
		sed -n 's/.*"MillisBehindLatest":\([0-9]*\).*/\1/p'
}

# subscribed_behind URL: MillisBehindLatest of the first SubscribeToShard
# event at LATEST, for a consumer registered on the copy.
subscribed_behind() {
	local arn
	arn=$(call "$1" RegisterStreamConsumer \
		"{\"StreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/race\",\"ConsumerName\":\"lag-$RANDOM\"}" |
		sed -n 's/.*"ConsumerARN":"\([^"]*\)".*/\1/p')
	sleep 0.3
	curl -s --max-time 2 -X POST "$1/" -H 'Content-Type: application/x-amz-json-1.1' \
		-H 'X-Amz-Target: Kinesis_20131202.SubscribeToShard' \
		--data "{\"ConsumerARN\":\"$arn\",\"ShardId\":\"shardId-000000000000\",\"StartingPosition\":{\"Type\":\"LATEST\"}}" |
		grep -ao '"MillisBehindLatest":[0-9]*' | head -n 1 | cut -d: -f2
}

behind_on_both() {
	local city_ms gym_ms
	city_ms=$(tip_behind "$city") gym_ms=$(tip_behind "$gym")
	[ "${city_ms:-0}" -gt 1000 ] && [ "${gym_ms:-0}" -gt 1000 ]
}
caught_up() {
	[ "$(tip_behind "$city")" = 0 ] && [ "$(tip_behind "$gym")" = 0 ] &&
		[ "$(mirrored "$gym" stored)" = "$total" ]
}

"$ALLEYCAT" sim --endpoint "$up" --stream race --racers 10 --duration 10 --seed 3 --speed 0 \
	--quiet || fail "the simulator failed"
total=$(curl -s "$up/metrics" |
	awk '/^alleycat_shard_records_in_total\{stream="race"/ { n += $2 } END { print n + 0 }')

eventually behind_on_both ||
	fail "GetRecords at the newest does not show the upstream's lag: city $(tip_behind "$city"), gym $(tip_behind "$gym")"
[ "$(mirrored "$gym" stored)" -lt "$total" ] || fail "the chain was never behind"
pass "GetRecords at the newest of a mirror and of a mirror of it: behind the upstream's latest"

gym_ms=$(subscribed_behind "$gym")
[ "$(mirrored "$city" stored)" -lt "$total" ] || skip "the chain caught up before SubscribeToShard was read"
[ "${gym_ms:-0}" -gt 1000 ] ||
	fail "SubscribeToShard on the mirror of a mirror does not show the upstream's lag: '$gym_ms'"
pass "SubscribeToShard at the newest of a mirror of a mirror: ${gym_ms} ms behind the upstream's latest"

# 100 records at 2 KB/s: well within a minute.
for _ in 1 2 3; do eventually caught_up && break; done
caught_up || fail "the chain did not catch up: city $(tip_behind "$city"), gym $(tip_behind "$gym"), stored $(mirrored "$gym" stored) of $total"
gym_ms=$(subscribed_behind "$gym")
[ "$gym_ms" = 0 ] || fail "SubscribeToShard still behind after the chain caught up: '$gym_ms'"
pass "caught up, the chain's readers are 0 ms behind"
