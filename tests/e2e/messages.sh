#!/usr/bin/env bash
# What a person reads when there is nothing to show or nowhere to serve:
# empty states in words, the hub's one ready line, and an address the hub
# cannot have ending it at once with one line.
set -u
. "$top_srcdir/tests/e2e/lib.sh"

dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT

# The ready line: where, what, and in memory; nothing else is said.
start_hub "$dir" quiet
ready="hub ready on http://127.0.0.1:$port: stream quiet (4 shards); in memory (gone when the hub stops)"
[ "$(cat "$dir/hub.log")" = "$ready" ] || fail "the hub said '$(cat "$dir/hub.log")', not '$ready'"

# An empty stream: board says there is no race, in text; JSON stays JSON.
db=$dir/history.db
board=("$ALLEYCAT" board --endpoint "http://127.0.0.1:$port" --stream quiet --db "$db")
out=$("${board[@]}" --once 2>"$dir/err") || fail "board --once on an empty stream failed: $(cat "$dir/err")"
[ "$out" = "No race on stream quiet yet." ] || fail "board --once on an empty stream printed '$out'"
[ ! -s "$dir/err" ] || fail "board --once on an empty stream complained: $(cat "$dir/err")"
out=$("${board[@]}" --once --race 42 2>/dev/null)
[ "$out" = "No race 42 on stream quiet yet." ] || fail "board --once --race 42 printed '$out'"
out=$("${board[@]}" --once --format json 2>/dev/null)
[ "$out" = '{"races":[]}' ] || fail "board --once --format json printed '$out'"

# The history that board made is empty: one line says so.
out=$("$ALLEYCAT" history --db "$db" 2>"$dir/err") || fail "history on an empty database failed"
[ "$out" = "No race in the history at $db yet: watch, kiosk, board and demo record the races they see there." ] ||
	fail "history on an empty database printed '$out'"
[ ! -s "$dir/err" ] || fail "history on an empty database complained: $(cat "$dir/err")"
out=$("$ALLEYCAT" history --db "$db" --class 2)
[ "$out" = "All-time results for class 2 Sport
No race of this class yet." ] || fail "history --class 2 on an empty database printed '$out'"

# A database that is not there is said to be missing, and nothing is made.
expect_error 1 "alleycat: no history at $dir/typo/h.db: watch, kiosk, board and demo record races there; --db names another file" \
	"$ALLEYCAT" history --db "$dir/typo/h.db"
[ ! -e "$dir/typo" ] || fail "history --db created $dir/typo"

# A port that is taken, and an address that is not this machine's: one
# line each, status 1, at once (timeout would say 124), nothing on stdout.
expect_error 1 "alleycat: cannot listen on 127.0.0.1:$port: Address already in use (another program listens there: --listen another port)" \
	timeout 20 "$ALLEYCAT" hub --listen "127.0.0.1:$port"
out=$(timeout 20 "$ALLEYCAT" hub --listen "127.0.0.1:$port" 2>/dev/null)
[ -z "$out" ] || fail "a hub that could not listen printed '$out'"
expect_error 1 "alleycat: cannot listen on 8.8.8.8:4999: Cannot assign requested address (not an address of this machine: try 127.0.0.1 or 0.0.0.0)" \
	timeout 20 "$ALLEYCAT" hub --listen 8.8.8.8:4999
# The demo's hub says the same, before any screen is drawn.
expect_error 1 "alleycat: cannot listen on 8.8.8.8:4999: Cannot assign requested address (not an address of this machine: try 127.0.0.1 or 0.0.0.0)" \
	timeout 20 "$ALLEYCAT" demo --listen 8.8.8.8:4999
kill "$hub_pid"
wait "$hub_pid" 2>/dev/null

# Durable: the ready line names the directory, and every stream in it.
start_hub "$dir" quiet --data-dir "$dir/data"
kill "$hub_pid"
wait "$hub_pid" 2>/dev/null
start_hub "$dir" second --data-dir "$dir/data"
ready="hub ready on http://127.0.0.1:$port: streams quiet (4 shards), second (4 shards); durable in $dir/data"
[ "$(cat "$dir/hub.log")" = "$ready" ] || fail "the durable hub said '$(cat "$dir/hub.log")', not '$ready'"
kill "$hub_pid"
wait "$hub_pid" 2>/dev/null
pass "messages"
