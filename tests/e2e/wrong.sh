#!/usr/bin/env bash
# Wrong servers, wrong streams, wrong answers: every command as a new user
# would get it wrong. A one-shot command (sim, board --once and
# --until-finished, hub reshard, history) must fail within its bound with
# exit status 1 and exactly one line that names the endpoint, the cause and
# the fix, never raw JSON. A long-running one (sim --loop, board, watch,
# kiosk) must keep retrying, say so once, and count the repeats
# ("(repeated N times)") instead of a line per attempt. Every command has a
# bound in time (`timeout`, or SIGINT and SIGTERM with a wait), so a hang
# fails the test.
#
# Environment: top_srcdir and ALLEYCAT (set by `make check`).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/e2e/lib.sh"
: "${ALLEYCAT:?ALLEYCAT must name the alleycat binary}"

need tmux tmux
need curl curl
need python3 python3

dir=$(mktemp -d)
sock=$dir/tmux.sock
export ALLEYCAT_CONFIG=/dev/null LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color
export XDG_DATA_HOME=$dir/data XDG_CONFIG_HOME=$dir/config
web_pid=""
cleanup() {
	tmux -S "$sock" kill-server 2>/dev/null
	[ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null
	[ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

start_hub "$dir" alleycat
hub=127.0.0.1:$port
# A port where nothing listens: refused at once.
dead=127.0.0.1:$((port + 1))
curl -s "http://$dead/" >/dev/null 2>&1 && fail "something listens on $dead"
# A web server that is not a Kinesis endpoint (it answers POST with 501).
web_port=$((port + 2))
python3 -m http.server --bind 127.0.0.1 --directory "$dir" "$web_port" >/dev/null 2>&1 &
web_pid=$!
# Python starts slowly on a loaded machine: a generous bound.
web_answers() {
	curl -s "http://127.0.0.1:$web_port/" >/dev/null 2>&1
}
within 30 web_answers || fail "the web server did not start"

refused="connection refused; is a hub running\? start one with alleycat hub --listen"
no_stream="no stream nosuch at"

# ---- the dashboards, in tmux while the rest runs ---------------------------

# A dashboard runs in a session of its own; its stderr and exit status land
# in DIR/NAME.err and DIR/NAME.status.
dashboard() {
	local name=$1
	shift
	tmux -S "$sock" new-session -d -s "$name" -x 200 -y 30 \
		"$* 2>$dir/$name.err; echo \$? >$dir/$name.status; sleep 60"
}
dashboard watch "$ALLEYCAT" watch --endpoint "ws://$dead" --db "$dir/watch.db"
dashboard kiosk "$ALLEYCAT" kiosk --endpoint "ws://$hub" --stream nosuch --db "$dir/kiosk.db"
dashboards_started=$(date +%s)

# ---- one-shot commands -----------------------------------------------------

# one_shot MAX_SECONDS REGEX COMMAND...: COMMAND fails with status 1 within
# MAX_SECONDS, prints nothing on stdout and exactly one line on stderr:
# "alleycat: " and REGEX, with no JSON in it.
one_shot() {
	local max=$1 want=$2 start elapsed status err out
	shift 2
	start=$(date +%s%N)
	timeout $((max + 10)) "$@" >"$dir/out" 2>"$dir/err"
	status=$?
	elapsed=$((($(date +%s%N) - start) / 1000000))
	err=$(cat "$dir/err")
	out=$(cat "$dir/out")
	[ "$status" != 124 ] || fail "'$*' hangs: killed after $((max + 10)) s; it said: $err"
	[ "$status" = 1 ] || fail "'$*' exited $status, not 1: $err"
	[ "$elapsed" -le $((max * 1000)) ] || fail "'$*' took $elapsed ms, more than $max s"
	[ -z "$out" ] || fail "'$*' printed on stdout: $out"
	[ "$(wc -l <"$dir/err")" = 1 ] || fail "'$*' printed not one line but:
$err"
	expect_match "$err" "^alleycat: $want" "'$*' does not say what went wrong and how to fix it"
	case $err in
	*'{'* | *__type* | *warn:*) fail "'$*' prints raw JSON or a warning: $err" ;;
	esac
	echo "ok ($elapsed ms): $err"
}

# Nothing listening: --timeout bounds the wait, and the default one does not
# keep a new user waiting a minute.
one_shot 4 "cannot reach http://$dead: $refused $dead\$" \
	"$ALLEYCAT" sim --endpoint "http://$dead" --timeout 2
one_shot 8 "cannot reach http://$dead: $refused $dead\$" \
	"$ALLEYCAT" sim --endpoint "http://$dead" --racers 5
one_shot 4 "cannot reach http://$dead: $refused $dead\$" \
	"$ALLEYCAT" sim --endpoint "http://$dead" --create-stream --timeout 2
one_shot 4 "cannot reach ws://$dead: $refused $dead\$" \
	"$ALLEYCAT" board --once --endpoint "ws://$dead" --db "$dir/b.db" --timeout 2
one_shot 4 "cannot reach ws://$dead: $refused $dead\$" \
	"$ALLEYCAT" board --until-finished --endpoint "ws://$dead" --db "$dir/b.db" --timeout 2
one_shot 4 "cannot reshard alleycat: cannot reach http://$dead: $refused $dead\$" \
	"$ALLEYCAT" hub reshard --shards 6 --endpoint "http://$dead" --timeout 2

# A host that does not resolve: no such host, or (where the resolver cannot
# be asked) no answer within --timeout.
one_shot 4 "(cannot reach http://nosuch\.invalid:4567: no such host|http://nosuch\.invalid:4567: PutRecords: no answer within 2 s)" \
	"$ALLEYCAT" sim --endpoint http://nosuch.invalid:4567 --timeout 2

# No such stream: at once.
one_shot 3 "$no_stream http://$hub: create it with --create-stream or alleycat hub --stream nosuch\$" \
	"$ALLEYCAT" sim --endpoint "http://$hub" --stream nosuch
one_shot 3 "$no_stream ws://$hub: create it with alleycat hub --stream nosuch, or alleycat sim --create-stream --stream nosuch\$" \
	"$ALLEYCAT" board --once --endpoint "ws://$hub" --stream nosuch --db "$dir/b.db"
one_shot 3 "$no_stream ws://$hub: create it with alleycat hub --stream nosuch" \
	"$ALLEYCAT" board --until-finished --endpoint "ws://$hub" --stream nosuch --db "$dir/b.db"
one_shot 3 "cannot reshard nosuch: $no_stream http://$hub: create it with alleycat hub --stream nosuch" \
	"$ALLEYCAT" hub reshard --shards 6 --endpoint "http://$hub" --stream nosuch

# A server that is not a Kinesis endpoint.
one_shot 3 "http://127.0.0.1:$web_port is not a Kinesis endpoint: PutRecords answered HTTP 501 without a Kinesis error; check --endpoint\$" \
	"$ALLEYCAT" sim --endpoint "http://127.0.0.1:$web_port"
one_shot 3 "cannot reshard alleycat: http://127.0.0.1:$web_port is not a Kinesis endpoint" \
	"$ALLEYCAT" hub reshard --shards 6 --endpoint "http://127.0.0.1:$web_port"

# history reads only: a wrong --db is one line, and nothing is created.
one_shot 2 "no history at $dir/nowhere/history\.db: watch, kiosk, board and demo record races there; --db names another file\$" \
	"$ALLEYCAT" history --db "$dir/nowhere/history.db"
[ -e "$dir/nowhere" ] && fail "history created $dir/nowhere"
one_shot 2 "$dir is a directory: --db names the history database file\$" \
	"$ALLEYCAT" history --db "$dir" --format json
pass "one-shot commands fail at once, or within --timeout, with one line: endpoint, cause, fix"

# ---- the dashboards ----------------------------------------------------------

wait_match watch 5 "reconnecting to the hub.*cannot reach ws://$dead: connection refused"
wait_match kiosk 5 "reconnecting to the hub.*$no_stream ws://$hub"
# The first report of the repeats comes 10 s after the first message.
left=$((25 - ($(date +%s) - dashboards_started)))
[ "$left" -ge 1 ] || left=1
wait_match watch "$left" "warning: consumer watch-.*cannot reach ws://$dead.*\(repeated [0-9]+ times\)"
wait_match kiosk 5 "warning: consumer kiosk-.*$no_stream ws://$hub.*\(repeated [0-9]+ times\)"
for name in watch kiosk; do
	pid=$(pgrep -P "$(tmux -S "$sock" display-message -p -t "$name" '#{pane_pid}')" alleycat)
	kill -TERM "$pid"
	for _ in $(seq 50); do
		[ -s "$dir/$name.status" ] && break
		sleep 0.1
	done
	[ "$(cat "$dir/$name.status" 2>/dev/null)" = 0 ] ||
		fail "$name did not exit 0 on SIGTERM: $(cat "$dir/$name.status" 2>/dev/null) $(cat "$dir/$name.err")"
	# At most the message from before the screen was the dashboard's (and
	# the count of its repeats until then).
	[ "$(sed -E 's/ \(repeated [0-9]+ times?\)$//' "$dir/$name.err" | sort -u | grep -c .)" -le 1 ] ||
		fail "$name wrote over its screen: $(cat "$dir/$name.err")"
done
pass "watch and kiosk show the failure in the banner and the status line, and count repeats"

# ---- long runners on stderr ------------------------------------------------

# repeats NAME SECONDS STATUS REGEX COMMAND...: COMMAND retries for
# SECONDS, then SIGINT stops it (within 10 s) with STATUS, as alleycat(1)
# says; its stderr says REGEX once, then once more with "(repeated N
# times)", N >= 2, and no other warning.
repeats() {
	local name=$1 secs=$2 want_status=$3 want=$4 status said counted pid
	shift 4
	"$@" >/dev/null 2>"$dir/$name.err" &
	pid=$!
	sleep "$secs"
	kill -0 $pid 2>/dev/null || fail "'$*' stopped by itself instead of retrying: $(cat "$dir/$name.err")"
	kill -INT $pid
	for _ in $(seq 100); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $pid 2>/dev/null && kill -KILL $pid && fail "'$*' hangs after SIGINT"
	wait $pid
	status=$?
	[ "$status" = "$want_status" ] ||
		fail "'$*' exited $status on SIGINT, not $want_status: $(cat "$dir/$name.err")"
	said=$(grep -cE -- "$want" "$dir/$name.err")
	counted=$(grep -cE -- "$want.* \(repeated ([2-9]|[1-9][0-9]+) times\)$" "$dir/$name.err")
	[ "$said" = 2 ] && [ "$counted" = 1 ] ||
		fail "'$*' did not say it once and count the repeats:
$(cat "$dir/$name.err")"
	grep -vE -- "$want" "$dir/$name.err" | grep -vE '^alleycat: the last error was: no stream' |
		grep -E 'warn|error|\{' &&
		fail "'$*' said more than that: $(cat "$dir/$name.err")"
	echo "ok: $(grep -- '(repeated' "$dir/$name.err")"
}

repeats sim-loop 3 0 "^alleycat: warn: cannot reach http://$dead: $refused $dead; retrying" \
	"$ALLEYCAT" sim --loop --racers 5 --endpoint "http://$dead"
repeats board 4 0 "^alleycat: warn: consumer board-.*: cannot reach ws://$dead: $refused $dead; retrying" \
	"$ALLEYCAT" board --endpoint "ws://$dead" --db "$dir/b.db"
repeats board-nosuch 4 0 "^alleycat: warn: consumer board-.*: $no_stream ws://$hub: create it with alleycat hub --stream nosuch" \
	"$ALLEYCAT" board --endpoint "ws://$hub" --stream nosuch --db "$dir/b.db"
# Records the stream refuses have failed: sim exits 1.
repeats sim-loop-nosuch 4 1 "^alleycat: warn: $no_stream http://$hub: create it with --create-stream or alleycat hub --stream nosuch" \
	"$ALLEYCAT" sim --loop --racers 5 --endpoint "http://$hub" --stream nosuch
pass "sim --loop and board retry, say so once and count the repeats"
