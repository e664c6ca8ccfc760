#!/usr/bin/env bash
# --region and --profile in every client (sim, hub reshard, board), and
# what a user reads when they are wrong: a region that does not exist is
# said to be the wrong region; a key refused names the profile and the
# file it came from; missing credentials are one line naming where they
# were looked for, with exit status 1 (a runtime failure, alleycat(1)).
# The hub checks every signature (--auth sigv4).
set -u
. "$top_srcdir/tests/e2e/lib.sh"

need jq jq

dir=$(mktemp -d)
export ALLEYCAT_CONFIG=/dev/null LANG=C.UTF-8 LC_ALL=C.UTF-8
# No one's AWS set-up but the test's own.
export HOME="$dir/home"
forget_aws_settings
mkdir -p "$HOME/.aws"
trap '[ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null; rm -rf "$dir"' EXIT

# one_line OUTPUT: exactly one line.
one_line() {
	[ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ] || fail "more than one line: $1"
}

keys() {
	printf '[racing]\naws_access_key_id = AKIDRACING\naws_secret_access_key = %s\n' "$1" \
		>"$HOME/.aws/credentials"
}
keys racing-secret
printf '[profile racing]\nregion = eu-west-1\n' >"$HOME/.aws/config"
printf '[default]\naws_access_key_id = AKIDRACING\naws_secret_access_key = racing-secret\n' \
	>"$dir/hub-keys"
start_hub "$dir" signed --shards 2 --auth sigv4 --credentials "$dir/hub-keys"
ep="http://127.0.0.1:$port"

sim() {
	"$ALLEYCAT" sim --endpoint "$ep" --stream signed --duration 4 --speed 0 --quiet --racers 6 "$@"
}
# ---- the options ------------------------------------------------------------

for command in "sim" "hub reshard --shards 2"; do
	expect_status 2 "$ALLEYCAT" $command --region 'us east'
	expect_status 2 "$ALLEYCAT" $command --profile ''
done
"$ALLEYCAT" sim --help | grep -q -- "--profile NAME" || fail "sim --help lacks --profile"
"$ALLEYCAT" hub --help | grep -q -- "--profile NAME" || fail "hub --help lacks reshard's --profile"

# ---- signed with a profile's key ---------------------------------------------

# Unsigned, the hub refuses, and the message says the requests were not signed.
out=$(sim --race-id 7800001 2>&1)
expect_status 1 sim --race-id 7800001
expect_match "$out" "refuses the credentials .*the requests were not signed"
out=$("$ALLEYCAT" hub reshard --shards 3 --endpoint "$ep" --stream signed 2>&1)
expect_match "$out" "the requests were not signed"

sim --race-id 7800002 --profile racing || fail "sim --profile racing failed on a signed hub"
AWS_PROFILE=racing sim --race-id 7800003 || fail "sim with AWS_PROFILE=racing failed"
out=$("$ALLEYCAT" hub reshard --shards 3 --endpoint "$ep" --stream signed --profile racing 2>&1) ||
	fail "hub reshard --profile racing failed: $out"
expect_match "$out" "stream signed: 2 -> 3 open shards"
out=$(AWS_PROFILE=racing "$ALLEYCAT" hub reshard --shards 2 --endpoint "$ep" --stream signed 2>&1) ||
	fail "hub reshard with AWS_PROFILE=racing failed: $out"
expect_match "$out" "stream signed: 3 -> 2 open shards"
# The races the profile's key wrote are there, read with the same key.
board=$("$ALLEYCAT" board --stream signed --db "$dir/read.db" --consumer read --endpoint "$ep" \
	--read polling --until-finished --format json --duration 4 --grace 2 --profile racing \
	2>"$dir/read.err") || fail "board --profile racing failed: $(cat "$dir/read.err")"
printf '%s' "$board" | jq -e '[.races[].raceId] | sort == [7800002, 7800003]' >/dev/null ||
	fail "the board did not read the two signed races: $board"

# ---- a wrong key: the profile and its file are named -----------------------

keys wrong
for run in "sim --race-id 7800004 --profile racing" \
	"hub reshard --shards 3 --endpoint $ep --stream signed --profile racing" \
	"board --stream signed --db $dir/wrong.db --consumer wrong --endpoint $ep --read polling --once --profile racing"; do
	if [ "${run%% *}" = sim ]; then
		out=$(sim ${run#sim } 2>&1) && fail "$run with a wrong key succeeded"
	else
		out=$(timeout 60 "$ALLEYCAT" $run 2>&1) && fail "$run with a wrong key succeeded"
	fi
	one_line "$out"
	expect_match "$out" "refuses the credentials"
	expect_match "$out" "the key comes from profile 'racing' of $HOME/.aws/credentials"
	case "$out" in *AWS_ACCESS_KEY_ID*) fail "$run: a named profile's fix is not the environment: $out" ;; esac
done
keys racing-secret

# ---- missing credentials: one line, exit status 1 --------------------------

# fails_in_one_line RUN PATTERN...: RUN (an alleycat command line) exits
# with 1 before any call and says, in one line, each PATTERN.
fails_in_one_line() {
	local run=$1 out pattern
	shift
	out=$("$ALLEYCAT" $run 2>&1)
	expect_status 1 "$ALLEYCAT" $run
	one_line "$out"
	for pattern in "$@"; do
		expect_match "$out" "$pattern"
	done
}

for run in "sim --endpoint $ep --profile nobody" \
	"hub reshard --shards 3 --endpoint $ep --profile nobody" \
	"board --endpoint $ep --once --profile nobody"; do
	fails_in_one_line "$run" "no AWS credentials for profile 'nobody'" \
		"$HOME/.aws/credentials \(no \[nobody\]\)" \
		"$HOME/.aws/config \(no \[profile nobody\]\)"
done
# An AWS endpoint (the region's) needs a key; none anywhere.
mv "$HOME/.aws" "$HOME/aws.away"
for run in "sim --region eu-west-1" "hub reshard --shards 3 --region eu-west-1" \
	"board --region eu-west-1 --once"; do
	fails_in_one_line "$run" \
		"no AWS credentials: looked in the environment \(AWS_ACCESS_KEY_ID\)" \
		"$HOME/.aws/credentials \(no such file\)"
done
mv "$HOME/aws.away" "$HOME/.aws"

# ---- a region that does not exist ------------------------------------------
# Its endpoint does not resolve: the region is said to be wrong (or, where
# the resolver cannot answer at all, the call times out).

export AWS_ACCESS_KEY_ID=AKIDALLEYCATTEST AWS_SECRET_ACCESS_KEY=secret
for run in "sim --region xx-nowhere-1 --timeout 5 --duration 2 --speed 0 --quiet" \
	"hub reshard --shards 3 --region xx-nowhere-1 --timeout 5" \
	"board --region xx-nowhere-1 --timeout 5 --once --db $dir/region.db"; do
	out=$(timeout 60 "$ALLEYCAT" $run 2>&1) && fail "$run succeeded"
	one_line "$out"
	expect_match "$out" "(no such host; the region xx-nowhere-1 is probably wrong: check --region|kinesis.xx-nowhere-1.amazonaws.com:443: [A-Za-z]+: no answer within 5 s)"
	case "$out" in *"check the host name"*) fail "$run blames the host name: $out" ;; esac
done
# AWS_REGION, from the environment, is a region named too.
out=$(AWS_REGION=xx-nowhere-1 timeout 60 "$ALLEYCAT" sim --timeout 5 --duration 2 --speed 0 --quiet 2>&1)
expect_match "$out" "kinesis.xx-nowhere-1.amazonaws.com"

pass "profiles"
