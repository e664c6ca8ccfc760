#!/usr/bin/env bash
# Names on a terminal without UTF-8 (tmux, the dashboard under LANG=C):
# accented letters lose their accents (Tuğba reads Tugba, not Tu?ba),
# escape sequences in a name still reach the screen only as text; under a
# UTF-8 locale the names stay as they were sent.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start ascii
put 995 1 update "1:Tuğba:60.0" "2:Zoë Łódź:55.0" "3:Straße:50.0" '4:\u001b[31mEvil\u0007:45.0'

tmux -S "$sock" new-session -d -s keep "sleep 600"
tmux -S "$sock" new-session -d -s plain -x 100 -y 20 "LANG=C LC_ALL=C $(dash watch '--consumer ascii-plain --db '"$dir"'/plain.db')"
wait_for plain 20 "Race 995"
for name in Tugba "Zoe Lodz" Strasse "?[31mEvil?"; do
	wait_for plain 10 " $name "
done
shows plain "?ba" && fail "a letter became '?' under LANG=C:
$(screen plain)"
pass "LANG=C: the names in ASCII, accents dropped, escapes shown as text"

tmux -S "$sock" new-session -d -s utf8 -x 100 -y 20 "$(dash watch '--consumer ascii-utf8 --db '"$dir"'/utf8.db')"
wait_for utf8 20 "Race 995"
for name in Tuğba "Zoë Łódź" Straße; do
	wait_for utf8 10 " $name "
done
pass "UTF-8: the names as sent"
