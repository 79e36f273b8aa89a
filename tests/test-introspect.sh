#!/bin/bash
# The bus API as the daemon serves it: the Manager and Job interfaces that
# the running daemon introspects are those of dbus/org.virtdiff.VirtDiff1.xml
# (methods, argument names, types and directions, properties, signals);
# Compare refuses a missing file with its named error; a detached job keeps
# running after its client has left; Cancel makes Wait answer Cancelled and
# leaves no qemu behind. One launch pair at most, cut short by Cancel.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon dbus-send busctl
ensure_fixtures
start_bus

XML=$SRCDIR/dbus/org.virtdiff.VirtDiff1.xml
[ -s "$XML" ] || fail "$XML is empty: nothing to compare the daemon's interfaces with"

introspect() { # OBJECT-PATH OUTPUT
        dbus-send --session --print-reply=literal --reply-timeout=10000 --dest=org.virtdiff.VirtDiff1 "$1" \
                org.freedesktop.DBus.Introspectable.Introspect >"$2" || fail "cannot introspect $1"
}

# Compares one interface of the live introspection with the XML file.
same_interface() { # LIVE-XML INTERFACE
        "$PYTHON" - "$1" "$XML" "$2" <<-'EOF'
	import sys
	import xml.etree.ElementTree as ET

	def load(path):
	    text = open(path, encoding="utf-8").read().strip()
	    # dbus-send --print-reply=literal indents the string it prints.
	    return ET.fromstring(text[text.index("<"):])

	def describe(root, name):
	    for iface in root.iter("interface"):
	        if iface.get("name") != name:
	            continue
	        d = {}
	        for m in iface.findall("method"):
	            d["method " + m.get("name")] = [(a.get("name"), a.get("type"), a.get("direction", "in"))
	                                            for a in m.findall("arg")]
	        for p in iface.findall("property"):
	            d["property " + p.get("name")] = (p.get("type"), p.get("access"))
	        for s in iface.findall("signal"):
	            d["signal " + s.get("name")] = [(a.get("name"), a.get("type")) for a in s.findall("arg")]
	        return d
	    return None

	live_path, spec_path, name = sys.argv[1:]
	live, spec = describe(load(live_path), name), describe(load(spec_path), name)
	if spec is None:
	    sys.exit(f"{spec_path} has no interface {name}")
	if live is None:
	    sys.exit(f"the daemon has no interface {name}")
	bad = False
	for key in sorted(set(live) | set(spec)):
	    if live.get(key) != spec.get(key):
	        bad = True
	        print(f"{name}: {key}:\n  daemon: {live.get(key)}\n  {spec_path}: {spec.get(key)}", file=sys.stderr)
	if bad:
	    sys.exit(1)
	print(f"# {name}: {len(spec)} members as in the XML")
	EOF
}

get_property() { # OBJECT-PATH INTERFACE NAME
        dbus-send --session --print-reply=literal --reply-timeout=10000 --dest=org.virtdiff.VirtDiff1 "$1" \
                org.freedesktop.DBus.Properties.Get "string:$2" "string:$3" | awk '{ print $NF }'
}

JOB_IFACE=org.virtdiff.VirtDiff1.Job

# ---- the manager ----
introspect /org/virtdiff/VirtDiff1 "$TEST_TMPDIR/manager.xml"
same_interface "$TEST_TMPDIR/manager.xml" org.virtdiff.VirtDiff1.Manager ||
        fail "the Manager interface differs from $XML"
pass "Manager: the daemon's interface is the one in the XML"

got=$(busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
        Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s "$TEST_TMPDIR/x" 1 1 path s "$TEST_TMPDIR/y" 0)
[ "$got" = "org.virtdiff.VirtDiff1.Error.NoSuchFile: $TEST_TMPDIR/x: no such file" ] ||
        fail "Compare of two missing files: $got"
jobs=$(dbus-send --session --print-reply=literal --dest=org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
        org.virtdiff.VirtDiff1.Manager.ListJobs)
