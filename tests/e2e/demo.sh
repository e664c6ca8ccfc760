#!/usr/bin/env bash
# `alleycat demo` as the README starts it, on a real terminal (tmux), with
# nothing but a free port and empty XDG directories: within 5 s the live
# view ranks racers with scores; within 90 s a finished race is in the
# history view; q gives the terminal back.
set -u
. "$top_srcdir/tests/e2e/lib.sh"

need tmux tmux

dir=$(mktemp -d)
sock=$dir/tmux.sock
cleanup() {
	tmux -S "$sock" kill-server 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/data" "$dir/config"
export XDG_DATA_HOME=$dir/data XDG_CONFIG_HOME=$dir/config
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color
unset ALLEYCAT_CONFIG

# The shell in the pane writes the demo's exit status where we can read it.
# The demo listens before it draws: a drawn screen means the port was ours;
# a port another test took first means another port.
for try in 1 2 3 4 5; do
	port=$(free_port)
	rm -f "$dir/status" "$dir/stderr"
	tmux -S "$sock" new-session -d -s demo -x 120 -y 40 \
		"$ALLEYCAT demo --listen 127.0.0.1:$port 2>$dir/stderr; echo \$? >$dir/status; sleep 30"
	for _ in $(seq 100); do
		[ -s "$dir/status" ] || [ -n "$(screen demo | tr -d ' \n')" ] && break
		sleep 0.1
	done
	port_taken "$dir/stderr" || break
	tmux -S "$sock" kill-session -t demo
done

# wait_until SECONDS WHAT COMMAND...: until COMMAND succeeds.
wait_until() {
	local seconds=$1 what=$2
	shift 2
	within "$seconds" "$@" || fail "$what within $seconds s:
$(screen demo)
stderr: $(cat "$dir/stderr" 2>/dev/null)"
}

# A ranked row: rank, racer name, id, then a score with decimals.
ranked() {
	screen demo | grep -Eq '^ +1 .*[A-Za-z].* [0-9]+\.[0-9]+ ' &&
		screen demo | grep -Eq '^ +2 .*[A-Za-z].* [0-9]+\.[0-9]+ '
}
wait_until 5 "no ranked racers with scores" ranked
pass "the live view ranks racers within 5 s"

# History, past races of every class: a row with a race id, a racer count
# and the winner's score.
tmux -S "$sock" send-keys -t demo 3
sleep 0.5
tmux -S "$sock" send-keys -t demo r
finished() {
	screen demo | grep -Eq '^ *[0-9]{5,} .* [0-9]+ +[^ ].* [0-9]+\.[0-9]+ *$'
}
wait_until 90 "no finished race in the history view" finished
pass "a finished race is in the history view"

tmux -S "$sock" send-keys -t demo q
wait_until 10 "q did not stop the demo" test -s "$dir/status"
[ "$(cat "$dir/status")" = 0 ] || fail "the demo exited $(cat "$dir/status")"
# The terminal is back: out of the alternate screen, with the cursor shown.
[ "$(tmux -S "$sock" display-message -p -t demo '#{alternate_on}')" = 0 ] ||
	fail "the terminal is still in the alternate screen after q"
[ "$(tmux -S "$sock" display-message -p -t demo '#{cursor_flag}')" = 1 ] ||
	fail "the cursor is still hidden after q"
grep -Eiq 'warning|error|AddressSanitizer|runtime error' "$dir/stderr" &&
	fail "the demo complained: $(cat "$dir/stderr")"
pass "q stops the demo and restores the terminal"
