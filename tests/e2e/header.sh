#!/usr/bin/env bash
# The top bar on a real terminal (tmux): at 80 columns, while connecting,
# it shows the endpoint being tried (the view tabs make room by showing
# only their numbers); at 200 columns the demo's title is whole; at 80
# the race's heading keeps its note that the class has no history yet.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start header
mkdir -p "$dir/data" "$dir/config"
export XDG_DATA_HOME=$dir/data XDG_CONFIG_HOME=$dir/config

# A port nothing listens on: the hub's own, once it is stopped.
kill "$hub_pid"
wait "$hub_pid" 2>/dev/null
hub_pid=
tmux -S "$sock" new-session -d -s keep "sleep 600"
tmux -S "$sock" new-session -d -s watch -x 80 -y 24 "$(dash watch)"
wait_for watch 20 "reconnecting to the hub"
screen watch | head -n 1 | grep -qF "connecting  ws://127.0.0.1:$port" ||
	fail "the top bar at 80 columns hides the endpoint while connecting:
$(screen watch)"
tmux -S "$sock" send-keys -t watch q
wait_ended watch 10

# Another test may take the demo's port first: then another port.
for try in 1 2 3 4 5; do
	demo_port=$(free_port)
	rm -f "$dir/stderr"
	tmux -S "$sock" new-session -d -s demo -x 200 -y 50 \
		"$ALLEYCAT demo --listen 127.0.0.1:$demo_port 2>$dir/stderr"
	for _ in $(seq 100); do
		port_taken "$dir/stderr" || [ -n "$(screen demo | tr -d ' \n')" ] && break
		sleep 0.1
	done
	port_taken "$dir/stderr" || break
	tmux -S "$sock" kill-session -t demo 2>/dev/null
done
wait_for demo 30 "streaming"
screen demo | head -n 1 | grep -qF "dashboard in one process; q quits" ||
	fail "the demo's title is cut at 200 columns:
$(screen demo)"
# At 80 columns the race's heading still says, whole, that the class
# has no history yet (the demo's first races: its database is new).
tmux -S "$sock" resize-window -t demo -x 80 -y 24
wait_match demo 30 '^Race [0-9]+ .*rows .*  no history yet *$'
tmux -S "$sock" send-keys -t demo q
wait_ended demo 20

pass "header"
