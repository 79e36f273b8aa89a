#!/bin/bash
# virt-diffd on varlink, checked with a client written on Python's standard
# library (tests/varlink-client.py): discovery and the interface text, a
# streamed Compare ending with the same result as D-Bus GetResult of the
# same job, its changes streamed in the replies ("changes"), Cancel, named errors, malformed messages on other connections
# while a job streams, a client that leaves mid-job, virt-diffctl --varlink
# byte for byte as over D-Bus, and the system socket's rules for another
# uid (setpriv).
source "$(dirname "$0")/lib.sh"
requires qemu-img setpriv busctl
requires_root
ensure_fixtures

CHECKS="$PYTHON $SRCDIR/tests/varlink-checks.py"
SOCK=$TEST_TMPDIR/run/virt-diffd/io.virtdiff.VirtDiff1
# --no-direct: Cancel needs a job that runs a while (an appliance).
DAEMON_ARGS="--pool-size=0 --no-direct --varlink=$SOCK" start_bus
# The first bus call activates the daemon, which then listens on varlink.
busctl --user get-property org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
        Version >/dev/null || fail "the daemon did not start"
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "no varlink socket at $SOCK"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "the session daemon's socket is not 0600"

$CHECKS discovery "$SOCK" "$SRCDIR/varlink/org.virtdiff.VirtDiff1.varlink" || fail "discovery"
$CHECKS errors "$SOCK" "$FIXTURES" "$TEST_TMPDIR" || fail "errors"
$CHECKS compare "$SOCK" "$FIXTURES" "$TEST_TMPDIR/compare.json" || fail "compare"

# The same job over D-Bus: its GetResult is the last reply's result.
job=$($PYTHON -c 'import json,sys; print(json.load(open(sys.argv[1]))["job"])' "$TEST_TMPDIR/compare.json")
"$BUILDDIR/virt-diffctl" wait --json "/org/virtdiff/VirtDiff1/job/$job" >"$TEST_TMPDIR/dbus.json" 2>"$TEST_TMPDIR/err" ||
        [ $? = 1 ] || fail "virt-diffctl wait: $(cat "$TEST_TMPDIR/err")"
$PYTHON - "$TEST_TMPDIR/compare.json" "$TEST_TMPDIR/dbus.json" <<'PY' || fail "the varlink result differs from D-Bus GetResult"
import json, sys
v = json.load(open(sys.argv[1]))["result"]
d = json.load(open(sys.argv[2]))
sys.exit(0 if v == d else 1)
PY
pass "the varlink result of job $job is D-Bus GetResult's"

$CHECKS changes "$SOCK" "$FIXTURES" || fail "changes"
$CHECKS cancel "$SOCK" "$FIXTURES" || fail "cancel"

# virt-diffctl --varlink: byte for byte what D-Bus gives (from the cache now).
for fmt in "" --json -l --csv --output=ndjson --summary; do
        "$VIRT_DIFF" $fmt "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img" >"$TEST_TMPDIR/bus.out" 2>&1 || [ $? = 1 ]
        "$VIRT_DIFF" --varlink="$SOCK" $fmt "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img" \
                >"$TEST_TMPDIR/varlink.out" 2>&1 || [ $? = 1 ] || fail "virt-diff --varlink $fmt failed"
        cmp -s "$TEST_TMPDIR/bus.out" "$TEST_TMPDIR/varlink.out" ||
                { diff "$TEST_TMPDIR/bus.out" "$TEST_TMPDIR/varlink.out" | head >&2; fail "virt-diff --varlink $fmt differs"; }
done
pass "virt-diff --varlink: the same bytes as over D-Bus (text, --json, -l, --csv, NDJSON, --summary; all but --json printed from the streamed changes)"
assert_no_qemu 30

# ---- the system socket: root's daemon, another uid through setpriv ----
SYS=$TEST_TMPDIR/sys
mkdir -p "$SYS"
chmod 0711 "$TEST_TMPDIR"
secret=$SYS/secret.img
cp "$FIXTURES/kinds-a.img" "$secret"
chmod 0600 "$secret"
DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent "$VIRT_DIFFD" --system --varlink="$SYS/run/io.virtdiff.VirtDiff1" \
        --cache="$SYS/cache.sqlite" --pool-size=0 --no-direct --idle-timeout=0 2>>"$TEST_TMPDIR/bus.log" &
cleanup_fn kill $!
for _ in $(seq 100); do [ -S "$SYS/run/io.virtdiff.VirtDiff1" ] && break; sleep 0.1; done
[ "$(stat -c %a "$SYS/run/io.virtdiff.VirtDiff1")" = 666 ] || fail "the system socket is not 0666"
root_job=$($CHECKS start-job "$SYS/run/io.virtdiff.VirtDiff1" "$FIXTURES") || fail "root's job"
setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
        $CHECKS system "$SYS/run/io.virtdiff.VirtDiff1" "$FIXTURES" "$secret" "$root_job" || fail "system socket rules"
$CHECKS cancel-job "$SYS/run/io.virtdiff.VirtDiff1" "$root_job" || fail "root cannot cancel its job"
pass "root cancels its own job"
assert_no_qemu 30
