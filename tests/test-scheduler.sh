#!/bin/bash
# The scheduler: with one job running at a time, eight clients submitting at
# once all queue (State queued, QueuePosition 1..8) and all complete with
# the right result; a full queue answers TooManyJobs; a refused Compare
# takes no job id; a queued job can be cancelled; the daemon tells systemd
# READY=1, its STATUS and WATCHDOG=1. Launches: one pair to fill the cache, one pair
# for the job that holds the slot; the eight use the cache.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon busctl
ensure_fixtures
DAEMON_ARGS="--pool-size=0 --max-running=1 --max-queue=9 --max-jobs-per-caller=3 --no-direct"
start_bus

A=$FIXTURES/kinds-a.img
B=$FIXTURES/kinds-b.img

job_prop() { # PATH PROPERTY
        busctl --user get-property org.virtdiff.VirtDiff1 "$1" org.virtdiff.VirtDiff1.Job "$2" | awk '{print $2}'
}

list_jobs() {
        busctl --user call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager ListJobs |
                grep -o '"[^"]*"' | tr -d '"'
}

# ---- sd_notify: our own daemon instance, with a notification socket ----
"$PYTHON" - "$TEST_TMPDIR/notify.sock" "$TEST_TMPDIR/notify.log" <<-'PY' &
	import os, socket, sys, time
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(sys.argv[1])
	open(sys.argv[1] + ".ready", "w").close()
	s.settimeout(60)
	seen = []
	with open(sys.argv[2], "w") as log:
	    while not all(any(w in m for m in seen) for w in ("READY=1", "STATUS=", "WATCHDOG=1")):
	        m = s.recv(4096).decode()
	        seen.append(m)
	        log.write(m.replace("\n", " ") + "\n")
	        log.flush()
	PY
receiver=$!
for ((i = 0; i < 50; i++)); do
        [ -e "$TEST_TMPDIR/notify.sock.ready" ] && break
        sleep 0.1
done
# WATCHDOG_PID names the daemon itself: sh execs it under its own pid.
NOTIFY_SOCKET=$TEST_TMPDIR/notify.sock WATCHDOG_USEC=2000000 \
        sh -c 'WATCHDOG_PID=$$ exec "$0" "$@"' "$VIRT_DIFFD" --session --idle-timeout=0 $DAEMON_ARGS \
        2>>"$TEST_TMPDIR/bus.log" &
wait $receiver || fail "no READY=1, STATUS= and WATCHDOG=1 within 60 s: $(cat "$TEST_TMPDIR/notify.log")"
assert_contains "$TEST_TMPDIR/notify.log" "READY=1"
assert_contains "$TEST_TMPDIR/notify.log" "STATUS=0 running, 0 queued, 0 warm"
pass "sd_notify: READY=1 once the bus name is ours, a STATUS line, WATCHDOG=1 as WATCHDOG_USEC asks"

# ---- fill the cache for A and B (one launch pair) ----
run_virt_diff "$TEST_TMPDIR/ref.json" "$TEST_TMPDIR/err" --json "$A" "$B"
assert_rc 1 "$TEST_TMPDIR/err"

