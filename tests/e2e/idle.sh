#!/usr/bin/env bash
# The live view between races, on a real terminal (tmux): once a race has
# finished and none is live, it says which race ended when, and what comes
# next, rather than "no live race yet".
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start idle

CLASS=3 put 901 5 final 11:Ann:60.0 12:Bo:50.0
tmux -S "$sock" new-session -d -s watch -x 100 -y 30 "$(dash watch)"
wait_for watch 20 "FINISHED"
wait_for watch 30 "no live race now: race 901, Expert (class 3), ended"
screen watch | grep -qF "the next race shows here as soon as its first records arrive" ||
	fail "the live view does not say what comes next:
$(screen watch)"
screen watch | grep -qF "no live race yet" && fail "the live view forgot the finished race:
$(screen watch)"

pass "idle"
