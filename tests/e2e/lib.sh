# Helpers for the end-to-end tests: each prints what failed and exits 1.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

pass() {
	echo "PASS: $*"
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
