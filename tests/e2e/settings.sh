#!/usr/bin/env bash
# Settings come from the config file, then the environment, then the
# command line, each overriding the one before; a malformed config file is
# reported with its file and line; sim's --race-id is read like the rest.
set -u
. "$top_srcdir/tests/e2e/lib.sh"

dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
export ALLEYCAT_CONFIG=$dir/config

# Starts a hub with the given environment and arguments; prints the port
# that its ready line names, or "taken" when another test had its port.
hub_port() {
	local pid log=$dir/hub-port.log
	"$@" >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^hub ready on ' "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if port_taken "$log"; then
		echo taken
	else
		sed -n 's|^hub ready on http://127\.0\.0\.1:\([0-9]*\):.*|\1|p' "$log"
	fi
}

# expect_port WANT GOT WHAT: false when GOT is "taken" (draw other ports).
expect_port() {
	[ "$2" != taken ] || return 1
	[ "$2" = "$1" ] || fail "$3 (the hub listened on '$2', not $1)"
}

# Each source in turn; three other free ports when a test took one first.
ok=""
for try in 1 2 3 4 5; do
	p1=$(free_port); p2=$(free_port); p3=$(free_port)
	cat >"$ALLEYCAT_CONFIG" <<CONF
# every command
stream = settings-test
[board]
listen = 127.0.0.1:1
[hub]
listen = 127.0.0.1:$p1
CONF
	expect_port "$p1" "$(hub_port "$ALLEYCAT" hub)" "the config file's [hub] listen is not used" &&
	expect_port "$p2" "$(hub_port env ALLEYCAT_LISTEN=127.0.0.1:$p2 "$ALLEYCAT" hub)" \
		"the environment does not override the config file" &&
	expect_port "$p3" "$(hub_port env ALLEYCAT_LISTEN=127.0.0.1:$p2 "$ALLEYCAT" hub --listen 127.0.0.1:$p3)" \
		"the command line does not override the environment" && ok=1 && break
done
[ -n "$ok" ] || fail "every port drawn was taken"

# sim's --race-id is a setting like any other: from the file and from the
# environment (the one race it names does not go with --loop).
printf '[sim]\nrace-id = 28813000000\n' >"$ALLEYCAT_CONFIG"
expect_status 2 "$ALLEYCAT" sim --loop
err=$("$ALLEYCAT" sim --loop 2>&1 >/dev/null)
expect_match "$err" "--race-id rides one race: it does not go with --loop" "the config file's race-id is used"
printf '' >"$ALLEYCAT_CONFIG"
err=$(ALLEYCAT_RACE_ID=x "$ALLEYCAT" sim 2>&1 >/dev/null)
expect_match "$err" "ALLEYCAT_RACE_ID: 'x' is not a whole number" "ALLEYCAT_RACE_ID is used"
expect_status 2 "$ALLEYCAT" sim --race-id 5 --races 2
expect_status 2 "$ALLEYCAT" sim --race-id -1

# hub reshard takes the settings of its own options, the [hub] section's
# among them, but not the hub's --shards (a new stream's shards to the hub).
for try in 1 2 3 4 5; do
	p1=$(free_port)
	cat >"$ALLEYCAT_CONFIG" <<CONF
stream = settings-test
timeout = 5
[hub]
listen = 127.0.0.1:$p1
shards = 3
CONF
	"$ALLEYCAT" hub >"$dir/hub.log" 2>&1 &
	hub=$!
	hub_ready "$dir/hub.log" "$p1" 10 && break
	port_taken "$dir/hub.log" || fail "the hub under a config file did not start: $(cat "$dir/hub.log")"
	wait "$hub" 2>/dev/null
done
out=$("$ALLEYCAT" hub reshard --shards 2 --endpoint "http://127.0.0.1:$p1" 2>&1) ||
	fail "hub reshard under a config file failed: $out"
expect_match "$out" "^stream settings-test: 3 -> 2 open shards$" "hub reshard takes the config file's stream"
expect_status 2 env ALLEYCAT_TIMEOUT=0 "$ALLEYCAT" hub reshard --shards 2 --endpoint "http://127.0.0.1:$p1"
kill "$hub"
wait "$hub" 2>/dev/null

printf 'stream\n' >"$ALLEYCAT_CONFIG"
err=$("$ALLEYCAT" hub 2>&1 >/dev/null)
expect_status 2 "$ALLEYCAT" hub
expect_match "$err" "config:1: a setting is written 'option = value'" "a malformed line is named"

