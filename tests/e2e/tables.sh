#!/usr/bin/env bash
# The text tables of `board` and `history` as a person reads them: every
# number column has one number of decimals and its cells end under the
# heading, so the points stand one above the other (issue 13: "186" above
# "183.52"). The simulator's racers ride in tenths, so their outputs have
# up to four decimals; names come with accents.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/columns.sh"

need curl curl

dir=$(mktemp -d)
export ALLEYCAT_CONFIG=/dev/null LANG=C.UTF-8 LC_ALL=C.UTF-8
cleanup() {
	[ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

start_hub "$dir" tables

"$ALLEYCAT" sim --endpoint "http://127.0.0.1:$port" --stream tables --racers 40 --duration 5 \
	--speed 0 --seed 7 --class 5 --quiet || fail "the simulator failed"
board() {
	"$ALLEYCAT" board --endpoint "ws://127.0.0.1:$port" --stream tables --db "$dir/h.db" \
		--consumer "tables-$1" --duration 5 --grace 2 --until-finished "${@:2}" ||
		fail "the board failed"
}

# table TEXT HEAD: the lines of TEXT from the first holding HEAD to the
# next empty line, heading first.
table() {
	printf '%s\n' "$1" | awk -v head="$2" 'index($0, head) { on = 1 } on && $0 == "" { exit } on'
}

# expect_race_table TEXT [DASH]: the standings of one race, as board and
# history --race print them; DASH is the leader's gap (default the Unicode one).
expect_race_table() {
	local t head rows dash=${2:-—}
	t=$(table "$1" " Rank ")
	head=$(printf '%s\n' "$t" | head -1)
	rows=$(printf '%s\n' "$t" | tail -n +2)
	[ "$(printf '%s\n' "$rows" | wc -l)" = 40 ] || fail "not 40 racers in:
$1"
	expect_race_labels "$head" Capitalised
	expect_column "$head" "$rows" "Score W" "$TWO_DECIMALS"
	expect_column "$head" "$rows" "Last W" "$TWO_DECIMALS"
	expect_column "$head" "$rows" rpm "$ONE_DECIMAL"
	expect_column "$head" "$rows" "Res %" "$ONE_DECIMAL"
	expect_column "$head" "$rows" "Gap W" "$GAP"
	[ "$(printf '%s\n' "$rows" | grep -cF " $dash ")" = 1 ] || fail "the leader's gap is not the one dash:
$1"
}

out=$(board unicode)
expect_race_table "$out"
out=$(board ascii --no-unicode)
expect_race_table "$out" -
printf '%s\n' "$out" | LC_ALL=C grep -q '[^ -~]' && fail "--no-unicode printed more than ASCII:
$out"
race=$(printf '%s\n' "$out" | sed -n 's/^Race \([0-9]*\) .*/\1/p' | head -1)
[ -n "$race" ] || fail "board printed no race: $out"

out=$("$ALLEYCAT" history --db "$dir/h.db" --race "$race") || fail "history --race failed"
expect_race_table "$out"

# The class leaderboard and a racer's profile.
out=$("$ALLEYCAT" history --db "$dir/h.db" --class 5 --top 40) || fail "history --class failed"
t=$(table "$out" " Rank ")
expect_column "$(printf '%s\n' "$t" | head -1)" "$(printf '%s\n' "$t" | tail -n +2)" "Score W" \
	"$TWO_DECIMALS"
racer=$(printf '%s\n' "$t" | awk 'NR == 2 { print $2 }')
out=$("$ALLEYCAT" history --db "$dir/h.db" --racer "$racer") || fail "history --racer failed"
expect_match "$out" "^5 .* 1 +[0-9]+\.[0-9]{2} +$race$" "the racer's best, with two decimals"
expect_match "$out" "^ +$race +5 +1/40 +[0-9]+\.[0-9]{2}$" "the racer's race, with two decimals"
pass "tables"
