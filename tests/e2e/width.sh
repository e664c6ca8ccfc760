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
# spark_head: "SECONDS LOW HIGH" from the sparkline's head.
spark_head() {
	screen w | sed -n 4p | grep -o '[0-9]* s: [0-9]* to [0-9]*' | awk '{ print $1, $3, $5 }'
}
# watts TEXT FIELD: a number of the row showing TEXT, counted after TEXT.
watts() {
	screen w | grep -F -- "$1" | sed "s/.*$1 *//" | awk -v f="$2" '{ print $f }'
}
read -r seconds low high <<<"$(spark_head)"
[ "${seconds:-}" = 90 ] || fail "the sparkline's head does not say 90 s: $(screen w | sed -n 4p)"
leader=$(watts "$long" 2)
cy=$(watts " Cy" 3)
[ "$high" = "$(awk -v s="$leader" 'BEGIN { h = int(s); if (h < s) h++; print h }')" ] ||
	fail "the sparkline's top $high is not the leader's score $leader"
[ "$low" = "$(awk -v s="$cy" 'BEGIN { print int(s) }')" ] ||
	fail "the sparkline's bottom $low is not Cy's output $cy"
pass "the sparkline's head: 90 s, $low to $high W"
pass "at 200 columns: the name whole, 90 seconds of sparkline, a table $(table_width) wide"

tmux -S "$sock" resize-window -t w -x 100 -y 30
wait_for w 10 "Wilhelmina Feath"
shows w "$long" && fail "at 100 columns the long name is not cut:
$(screen w)"
[ "$(sparks Bo)" -ge 15 ] || fail "at 100 columns the sparkline shows only $(sparks Bo) seconds:
$(screen w)"
[ "$(table_width)" -le 100 ] || fail "at 100 columns the table is $(table_width) wide"
read -r seconds low high <<<"$(spark_head)"
[ "${seconds:-}" = "$(sparks Bo)" ] || fail "at 100 columns the sparkline's head says ${seconds:-nothing} s, it draws $(sparks Bo):
$(screen w)"
pass "at 100 columns: the name cut, the sparkline $(sparks Bo) seconds"
