#!/usr/bin/env bash
# The end of a race on a real terminal (tmux): watch shows the finished
# race's podium and final standings for a while, then the followed racer's
# next race (not the busiest one); the kiosk holds the finish on screen
# past its rotation. Races are put on a hub by hand, so their order is known.
set -u
. "$top_srcdir/tests/e2e/lib.sh"

screen_test_start finish

# put RACE SECOND EVENT ID:NAME:CADENCE...: one record per racer.
put() {
	local race=$1 second=$2 event=$3 records="" racer id name cadence data
	shift 3
	for racer in "$@"; do
		IFS=: read -r id name cadence <<<"$racer"
		data=$(printf '{"event":"%s","second":%d,"raceId":%d,"name":"%s","racerId":%d,"classId":2,"cadence":%s,"resistance":50.0}' \
			"$event" "$second" "$race" "$name" "$id" "$cadence" | base64 -w0)
		records="$records{\"Data\":\"$data\",\"PartitionKey\":\"$id\"},"
	done
	curl -sf -H 'X-Amz-Target: Kinesis_20131202.PutRecords' \
		-H 'Content-Type: application/x-amz-json-1.1' \
		-d "{\"StreamName\":\"finish\",\"Records\":[${records%,}]}" "http://127.0.0.1:$port/" \
		>/dev/null || fail "cannot put race $race"
}

screen() {
	tmux -S "$sock" capture-pane -p -t "$1"
}

# wait_for SESSION SECONDS TEXT: until the screen shows TEXT.
wait_for() {
	for _ in $(seq $(($2 * 10))); do
		screen "$1" | grep -qF -- "$3" && return 0
		sleep 0.1
	done
	fail "the screen never showed '$3' within $2 s:
$(screen "$1")"
}

# wait_gone SESSION SECONDS TEXT: until the screen no longer shows TEXT.
wait_gone() {
	for _ in $(seq $(($2 * 10))); do
		screen "$1" | grep -qF -- "$3" || return 0
		sleep 0.1
	done
	fail "the screen still showed '$3' after $2 s:
$(screen "$1")"
}

dash() {
	echo "$ALLEYCAT $1 --endpoint ws://127.0.0.1:$port --stream finish --db $dir/$1.db" \
		"--consumer finish-$1 --duration 5 --window 1 --grace 3600 $2"
}

tmux -S "$sock" new-session -d -s keep "sleep 600"
tmux -S "$sock" new-session -d -s watch -x 100 -y 30 "$(dash watch '--racer 13')"

# Race 501 runs, then every racer sends "final": it ends.
put 501 4 update 11:Ann:40.0 12:Bo:50.0 13:Cy:60.0 14:Di:70.0
wait_for watch 20 "Race 501"
put 501 5 final 11:Ann:40.0 12:Bo:50.0 13:Cy:60.0 14:Di:70.0
wait_for watch 20 "FINISHED"
podium=$(screen watch | grep -E '^ +(1st|2nd|3rd) ' | awk '{ print $1 $2 }' | tr '\n' ' ')
[ "$podium" = "1stDi 2ndCy 3rdBo " ] || fail "the podium is not Di, Cy, Bo: '$podium'
$(screen watch)"
screen watch | grep -Eq '^ +4 +Ann ' || fail "the final standings lack Ann in 4th:
$(screen watch)"

# The followed racer rides again in race 502, while race 503 has more
# racers. The finish stays up for a while, then watch shows race 502.
put 502 1 update 13:Cy:60.0
put 503 1 update 21:Eli:50.0 22:Fay:55.0 23:Gil:58.0
sleep 5
screen watch | grep -qF "FINISHED" || fail "the finish was gone within 5 s:
$(screen watch)"
wait_for watch 30 "Race 502"
screen watch | grep -qF "Cy" || fail "the followed racer is not in sight:
$(screen watch)"
tmux -S "$sock" send-keys -t watch q

# The kiosk, rotating every 2 s, stops on the finish and holds it.
tmux -S "$sock" new-session -d -s kiosk -x 100 -y 30 "$(dash kiosk '--rotate 2')"
wait_for kiosk 20 " kiosk: "
put 601 5 final 31:Hal:40.0 32:Ida:50.0
wait_for kiosk 30 "FINISHED"
sleep 5
screen kiosk | grep -qF "FINISHED" || fail "the kiosk rotated away from the finish within 5 s:
$(screen kiosk)"
wait_gone kiosk 30 "FINISHED"

pass "finish"
