#!/usr/bin/env bash
# Every command line the README and alleycat(1)'s EXAMPLES show, run as
# written: each must exit as documented and print no warning or error.
#
# The commands use the default address 127.0.0.1:4567, so the test runs in
# a network namespace of its own (and a mount namespace, so the README's
# /var/lib/alleycat is a scratch directory), where that port is ours. The
# files the examples name (cert.pem, key.pem, keys) are made in the working
# directory; HOME and the XDG directories are empty ones.
#
# Each example is one of:
#   a hub            started, asked /healthz, stopped with SIGINT: exit 0
#   a dashboard      (watch, kiosk) drawn in tmux for a few seconds, then
#                    q (watch) or SIGTERM (kiosk): exit 0
#   a long runner    (board without --once/--until-finished, sim --loop)
#                    stopped with SIGINT after a few seconds: exit 0
#   anything else    must finish by itself, within 3 minutes, with exit 0
# The quick start and build lines are run by CI itself, and synopsis lines
# (with placeholders such as COMMAND) are not commands.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/e2e/lib.sh"
: "${ALLEYCAT:?ALLEYCAT must name the alleycat binary}"

if [ -z "${ALLEYCAT_TESTS_DOCS_NS:-}" ]; then
	need unshare util-linux
	ALLEYCAT_TESTS_DOCS_NS=1 exec unshare --map-root-user --net --mount -- "$0" "$@" ||
		skip "cannot make a network namespace here"
fi
ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null ||
	fail "cannot bring up the loopback interface in the namespace"
need tmux tmux
need curl curl
need openssl openssl
need aws awscli

work=$(mktemp -d)
trap 'tmux -S "$work/tmux.sock" kill-server 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
mount -t tmpfs tmpfs /var/lib || fail "cannot mount a scratch /var/lib"
mkdir -p "$work/home" "$work/run"
cd "$work/run"
export HOME=$work/home XDG_DATA_HOME=$work/home/data XDG_CONFIG_HOME=$work/home/config
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color PATH="$(dirname "$ALLEYCAT"):$PATH"
unset ALLEYCAT_CONFIG AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_PROFILE AWS_REGION
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 \
	-subj /CN=127.0.0.1 >/dev/null 2>&1 || fail "openssl cannot make a certificate"
printf '[racing]\naws_access_key_id = AKIAALLEYCATDOCS\naws_secret_access_key = docs\n' >keys

# ---- the examples --------------------------------------------------------

# Indented lines of the README that run alleycat or aws, continuations
# joined, comments dropped.
readme_examples() {
	awk '/^    [^ ]/ { line = substr($0, 5)
			while (line ~ /\\$/ && (getline more) > 0) {
				sub(/\\$/, "", line); sub(/^ +/, " ", more); line = line more }
			sub(/ +#.*/, "", line)
			if (line ~ /^(alleycat|aws) /) print line }' "$top_srcdir/README"
}

# The lines between .EX and .EE in the manual's EXAMPLES, roff escapes undone.
man_examples() {
	awk '/^\.SH/ { inside = ($0 ~ /^\.SH EXAMPLES/) }
	     inside && /^\.EX/ { ex = 1; next }
	     inside && /^\.EE/ { ex = 0 }
	     inside && ex' "$top_srcdir/docs/alleycat.1" | sed -e 's/\\-/-/g' -e 's/\\e/\\/g'
}

# ---- running them --------------------------------------------------------

problems() { # FILE: the lines of FILE that complain
	grep -Ei 'warning|error|AddressSanitizer|runtime error' "$1"
}

check() { # EXAMPLE STATUS LOG
	[ "$2" = 0 ] || fail "'$1' exited $2:
$(tail -20 "$3")"
	if problems "$3" >/dev/null; then
		fail "'$1' complained:
$(problems "$3")"
	fi
	pass "$1"
}

n=0
log() { echo "$work/$n.log"; }

