#!/usr/bin/env bash
# Names a user types travel as JSON strings, escaped: a stream name with a
# quote and a backslash reaches the hub as valid JSON, so the hub refuses
# the name (ValidationException), never the request (SerializationException).
set -u
. "$top_srcdir/tests/e2e/lib.sh"

need curl curl

dir=$(mktemp -d)
cleanup() {
	[ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

start_hub "$dir" alleycat
name='a"b\c'

err=$("$ALLEYCAT" hub reshard --endpoint "http://127.0.0.1:$port" --stream "$name" \
	--shards 2 2>&1 >/dev/null)
expect_match "$err" "ValidationException" "hub reshard of a stream named $name"
err=$("$ALLEYCAT" sim --endpoint "http://127.0.0.1:$port" --stream "$name" --create-stream \
	--racers 1 --duration 1 --speed 0 --quiet 2>&1 >/dev/null)
expect_match "$err" "ValidationException" "sim --create-stream of a stream named $name"
pass "names"