# ---- a slow job takes the only slot (uncached: a launch pair) ----
slow=$(bus_compare "$FIXTURES/same-1.img" "$FIXTURES/same-2.img" 1 detached b true) || fail "slow Compare failed"
slow_id=${slow##*/}
for ((i = 0; i < 300; i++)); do
        [ "$(job_prop "$slow" State)" = 2 ] && break
        sleep 0.1
done
[ "$(job_prop "$slow" State)" = 2 ] || fail "the first job does not run"

# ---- one caller may have at most 3 jobs (--max-jobs-per-caller) ----
# One connection: three Compares queue behind the slow job, the fourth is
# refused (and takes no id); then the three are cancelled.
"$PYTHON" - "$A" "$B" <<-'PY' || fail "jobs per caller"
	import dbus, sys
	bus = dbus.SessionBus()
	mgr = dbus.Interface(bus.get_object("org.virtdiff.VirtDiff1", "/org/virtdiff/VirtDiff1"),
	                     "org.virtdiff.VirtDiff1.Manager")
	def side(p):
	    return dbus.Array([dbus.Dictionary({"path": dbus.String(p, variant_level=1)}, signature="sv")],
	                      signature="a{sv}")
	jobs = [mgr.Compare(side(sys.argv[1]), side(sys.argv[2]), dbus.Dictionary({}, signature="sv"))
	        for _ in range(3)]
	try:
	    mgr.Compare(side(sys.argv[1]), side(sys.argv[2]), dbus.Dictionary({}, signature="sv"))
	    sys.exit("a fourth job of one caller was accepted")
	except dbus.DBusException as e:
	    if e.get_dbus_name() != "org.virtdiff.VirtDiff1.Error.TooManyJobs":
	        sys.exit("fourth job: %s: %s" % (e.get_dbus_name(), e.get_dbus_message()))
	    print("ok - jobs per caller: the fourth Compare of one connection: %s" % e.get_dbus_message())
	for j in jobs:
	    bus.get_object("org.virtdiff.VirtDiff1", j).Cancel(dbus_interface="org.virtdiff.VirtDiff1.Job")
	for j in jobs:
	    try:
	        bus.get_object("org.virtdiff.VirtDiff1", j).Wait(dbus_interface="org.virtdiff.VirtDiff1.Job")
	        sys.exit("%s: not cancelled" % j)
	    except dbus.DBusException as e:
	        if e.get_dbus_name() != "org.virtdiff.VirtDiff1.Error.Cancelled":
	            sys.exit("%s: %s" % (j, e.get_dbus_name()))
	PY
mine=3 # the ids those three took

# ---- eight clients at once ----
clients=()
for n in 1 2 3 4 5 6 7 8; do
        "$VIRT_DIFF" -q --json "$A" "$B" >"$TEST_TMPDIR/c$n.json" 2>"$TEST_TMPDIR/c$n.err" </dev/null &
        clients+=($!)
done
positions=
for ((i = 0; i < 300; i++)); do
        positions=$(for j in $(list_jobs); do
                [ "$j" = "$slow" ] && continue
                if [ "$(job_prop "$j" State)" = 1 ]; then job_prop "$j" QueuePosition; fi
        done | sort -n | tr '\n' ' ')
        [ "$positions" = "1 2 3 4 5 6 7 8 " ] && break
        sleep 0.2
done
[ "$positions" = "1 2 3 4 5 6 7 8 " ] || fail "queued positions: '$positions', expected 1 to 8"
[ "$(job_prop "$slow" State)" = 2 ] || fail "the slow job finished before all eight were seen queued"
pass "eight clients: all queued behind the running job, positions 1 to 8"

# ---- the queue is full: 1 running + 8 + 1 = max-running + max-queue ----
tenth=$(bus_compare "$A" "$B" 1 detached b true) || fail "the tenth job was refused"
[ "${tenth##*/}" = $((slow_id + mine + 9)) ] ||
        fail "job ids: the tenth is $tenth, expected id $((slow_id + mine + 9))"
[ "$(job_prop "$tenth" QueuePosition)" = 9 ] || fail "the tenth job is not ninth in the queue"
err=$(busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager Compare \
        'aa{sv}aa{sv}a{sv}' 1 1 path s "$A" 1 1 path s "$B" 0)
[[ $err == org.virtdiff.VirtDiff1.Error.TooManyJobs:* ]] || fail "full queue: $err"
pass "full queue: $err"

# ---- a queued job cancelled ----
busctl --user call org.virtdiff.VirtDiff1 "$tenth" org.virtdiff.VirtDiff1.Job Cancel >/dev/null
err=$(busctl_error call org.virtdiff.VirtDiff1 "$tenth" org.virtdiff.VirtDiff1.Job Wait)
[[ $err == org.virtdiff.VirtDiff1.Error.Cancelled:* ]] || fail "cancelled queued job: $err"
pass "a queued job cancelled: $err"

# ---- refusals take no id ----
err=$(busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager Compare \
        'aa{sv}aa{sv}a{sv}' 1 1 path s "$TEST_TMPDIR/no-such.img" 1 1 path s "$B" 0)
[[ $err == org.virtdiff.VirtDiff1.Error.NoSuchFile:* ]] || fail "missing image: $err"
next=$(bus_compare "$A" "$B" 1 detached b true) || fail "Compare after the refusals failed"
[ "${next##*/}" = $((slow_id + mine + 10)) ] ||
        fail "refusals used job ids: got $next, expected id $((slow_id + mine + 10))"
pass "TooManyJobs and NoSuchFile used no job id: the next job is ${next##*/}"

# ---- everyone completes, with the right result ----
for n in 1 2 3 4 5 6 7 8; do
        rc=0
        wait "${clients[n - 1]}" || rc=$?
        [ $rc = 1 ] || { cat "$TEST_TMPDIR/c$n.err" >&2; fail "client $n: exit status $rc, expected 1"; }
        "$PYTHON" - "$TEST_TMPDIR/ref.json" "$TEST_TMPDIR/c$n.json" <<-'PY' || fail "client $n: another result"
		import json, sys
		a, b = (json.load(open(p)) for p in sys.argv[1:])
		sys.exit(a["changes"] != b["changes"] or a["filesystems"] != b["filesystems"])
		PY
done
out=$(busctl --user call org.virtdiff.VirtDiff1 "$slow" org.virtdiff.VirtDiff1.Job Wait)
[ "$out" = "ub 3 false" ] || fail "the slow job: $out"
out=$(busctl --user call org.virtdiff.VirtDiff1 "$next" org.virtdiff.VirtDiff1.Job Wait)
[ "$out" = "ub 3 true" ] || fail "the last job: $out"
pass "all eight clients exit 1 with the same changes as a lone diff; the held and the last job succeed"
assert_no_qemu
