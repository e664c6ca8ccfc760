#!/usr/bin/env bash
# IPv6: `hub --listen [::1]:PORT` serves there and says so; the simulator
# writes to http://[::1]:PORT, and a board reads the same standings by the
# push (ws://[::1]), by SubscribeToShard and by GetRecords as on 127.0.0.1.
# An IPv6 address without its brackets, or with a bracket missing, is
# refused with the form to use.
set -u
. "$top_srcdir/tests/e2e/lib.sh"

export ALLEYCAT_CONFIG=/dev/null
grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null || skip "this machine has no IPv6 loopback (::1)"

dir=$(mktemp -d)
hub_pid=
trap '[ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null; rm -rf "$dir"' EXIT

# The refusals first: they need no hub.
expect_error 2 "alleycat: --listen: '::1:4999' is not HOST:PORT (an IPv6 address in brackets: [::1]:4999)
Try 'alleycat hub --help' for more information." "$ALLEYCAT" hub --listen ::1:4999
expect_error 2 "alleycat: --endpoint: 'http://[::1:4999' has a bad IPv6 address (write it as [::1]:PORT)
Try 'alleycat board --help' for more information." "$ALLEYCAT" board --endpoint 'http://[::1:4999' --once
pass "an IPv6 address without brackets, or with one missing, is refused with the form to use"

for try in 1 2 3 4 5; do
	port=$(free_port)
	"$ALLEYCAT" hub --listen "[::1]:$port" --stream race >"$dir/hub.log" 2>&1 &
	hub_pid=$!
	hub_ready "$dir/hub.log" "$port" 10 && break
	port_taken "$dir/hub.log" || fail "the hub did not start on [::1]: $(cat "$dir/hub.log")"
	wait "$hub_pid" 2>/dev/null
done
url="http://[::1]:$port"
grep -qF "hub ready on $url: stream race" "$dir/hub.log" ||
	fail "the ready line does not name $url: $(cat "$dir/hub.log")"
answers "$url" 5 || fail "the hub does not answer at $url"
pass "hub --listen [::1]:PORT serves there, and its ready line says $url"

"$ALLEYCAT" sim --endpoint "$url" --stream race --racers 12 --duration 5 --seed 6 --class 4 \
	--speed 0 --quiet || fail "the simulator failed on $url"

# board NAME ENDPOINT [OPTION]...: the standings a board reads there.
board() {
	"$ALLEYCAT" board --endpoint "$2" --stream race --db "$dir/$1.db" --consumer "$1" \
		--duration 5 --grace 2 --until-finished --format csv "${@:3}" 2>"$dir/$1.err" ||
		fail "board $1 on $2 failed: $(cat "$dir/$1.err")"
}
push=$(board push "ws://[::1]:$port")
[ "$(printf '%s\n' "$push" | grep -c .)" = 13 ] || fail "the push board read: $push"
[ "$(board efo "$url")" = "$push" ] || fail "SubscribeToShard on $url differs from the push"
[ "$(board polling "$url" --read polling)" = "$push" ] || fail "GetRecords on $url differs from the push"
pass "sim on $url; push, SubscribeToShard and GetRecords boards read the same standings"
