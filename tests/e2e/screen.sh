#!/usr/bin/env bash
# The dashboard on a real terminal: it runs in a detached tmux session of a
# fixed size and we read the screen back with capture-pane. A live race of
# eleven racers is put on a hub with known outputs, so the order is known;
# the monitor counts the records of a race that two simulators rode in two
# classes as bad.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/columns.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start screen

# The higher the id, the faster the racer rides, and the higher the rank.
# Outputs with 0, 2, 3 and 4 decimals (80, 100.05, 91.425, 104.8561) must
# still read with two, lined up.
names=(Ada Ben Cleo Dev Eve Finn Gus Hana Ivo Jun)
cadences=(45.0 44.5 48.3 52.0 56.1 60.0 64.7 68.0 72.5 76.0)
resistances=(35.0 50.0 50.0 50.0 50.1 50.0 50.0 50.0 50.0 50.0)
records=""
for i in $(seq 0 9); do
	data=$(printf '{"event":"update","second":5,"raceId":777,"name":"%s","racerId":%d,"classId":2,"cadence":%s,"resistance":%s}' \
		"${names[$i]}" $((100 + i)) "${cadences[$i]}" "${resistances[$i]}" | base64 -w0)
	records="$records{\"Data\":\"$data\",\"PartitionKey\":\"$i\"},"
done
# A name with escape sequences and control characters, riding slowest.
evil=$(printf '{"event":"update","second":5,"raceId":777,"name":"\\u001b[31mEvil\\u0007\\u001b]0;pwned\\u0007","racerId":199,"classId":2,"cadence":30.0,"resistance":40.0}' | base64 -w0)
records="$records{\"Data\":\"$evil\",\"PartitionKey\":\"evil\"}"
curl -sf -H 'X-Amz-Target: Kinesis_20131202.PutRecords' -H 'Content-Type: application/x-amz-json-1.1' \
	-d "{\"StreamName\":\"screen\",\"Records\":[$records]}" "http://127.0.0.1:$port/" >/dev/null ||
	fail "cannot put the race"

watch_cmd() {
	echo "$ALLEYCAT $1 --endpoint ws://127.0.0.1:$port --stream screen --db $dir/h.db --grace 3600 --consumer screen-$1 ${2:-}"
}

# last_line_shows SESSION TEXT: the last line of the screen shows TEXT.
last_line_shows() {
	screen "$1" | tail -n 1 | grep -qF -- "$2"
}

tmux -S "$sock" new-session -d -s watch -x 100 -y 30 "$(watch_cmd watch)"
# The server outlives its sessions: a session started as the last one ends
# would otherwise meet the server on its way out ("server exited
# unexpectedly"). cleanup kills it.
tmux -S "$sock" set-option -s exit-empty off
wait_for watch 10 "Jun"

# The table lists the racers in rank order.
order=$(screen watch | grep -oE 'Ada|Ben|Cleo|Dev|Eve|Finn|Gus|Hana|Ivo|Jun' | tr '\n' ' ')
[ "$order" = "Jun Ivo Hana Gus Finn Eve Dev Cleo Ben Ada " ] || fail "racers out of order: $order
$(screen watch)"

# Every number column has one number of decimals, right-aligned, so the
# points stand one above the other; the leader's gap is a dash.
head=$(screen watch | grep -E ' score W .* rpm ' | head -1)
rows=$(screen watch | grep -E 'Ada|Ben|Cleo|Dev|Eve|Finn|Gus|Hana|Ivo|Jun|Evil')
expect_race_labels "$head"
expect_column "$head" "$rows" "score W" "$TWO_DECIMALS"
expect_column "$head" "$rows" "last W" "$TWO_DECIMALS"
expect_column "$head" "$rows" rpm "$ONE_DECIMAL"
expect_column "$head" "$rows" "res %" "$ONE_DECIMAL"
expect_column "$head" "$rows" "gap W" "$GAP"
for want in ' 80.00 ' ' 91.43 ' ' 104.86 ' ' 45.0 ' ' 50.1 ' ' +47.65 '; do
	printf '%s\n' "$rows" | grep -qF -- "$want" || fail "no '$want' on screen:
$(screen watch)"
done
[ "$(printf '%s\n' "$rows" | grep -cF '—')" = 1 ] || fail "the leader's gap is not the one dash:
$(screen watch)"

# The evil name is drawn as text: its escape sequences never reached tmux
# (which would have eaten "[31m" and retitled the window).
screen watch | grep -qF "[31mEvil" || fail "the escaped name is not shown as text:
$(screen watch)"
title=$(tmux -S "$sock" display-message -p -t watch '#{pane_title}')
[ "$title" != "pwned" ] || fail "an escape sequence from a name reached the terminal"

