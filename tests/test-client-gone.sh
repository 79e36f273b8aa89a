#!/bin/bash
# A client that vanishes mid-job: its job is cancelled, its qemu go away, and
# the daemon keeps serving; a private daemon whose client vanishes exits.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon dbus-send
ensure_fixtures
start_bus

wait_for_log() { # REGEX SECONDS
        local i
        for ((i = 0; i < $2 * 5; i++)); do
                daemon_log | grep -qE "$1" && return 0
                sleep 0.2
        done
        daemon_log | tail -n 20 >&2
        fail "no '$1' in the daemon's log after $2 s"
}

"$VIRT_DIFF" -q "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img" >/dev/null 2>&1 &
client=$!
wait_for_log "Job [0-9]+ started" 30
sleep 2 # into the launch
kill -KILL $client
wait $client 2>/dev/null || true
start=$EPOCHREALTIME
wait_for_log "Client of job [0-9]+ disconnected, cancelling it" 10
wait_for_log "Job [0-9]+ cancelled" 10
took=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }")
assert_no_qemu 10
pass "client killed mid-job: its job cancelled ${took}s later, no qemu left"
daemon_answers || fail "the daemon does not answer after its client vanished"
pass "the daemon still serves"

# A private daemon lives as long as its client's socket.
# An appliance, so that the diff is still running when its client goes.
"$VIRT_DIFF" --private --engine=appliance -q "$FIXTURES/same-1.img" "$FIXTURES/same-2.img" >/dev/null 2>&1 &
client=$!
for ((i = 0; i < 100; i++)); do
        [ -n "$(marked_pids '^virt-diffd$' | grep -v "^$(daemon_pid)\$")" ] && break
        sleep 0.1
done
private=$(marked_pids '^virt-diffd$' | grep -v "^$(daemon_pid)\$" || true)
[ -n "$private" ] || fail "no private daemon started"
sleep 3
kill -KILL $client
wait $client 2>/dev/null || true
for ((i = 0; i < 150; i++)); do
        kill -0 $private 2>/dev/null || break
        sleep 0.2
done
kill -0 $private 2>/dev/null && fail "the private daemon $private outlived its client by 30 s"
assert_no_qemu 10
pass "client of a private daemon killed: the daemon exited, no qemu left"
