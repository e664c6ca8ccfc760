#!/usr/bin/env bash
# Where am I, at 80x24 on a real terminal (tmux): the live view says which
# rows of how many it shows; the status line names the followed racer, or
# says that a racer asked for is not in the race; a big rank change shows
# its real number; the help scrolls with a "more below" mark.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start habits

ladder 150
put 950 1 update "${racers[@]}"

tmux -S "$sock" new-session -d -s keep "sleep 600"
tmux -S "$sock" new-session -d -s watch -x 80 -y 24 "$(dash watch '--racer 99999')"
wait_for watch 20 "Race 950"
wait_for watch 10 "rows 1-18 of 150"
wait_for watch 10 "racer 99999 is not in race 950"
tmux -S "$sock" send-keys -t watch q
wait_ended watch 10

# Racer 1, followed, rides from last to first: the status line names them
# and the change column shows the real number of places.
tmux -S "$sock" new-session -d -s follow -x 80 -y 24 "$(dash watch '--racer 1')"
wait_for follow 20 "following R1 (1): rank 150 of 150"
wait_for follow 10 "rows 133-150 of 150"
put 950 2 update 1:R1:99.0
wait_for follow 20 "following R1 (1): rank 1 of 150"
screen follow | grep -qF "▲149" || fail "the rank change is not ▲149:
$(screen follow)"

# The help does not fit at 80x24: the last line says there is more, and
# scrolling to the end takes the mark away.
tmux -S "$sock" send-keys -t follow '?'
wait_for follow 10 "more below"
tmux -S "$sock" send-keys -t follow NPage NPage NPage NPage
wait_gone follow 10 "more below"

pass "habits"
