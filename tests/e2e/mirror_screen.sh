#!/usr/bin/env bash
# hub --mirror (issue 17) on the dashboard: watch on a mirror hub shows, in
# its monitor view, the mirror's lag and the records it copied.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/mirrorlib.sh"

need tmux tmux
sock=$dir/tmux.sock
export TERM=xterm-256color
trap 'tmux -S "$sock" kill-server 2>/dev/null; cleanup' EXIT

start_hub "$dir" race --shards 2
up="http://127.0.0.1:$port"
mirror_port
launch_mirror --mirror "$up"

tmux -S "$sock" new-session -d -s mon -x 120 -y 40 \
	"$ALLEYCAT watch --endpoint ws://127.0.0.1:$mport --stream race --db $dir/watch.db --duration 5 --grace 3600"
sleep 1
tmux -S "$sock" send-keys -t mon 4

screen() { tmux -S "$sock" capture-pane -p -t mon; }
shows() { screen | grep -qE -- "$1"; }

eventually shows 'mirror of race: lag [0-9.]+ ?m?s, .* stored 0, repeated 0, bad 0, unreadable 0' ||
	fail "the monitor view shows no mirror:
$(screen)"
"$ALLEYCAT" sim --endpoint "$up" --stream race --racers 10 --duration 5 --seed 5 --speed 0 \
	--quiet || fail "the simulator failed"
total=$(curl -s "$up/metrics" |
	awk '/^alleycat_shard_records_in_total\{stream="race"/ { n += $2 } END { print n + 0 }')
[ "$total" -gt 0 ] || fail "the upstream holds no records"
eventually shows "mirror of race: lag .* stored $total, repeated 0" ||
	fail "the monitor view does not show the $total records copied:
$(screen)"
pass "the monitor view shows the mirror's lag and the $total records it copied"
