#!/usr/bin/env bash
# Stopping any program at any moment. Every long-running command (sim
# --loop, board, hub, demo, watch, kiosk, hub reshard) gets SIGINT or
# SIGTERM at a random moment while it has requests in flight: 20 moments
# in all. Each must stop within a bound, with the exit status alleycat(1)
# documents, and without a sanitizer report (this test runs in the ASan
# build too); sim still prints its --stats line, in which every record sent
# has landed, failed, or is reported as unanswered.
#
# Environment: top_srcdir and ALLEYCAT (set by `make check`).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/e2e/lib.sh"
: "${ALLEYCAT:?ALLEYCAT must name the alleycat binary}"

command -v tmux >/dev/null || fail "tmux is not installed (Debian: apt-get install tmux)"
command -v curl >/dev/null || fail "curl is not installed (Debian: apt-get install curl)"
command -v node >/dev/null || fail "node is not installed (Debian: apt-get install nodejs)"

dir=$(mktemp -d)
sock=$dir/tmux.sock
export ALLEYCAT_CONFIG=/dev/null LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color
export XDG_DATA_HOME=$dir/data XDG_CONFIG_HOME=$dir/config
background=()
cleanup() {
	tmux -S "$sock" kill-server 2>/dev/null
	for p in "${background[@]}"; do
		kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT

seed=${INTERRUPT_SEED:-$RANDOM}
RANDOM=$seed
echo "interrupt: seed $seed (INTERRUPT_SEED=$seed repeats these moments)"
signals=(INT TERM)
moments=0

# pause MIN_MS MAX_MS: a random moment in between.
pause() {
	local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

# The signal of the next moment: SIGINT and SIGTERM in turn.
next_signal() {
	sig=${signals[$((moments % 2))]}
	moments=$((moments + 1))
}

sanitizer_free() {
	if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error' "$1"; then
		fail "$2: a sanitizer report:
$(head -n 60 "$1")"
	fi
}

# catching PID SIGNAL: waits (10 s at most) until PID has its handler for
# SIGNAL (the SigCgt mask of /proc/PID/status). Before that, SIGTERM would
# kill it outright, and SIGINT, which a shell's background jobs start out
# ignoring, would be lost: neither is the moment a test means.
catching() {
	local bit mask
	bit=$(kill -l "$2")
	for _ in $(seq 100); do
		mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
		[ -n "$mask" ] || return 0
		(((16#$mask >> (bit - 1)) & 1)) && return 0
		sleep 0.1
	done
}

# stop PID SIGNAL WHAT SECONDS [STDERR]: signals a child of this shell and
# waits for it to exit (SECONDS at most; a sanitized build under load is
# slow to exit); its exit status is left in $status. STDERR, if given, is
# shown when it does not stop.
stop() {
	catching "$1" "$2"
	kill "-$2" "$1" 2>/dev/null || fail "$3 had exited before SIG$2"
	for _ in $(seq $(($4 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1"
		fail "$3 did not stop within $4 s of SIG$2${5:+: $(cat "$5" 2>/dev/null)}"
	fi
	wait "$1"
	status=$?
}

# start_unlimited_hub: a hub with no write limits on a free port (another
# if a test took it first); sets port and hub_pid. Its log: hub-PORT.log.
start_unlimited_hub() {
	local try
	for try in 1 2 3 4 5; do
		port=$(free_port)
		"$ALLEYCAT" hub --listen "127.0.0.1:$port" --shard-records-per-sec 0 \
			--shard-bytes-per-sec 0 >"$dir/hub-$port.log" 2>&1 &
		hub_pid=$!
		background+=("$hub_pid")
		hub_ready "$dir/hub-$port.log" "$port" 10 && answers "http://127.0.0.1:$port" 10 && return 0
		port_taken "$dir/hub-$port.log" || break
	done
	fail "the hub on port $port did not start: $(cat "$dir/hub-$port.log")"
}

field() {
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2"
}

# check_stats FILE WHAT: the --stats line is there, and adds up.
check_stats() {
	local sent landed failed unanswered
	sent=$(field sent "$1") landed=$(field landed "$1") failed=$(field failed "$1")
	unanswered=$(field unanswered "$1")
	[ -n "$sent" ] && [ -n "$unanswered" ] || fail "$2 printed no --stats line: '$(cat "$1")'"
	[ "$sent" -gt 0 ] || fail "$2 sent nothing: $(cat "$1")"
	[ "$sent" -eq $((landed + failed + unanswered)) ] ||
		fail "$2: sent is not landed + failed + unanswered: $(cat "$1")"
}

# A server that takes connections and never answers: calls stay in flight.
node -e '
	const s = require("net").createServer(() => {});
	s.listen(0, "127.0.0.1", () => console.log(s.address().port));
' >"$dir/silent.port" &
background+=($!)
for _ in $(seq 50); do [ -s "$dir/silent.port" ] && break; sleep 0.1; done
silent=$(cat "$dir/silent.port")
[ -n "$silent" ] || fail "the silent server did not start"

start_unlimited_hub
hub_port=$port
main_hub=$hub_pid
# Races on the main hub the whole time, for the consumers to follow.
"$ALLEYCAT" sim --endpoint "http://127.0.0.1:$hub_port" --racers 200 --speed 5 --loop \
	--quiet --stats json >"$dir/feeder.out" 2>"$dir/feeder.err" &
feeder=$!
background+=("$feeder")

# ---- sim --loop at full speed: 5 moments ----------------------------------
for i in 1 2 3 4 5; do
	next_signal
	"$ALLEYCAT" sim --endpoint "http://127.0.0.1:$hub_port" --racers 1000 --speed 0 --loop \
		--quiet --stats json >"$dir/sim$i.out" 2>"$dir/sim$i.err" &
	pid=$!
	background+=("$pid")
	pause 200 1500
	stop "$pid" "$sig" "sim --loop" 10
	sanitizer_free "$dir/sim$i.err" "sim --loop (SIG$sig)"
	[ "$status" = 0 ] || fail "sim --loop exited $status on SIG$sig: $(cat "$dir/sim$i.err")"
	check_stats "$dir/sim$i.out" "sim --loop (SIG$sig)"
done

# ---- sim against a server that never answers: 1 moment --------------------
next_signal
"$ALLEYCAT" sim --endpoint "http://127.0.0.1:$silent" --racers 100 --speed 0 --loop \
	--quiet --stats json >"$dir/silent.out" 2>"$dir/silent.err" &
pid=$!
background+=("$pid")
pause 200 1000
stop "$pid" "$sig" "sim against a silent server" 10
sanitizer_free "$dir/silent.err" "sim against a silent server (SIG$sig)"
[ "$status" = 0 ] || fail "sim exited $status on SIG$sig: $(cat "$dir/silent.err")"
check_stats "$dir/silent.out" "sim against a silent server"
[ "$(field unanswered "$dir/silent.out")" -gt 0 ] ||
	fail "records in flight to a silent server are not reported unanswered: $(cat "$dir/silent.out")"
grep -q "not yet answered" "$dir/silent.err" && fail "--quiet printed the unanswered line"

# ---- board: 3 moments -------------------------------------------------------
for i in 1 2 3; do
	next_signal
	"$ALLEYCAT" board --endpoint "ws://127.0.0.1:$hub_port" --db "$dir/board$i.db" \
		--consumer "int-board$i" --interval 1 >"$dir/board$i.out" 2>"$dir/board$i.err" &
	pid=$!
	background+=("$pid")
	pause 100 1500
	stop "$pid" "$sig" "board" 10
	sanitizer_free "$dir/board$i.err" "board (SIG$sig)"
	[ "$status" = 0 ] || fail "board exited $status on SIG$sig: $(cat "$dir/board$i.err")"
done

# ---- a hub under load: 3 moments -------------------------------------------
for i in 1 2 3; do
	next_signal
	start_unlimited_hub
	p=$port
	"$ALLEYCAT" sim --endpoint "http://127.0.0.1:$p" --racers 500 --speed 0 --loop \
		--quiet --stats json >"$dir/load$i.out" 2>"$dir/load$i.err" &
	load=$!
	background+=("$load")
	pause 200 1500
	kill -0 "$hub_pid" 2>/dev/null || fail "the hub under load stopped by itself: $(tail -n 20 "$dir/hub-$p.log")"
	stop "$hub_pid" "$sig" "hub" 10
	sanitizer_free "$dir/hub-$p.log" "hub (SIG$sig)"
	[ "$status" = 0 ] || fail "the hub exited $status on SIG$sig: $(cat "$dir/hub-$p.log")"
	# Its producer, left without a hub, stops cleanly too.
	stop "$load" INT "sim without its hub" 10
	sanitizer_free "$dir/load$i.err" "sim without its hub"
	[ "$status" = 0 ] || fail "sim without its hub exited $status: $(cat "$dir/load$i.err")"
	check_stats "$dir/load$i.out" "sim without its hub"
done

# ---- hub reshard with a call in flight: 2 moments --------------------------
for i in 1 2; do
	next_signal
	"$ALLEYCAT" hub reshard --shards 8 --endpoint "http://127.0.0.1:$silent" \
		>"$dir/reshard$i.out" 2>"$dir/reshard$i.err" &
	pid=$!
	background+=("$pid")
	pause 100 800
	stop "$pid" "$sig" "hub reshard" 10 "$dir/reshard$i.err"
	sanitizer_free "$dir/reshard$i.err" "hub reshard (SIG$sig)"
	[ "$status" = 1 ] || fail "hub reshard exited $status on SIG$sig, not 1: $(cat "$dir/reshard$i.err")"
	grep -q "cannot reshard alleycat: stopped" "$dir/reshard$i.err" ||
		fail "hub reshard does not say it was stopped: $(cat "$dir/reshard$i.err")"
done

# ---- the dashboards and the demo on a terminal: 6 moments ------------------
# tmux runs the command under a shell that records its exit status; the
# signal goes to the command itself.
on_terminal() {
	local name=$1
	shift
	tmux -S "$sock" new-session -d -s "$name" -x 100 -y 30 \
		"$* 2>$dir/$name.err; echo \$? >$dir/$name.status"
	# The server outlives its sessions, so that the next one never meets
	# it on its way out.
	tmux -S "$sock" set-option -s exit-empty off
	shell=$(tmux -S "$sock" display-message -p -t "$name" '#{pane_pid}')
	for _ in $(seq 50); do
		pid=$(pgrep -P "$shell" | head -n 1)
		[ -n "$pid" ] && return 0
		# Exited already (a demo whose port was taken does).
		[ -s "$dir/$name.status" ] && return 1
		sleep 0.1
	done
	fail "$name did not start: $(cat "$dir/$name.err" 2>/dev/null)"
}

# stop_terminal NAME SIGNAL MIN_MS MAX_MS
stop_terminal() {
	catching "$pid" "$2"
	pause "$3" "$4"
	kill "-$2" "$pid" 2>/dev/null || fail "$1 had exited before SIG$2: $(cat "$dir/$1.err")"
	for _ in $(seq 150); do
		[ -s "$dir/$1.status" ] && break
		sleep 0.1
	done
	[ -s "$dir/$1.status" ] || fail "$1 did not stop within 15 s of SIG$2"
	sanitizer_free "$dir/$1.err" "$1 (SIG$2)"
	[ "$(cat "$dir/$1.status")" = 0 ] ||
		fail "$1 exited $(cat "$dir/$1.status") on SIG$2: $(cat "$dir/$1.err")"
}

for i in 1 2; do
	for cmd in watch kiosk; do
		next_signal
		on_terminal "$cmd$i" "$ALLEYCAT" "$cmd" --endpoint "ws://127.0.0.1:$hub_port" \
			--db "$dir/$cmd$i.db" --consumer "int-$cmd$i" ||
			fail "$cmd$i exited at once: $(cat "$dir/$cmd$i.err")"
		stop_terminal "$cmd$i" "$sig" 200 1500
	done
	next_signal
	# A demo whose port another test took first is tried on another.
	for try in 1 2 3 4 5; do
		rm -f "$dir/demo$i.status"
		tmux -S "$sock" kill-session -t "demo$i" 2>/dev/null
		if on_terminal "demo$i" "$ALLEYCAT" demo --listen "127.0.0.1:$(free_port)"; then
			pause 300 2500
			kill -0 "$pid" 2>/dev/null || ! port_taken "$dir/demo$i.err" && break
		else
			port_taken "$dir/demo$i.err" ||
				fail "demo$i exited at once: $(cat "$dir/demo$i.err")"
		fi
	done
	stop_terminal "demo$i" "$sig" 0 0
done

# ---- the feeder and the main hub, last ---------------------------------------
stop "$feeder" TERM "the feeding sim" 10
sanitizer_free "$dir/feeder.err" "the feeding sim"
[ "$status" = 0 ] || fail "the feeding sim exited $status: $(cat "$dir/feeder.err")"
check_stats "$dir/feeder.out" "the feeding sim"
stop "$main_hub" INT "the main hub" 10
sanitizer_free "$dir/hub-$hub_port.log" "the main hub"
[ "$status" = 0 ] || fail "the main hub exited $status"

[ "$moments" = 20 ] || fail "the test took $moments moments, not 20"
pass "interrupt: 20 moments, every command stopped cleanly"
