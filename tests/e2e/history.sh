#!/usr/bin/env bash
# Where the history view opens, on a real terminal (tmux): on the class of
# the race that ended last, not on class 1; and a kiosk skips the history
# while no race has finished (an empty board says nothing).
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start history

# A kiosk rotating every second, with only a live race on the stream,
# never shows the history in 8 s (two rounds of its views).
tmux -S "$sock" new-session -d -s keep "sleep 600"
put 800 2 update 1:Una:50.0
tmux -S "$sock" new-session -d -s kiosk -x 100 -y 30 "$(dash kiosk '--rotate 1')"
wait_for kiosk 20 " kiosk: "
for _ in $(seq 80); do
	screen kiosk | grep -qF "kiosk: History" && fail "the kiosk showed an empty history:
$(screen kiosk)"
	sleep 0.1
done
tmux -S "$sock" kill-session -t kiosk

# A race of class 2, then one of class 4 (Elite), finish.
tmux -S "$sock" new-session -d -s watch -x 100 -y 30 "$(dash watch '--race 801')"
CLASS=2 put 801 5 final 11:Ann:60.0 12:Bo:50.0
wait_for watch 20 "FINISHED"
CLASS=4 put 802 5 final 21:Cleo:70.0 22:Dev:55.0
sleep 3
tmux -S "$sock" send-keys -t watch 3
wait_for watch 30 "(class 4 of 6)"
screen watch | grep -qF "Cleo" || fail "the Elite leaderboard lacks Cleo:
$(screen watch)"

# The kiosk, once races have finished, shows the history's boards.
tmux -S "$sock" new-session -d -s kiosk -x 100 -y 30 "$(dash kiosk '--rotate 1')"
wait_for kiosk 30 "kiosk: History"

pass "history"
