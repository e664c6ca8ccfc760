# Helpers for the screen tests of races put on a hub by hand (tmux): a
# hub and a tmux server and records of known racers; the waits on the
# screen are lib.sh's. Sourced after lib.sh.

# screen_test_start STREAM [HUB OPTION]...: needs tmux and curl, sets dir
# (removed at exit), sock (the tmux server's, killed at exit), a fixed
# UTF-8 terminal, and starts a hub serving STREAM, the stream `put` writes
# to.
screen_test_start() {
	need tmux tmux
	need curl curl
	stream=$1
	shift
	dir=$(mktemp -d)
	sock=$dir/tmux.sock
	export ALLEYCAT_CONFIG=/dev/null LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color
	trap 'tmux -S "$sock" kill-server 2>/dev/null; [ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null; rm -rf "$dir"' EXIT
	start_hub "$dir" "$stream" "$@"
}

# put RACE SECOND EVENT ID:NAME:CADENCE...: one record per racer, of class
# $CLASS (default 2); the higher the cadence, the higher the output.
put() {
	local race=$1 second=$2 event=$3 class=${CLASS:-2} records="" racer id name cadence data
	shift 3
	for racer in "$@"; do
		IFS=: read -r id name cadence <<<"$racer"
		data=$(printf '{"event":"%s","second":%d,"raceId":%d,"name":"%s","racerId":%d,"classId":%d,"cadence":%s,"resistance":50.0}' \
			"$event" "$second" "$race" "$name" "$id" "$class" "$cadence" | base64 -w0)
		records="$records{\"Data\":\"$data\",\"PartitionKey\":\"$id\"},"
	done
	curl -sf -H 'X-Amz-Target: Kinesis_20131202.PutRecords' \
		-H 'Content-Type: application/x-amz-json-1.1' \
		-d "{\"StreamName\":\"$stream\",\"Records\":[${records%,}]}" "http://127.0.0.1:$port/" \
		>/dev/null || fail "cannot put race $race"
}

# ladder N: racers 1 to N (named R1 to RN) for put, in the array racers;
# the higher the id the faster, so racer N leads and racer 1 is last.
ladder() {
	racers=()
	for i in $(seq "$1"); do
		racers+=("$i:R$i:$(printf '%d.%d' $((30 + i / 5)) $((i % 5 * 2)))")
	done
}

# dash COMMAND OPTIONS: a watch or kiosk command line for this hub, with
# races of 5 s, commits every second and races that end only when final.
dash() {
	echo "$ALLEYCAT $1 --endpoint ws://127.0.0.1:$port --stream $stream --db $dir/$1.db" \
		"--consumer $stream-$1 --duration 5 --window 1 --grace 3600 ${2:-}"
}
