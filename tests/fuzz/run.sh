#!/bin/sh
# Runs one libFuzzer target for a bounded time (called by `make fuzz`).
#
#   run.sh FUZZER NAME SRCDIR SECONDS OUTDIR
#
# New inputs go to OUTDIR/corpus/NAME; the seeds (tests/fuzz/corpus/NAME)
# and the crashes found before (tests/fuzz/regressions/NAME) are read, not
# written. A crash, leak, timeout or out-of-memory is copied into
# tests/fuzz/regressions/NAME, where `make check` replays it from then on,
# and printed in base64, since a CI machine's files do not outlive the run.
set -u
fuzzer=$1 name=$2 srcdir=$3 seconds=$4 out=$5

corpus=$out/corpus/$name
artifacts=$out/artifacts/$name
regressions=$srcdir/tests/fuzz/regressions/$name
mkdir -p "$corpus" "$artifacts" || exit 1
rm -f "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*

echo "fuzz $name: ${seconds} s"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-dict="$srcdir/tests/fuzz/alleycat.dict" -artifact_prefix="$artifacts/" \
	-print_final_stats=1 "$corpus" "$srcdir/tests/fuzz/corpus/$name" \
	$( [ -d "$regressions" ] && echo "$regressions" ) >"$out/$name.log" 2>&1
status=$?
tail -n 25 "$out/$name.log"

found=$(ls "$artifacts" 2>/dev/null)
if [ "$status" -eq 0 ] && [ -z "$found" ]; then
	echo "fuzz $name: nothing found"
	exit 0
fi
echo "fuzz $name: FAILED (status $status); full log: $out/$name.log"
for f in $found; do
	if mkdir -p "$regressions" 2>/dev/null && cp "$artifacts/$f" "$regressions/$f" 2>/dev/null; then
		echo "fuzz $name: saved $regressions/$f: fix the bug, then commit the file"
	else
		echo "fuzz $name: $artifacts/$f (the source tree is read-only)"
	fi
	echo "fuzz $name: $f in base64:"
	head -c 65536 "$artifacts/$f" | base64
done
exit 1
