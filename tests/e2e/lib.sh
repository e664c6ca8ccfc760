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
	local dir=$1 stream=$2 try scheme=http
	shift 2
	case " $* " in *" --tls-cert "*) scheme=https ;; esac
	for try in 1 2 3 4 5; do
		port=$(free_port)
		"$ALLEYCAT" hub --listen "127.0.0.1:$port" --stream "$stream" "$@" >"$dir/hub.log" 2>&1 &
		hub_pid=$!
		if hub_ready "$dir/hub.log" "$port" 10 && answers "$scheme://127.0.0.1:$port" 5; then
			return 0
		fi
		port_taken "$dir/hub.log" || break
		wait "$hub_pid" 2>/dev/null
	done
	fail "the hub did not start: $(cat "$dir/hub.log")"
}

# npm_deps DIR: the locked npm packages of DIR (package-lock.json) in
# DIR/node_modules, installed by the first test that needs them while the
# others wait (tests run side by side), again when the manifest or the lock
# is newer. False, after a note, when npm is missing: the caller skips what
# needs them (where nothing may be skipped, that fails).
npm_deps() {
	local dir=$1 stamp=$1/node_modules/.alleycat-installed out
	if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
		[ -n "${ALLEYCAT_TESTS_NO_SKIP:-}" ] &&
			fail "node and npm are not installed (Debian: apt-get install nodejs npm) (and ALLEYCAT_TESTS_NO_SKIP is set)"
		echo "note: node and npm are not installed (Debian: apt-get install nodejs npm)"
		return 1
	fi
	out=$(
		exec 9>"$dir/.npm-lock"
		flock 9
		[ -f "$stamp" ] && [ "$stamp" -nt "$dir/package.json" ] &&
			[ "$stamp" -nt "$dir/package-lock.json" ] && exit 0
		echo "npm ci in $dir" >&2
		cd "$dir" && npm ci --no-audit --no-fund 2>&1 && touch "$stamp"
	) && return 0
	printf '%s\n' "$out" | tail -n 20 >&2
	printf '%s\n' "$out" | grep -Eq 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|network|proxy' &&
		fail "npm cannot reach the registry ($(npm config get registry)) to install the packages of $dir; connect to it, or set npm_config_registry to a mirror, and run again"
	fail "npm ci failed in $dir (see above)"
}

# start_kinesis_mock DIR STREAM: kinesis-mock (npm kinesis-local, installed
# in bench/node) holding STREAM of 2 shards, on two free ports (others when
# a test running beside took one first: it then exits). Sets km_tls,
# km_plain and km_pid once its plain port answers; its log is DIR/km.log.
start_kinesis_mock() {
	local km_dir="$top_srcdir/bench/node/node_modules/kinesis-local" try
	for try in 1 2 3 4 5; do
		km_tls=$(free_port)
		km_plain=$(free_port)
		[ "$km_plain" != "$km_tls" ] || continue
		(cd "$km_dir" && exec env KINESIS_MOCK_TLS_PORT=$km_tls KINESIS_MOCK_PLAIN_PORT=$km_plain \
			INITIALIZE_STREAMS="$2:2" CREATE_STREAM_DURATION=0ms LOG_LEVEL=ERROR node main.js) \
			>"$1/km.log" 2>&1 &
		km_pid=$!
		within 30 curl -s -o /dev/null "http://127.0.0.1:$km_plain/" && return 0
		kill "$km_pid" 2>/dev/null
		wait "$km_pid" 2>/dev/null
	done
	fail "kinesis-mock did not start: $(tail -3 "$1/km.log")"
}

# ---- screens in tmux: the sessions of the tmux server at $sock ------------

# screen SESSION: what SESSION shows, as text.
screen() {
	tmux -S "$sock" capture-pane -p -t "$1"
}

# within SECONDS COMMAND...: whether COMMAND succeeds within SECONDS (it is
# tried every tenth of a second): generous bounds, never a time asserted.
within() {
	local seconds=$1
	shift
	for _ in $(seq $((seconds * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

shows() {
	screen "$1" | grep -qF -- "$2"
}

shows_match() {
	screen "$1" | grep -qE -- "$2"
}

hides() {
	! shows "$1" "$2"
}

ended() {
	! tmux -S "$sock" has-session -t "$1" 2>/dev/null
}

# wait_for SESSION SECONDS TEXT: until the screen shows TEXT.
wait_for() {
	within "$2" shows "$1" "$3" || fail "$1 never showed '$3' within $2 s:
$(screen "$1")"
}

# wait_match SESSION SECONDS REGEX: until a line of the screen matches REGEX.
wait_match() {
	within "$2" shows_match "$1" "$3" || fail "$1 never showed '$3' within $2 s:
$(screen "$1")"
}

# wait_gone SESSION SECONDS TEXT: until the screen no longer shows TEXT.
wait_gone() {
	within "$2" hides "$1" "$3" || fail "$1 still showed '$3' after $2 s:
$(screen "$1")"
}

# wait_ended SESSION SECONDS: until the tmux session has ended.
wait_ended() {
	within "$2" ended "$1" || fail "session $1 still runs after $2 s"
}

# mouse_report BUTTON X Y: what a terminal sends for a mouse event in the
# X10 encoding that the pane's terminal type (tmux's) names: ESC [ M, then
# the button code, the column and the line (1-based), each plus 32.
mouse_report() {
	local n
	printf '\033[M'
	for n in "$1" $(($2 + 1)) $(($3 + 1)); do
		printf "\\$(printf '%03o' $((n + 32)))"
	done
}

# click SESSION X Y: the first button pressed and released on the cell at
# column X, line Y (0-based); release is button code 3.
click() {
	tmux -S "$sock" send-keys -t "$1" -l "$(mouse_report 0 "$2" "$3")$(mouse_report 3 "$2" "$3")"
}

# wheel SESSION up|down: a notch of the wheel (button codes 64 and 65).
wheel() {
	local button=64
	[ "$2" = down ] && button=65
	tmux -S "$sock" send-keys -t "$1" -l "$(mouse_report $button 0 5)"
}

# line_of SESSION TEXT: the screen line (0-based) that first shows TEXT.
line_of() {
	screen "$1" | grep -nF -- "$2" | head -1 | awk -F: '{ print $1 - 1 }'
}

# click_on SESSION TEXT: a click on the first character of the first TEXT
# on the screen (columns counted in characters: the screen has UTF-8).
click_on() {
	local y line before
	y=$(line_of "$1" "$2")
	[ -n "$y" ] || fail "no '$2' on the screen to click:
$(screen "$1")"
	line=$(screen "$1" | sed -n "$((y + 1))p")
	before=${line%%"$2"*}
	click "$1" "${#before}" "$y"
}
