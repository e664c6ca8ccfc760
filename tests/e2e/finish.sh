#!/usr/bin/env bash
# The end of a race on a real terminal (tmux): watch shows the finished
# race's podium and final standings for a while, then the followed racer's
# next race (not the busiest one); the kiosk holds the finish on screen
# past its rotation. Races are put on a hub by hand, so their order is known.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start finish

tmux -S "$sock" new-session -d -s keep "sleep 600"
tmux -S "$sock" new-session -d -s watch -x 100 -y 30 "$(dash watch '--racer 13')"

# Race 501 runs, then every racer sends "final": it ends.
put 501 4 update 11:Ann:40.0 12:Bo:50.0 13:Cy:60.0 14:Di:70.0
wait_for watch 20 "Race 501"
put 501 5 final 11:Ann:40.0 12:Bo:50.0 13:Cy:60.0 14:Di:70.0
wait_for watch 20 "FINISHED"
podium=$(screen watch | grep -E '^ +(1st|2nd|3rd) ' | awk '{ print $1 $2 }' | tr '\n' ' ')
[ "$podium" = "1stDi 2ndCy 3rdBo " ] || fail "the podium is not Di, Cy, Bo: '$podium'
$(screen watch)"
screen watch | grep -Eq '^ +4 +Ann ' || fail "the final standings lack Ann in 4th:
$(screen watch)"

# The followed racer rides again in race 502, while race 503 has more
# racers. The finish stays up for a while, then watch shows race 502.
put 502 1 update 13:Cy:60.0
put 503 1 update 21:Eli:50.0 22:Fay:55.0 23:Gil:58.0
sleep 5
screen watch | grep -qF "FINISHED" || fail "the finish was gone within 5 s:
$(screen watch)"
wait_for watch 30 "Race 502"
screen watch | grep -qF "Cy" || fail "the followed racer is not in sight:
$(screen watch)"
tmux -S "$sock" send-keys -t watch q

# The kiosk, rotating every 2 s, stops on the finish and holds it.
tmux -S "$sock" new-session -d -s kiosk -x 100 -y 30 "$(dash kiosk '--rotate 2')"
wait_for kiosk 20 " kiosk: "
put 601 5 final 31:Hal:40.0 32:Ida:50.0
wait_for kiosk 30 "FINISHED"
sleep 5
screen kiosk | grep -qF "FINISHED" || fail "the kiosk rotated away from the finish within 5 s:
$(screen kiosk)"
wait_gone kiosk 30 "FINISHED"

pass "finish"
