#!/usr/bin/env bash
# The command line as a user meets it: help, version, exit statuses, and a
# manual that names every command and option that --help shows.
set -u
. "$top_srcdir/tests/e2e/lib.sh"

out=$("$ALLEYCAT" --help) || fail "--help exits non-zero"
expect_match "$out" "Usage: alleycat COMMAND" "--help shows the usage"
[ "$("$ALLEYCAT" help)" = "$out" ] || fail "'alleycat help' differs from --help"

out=$("$ALLEYCAT" --version) || fail "--version exits non-zero"
expect_match "$out" "^alleycat [0-9]+\.[0-9]+\.[0-9]+$" "--version prints the version"

expect_status 2 "$ALLEYCAT"
expect_status 2 "$ALLEYCAT" no-such-command
expect_status 2 "$ALLEYCAT" --no-such-option
err=$("$ALLEYCAT" no-such-command 2>&1 >/dev/null)
expect_match "$err" "^alleycat: unknown command 'no-such-command'" "unknown command is named"

expect_error 2 "alleycat: unknown command 'bord' (did you mean board?)
Try 'alleycat --help' for more information." "$ALLEYCAT" bord

# An option error names the nearest option, in every command.
try_help() {
	printf "Try 'alleycat %s --help' for more information." "$1"
}
expect_error 2 "alleycat: unknown option '--onec' (did you mean --once?)
$(try_help board)" "$ALLEYCAT" board --onec
expect_error 2 "alleycat: unknown option '--formt' (did you mean --format?)
$(try_help history)" "$ALLEYCAT" history --formt csv
expect_error 2 "alleycat: unknown option '--lsten' (did you mean --listen?)
$(try_help hub)" "$ALLEYCAT" hub --lsten 127.0.0.1:1
expect_error 2 "alleycat: unknown option '--shrds' (did you mean --shards?)
$(try_help hub)" "$ALLEYCAT" hub reshard --shrds 2
expect_error 2 "alleycat: unknown option '--rcers' (did you mean --racers?)
$(try_help sim)" "$ALLEYCAT" sim --rcers 5
expect_error 2 "alleycat: unknown option '--no-colour' (did you mean --no-color?)
$(try_help watch)" "$ALLEYCAT" watch --no-colour
expect_error 2 "alleycat: unknown option '--rotte' (did you mean --rotate?)
$(try_help kiosk)" "$ALLEYCAT" kiosk --rotte=5
expect_error 2 "alleycat: unknown option '--sped' (did you mean --speed?)
$(try_help demo)" "$ALLEYCAT" demo --sped 2
expect_error 2 "alleycat: unknown option '--zebra'
$(try_help board)" "$ALLEYCAT" board --zebra
expect_error 2 "alleycat: '--rac' is ambiguous: --race, --racer
$(try_help history)" "$ALLEYCAT" history --rac 5
expect_error 2 "alleycat: --format needs a value
$(try_help board)" "$ALLEYCAT" board --format
expect_error 2 "alleycat: --once takes no value
$(try_help board)" "$ALLEYCAT" board --once=yes
expect_error 2 "alleycat: --race is an option of watch only
$(try_help kiosk)" "$ALLEYCAT" kiosk --race 5
expect_error 2 "alleycat: --rotate is an option of kiosk only
$(try_help watch)" "$ALLEYCAT" watch --rotate 5

# Ranges read as a person writes them; a type's largest value is no limit.
expect_error 2 "alleycat: --speed: 'fast' is not a number from 0 to 1000000
$(try_help sim)" "$ALLEYCAT" sim --speed fast
expect_error 2 "alleycat: --speed: '0' is not a number from 0.1 to 1000
$(try_help demo)" "$ALLEYCAT" demo --speed 0
expect_error 2 "alleycat: --race: 'x' is not a whole number of 0 or more
$(try_help board)" "$ALLEYCAT" board --race x
expect_error 2 "alleycat: --top: '0' is not a whole number from 1 to 1000000
$(try_help history)" "$ALLEYCAT" history --top 0
expect_error 2 "alleycat: --log-level: 'loud' is not error, warn, info or debug
$(try_help hub)" "$ALLEYCAT" hub --log-level loud

manual="$top_srcdir/docs/alleycat.1"
commands=$("$ALLEYCAT" help | sed -n 's/^  \([a-z]\+\) .*/\1/p')
[ -n "$commands" ] || fail "help lists no commands"
for c in $commands; do
	"$ALLEYCAT" "$c" --help >/dev/null || fail "'alleycat $c --help' exits non-zero"
	[ "$("$ALLEYCAT" help "$c")" = "$("$ALLEYCAT" "$c" --help)" ] ||
		fail "'alleycat help $c' differs from 'alleycat $c --help'"
	grep -q "^\.SS \"\?$c\b" "$manual" || fail "the manual has no section for '$c'"
	for opt in $("$ALLEYCAT" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -- "${opt//-/\\\\-}" "$manual" || fail "the manual does not describe $c $opt"
	done
done
# The config file template names only options that exist, each under a
# command that has it (lines before any section: under some command).
section=""
while IFS= read -r line; do
	case $line in
	"["*"]") section=${line#[}; section=${section%]} ;;
	"#"[a-z]*" = "*)
		opt=${line#\#}; opt=${opt%% = *}
		if [ -n "$section" ]; then
			"$ALLEYCAT" "$section" --help | grep -q -- "--$opt" ||
				fail "data/config: [$section] $opt is not an option of $section"
		else
			found=""
			for c in $commands; do
				"$ALLEYCAT" "$c" --help | grep -q -- "--$opt" && found=$c
			done
			[ -n "$found" ] || fail "data/config: $opt is not an option of any command"
		fi ;;
	esac
done <"$top_srcdir/data/config"
pass "cli"
