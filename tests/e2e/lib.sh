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

# start_hub DIR STREAM [OPTION]...: a hub in memory on a random port with
# its log in DIR/hub.log; sets port and hub_pid once it answers.
start_hub() {
	local dir=$1 stream=$2 try scheme=http
	shift 2
	case " $* " in *" --tls-cert "*) scheme=https ;; esac
	# Tests run side by side, each on a random port: one taken by another
	# test's hub (which would answer in ours' place) means another port.
	for try in 1 2 3 4 5; do
		port=$((30000 + RANDOM % 20000))
		"$ALLEYCAT" hub --listen "127.0.0.1:$port" --stream "$stream" "$@" >"$dir/hub.log" 2>&1 &
		hub_pid=$!
		if answers "$scheme://127.0.0.1:$port" 5 && sleep 0.2 && kill -0 "$hub_pid" 2>/dev/null; then
			return 0
		fi
		grep -q 'Address already in use' "$dir/hub.log" || break
		wait "$hub_pid" 2>/dev/null
	done
	fail "the hub did not start: $(cat "$dir/hub.log")"
}