printf '[history]\nno-unicode = maybe\n' >"$ALLEYCAT_CONFIG"
expect_error 2 "alleycat: $ALLEYCAT_CONFIG:2: no-unicode: 'maybe' is not true or false
Try 'alleycat history --help' for more information." "$ALLEYCAT" history
printf '' >"$ALLEYCAT_CONFIG"
expect_error 2 "alleycat: ALLEYCAT_ONCE: 'often' is not true or false
Try 'alleycat board --help' for more information." env ALLEYCAT_ONCE=often "$ALLEYCAT" board
# A bad value names where it came from: the variable, or the file and line.
try_sim="Try 'alleycat sim --help' for more information."
printf '' >"$ALLEYCAT_CONFIG"
expect_error 2 "alleycat: ALLEYCAT_SPEED: 'fast' is not a number from 0 to 1000000
$try_sim" env ALLEYCAT_SPEED=fast "$ALLEYCAT" sim
expect_error 2 "alleycat: ALLEYCAT_LOG_LEVEL: 'loud' is not error, warn, info or debug
Try 'alleycat board --help' for more information." env ALLEYCAT_LOG_LEVEL=loud "$ALLEYCAT" board
printf '# sim\n[sim]\nspeed = fast\n' >"$ALLEYCAT_CONFIG"
expect_error 2 "alleycat: $ALLEYCAT_CONFIG:3: speed: 'fast' is not a number from 0 to 1000000
$try_sim" "$ALLEYCAT" sim
printf 'listen = here\n' >"$ALLEYCAT_CONFIG"
expect_error 2 "alleycat: $ALLEYCAT_CONFIG:1: listen: 'here' is not HOST:PORT (an IPv6 address in brackets: [::1]:4999)
Try 'alleycat hub --help' for more information." "$ALLEYCAT" hub
# The command line's own value is still its option's.
printf '' >"$ALLEYCAT_CONFIG"
expect_error 2 "alleycat: --listen: 'there' is not HOST:PORT (an IPv6 address in brackets: [::1]:4999)
Try 'alleycat hub --help' for more information." "$ALLEYCAT" hub --listen there

# A key that no command has is warned about, once, with the nearest one;
# the command goes on (here: to its help, exit 0).
cat >"$ALLEYCAT_CONFIG" <<CONF
formt = csv
[board]
onec = true
zebra = 1
[histroy]
top = 5
[hub]
shards = 2
CONF
expect_error 0 "alleycat: $ALLEYCAT_CONFIG:1: unknown setting 'formt' (ignored; did you mean 'format'?)
alleycat: $ALLEYCAT_CONFIG:3: unknown setting 'onec' (ignored; did you mean 'once'?)
alleycat: $ALLEYCAT_CONFIG:4: unknown setting 'zebra' (ignored)
alleycat: $ALLEYCAT_CONFIG:5: unknown section [histroy] (ignored; did you mean [history]?)" \
	"$ALLEYCAT" history --help
# Known keys, under a section or before any, warn about nothing: hub
# reshard's own settings belong to [hub] too.
printf 'format = csv\n[hub]\nshards = 2\ntimeout = 5\n[kiosk]\nrotate = 5\n' >"$ALLEYCAT_CONFIG"
expect_error 0 "" "$ALLEYCAT" board --help
# The installed template, every line uncommented, is all known keys.
sed 's/^#\([a-z-]* = \)/\1/' "$top_srcdir/data/config" >"$ALLEYCAT_CONFIG"
grep -q '^stream = ' "$ALLEYCAT_CONFIG" || fail "the template's settings were not uncommented"
expect_error 0 "" "$ALLEYCAT" history --help

# So is an ALLEYCAT_ variable that no command takes; one that another
# command takes (ALLEYCAT_LISTEN for board), and ALLEYCAT_CONFIG and
# ALLEYCAT_SHARE_DIR, are known.
printf '' >"$ALLEYCAT_CONFIG"
expect_error 0 "alleycat: unknown variable ALLEYCAT_SPED (ignored; did you mean ALLEYCAT_SPEED?)
alleycat: unknown variable ALLEYCAT_ZEBRA (ignored)" \
	env ALLEYCAT_SPED=3 ALLEYCAT_ZEBRA=1 ALLEYCAT_LISTEN=127.0.0.1:1 \
	ALLEYCAT_SHARE_DIR="$top_srcdir/data" "$ALLEYCAT" board --help
pass "settings"
