# Table columns as a person sees them, for the end-to-end tests. Positions
# count characters (the tests run in a UTF-8 locale), so neither a name
# with accents nor the leader's dash can hide a cell out of line.

# title_end HEAD TITLE: the column (0-based) just past the word TITLE of HEAD.
title_end() {
	local head=" $1 " before
	case $head in *" $2 "*) ;; *) return 1 ;; esac
	before=${head%%" $2 "*}
	echo $((${#before} + ${#2}))
}

# word_ending LINE END: the word of LINE whose last character is just
# before column END; nothing when no word ends there.
word_ending() {
	local line=$1 end=$2 head
	[ "${#line}" -ge "$end" ] || return 1
	[ "$end" -eq "${#line}" ] || [ "${line:end:1}" = " " ] || return 1
	head=${line:0:end}
	printf '%s' "${head##* }"
}

# expect_column HEAD ROWS TITLE REGEX: in every line of ROWS the word that
# ends where TITLE ends in HEAD matches REGEX. Right-aligned cells with one
# number of decimals have their points one above the other.
expect_column() {
	local end line word rows=0
	end=$(title_end "$1" "$3") || fail "no column '$3' in the heading: $1"
	while IFS= read -r line; do
		word=$(word_ending "$line" "$end")
		[[ $word =~ ^($4)$ ]] || fail "column '$3' holds '$word' where /$4/ should end (column $end):
$1
$line"
		rows=$((rows + 1))
	done <<<"$2"
	[ "$rows" -gt 1 ] || fail "column '$3': fewer than two rows to compare"
}

# Cells: two decimals (scores, outputs), one (cadence, resistance), a gap
# or the leader's dash.
TWO_DECIMALS='[0-9]+\.[0-9]{2}'
ONE_DECIMAL='[0-9]+\.[0-9]'
GAP='\+[0-9]+\.[0-9]{2}|—|-'

# The words over the columns of a race's standings, with their units: the
# same in every command (the text tables of board and history capitalise
# the first letter of a word that is not a unit).
RACE_LABELS=("id" "name" "score W" "last W" "rpm" "res %" "gap W")

# expect_race_labels HEAD [Capitalised]: HEAD has every one of the labels.
expect_race_labels() {
	local label
	for label in "${RACE_LABELS[@]}"; do
		[ -n "${2:-}" ] && [ "$label" != rpm ] && label=${label^}
		title_end "$1" "$label" >/dev/null || fail "no column '$label' in the heading: $1"
	done
}
