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
