#!/usr/bin/env bash
# Warnings told before the dashboard opens (a misspelled setting in the
# config file) are not lost behind its screen (tmux): the status line
# shows the last one and says how many more the monitor lists, the
# monitor's log lists them all, and stderr has them too once the screen is
# gone.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start warnings
ladder 3
put 980 1 update "${racers[@]}"

printf '[watch]\nzebra = 1\nno-mous = true\n' >"$dir/config"
zebra="$dir/config:2: unknown setting 'zebra' (ignored)"
mouse="$dir/config:3: unknown setting 'no-mous' (ignored; did you mean 'no-mouse'?)"

tmux -S "$sock" new-session -d -s keep "sleep 600"
tmux -S "$sock" new-session -d -s w -x 160 -y 30 \
	"ALLEYCAT_CONFIG=$dir/config $(dash watch) 2>$dir/stderr"
wait_for w 20 "Race 980"
wait_for w 10 "warning (1 more in Monitor): $mouse"
pass "the status line shows the config file's warnings"

tmux -S "$sock" send-keys -t w 4
wait_for w 10 "warn  $zebra"
wait_for w 10 "warn  $mouse"
pass "the monitor's log lists each of them"

tmux -S "$sock" send-keys -t w q
wait_ended w 10
printf 'alleycat: %s\nalleycat: %s\n' "$zebra" "$mouse" | cmp -s - "$dir/stderr" ||
	fail "stderr did not keep the warnings: $(cat "$dir/stderr")"
pass "stderr has them too"