run_hub() { # EXAMPLE: serve, answer /healthz, stop on SIGINT
	n=$((n + 1))
	local scheme=http address=127.0.0.1:4567
	case $1 in *--tls-cert*) scheme=https ;; esac
	case $1 in *"--listen "*) address=${1#*--listen } address=${address%% *} ;; esac
	bash -c "exec $1" >"$(log)" 2>&1 &
	local pid=$!
	answers "$scheme://$address" 10 || fail "'$1' does not serve:
$(cat "$(log)")"
	kill -INT $pid
	wait $pid
	check "$1" $? "$(log)"
}

run_long() { # EXAMPLE SECONDS: runs until stopped with SIGINT
	n=$((n + 1))
	bash -c "exec $1" >"$(log)" 2>&1 &
	local pid=$!
	sleep "$2"
	kill -0 $pid 2>/dev/null || { wait $pid; fail "'$1' stopped by itself ($?):
$(cat "$(log)")"; }
	kill -INT $pid
	wait $pid
	check "$1" $? "$(log)"
}

run_once() { # EXAMPLE: finishes by itself
	n=$((n + 1))
	timeout -s INT 180 bash -c "exec $1" >"$(log)" 2>&1
	local status=$?
	[ $status = 124 ] && fail "'$1' did not finish within 3 minutes"
	check "$1" $status "$(log)"
}

run_screen() { # EXAMPLE: a dashboard in tmux; its screen must show the stream
	n=$((n + 1))
	local sock=$work/tmux.sock status=$work/$n.status
	tmux -S "$sock" new-session -d -s ex$n -x 120 -y 40 \
		"$1 2>$(log); echo \$? >$status; sleep 60"
	sleep 3
	tmux -S "$sock" capture-pane -p -t ex$n | grep -q 'alleycat' ||
		fail "'$1' draws nothing: $(tmux -S "$sock" capture-pane -p -t ex$n)"
	case $1 in
	*kiosk*) kill -TERM "$(pgrep -P "$(tmux -S "$sock" display-message -p -t ex$n '#{pane_pid}')")" ;;
	*) tmux -S "$sock" send-keys -t ex$n q ;;
	esac
	for _ in $(seq 100); do
		[ -s "$status" ] && break
		sleep 0.1
	done
	[ -s "$status" ] || fail "'$1' did not stop"
	check "$1" "$(cat "$status")" "$(log)"
}

run_example() {
	case $1 in
	*COMMAND* | *'[OPTION]'*) ;;                       # a synopsis
	"alleycat hub reshard"*) run_once "$1" ;;
	"alleycat hub"*) run_hub "$1" ;;
	"alleycat watch"* | "alleycat kiosk"*) run_screen "$1" ;;
	"alleycat board"*--once* | "alleycat board"*--until-finished*) run_once "$1" ;;
	"alleycat board"* | *--loop*) run_long "$1" 5 ;;
	*) run_once "$1" ;;
	esac
}

mapfile -t readme < <(readme_examples)
mapfile -t manual < <(man_examples)
[ ${#readme[@]} -ge 15 ] || fail "only ${#readme[@]} README examples found: the extraction broke"
[ ${#manual[@]} -ge 5 ] || fail "only ${#manual[@]} manual examples found: the extraction broke"

# Hubs first, one at a time (they share the port); the README's plain
# `alleycat hub` is kept for last and serves everything else, mirrors of
# it included.
plain_hub=""
for ex in "${readme[@]}" "${manual[@]}"; do
	case $ex in
	"alleycat hub reshard"* | "alleycat hub"*--mirror*) ;;
	"alleycat hub") plain_hub=$ex ;;
	"alleycat hub"*) run_example "$ex" ;;
	esac
done
[ -n "$plain_hub" ] || fail "the README no longer starts a plain hub"
bash -c "exec $plain_hub" >"$work/hub.log" 2>&1 &
hub_pid=$!
answers http://127.0.0.1:4567 10 || fail "'$plain_hub' does not serve: $(cat "$work/hub.log")"

for ex in "${readme[@]}" "${manual[@]}"; do
	case $ex in
	"alleycat hub reshard"* | "alleycat hub"*--mirror*) run_example "$ex" ;;
	"alleycat hub"*) ;;
	*) run_example "$ex" ;;
	esac
done

kill -INT $hub_pid
wait $hub_pid
check "$plain_hub" $? "$work/hub.log"
