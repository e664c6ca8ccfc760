#!/usr/bin/env bash
# Sorting the live race on a real terminal (tmux): s moves to the next
# column, S turns the order around, a click on a column's title sorts by
# it and a second click turns it around; the head marks the column sorted
# by (▲ smallest on top, ▼ largest) and the heading names it.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start sort
ladder 10
put 980 1 update "${racers[@]}"

tmux -S "$sock" new-session -d -s keep "sleep 600"
tmux -S "$sock" new-session -d -s w -x 100 -y 30 "$(dash watch)"
wait_for w 20 "rows 1-10 of 10"

# head: the table's head line; first: the name on the first row.
head_line() {
	screen w | grep -E '^ *.?# .*name' | head -1
}
first() {
	screen w | grep -A1 -E '^ *.?# .*name' | tail -1 | awk '{ print $2 }'
}
# expect_sort HEADING TITLE FIRST: the heading says "sort: HEADING", the
# head shows TITLE (the marked title), and FIRST rides on the first row.
expect_sort() {
	wait_for w 10 "sort: $1  "
	head_line | grep -qF -- "$2" || fail "the head does not mark '$2': $(head_line)"
	[ "$(first)" = "$3" ] || fail "sorted by $1, the first row is not $3:
$(screen w)"
}

expect_sort rank "▲#" R10
tmux -S "$sock" send-keys -t w s s
expect_sort name "name▲" R1
tmux -S "$sock" send-keys -t w S
expect_sort "name, reversed" "name▼" R9
tmux -S "$sock" send-keys -t w s
expect_sort id "▲id" R1
pass "s and S"

click_on w rpm
expect_sort rpm "▼rpm" R10
# (the heading says "rpm" too now: the click goes on the marked title)
click_on w ▼rpm
expect_sort "rpm, reversed" "▲rpm" R1
click_on w name
expect_sort name "name▲" R1
pass "a click on a column's title sorts by it, a second the other way"
