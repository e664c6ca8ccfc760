#!/usr/bin/env bash
# The monitor view on a real terminal (tmux), a hub of four shards: a
# shard has one name in the hub's table and the consumer's; the hub's
# sparklines share one scale, whose top the title says; the consumer's
# state is said once.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start monitor --shards 4
ladder 40
put 1001 1 update "${racers[@]}"

tmux -S "$sock" new-session -d -s keep "sleep 600"
tmux -S "$sock" new-session -d -s w -x 100 -y 40 "$(dash watch '--duration 300')"
wait_for w 20 "Race 1001"
tmux -S "$sock" send-keys -t w 4
wait_for w 10 "Consumer monitor-watch"
for second in 2 3 4 5; do
	put 1001 "$second" update "${racers[@]}"
	sleep 1
done

for n in 0 1 2 3; do
	wait_for w 10 "shardId-00000000000$n "
	[ "$(screen w | grep -c "^shardId-00000000000$n ")" = 2 ] ||
		fail "shard $n is not named shardId-00000000000$n in both tables:
$(screen w)"
done
shows w "#0" && fail "a shard is called #0:
$(screen w)"
pass "one name for a shard"

wait_match w 10 "rec/s, 60 s, top [1-9][0-9.]*k?"
pass "the sparklines' scale: $(screen w | grep -o 'top [0-9.k]*')"

wait_for w 10 "streaming: reading 4 shards of monitor"
shows_match w "streaming:? streaming" && fail "the state is said twice:
$(screen w)"
pass "the consumer's state said once"