# Resizing redraws at the new size.
tmux -S "$sock" resize-window -t watch -x 60 -y 15
sleep 1
screen watch | grep -qF "Jun" || fail "after resizing to 60x15 the table is gone:
$(screen watch)"
[ "$(screen watch | wc -L)" -le 60 ] || fail "lines wider than 60 columns after resizing"
tmux -S "$sock" resize-window -t watch -x 200 -y 60
sleep 1
screen watch | grep -qF "Ada" || fail "after resizing to 200x60 the table is incomplete:
$(screen watch)"
tmux -S "$sock" resize-window -t watch -x 30 -y 8
wait_for watch 10 "too small"
tmux -S "$sock" resize-window -t watch -x 100 -y 30
wait_for watch 10 "Jun"

# Help opens and closes.
tmux -S "$sock" send-keys -t watch '?'
wait_for watch 10 "quit"
tmux -S "$sock" send-keys -t watch '?'
wait_for watch 10 "Jun"

# q quits and gives the terminal back.
tmux -S "$sock" send-keys -t watch q
wait_ended watch 10

# History pages through a class leaderboard of 300 racers: after three
# pages down the first rank on screen is far below 1.
"$ALLEYCAT" sim --endpoint "http://127.0.0.1:$port" --stream hist --create-stream --class 1 \
	--racers 300 --duration 5 --speed 0 --seed 3 --quiet || fail "the simulator failed"
"$ALLEYCAT" board --endpoint "ws://127.0.0.1:$port" --stream hist --db "$dir/hist.db" --duration 5 \
	--grace 2 --until-finished --format json >/dev/null || fail "the board failed"
tmux -S "$sock" new-session -d -s hist -x 100 -y 30 \
	"$ALLEYCAT watch --endpoint ws://127.0.0.1:$port --stream hist --db $dir/hist.db --duration 5"
sleep 1
tmux -S "$sock" send-keys -t hist 3
wait_for hist 10 "Rookie"
first_rank() {
	screen hist | awk '$1 ~ /^[0-9]+$/ && $1 < 1000 { print $1; exit }'
}
[ "$(first_rank)" = 1 ] || fail "the leaderboard does not start at rank 1:
$(screen hist)"
tmux -S "$sock" send-keys -t hist NPage NPage NPage
sleep 1
[ "$(first_rank)" -gt 30 ] 2>/dev/null || fail "paging down does not move the leaderboard:
$(screen hist)"
tmux -S "$sock" send-keys -t hist q
# A tmux server whose last session is ending refuses a new one ("server
# exited unexpectedly"): the kiosk starts once history has gone.
wait_ended hist 10

# The kiosk ignores q: a resize after it is drawn, and the kiosk reads every
# waiting key before it draws (and never draws once quitting), so the new
# size on screen means q was read and ignored. Its unlock key, sent next,
# shows keys do reach it.
# A second session keeps the tmux server up between the two kiosks.
tmux -S "$sock" new-session -d -s keep "sleep 600"
kiosk_cmd=$(watch_cmd kiosk '--rotate 60 --unlock-key x')
tmux -S "$sock" new-session -d -s kiosk -x 100 -y 30 "$kiosk_cmd"
wait_for kiosk 10 " kiosk: "
tmux -S "$sock" send-keys -t kiosk q
tmux -S "$sock" resize-window -t kiosk -x 100 -y 24
within 10 last_line_shows kiosk " kiosk: " || fail "the kiosk did not redraw after q:
$(screen kiosk)"
tmux -S "$sock" send-keys -t kiosk x
wait_ended kiosk 10

# The kiosk stops on SIGTERM.
tmux -S "$sock" new-session -d -s kiosk -x 100 -y 30 "$(watch_cmd kiosk '--rotate 60')"
wait_for kiosk 10 " kiosk: "
kill -TERM "$(tmux -S "$sock" display-message -p -t kiosk '#{pane_pid}')"
wait_ended kiosk 10
tmux -S "$sock" kill-session -t keep

# The monitor shows records of another class than their race's: two
# simulators in one race, one as class 6 and one as class 4.
for class in 6 4; do
	"$ALLEYCAT" sim --endpoint "http://127.0.0.1:$port" --stream clash --create-stream --racers 3 \
		--duration 5 --speed 0 --race-id 4242 --class $class --quiet || fail "the simulator failed"
done
tmux -S "$sock" new-session -d -s clash -x 120 -y 40 \
	"$ALLEYCAT watch --endpoint ws://127.0.0.1:$port --stream clash --db $dir/clash.db --duration 5 --grace 3600"
sleep 1
tmux -S "$sock" send-keys -t clash 4
wait_for clash 10 "15 bad"
wait_for clash 10 "15 of another class: race 4242 is class 6; racer"
# Each shard's row counts the event streams that broke (efo): none here.
screen clash | grep -E "^ *shard +records +bad +broken +lag" >/dev/null ||
	fail "the monitor's shard table has no broken column: $(screen clash)"

pass "screen"
