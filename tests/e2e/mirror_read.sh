#!/usr/bin/env bash
# hub --mirror --read (issue 17): a mirror reads its upstream by the push
# (ws://, or --read push) or by SubscribeToShard (http://, or --read efo).
# A chain of both, upstream -> city (push) -> gym (efo), serves boards the
# standings a board on the upstream prints. Bad uses are refused with a
# clear message: polling (it does not mirror yet), --read without
# --mirror, and an upstream whose sequence numbers are wider than a hub's
# 77 digits (the API allows 129), which must not be taken for a malformed
# answer.
set -u
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/mirrorlib.sh"

need python3 python3

start_hub "$dir" race --shards 2
up="http://127.0.0.1:$port"
mirror_port_after "$port"
city=$mirror
launch_mirror --mirror "ws://127.0.0.1:$port" --log-level info
extra_pids+=("$mirror_pid")
mirror_port_after "$mport"
gym=$mirror
launch_mirror --mirror "$city" --log-level info

grep -q "mirroring stream race of ws://127.0.0.1:$port as race (push)" "$dir/mirror.log" ||
	fail "the city does not read by the push: $(cat "$dir/mirror.log")"
grep -q "mirroring stream race of $city as race (efo)" "$dir/mirror.log" ||
	fail "the gym does not read by SubscribeToShard: $(cat "$dir/mirror.log")"

"$ALLEYCAT" sim --endpoint "$up" --stream race --racers 20 --duration 6 --seed 8 --class 5 \
	--speed 0 --quiet || fail "the simulator failed"
total=$(curl -s "$up/metrics" |
	awk '/^alleycat_shard_records_in_total\{stream="race"/ { n += $2 } END { print n + 0 }')
gym_has_all() { [ "$(mirrored "$gym" stored)" = "$total" ]; }
wait_for gym_has_all || fail "the gym stored $(mirrored "$gym" stored) of $total records"

board() {
	"$ALLEYCAT" board --endpoint "$1" --stream race --db "$dir/$2.db" --consumer "$2" \
		--duration 6 --grace 2 --until-finished --format csv || fail "board $2 failed"
}
reference=$(board "$up" reference)
[ "$(board "$gym" gym)" = "$reference" ] || fail "the gym's standings differ from the upstream's"
pass "upstream -> push -> city -> SubscribeToShard -> gym: the gym's board equals the upstream's"

# refused STATUS OPTION...: the hub exits with STATUS; its message in out.
refused() {
	local want=$1 status
	shift
	out=$("$ALLEYCAT" hub --listen "127.0.0.1:$spare_port" "$@" 2>&1)
	status=$?
	[ "$status" = "$want" ] || fail "hub $* exited $status, not $want: $out"
}
spare_port=$((mport + 2))
refused 2 --mirror "$up" --read polling
expect_match "$out" 'polling does not mirror yet' "--read polling"
refused 2 --read efo
expect_match "$out" '--read needs --mirror' "--read without --mirror"
pass "--read polling and --read without --mirror are refused"

# An upstream that answers ListShards with 80-digit numbers.
wide_port=$((mport + 1))
python3 - "$wide_port" >"$dir/wide.log" 2>&1 <<'PY' &
import http.server, json, sys
class Upstream(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        body = json.dumps({"Shards": [{
            "ShardId": "shardId-000000000000",
            "HashKeyRange": {"StartingHashKey": "0",
                             "EndingHashKey": str(2 ** 128 - 1)},
            "SequenceNumberRange": {"StartingSequenceNumber":
                "4965418304949829093412773489340727163485892539821339443449654183049498290934"
                "1277"}}]}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/x-amz-json-1.1')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Upstream).serve_forever()
PY
extra_pids+=($!)
answers "http://127.0.0.1:$wide_port" 5 || fail "the fake upstream did not start: $(cat "$dir/wide.log")"
refused 1 --mirror "http://127.0.0.1:$wide_port"
expect_match "$out" 'wider than the 77 digits a hub keeps' "an upstream of 80-digit numbers"
pass "an upstream of 80-digit sequence numbers is refused, and says why"
