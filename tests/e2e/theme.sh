#!/usr/bin/env bash
# Colours on a real terminal (tmux, read back with capture-pane -e, which
# keeps the colours and attributes as escape sequences): rows that changed
# rank have a background of their own on 8 colours (bold white on the
# default background vanishes on a light terminal), and --theme light (or
# theme = light in the config file) draws in darker colours than dark.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/racescreen.sh"

screen_test_start theme
esc=$'\033'

# styled SESSION: the screen with its colours.
styled() {
	tmux -S "$sock" capture-pane -e -p -t "$1"
}

# line_styled SESSION TEXT REGEX: the line of the screen showing TEXT has
# REGEX in its escape sequences.
line_styled() {
	styled "$1" | grep -F -- "$2" | head -1 | grep -qE -- "$3"
}

# Cy leads Bob, then Ann passes both: Cy and Bob lose a place.
put 970 1 update 1:Ann:40.0 2:Bob:50.0 3:Cy:60.0
tmux -S "$sock" new-session -d -s keep "sleep 600"

# start NAME TERM OPTIONS: a watch on a terminal of type TERM, the race shown.
start() {
	tmux -S "$sock" new-session -d -s "$1" -x 100 -y 20 "TERM=$2 ${3:-} $(dash watch "--consumer theme-$1 --db $dir/$1.db ${4:-}")"
	wait_for "$1" 20 "Race 970"
}

# On 8 colours (TERM=screen), dark and light: the heading in cyan on
# dark, blue on light; the changed row black on cyan in both.
start dark screen
start light screen "" "--theme light"
line_styled dark "Race 970" "${esc}\[36m" || fail "the dark heading is not cyan: $(styled dark | head -3 | cat -v)"
line_styled light "Race 970" "${esc}\[34m" || fail "the light heading is not blue: $(styled light | head -3 | cat -v)"
put 970 2 update 1:Ann:99.0
for s in dark light; do
	within 10 line_styled $s " Cy " "${esc}\[46m" ||
		fail "the changed row on 8 colours ($s) has no background of its own: $(styled $s | cat -v)"
done
pass "8 colours: changed rows on a background of their own, the heading by theme"

# On 256 colours: the heading in colour 117 on dark, 25 on light; the
# config file chooses the theme too.
printf 'theme = light\n' >"$dir/config"
start dark256 tmux-256color
start light256 tmux-256color "ALLEYCAT_CONFIG=$dir/config"
line_styled dark256 "Race 970" "38;5;117m" || fail "the dark heading is not colour 117: $(styled dark256 | head -3 | cat -v)"
line_styled light256 "Race 970" "38;5;25m" || fail "theme = light did not darken the heading: $(styled light256 | head -3 | cat -v)"
pass "256 colours: the heading by theme, from the option and the config file"
