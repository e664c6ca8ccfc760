# Helpers for the end-to-end tests: each prints what failed and exits 1.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pass() {
	echo "PASS: $*"
}

# skip WHY: exit 77, which automake counts as a skip. Where every test must
# run (./quickstart test and CI set ALLEYCAT_TESTS_NO_SKIP=1) it fails.
skip() {
	[ -n "${ALLEYCAT_TESTS_NO_SKIP:-}" ] && fail "$* (and ALLEYCAT_TESTS_NO_SKIP is set)"
	echo "SKIP: $*"
	exit 77
}

# need TOOL PACKAGE: skips the test unless TOOL is on PATH, naming the
# Debian package that has it.
need() {
	command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed (Debian: apt-get install $2)"
}

# expect_match TEXT REGEX WHAT
expect_match() {
	printf '%s\n' "$1" | grep -Eq -- "$2" || fail "$3: got '$1'"
}

# expect_status STATUS COMMAND...
expect_status() {
	local want=$1 got
	shift
	"$@" >/dev/null 2>&1
	got=$?
	[ "$got" = "$want" ] || fail "'$*' exited $got, expected $want"
}

# expect_error STATUS STDERR COMMAND...: the command exits STATUS and its
# standard error is exactly STDERR (every line of it, nothing more).
expect_error() {
	local want=$1 text=$2 got err
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	got=$?
	[ "$got" = "$want" ] || fail "'$*' exited $got, expected $want (stderr: $err)"
	[ "$err" = "$text" ] || fail "'$*' wrote to stderr:
$err
instead of:
$text"
}

# forget_aws_settings: no AWS_* variable (profile, config, CA bundle,
# endpoint, credentials) and no proxy from the caller's environment reach
# an AWS client under test; the local hub is never proxied.
forget_aws_settings() {
	local v
	for v in $(compgen -e | grep '^AWS_'); do
		unset "$v"
	done
	unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy
	export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
}

# answers URL SECONDS: whether the hub at URL answers /healthz within
# SECONDS (any certificate is taken: this asks only whether it serves).
answers() {
	for _ in $(seq $(($2 * 10))); do
		curl -skf "$1/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# free_port: a random port (30000-49999) that nothing listens on right now.
# Tests run side by side: another may still take it first, so whoever
# binds it checks (port_taken) and draws again. SRANDOM leaves a test's
# seeded RANDOM sequence alone.
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((30000 + ${SRANDOM:-$RANDOM} % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
			echo "$p"
			return 0
		}
	done
	fail "no free port found in 200 draws"
}

# port_taken LOG: whether a program that logged to LOG could not listen
# because another had its port.
port_taken() {
	grep -qi 'address already in use' "$1" 2>/dev/null
}

# hub_ready LOG PORT SECONDS: whether the hub logging to LOG said it is
# ready on PORT within SECONDS; false at once if it exited. Only our own
# hub prints this line, so a hub of another test on the port cannot pass.
hub_ready() {
	local log=$1 port=$2
	for _ in $(seq $(($3 * 10))); do
		grep -q "^hub ready on https\?://[^ ]*:$port:" "$log" 2>/dev/null && return 0
		port_taken "$log" && return 1
		sleep 0.1
	done
	return 1
}

# start_hub DIR STREAM [OPTION]...: a hub in memory on a free port with its
# log in DIR/hub.log; sets port and hub_pid once it is ready and answers.
start_hub() {
	local dir=$1 stream=$2 try
	shift 2
	for try in 1 2 3 4 5; do
		port=$(free_port)
		"$ALLEYCAT" hub --listen "127.0.0.1:$port" --stream "$stream" "$@" >"$dir/hub.log" 2>&1 &
		hub_pid=$!
		if hub_ready "$dir/hub.log" "$port" 10 && answers "http://127.0.0.1:$port" 5; then
			return 0
		fi
		port_taken "$dir/hub.log" || break
		wait "$hub_pid" 2>/dev/null
	done
	fail "the hub did not start: $(cat "$dir/hub.log")"
}
