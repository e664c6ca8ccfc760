# What the hub --mirror tests share: a scratch directory cleaned up with
# the hubs, the Kinesis API over curl, and a mirror hub beside the
# upstream. Source it after lib.sh.

need curl curl

dir=$(mktemp -d)
export ALLEYCAT_CONFIG=/dev/null LANG=C.UTF-8 LC_ALL=C.UTF-8
mirror_pid=
extra_pids=()
cleanup() {
	[ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null
	[ -n "$mirror_pid" ] && kill "$mirror_pid" 2>/dev/null
	for p in "${extra_pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT

# call URL OPERATION JSON: a Kinesis API call with curl; the answer's body.
call() {
	curl -s -X POST "$1/" -H 'Content-Type: application/x-amz-json-1.1' \
		-H "X-Amz-Target: Kinesis_20131202.$2" --data "$3"
}

# mirror_port: sets mport and mirror for a mirror hub on a free port.
mirror_port() {
	mport=$(free_port)
	mirror="http://127.0.0.1:$mport"
}

# launch_mirror OPTION...: a hub on $mport, its output in mirror.log, once
# it answers; another port (mport and mirror change) when a test running
# beside took this one first.
launch_mirror() {
	local try from
	for try in 1 2 3 4 5; do
		from=1
		[ -f "$dir/mirror.log" ] && from=$(($(wc -l <"$dir/mirror.log") + 1))
		"$ALLEYCAT" hub --listen "127.0.0.1:$mport" --stream race "$@" >>"$dir/mirror.log" 2>&1 &
		mirror_pid=$!
		answers "$mirror" 5 && return 0
		tail -n +"$from" "$dir/mirror.log" | grep -qi 'address already in use' || break
		wait "$mirror_pid" 2>/dev/null
		mirror_port
	done
	fail "the mirror did not start: $(cat "$dir/mirror.log")"
}

# mirrored URL OUTCOME: the count of records with that outcome of the
# mirror at URL.
mirrored() {
	curl -s "$1/metrics" |
		sed -n "s/^alleycat_mirror_records_total{stream=\"race\",outcome=\"$2\"} //p"
}

# eventually COMMAND...: up to 20 s (a consumer's backoff after a lost
# upstream reaches 8 s) for COMMAND to succeed; its status at the end.
eventually() {
	for _ in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
