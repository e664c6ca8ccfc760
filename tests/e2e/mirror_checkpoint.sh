#!/usr/bin/env bash
# hub --mirror with --data-dir (issue 17): the mirror's checkpoint outlives
# its records. A copy whose short retention has trimmed every record it
# mirrored is killed with -9 and restarted on its data directory: it
# resumes after the newest record it stored, reading nothing again, and
# goes on copying new records. Restarted without --mirror on the same data
# it is still a mirror: it serves the copy and refuses writes.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/mirrorlib.sh"

start_hub "$dir" race --shards 2 --shard-records-per-sec 0 --shard-bytes-per-sec 0
up="http://127.0.0.1:$port"
mirror_port

# start_mirror [OPTION...]: the copy on its data directory, records kept 2 s.
start_mirror() {
	launch_mirror --data-dir "$dir/mirror-data" --retention-seconds 2 "$@"
}

# retained URL: records the hub at URL holds, over all shards.
retained() {
	curl -s "$1/metrics" |
		awk '/^alleycat_shard_retained_records\{stream="race"/ { n += $2 } END { print n + 0 }'
}

sim() {
	"$ALLEYCAT" sim --endpoint "$up" --stream race --racers 10 --duration 5 --seed "$1" \
		--speed 0 --quiet || fail "the simulator failed"
}

stored_is() { [ "$(mirrored "$mirror" stored)" = "$1" ]; }
holds_none() { [ "$(retained "$mirror")" = 0 ]; }

start_mirror --mirror "$up"
sim 21
total=$(retained "$up")
[ "$total" -gt 0 ] || fail "the upstream holds no records"
eventually stored_is "$total" || fail "the mirror stored $(mirrored "$mirror" stored) of $total records"
eventually holds_none || fail "retention did not trim the mirror: it holds $(retained "$mirror")"
grep -q '"mirroredTo"' "$dir/mirror-data/meta.json" ||
	fail "no checkpoint saved: $(cat "$dir/mirror-data/meta.json")"
pass "the mirror copied $total records, then retention trimmed them all"

kill -9 "$mirror_pid"
wait "$mirror_pid" 2>/dev/null
start_mirror --mirror "$up"
# Long enough for the upstream to deliver a replay, had one been asked for.
sleep 3
stored=$(mirrored "$mirror" stored) repeated=$(mirrored "$mirror" repeated)
[ "$stored" = 0 ] && [ "$repeated" = 0 ] ||
	fail "the restarted mirror read again: stored $stored, repeated $repeated"
pass "after kill -9 the mirror resumes after its checkpoint, reading nothing again"

sim 22
more=$(($(retained "$up") - total))
[ "$more" -gt 0 ] || fail "the second race wrote nothing"
eventually stored_is "$more" || fail "the mirror stored $(mirrored "$mirror" stored) of $more new records"
[ "$(mirrored "$mirror" repeated)" = 0 ] || fail "records repeated: $(mirrored "$mirror" repeated)"
pass "the restarted mirror copies new records, each once"

kill "$mirror_pid"
wait "$mirror_pid" 2>/dev/null
start_mirror
answer=$(call "$mirror" PutRecords \
	'{"StreamName":"race","Records":[{"Data":"eA==","PartitionKey":"k"}]}')
expect_match "$answer" 'AccessDeniedException' "PutRecords to a mirror restarted without --mirror"
[ "$(call "$mirror" ListShards '{"StreamName":"race"}')" = \
	"$(call "$up" ListShards '{"StreamName":"race"}')" ] || fail "the copy's shards differ"
grep -q 'is a copy of an upstream stream' "$dir/mirror.log" ||
	fail "no warning that the stream is a copy: $(cat "$dir/mirror.log")"
pass "restarted without --mirror, the copy still refuses writes and keeps the upstream's shards"