[[ $jobs != */org/virtdiff/VirtDiff1/job/* ]] || fail "a refused Compare left a job: $jobs"
pass "Compare of missing files: NoSuchFile, and no job"

# ---- a job: a detached one, submitted by busctl which then exits ----
# A qcow2 overlay (validation follows its backing chain) against raw.
IMAGE_A=$FIXTURES/overlay.qcow2
DETACHED=true
CLIENT_PID=
submit_detached() {
        JOB=$(bus_compare "$IMAGE_A" "$FIXTURES/kinds-b.img" 1 detached b true)
}
xfail_check qcow2-end-offset "Compare accepts a fresh qcow2 overlay (made by qemu-img create)" \
        'IMAGE_A=$FIXTURES/kinds-a.qcow2; submit_detached || fail "Compare of $IMAGE_A failed"' \
        submit_detached
note "job $JOB: $(basename "$IMAGE_A") against kinds-b.img"

# The fallback while owner-gone-spin lasts: a fresh daemon, the job
# submitted by virt-diff, which is then stopped so that it stays connected.
submit_with_virt_diff() {
        restart_daemon
        "$VIRT_DIFF" "$IMAGE_A" "$FIXTURES/kinds-b.img" \
                >"$TEST_TMPDIR/client.out" 2>"$TEST_TMPDIR/client.err" </dev/null &
        CLIENT_PID=$!
        local i=0
        JOB=
        while [ -z "$JOB" ] && [ $((i++)) -lt 300 ]; do
                sleep 0.1
                JOB=$(dbus-send --session --print-reply=literal --dest=org.virtdiff.VirtDiff1 \
                        /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager.ListJobs 2>/dev/null |
                        grep -o '/org/virtdiff/VirtDiff1/job/[0-9]*' | head -n1) || true
        done
        [ -n "$JOB" ] || fail "virt-diff's job did not appear"
        kill -STOP "$CLIENT_PID"
        DETACHED=false
        note "job $JOB, submitted by virt-diff (pid $CLIENT_PID, stopped)"
}
cleanup_fn eval '[ -z "$CLIENT_PID" ] || kill -CONT "$CLIENT_PID" 2>/dev/null'
sleep 0.5
xfail_check owner-gone-spin "the daemon answers once the client of a detached job has left" \
        submit_with_virt_diff daemon_answers

introspect "$JOB" "$TEST_TMPDIR/job.xml"
same_interface "$TEST_TMPDIR/job.xml" $JOB_IFACE || fail "the Job interface differs from $XML"
pass "Job: the daemon's interface is the one in the XML"

[ "$(get_property "$JOB" $JOB_IFACE Id)" = "${JOB##*/}" ] || fail "Id is not the last component of $JOB"
[ "$(get_property "$JOB" $JOB_IFACE Detached)" = "$DETACHED" ] || fail "Detached is not $DETACHED"
owner=$(get_property "$JOB" $JOB_IFACE Owner)
[[ $owner == :* ]] || fail "Owner is '$owner', not a unique bus name"
state=$(get_property "$JOB" $JOB_IFACE State)
[ "$state" = 1 ] || [ "$state" = 2 ] || fail "State is $state, not queued (1) or running (2)"
pass "Job properties: Id, Detached $DETACHED, Owner $owner, State $state"

# ---- Cancel ----
dbus-send --session --print-reply --reply-timeout=300000 --dest=org.virtdiff.VirtDiff1 "$JOB" \
        $JOB_IFACE.Wait >"$TEST_TMPDIR/wait.out" 2>&1 &
WAITER=$!
sleep 0.5
start=$EPOCHREALTIME
dbus-send --session --print-reply --reply-timeout=10000 --dest=org.virtdiff.VirtDiff1 "$JOB" $JOB_IFACE.Cancel \
        >/dev/null || fail "Cancel failed"
for ((i = 0; i < 600; i++)); do
        kill -0 $WAITER 2>/dev/null || break
        sleep 0.1
done
kill -0 $WAITER 2>/dev/null && fail "Wait has not answered 60 s after Cancel"
took=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }")
wait $WAITER || true
grep -q '^Error org.virtdiff.VirtDiff1.Error.Cancelled' "$TEST_TMPDIR/wait.out" ||
        fail "Wait after Cancel: $(cat "$TEST_TMPDIR/wait.out")"
pass "Cancel: Wait answered org.virtdiff.VirtDiff1.Error.Cancelled after ${took}s"
assert_no_qemu 10
pass "no qemu left after Cancel"

[ "$(get_property "$JOB" $JOB_IFACE State)" = 5 ] || fail "State is not cancelled (5) after Cancel"
name=$(get_property "$JOB" $JOB_IFACE ErrorName)
[ "$name" = org.virtdiff.VirtDiff1.Error.Cancelled ] || fail "ErrorName is $name"
dbus-send --session --print-reply --reply-timeout=10000 --dest=org.virtdiff.VirtDiff1 "$JOB" $JOB_IFACE.Cancel \
        >/dev/null || fail "a second Cancel failed"
got=$(dbus-send --session --print-reply --reply-timeout=10000 --dest=org.virtdiff.VirtDiff1 "$JOB" \
        $JOB_IFACE.GetResult 2>&1 || true)
[[ $got == "Error org.virtdiff.VirtDiff1.Error.Cancelled"* ]] || fail "GetResult of a cancelled job: $got"
pass "after Cancel: State 5, ErrorName Cancelled, Cancel again is fine, GetResult answers Cancelled"

if [ -n "$CLIENT_PID" ]; then
        kill -CONT "$CLIENT_PID"
        set +e
        wait "$CLIENT_PID"
        rc=$?
        set -e
        [ "$rc" = 2 ] || fail "virt-diff of the cancelled job exited $rc"
        assert_lines "$TEST_TMPDIR/client.err" 1
        assert_contains "$TEST_TMPDIR/client.err" "virt-diff: job cancelled"
        pass "the client of the cancelled job: exit status 2, $(cat "$TEST_TMPDIR/client.err")"
fi
