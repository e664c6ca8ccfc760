#!/usr/bin/env bash
# The beat-the-best mark on a real terminal (tmux): while a class has no
# history the header says so and no row is marked; once a race of the
# class has finished, only a racer above its best at that second is.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start best

tmux -S "$sock" new-session -d -s watch -x 100 -y 30 "$(dash watch)"

put 701 3 update 11:Ann:60.0 12:Bo:50.0
wait_for watch 20 "Race 701"
wait_for watch 10 "no history yet in this class"
screen watch | grep -qF "★" && fail "a row is marked in a class without history:
$(screen watch)"

# Race 701 ends: at second 3 the class best is now Ann's output at 60 rpm.
put 701 3 final 11:Ann:60.0 12:Bo:50.0
wait_for watch 20 "FINISHED"
put 702 3 update 21:Cleo:70.0 22:Dev:55.0
wait_for watch 30 "Race 702"
wait_gone watch 10 "no history yet in this class"
marked=$(screen watch | grep -F "★" | grep -oE 'Cleo|Dev' | tr '\n' ' ')
[ "$marked" = "Cleo " ] || fail "the marked racers are '$marked', not Cleo alone:
$(screen watch)"

pass "best"
