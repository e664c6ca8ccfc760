#!/usr/bin/env bash
# The dashboard's cost: `alleycat watch` (default delay) on a race of
# 1,000 racers sending one record a second each, on a terminal of 120x40.
# Prints the watch process's CPU share and the bytes it writes to the
# terminal per second, as rows of the benchmark table.
set -u
alleycat=${ALLEYCAT:?ALLEYCAT must name the alleycat binary}
seconds=30
[ "${1:-}" = --quick ] && seconds=8
dir=$(mktemp -d)
port=$((40000 + RANDOM % 10000))
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	pkill -f "consumer bench-dash" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

run() {
	exec env -i PATH="$PATH" HOME="$dir" ALLEYCAT_CONFIG=/dev/null "$@"
}

run "$alleycat" hub --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
run "$alleycat" sim --endpoint "http://127.0.0.1:$port" --racers 1000 --speed 1 --quiet >/dev/null 2>&1 &
pids+=($!)
sleep 2

# script(1) gives watch a terminal and keeps everything written to it;
# its input is a pipe held open and silent (no keys).
mkfifo "$dir/keys"
exec 3<>"$dir/keys"
script -qfc "stty cols 120 rows 40; exec env TERM=xterm-256color LANG=C.UTF-8 ALLEYCAT_CONFIG=/dev/null \
	$alleycat watch --endpoint ws://127.0.0.1:$port --db $dir/h.db --consumer bench-dash" \
	"$dir/screen" <&3 >/dev/null 2>&1 &
pids+=($!)
sleep 5
watch=$(pgrep -f "consumer bench-dash" | grep -v "^$$\$" | while read -r p; do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = alleycat ] && echo "$p"; done | head -1)
if [ -z "$watch" ]; then
	echo "bench_dash: watch did not start" >&2
	exit 1
fi
ticks() { awk '{ print $14 + $15 }' "/proc/$watch/stat"; }
t0=$(ticks); b0=$(stat -c %s "$dir/screen")
sleep "$seconds"
t1=$(ticks); b1=$(stat -c %s "$dir/screen")
hz=$(getconf CLK_TCK)
cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.2f", t / hz / s * 100 }')
bytes=$(( (b1 - b0) / seconds ))
echo "| dashboard | watch CPU share, 1,000 racers at 1 Hz, default delay, 120x40 | $cpu % of a core | <= 2% of a core |"
echo "| dashboard |   bytes written to the terminal per second | $bytes B/s |  |"
