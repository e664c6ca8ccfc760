#!/usr/bin/env bash
# The mouse on a real terminal (tmux), as a terminal reports it: a click
# on a row follows that racer, a click on a tab shows its view, the wheel
# scrolls; the kiosk takes clicks and changes nothing; --no-mouse leaves
# the mouse to the terminal; in history a click on a class shows it and a
# click on a row opens it, a click on a racer's best its race.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start mouse

ladder 60
put 960 1 update "${racers[@]}"

tmux -S "$sock" new-session -d -s keep "sleep 600"
tmux -S "$sock" new-session -d -s watch -x 100 -y 30 "$(dash watch)"
wait_for watch 20 "rows 1-24 of 60"
[ "$(tmux -S "$sock" display-message -p -t watch '#{mouse_standard_flag}')" = 1 ] ||
	fail "watch did not ask the terminal for clicks"

# A click on R55's row follows R55.
click_on watch ' R55 '
wait_for watch 10 "following R55 (55): rank 6 of 60"

# The wheel moves three rows a notch, as the arrow keys do (letting go of
# the racer): the table scrolls once it passes the edge.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	wheel watch down
done
wait_for watch 10 "rows 13-36 of 60"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	wheel watch up
done
wait_for watch 10 "rows 6-29 of 60"

# A click on a tab shows its view; a click on the Live tab goes back.
click_on watch '2 Races'
wait_for watch 10 "Live races: 1, 60 racers"
click_on watch '1 Live'
wait_for watch 10 "rows 6-29 of 60"

# A click on the race selected in the races view watches it.
tmux -S "$sock" send-keys -t watch 2
wait_for watch 10 "Live races: 1"
click_on watch ' 960 '
click_on watch ' 960 '
wait_for watch 10 "Race 960"
tmux -S "$sock" send-keys -t watch q
wait_ended watch 10
pass "a click follows a racer and switches views, the wheel scrolls"

# The kiosk: a click on the Live tab and on a row change nothing, and no
# click quits it (it has no unlock key here). A resize after the clicks is
# drawn only once every waiting report was read (as in screen.sh).
tmux -S "$sock" new-session -d -s kiosk -x 100 -y 30 "$(dash kiosk '--rotate 600')"
wait_for kiosk 20 "kiosk: Races"
wait_for kiosk 20 " 960 "
click_on kiosk ' Live '
click_on kiosk ' 960 '
click_on kiosk ' 960 '
tmux -S "$sock" resize-window -t kiosk -x 100 -y 26
wait_for kiosk 10 "Live races: 1"
last_line() {
	screen kiosk | tail -n 1 | grep -qF -- "kiosk: Races"
}
within 10 last_line || fail "the kiosk changed its view on a click:
$(screen kiosk)"
screen kiosk | grep -qF "Race 960 " && fail "the kiosk opened a race on a click"
tmux -S "$sock" kill-session -t kiosk
pass "the kiosk ignores the mouse"

# --no-mouse: the terminal is not asked for clicks, and a click follows
# no one.
tmux -S "$sock" new-session -d -s plain -x 100 -y 30 "$(dash watch --no-mouse)"
wait_for plain 20 "rows 1-24 of 60"
[ "$(tmux -S "$sock" display-message -p -t plain '#{mouse_standard_flag}')" = 0 ] ||
	fail "watch --no-mouse asked the terminal for clicks"
click_on plain ' R55 '
sleep 2
screen plain | grep -qF "following" && fail "watch --no-mouse followed a clicked racer:
$(screen plain)"
tmux -S "$sock" send-keys -t plain q
wait_ended plain 10
pass "--no-mouse"

# The config file says it as well.
printf '[watch]\nno-mouse = true\n' >"$dir/config"
tmux -S "$sock" new-session -d -s config -x 100 -y 30 "ALLEYCAT_CONFIG=$dir/config $(dash watch)"
wait_for config 20 "rows 1-24 of 60"
[ "$(tmux -S "$sock" display-message -p -t config '#{mouse_standard_flag}')" = 0 ] ||
	fail "no-mouse = true in the config file did not keep the mouse off"
pass "no-mouse in the config file"
tmux -S "$sock" kill-session -t config

# History: two races end (Sport, then Expert); a click on a class in the
# title line shows its leaderboard, a click on a row opens it as Enter does,
# a click on a racer's best opens its race.
CLASS=2 put 970 4 update 71:Ann:40.0 72:Bo:50.0 73:Cy:60.0
CLASS=2 put 970 5 final 71:Ann:40.0 72:Bo:50.0 73:Cy:60.0
CLASS=3 put 971 4 update 74:Di:40.0 75:Eve:50.0
CLASS=3 put 971 5 final 74:Di:40.0 75:Eve:50.0
tmux -S "$sock" new-session -d -s hist -x 100 -y 30 "$(dash watch '--no-unicode')"
wait_for hist 20 "Race 960"
tmux -S "$sock" send-keys -t hist 3
wait_for hist 30 "Personal bests: Expert (class 3 of 6)"
click_on hist ' Sport '
wait_for hist 10 "Personal bests: Sport (class 2 of 6)"
wait_for hist 10 " Cy "
click_on hist ' Bo '
wait_for hist 10 "Racer Bo  id 72"
# In the racer's profile, a click on a best (on its class, the first
# thing on its line; the list of races below names Sport too) opens the
# race it was set in.
y=$(screen hist | grep -n '^Sport ' | head -1 | cut -d: -f1)
[ -n "$y" ] || fail "Bo's profile shows no best in Sport:
$(screen hist)"
click hist 2 $((y - 1))
wait_for hist 10 "Race 970 Sport (class 2)"
tmux -S "$sock" send-keys -t hist BSpace
wait_for hist 10 "Racer Bo  id 72"
tmux -S "$sock" send-keys -t hist r
wait_for hist 10 "Past races: every class"
click_on hist ' 970 '
wait_for hist 10 "Race 970 Sport (class 2)"
tmux -S "$sock" send-keys -t hist BSpace
wait_for hist 10 "Past races: every class"
click_on hist ' Expert '
wait_for hist 10 "Past races: Expert"
shows hist " 970 " && fail "the races of class Expert list race 970 (Sport):
$(screen hist)"
tmux -S "$sock" send-keys -t hist q
wait_ended hist 10
pass "history: a click picks a class, opens a racer, a race and the race of a best"
