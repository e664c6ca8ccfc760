#!/usr/bin/env bash
# Where a consumer with no checkpoint starts (--from): a hub holds an old
# race, written more than a race length plus the grace ago, and a live one.
# With --from live (the default of watch and kiosk) board, watch and kiosk
# see only the live race, in every read mode (push, efo, polling); with
# --from trim-horizon (board's default) they see both; with a time (ISO
# 8601 or epoch seconds) what arrived from then on; a checkpoint, when
# there is one, wins over --from.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

need jq jq
screen_test_start from
ws="ws://127.0.0.1:$port" ep="http://127.0.0.1:$port"
# Races of 5 s that end 20 s after their last record: --from live starts
# 25 s before the consumer does.
race_options="--duration 5 --grace 20 --window 1"

# board NAME OPTION...: the ids of the races a board of consumer NAME saw,
# one line.
board() {
	"$ALLEYCAT" board --stream from --db "$dir/$1.db" --consumer "$1" $race_options \
		--until-finished --format json "${@:2}" >"$dir/$1.json" 2>"$dir/$1.err" ||
		fail "board $1 failed: $(cat "$dir/$1.err")"
	jq -r '[.races[].raceId] | sort | map(tostring) | join(" ")' "$dir/$1.json"
}

# expect_races NAME WANT: what board NAME printed was races WANT.
expect_races() {
	local got
	got=$(jq -r '[.races[].raceId] | sort | map(tostring) | join(" ")' "$dir/$1.json")
	[ "$got" = "$2" ] || fail "board $1 saw races '$got', not '$2': $(cat "$dir/$1.err")"
}

# ---- options -------------------------------------------------------------

for bad in yesterday 2026-13-01 2026-12-04T25:00:00Z 1796389200000 ''; do
	expect_status 2 "$ALLEYCAT" board --from "$bad" --once
	expect_match "$("$ALLEYCAT" watch --from "$bad" 2>&1)" \
		"--from: '$bad' is not trim-horizon, latest, live or a time"
done
for command in watch kiosk board; do
	"$ALLEYCAT" "$command" --help | grep -q -- "--from WHERE" || fail "$command --help lacks --from"
done
"$ALLEYCAT" watch --help | grep -A3 -- "--from WHERE" | grep -q "default live" ||
	fail "watch --help does not say --from live is its default"
"$ALLEYCAT" board --help | grep -A3 -- "--from WHERE" | grep -q "default trim-horizon" ||
	fail "board --help does not say --from trim-horizon is its default"

# ---- an old race, then a live one ------------------------------------------

put 701 4 update 11:Ann:40.0 12:Bo:50.0 13:Cy:60.0
put 701 5 final 11:Ann:40.0 12:Bo:50.0 13:Cy:60.0
# A moment after the old race and before the live one, to the second.
sleep 1.1
between=$(date -u +%Y-%m-%dT%H:%M:%SZ)
between_epoch=$(date -u -d "$between" +%s)
# The old race falls out of --from live: more than 5 + 20 s ago.
sleep 27
put 702 4 update 21:Dan:40.0 22:Eve:50.0
put 702 5 final 21:Dan:40.0 22:Eve:50.0

# Every --from live consumer at once, so that all start well within 25 s of
# the live race.
board live-push --endpoint "$ws" --from live >/dev/null &
b1=$!
board live-efo --endpoint "$ep" --read efo --from live >/dev/null &
b2=$!
board live-polling --endpoint "$ep" --read polling --from live >/dev/null &
b3=$!
# The dashboards' default is live: no --from given.
tmux -S "$sock" new-session -d -s watch -x 100 -y 30 \
	"$ALLEYCAT watch --endpoint $ws --stream from --db $dir/watch.db --consumer watch $race_options"
tmux -S "$sock" new-session -d -s kiosk -x 100 -y 30 \
	"$ALLEYCAT kiosk --endpoint $ep --read polling --stream from --db $dir/kiosk.db --consumer kiosk $race_options"
for b in $b1 $b2 $b3; do
	wait "$b" || fail "a --from live board failed"
done
expect_races live-push "702"
expect_races live-efo "702"
expect_races live-polling "702"

# in_history DB RACE: whether the dashboard that keeps DB stored RACE.
in_history() {
	"$ALLEYCAT" history --db "$1" --race "$2" --format json >/dev/null 2>&1
}
for dash in watch kiosk; do
	for _ in $(seq 300); do
		in_history "$dir/$dash.db" 702 && break
		sleep 0.1
	done
	in_history "$dir/$dash.db" 702 || fail "$dash (--from live by default) never stored race 702"
	! in_history "$dir/$dash.db" 701 || fail "$dash (--from live by default) read the old race 701"
done
tmux -S "$sock" send-keys -t watch q
tmux -S "$sock" send-keys -t kiosk q

# trim-horizon, given or board's default: both races, in every mode.
board horizon-push --endpoint "$ws" >/dev/null
expect_races horizon-push "701 702"
board horizon-efo --endpoint "$ep" --read efo --from trim-horizon >/dev/null
expect_races horizon-efo "701 702"
board horizon-polling --endpoint "$ep" --read polling --from trim-horizon >/dev/null
expect_races horizon-polling "701 702"
# A watch asked for the horizon reads the old race too.
tmux -S "$sock" new-session -d -s horizon -x 100 -y 30 \
	"$ALLEYCAT watch --endpoint $ws --stream from --db $dir/horizon.db --consumer horizon --from trim-horizon $race_options"
for _ in $(seq 300); do
	in_history "$dir/horizon.db" 701 && break
	sleep 0.1
done
in_history "$dir/horizon.db" 701 || fail "watch --from trim-horizon never stored the old race 701"
tmux -S "$sock" send-keys -t horizon q

# A time between the races, as ISO 8601 and as epoch seconds: the live one.
board at-push --endpoint "$ws" --from "$between" >/dev/null
expect_races at-push "702"
board at-efo --endpoint "$ep" --read efo --from "$between_epoch" >/dev/null
expect_races at-efo "702"
# Settings give --from too (here the environment).
ALLEYCAT_FROM="$between" board at-polling --endpoint "$ep" --read polling >/dev/null
expect_races at-polling "702"

# ---- a checkpoint wins -------------------------------------------------------
# A new race after the consumers above stopped: --from latest would not
# see it, but a consumer with checkpoints reads on from them. Checkpoints
# are kept per shard: Dan and Eve ride again, on the shards their
# partition keys (their racer ids) chose for race 702.

put 703 4 update 21:Dan:45.0 22:Eve:55.0
put 703 5 final 21:Dan:45.0 22:Eve:55.0
board live-polling --endpoint "$ep" --read polling --from latest >/dev/null
expect_races live-polling "702 703"
board live-efo --endpoint "$ep" --read efo --from latest >/dev/null
expect_races live-efo "702 703"
board live-push --endpoint "$ws" --from latest >/dev/null
expect_races live-push "702 703"
# Push and efo checkpoint every shard they read, records or not: a race on
# every shard is read on from there too.
riders=""
for id in $(seq 41 80); do riders="$riders $id:R$id:50.0"; done
put 704 4 update $riders
put 704 5 final $riders
board live-efo --endpoint "$ep" --read efo --from latest >/dev/null
expect_races live-efo "702 703 704"
board live-push --endpoint "$ws" --from latest >/dev/null
expect_races live-push "702 703 704"
# Without a checkpoint, latest is what comes after: none of these races.
board latest --endpoint "$ep" --read polling --from latest >/dev/null
expect_races latest ""

pass "from"
