#!/usr/bin/env bash
# The live race uses the width of the screen (tmux): at 200 columns a long
# name shows whole and the sparkline shows 90 seconds; at 100 columns the
# same name is cut and both share the room.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start width
long="Wilhelmina Featherstone-Smythe"
for second in $(seq 100); do
	put 990 "$second" update "1:$long:60.0" 2:Bo:50.0 3:Cy:40.0
done

tmux -S "$sock" new-session -d -s keep "sleep 600"
tmux -S "$sock" new-session -d -s w -x 200 -y 30 "$(dash watch '--duration 300')"
wait_for w 20 "second 100 of 300"

# sparks TEXT: the sparkline cells on the row showing TEXT.
sparks() {
	screen w | grep -F -- "$1" | grep -o '[▁▂▃▄▅▆▇█]' | wc -l
}
# table_width: the columns Bo's row takes.
table_width() {
	local row
	row=$(screen w | grep -F ' Bo ' | sed 's/ *$//')
	echo "${#row}"
}

wait_for w 10 "$long "
[ "$(sparks Bo)" -ge 85 ] || fail "at 200 columns the sparkline shows $(sparks Bo) seconds, not 90:
$(screen w)"
[ "$(table_width)" -ge 180 ] || fail "at 200 columns the table is $(table_width) wide:
$(screen w)"
pass "at 200 columns: the name whole, 90 seconds of sparkline, a table $(table_width) wide"

tmux -S "$sock" resize-window -t w -x 100 -y 30
wait_for w 10 "Wilhelmina Feath"
shows w "$long" && fail "at 100 columns the long name is not cut:
$(screen w)"
[ "$(sparks Bo)" -ge 15 ] || fail "at 100 columns the sparkline shows only $(sparks Bo) seconds:
$(screen w)"
[ "$(table_width)" -le 100 ] || fail "at 100 columns the table is $(table_width) wide"
pass "at 100 columns: the name cut, the sparkline $(sparks Bo) seconds"
