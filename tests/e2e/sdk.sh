#!/usr/bin/env bash
# The hub as clients that are not ours see it: the AWS SDK for JavaScript v3
# (Kinesis API), the npm `ws` WebSocket client (push), and CBOR bodies as the
# AWS SDK for Java sends them (read back by the npm `cbor` decoder), run by
# Node's own test runner.  Needs Node.js >= 18 and npm; the first run installs the
# pinned dependencies (package-lock.json) from the npm registry.
#
# Environment: top_srcdir and ALLEYCAT (set by `make check`);
# ALLEYCAT_E2E_VERBOSE=1 echoes the hubs' logs.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/e2e/lib.sh"

: "${ALLEYCAT:?ALLEYCAT must name the alleycat binary}"
export ALLEYCAT
case $ALLEYCAT in
/*) ;;
*) ALLEYCAT=$(pwd)/$ALLEYCAT ;;
esac
[ -x "$ALLEYCAT" ] || fail "no alleycat binary at $ALLEYCAT"

need node nodejs
need npm npm
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] 2>/dev/null || fail "node $(node --version) is too old: these tests need Node.js >= 18"

src=$top_srcdir/tests/e2e/node

# During `make distcheck` the source tree is read-only: work on a copy.
if probe=$(mktemp "$src/.write-probe.XXXXXX" 2>/dev/null); then
	rm -f "$probe"
	dir=$src
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/alleycat-e2e-node.XXXXXX") || fail "cannot make a temporary directory"
	trap 'rm -rf "$dir"' EXIT
	cp "$src"/package.json "$src"/package-lock.json "$src"/*.mjs "$dir"/ ||
		fail "cannot copy the node tests from $src to $dir"
fi
cd "$dir" || fail "cannot cd to $dir"
# Every *.test.mjs here is a test: adding one needs no list.
tests=(*.test.mjs)
[ -f "${tests[0]}" ] || fail "no *.test.mjs in $dir"

npm_deps "$dir"

# Each file runs in its own process, with its own hubs on free ports.
run=(node --test)
if node --help 2>/dev/null | grep -q -- --test-reporter; then
	run+=(--test-reporter=spec)
fi
run+=("${tests[@]}")
if command -v timeout >/dev/null 2>&1; then
	run=(timeout 600 "${run[@]}")
fi
"${run[@]}"
status=$?
[ "$status" = 124 ] && fail "the node tests did not finish in 600 s"
[ "$status" = 0 ] || fail "node tests failed (status $status)"
pass "sdk"
