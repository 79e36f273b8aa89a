#!/bin/bash
# polkit for real: a private system bus (with our bus policy), polkitd on
# it with our actions and a rules file that gives every virt-diffd action
# to root and none to anyone else, and virt-diffd --system. An unprivileged
# caller is refused comparing by path (AccessDenied), and succeeds passing
# fds (served to the appliances by qemu-nbd); root succeeds by path (from
# the cache: the same content, no launch);
# cancelling someone else's job is refused to the unprivileged caller and
# allowed to root; one's own job may be cancelled without polkit; cache
# management is root's; past polkit, a caller comparing by path is refused
# backing files it may not read.
#
# polkitd reads /usr/share/polkit-1/actions and the rules.d directories:
# the whole test runs in a mount namespace of its own where temporary
# directories are bound over them, so nothing of the host is touched.
if [ -z "${VD_POLKIT_NAMESPACE:-}" ]; then
        [ "$(id -u)" = 0 ] || { echo "SKIP: test-polkit: needs root (mount namespace, other users)"; exit 77; }
        command -v unshare >/dev/null || { echo "SKIP: test-polkit: unshare is not installed"; exit 77; }
        VD_POLKIT_NAMESPACE=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
requires_root
requires dbus-daemon gdbus busctl setpriv
"$PYTHON" -c 'import dbus' 2>/dev/null || skip "no dbus module for $PYTHON (Debian: python3-dbus)"
POLKITD=/usr/lib/polkit-1/polkitd
[ -x "$POLKITD" ] || skip "polkitd is not installed (Debian: polkitd)"
id polkitd >/dev/null 2>&1 || skip "no polkitd user"
ensure_fixtures

NOBODY=65534
# The bus socket and the images must be reachable by polkitd and nobody.
chmod 0711 "$TEST_TMPDIR"

# ------------------------------------------------------------ polkit files --
PK=$TEST_TMPDIR/polkit
mkdir -p "$PK/actions" "$PK/rules.d" "$PK/share-rules.d"
cp "$SRCDIR/polkit/org.virtdiff.VirtDiff1.policy" "$PK/actions/"
cat >"$PK/rules.d/50-virt-diffd-test.rules" <<'EOF'
// virt-diffd's actions: root yes, everyone else no, never a password.
polkit.addRule(function(action, subject) {
        if (action.id.indexOf("org.virtdiff.VirtDiff1.") != 0)
                return polkit.Result.NOT_HANDLED;
        return subject.user == "root" ? polkit.Result.YES : polkit.Result.NO;
});
EOF
chown -R polkitd "$PK"
for pair in "$PK/actions:/usr/share/polkit-1/actions" "$PK/rules.d:/etc/polkit-1/rules.d" \
        "$PK/share-rules.d:/usr/share/polkit-1/rules.d"; do
        [ -d "${pair#*:}" ] || skip "no ${pair#*:} to bind over"
        mount --bind "${pair%%:*}" "${pair#*:}"
        cleanup_fn umount "${pair#*:}"
done
[ "$(ls /usr/share/polkit-1/actions)" = org.virtdiff.VirtDiff1.policy ] || fail "the bind mounts do not show"
pass "polkit's directories are private to this test"

# ----------------------------------------------------------- system bus ----
SYS=$TEST_TMPDIR/sysbus
mkdir -p "$SYS"
chmod 0755 "$SYS"
cat >"$SYS/system.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$SYS/socket</listen>
  <auth>EXTERNAL</auth>
  <!-- As a system bus is: nobody owns a name or calls a method unless a
       policy file says so; replies and signals flow. -->
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>
  <include>$SRCDIR/dbus/org.virtdiff.VirtDiff1.conf</include>
</busconfig>
EOF
DBUS_DEBUG_OUTPUT=1 dbus-daemon --config-file="$SYS/system.conf" --fork --print-pid=4 4>"$SYS/pid" \
        2>>"$TEST_TMPDIR/bus.log" || fail "the system bus did not start: $(cat "$TEST_TMPDIR/bus.log")"
BUS_PID=$(head -n1 "$SYS/pid")
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$SYS/socket
note "system bus $DBUS_SYSTEM_BUS_ADDRESS (pid $BUS_PID)"

has_owner() { # NAME
        gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
                --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true
}
wait_owner() { # NAME PID
        local i
        for ((i = 0; i < 300; i++)); do
                has_owner "$1" && return 0
                kill -0 "$2" 2>/dev/null || fail "$1: its process exited"
                sleep 0.1
        done
        fail "$1 did not appear on the bus"
}

# Started as root, polkitd drops to its own user by itself.
"$POLKITD" --no-debug >>"$TEST_TMPDIR/bus.log" 2>&1 &
POLKIT_PID=$!
cleanup_fn terminate_pids 10 "$POLKIT_PID"
wait_owner org.freedesktop.PolicyKit1 "$POLKIT_PID"
pass "polkitd runs on the private system bus"

"$VIRT_DIFFD" --system --idle-timeout=0 --pool-size=0 --no-direct --cache="$TEST_TMPDIR/manifests.sqlite" -v \
        >>"$TEST_TMPDIR/bus.log" 2>&1 &
DAEMON_PID=$!
wait_owner org.virtdiff.VirtDiff1 "$DAEMON_PID"

# --------------------------------------------------------------- helpers ---
PUB=$TEST_TMPDIR/pub
mkdir -p "$PUB"
chmod 0755 "$PUB"
A=$PUB/a.img
B=$PUB/b.img
cp --sparse=always "$FIXTURES/kinds-a.img" "$A"
cp --sparse=always "$FIXTURES/kinds-b.img" "$B"
chmod 0644 "$A" "$B"
SECRET=$PUB/secret.img
cp --sparse=always "$FIXTURES/kinds-a.img" "$SECRET"
chmod 0600 "$SECRET"

as_nobody() {
        (cd "$PUB" && setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups env HOME=/nonexistent "$@")
}

launches() {
        busctl --system get-property org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
                org.virtdiff.VirtDiff1.Manager AppliancesLaunched | awk '{print $2}'
}

# A call that must fail, as the given user: prints "ERROR-NAME: MESSAGE".
bus_error() { # USER(root|nobody) busctl ARGS...
        local who=$1 out
        shift
        local run=()
        [ "$who" = nobody ] && run=(as_nobody)
        if out=$("${run[@]}" env SYSTEMD_LOG_LEVEL=debug busctl --system "$@" 2>&1); then
                fail "busctl $* as $who: succeeded, expected an error"
        fi
        out=$(grep -o 'type=error .*error-name=[^ ]* error-message=.*' <<<"$out" | tail -n1) ||
                fail "busctl $* as $who: no error reply in its debug log"
        [[ $out =~ error-name=([^ ]+)\ error-message=(.*)$ ]] || fail "cannot parse: $out"
        echo "${BASH_REMATCH[1]}: ${BASH_REMATCH[2]}"
}

compare_words() { # PATH-A PATH-B: Compare's arguments as busctl words, detached
        echo "Compare aa{sv}aa{sv}a{sv} 1 1 path s $1 1 1 path s $2 1 detached b true"
}
MANAGER=(org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager)

# ------------------------------------------------------------- by path -----
out=$(bus_error nobody call "${MANAGER[@]}" $(compare_words "$A" "$B"))
[[ $out == org.virtdiff.VirtDiff1.Error.AccessDenied:* ]] || fail "nobody compares by path: $out"
out=$(bus_error nobody call "${MANAGER[@]}" $(compare_words "$SECRET" "$B"))
[[ $out == org.virtdiff.VirtDiff1.Error.AccessDenied:* ]] || fail "nobody compares a root-only image by path: $out"
grep -q "polkit refuses org.virtdiff.VirtDiff1.compare-path" "$TEST_TMPDIR/bus.log" ||
        fail "the daemon did not ask polkit"
# The client run as nobody: one line, exit status 2.
set +e
as_nobody "$VIRT_DIFF" --system -q "$A" "$B" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" </dev/null
RC=$?
set -e
assert_rc 2 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 1
assert_contains "$TEST_TMPDIR/err" "not authorized: org.virtdiff.VirtDiff1.compare-path"
assert_contains "$TEST_TMPDIR/err" "; --pass-fds needs no authorization"
pass "by path: nobody is refused with AccessDenied (bus and client)"

# ---------------------------------------------------------------- by fd ----
# The images reach the appliances through qemu-nbd serving the passed fds.
before=$(launches)
set +e
as_nobody "$VIRT_DIFF" --system --pass-fds --json "$A" "$B" >"$TEST_TMPDIR/fd.json" 2>"$TEST_TMPDIR/err" </dev/null
RC=$?
set -e
assert_rc 1 "$TEST_TMPDIR/err"
[ "$(launches)" = $((before + 2)) ] || fail "the diff by fd did not launch one appliance a side"
"$PYTHON" - "$TEST_TMPDIR/fd.json" "$A" "$B" <<'EOF' || fail "the diff by fd is not right"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["changes"], "no changes"
assert not d["a"]["cached"] and not d["b"]["cached"], "a fresh daemon claims a cached side"
# The client names the images as it opened them, not the daemon's /proc path.
assert [d[s]["images"][0]["path"] for s in "ab"] == sys.argv[2:], [d[s]["images"] for s in "ab"]
EOF
pass "by fd: nobody's diff succeeds"

# Root by path: allowed, and the same content hits the manifests the diff
# by fd left.
before=$(launches)
run_virt_diff "$TEST_TMPDIR/path.json" "$TEST_TMPDIR/err" --system --json "$A" "$B"
assert_rc 1 "$TEST_TMPDIR/err"
[ "$(launches)" = "$before" ] || fail "root's diff by path launched appliances for cached content"
"$PYTHON" - "$TEST_TMPDIR/fd.json" "$TEST_TMPDIR/path.json" <<'EOF' || fail "by fd and by path differ"
import json, sys
fd, path = (json.load(open(f)) for f in sys.argv[1:])
assert path["a"]["cached"] and path["b"]["cached"], "the manifests of the diff by fd were not reused"
assert fd["changes"] == path["changes"], "different changes"
EOF
pass "by path: root is allowed; the result is the one by fd, from the cache"

# A file nobody cannot open stays closed: the client says so and stops.
set +e
as_nobody "$VIRT_DIFF" --system --pass-fds "$SECRET" "$B" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" </dev/null
RC=$?
set -e
assert_rc 2 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 1
assert_contains "$TEST_TMPDIR/err" "$SECRET: cannot open: Permission denied"
run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" --system --pass-fds "$PUB/missing.img" "$B"
assert_rc 2 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 1
assert_contains "$TEST_TMPDIR/err" "$PUB/missing.img: cannot open: No such file or directory"
run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" --system --pass-fds -d guest --snapshot s1 --snapshot s2
assert_rc 2 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 1
assert_contains "$TEST_TMPDIR/err" "--pass-fds takes image files, not libvirt domains or snapshots"
pass "by fd: an image the caller cannot open is not read; a missing one or a domain is one line, exit 2"

# Bad fds, as nobody (no polkit involved): each its named error, and no
# appliance. The caller's fds 3 (side A) and 4 (side B) are passed.
mkfifo "$PUB/fifo"
chmod 0666 "$PUB/fifo"
cp --sparse=always "$FIXTURES/overlay.qcow2" "$PUB/overlay.qcow2"
chmod 0644 "$PUB/overlay.qcow2"
check_fd_error() { # WHAT EXPECTED-NAME EXPECTED-TEXT, with fds 3 and 4 open
        local out
        out=$(as_nobody "$PYTHON" "$SRCDIR/tests/fd-compare.py" system)
        [[ $out == "org.virtdiff.VirtDiff1.Error.$2: "*"$3"* ]] || fail "$1: $out"
}
before=$(launches)
check_fd_error "a FIFO" InvalidImage "not a regular file or block device" 3<>"$PUB/fifo" 4<"$B"
check_fd_error "/dev/null" InvalidImage "not a regular file or block device" 3</dev/null 4<"$B"
check_fd_error "a write-only fd" InvalidArgs "not open for reading" 3>>"$TEST_TMPDIR/out" 4<"$B"
check_fd_error "a qcow2 with a backing file" InvalidImage "has a backing file" 3<"$PUB/overlay.qcow2" 4<"$B"
[ "$(launches)" = "$before" ] || fail "a bad fd launched an appliance"
pass "by fd: FIFO, character device, write-only fd, qcow2 with a backing file: each refused by name"

# --------------------------------------------------------------- cancel ----
ROOT_JOB=$(busctl --system call "${MANAGER[@]}" $(compare_words "$A" "$B") | awk '{print $2}' | tr -d '"')
[[ $ROOT_JOB == /org/virtdiff/VirtDiff1/job/* ]] || fail "root's detached job: $ROOT_JOB"
NOBODY_JOB=$(as_nobody "$VIRT_DIFF" --system --pass-fds --detach "$A" "$B" </dev/null)
[[ $NOBODY_JOB == /org/virtdiff/VirtDiff1/job/* ]] || fail "nobody's detached job: $NOBODY_JOB"
# Someone else's result is not to read: its names, owners and hashes.
for method in GetResult OpenChanges; do
        out=$(bus_error nobody call org.virtdiff.VirtDiff1 "$ROOT_JOB" org.virtdiff.VirtDiff1.Job $method)
        [[ $out == "org.virtdiff.VirtDiff1.Error.AccessDenied: "*"belongs to another user"* ]] ||
                fail "nobody reads root's job with $method: $out"
done
out=$(bus_error nobody call org.virtdiff.VirtDiff1 "$ROOT_JOB" org.virtdiff.VirtDiff1.Job Cancel)
[[ $out == org.virtdiff.VirtDiff1.Error.AccessDenied:* ]] || fail "nobody cancels root's job: $out"
grep -q "polkit refuses org.virtdiff.VirtDiff1.cancel-other" "$TEST_TMPDIR/bus.log" ||
        fail "the daemon did not ask polkit about cancelling root's job"
# The rules refuse nobody everything: this succeeds only without polkit.
as_nobody busctl --system call org.virtdiff.VirtDiff1 "$NOBODY_JOB" org.virtdiff.VirtDiff1.Job Cancel ||
        fail "nobody cannot cancel its own job"
busctl --system call org.virtdiff.VirtDiff1 "$NOBODY_JOB" org.virtdiff.VirtDiff1.Job Cancel ||
        fail "root cannot cancel nobody's job"
pass "cancel: someone else's job needs polkit (nobody refused, root allowed); one's own needs nothing; someone else's result is not to read (GetResult, OpenChanges: AccessDenied)"

# ---------------------------------------------------------------- cache ----
for method in CacheList CacheVerify; do
        out=$(bus_error nobody call "${MANAGER[@]}" "$method")
        [[ $out == org.virtdiff.VirtDiff1.Error.AccessDenied:* ]] || fail "nobody calls $method: $out"
        busctl --system call "${MANAGER[@]}" "$method" >/dev/null || fail "root cannot call $method"
done
out=$(bus_error nobody call "${MANAGER[@]}" CachePurge s "")
[[ $out == org.virtdiff.VirtDiff1.Error.AccessDenied:* ]] || fail "nobody purges the cache: $out"
as_nobody busctl --system call "${MANAGER[@]}" CacheStats >/dev/null || fail "nobody cannot read CacheStats"
pass "cache management is root's; its statistics are anyone's"

# ------------------------------------------------ backing files, by path --
# Past polkit, a caller comparing by path gets only what it may read: a
# qcow2 whose header names a backing file the caller may not read is
# refused with AccessDenied naming it; a mode or one of the caller's groups
# (as the bus knows them) lets it through. A second rule gives everyone
# compare-path; polkitd reloads its rules when the directory changes.
cat >"$PK/rules.d/40-virt-diffd-compare.rules" <<'EOF'
polkit.addRule(function(action, subject) {
        return action.id == "org.virtdiff.VirtDiff1.compare-path" ? polkit.Result.YES : polkit.Result.NOT_HANDLED;
});
EOF
chown polkitd "$PK/rules.d/40-virt-diffd-compare.rules"
for ((i = 0; i < 100; i++)); do
        as_nobody "$VIRT_DIFF" --system -q "$A" "$B" >/dev/null 2>&1 && rc=0 || rc=$?
        [ $rc = 1 ] && break
        sleep 0.2
done
[ $rc = 1 ] || fail "polkitd did not take the new rule: nobody by path still gets exit status $rc"
pass "with compare-path granted, nobody compares by path (from the cache)"

SC=$TEST_TMPDIR/system-caller
mkdir -p "$SC"
chmod 0755 "$SC"
before=$(launches)
# A file only root may read, and a qcow2 header naming it as a raw backing
# file (the format given: only the caller's rights decide).
head -c 1M /dev/zero >"$SC/secret.raw"
chmod 600 "$SC/secret.raw"
"$PYTHON" - "$SC/evil.qcow2" "$SC/secret.raw" <<'PY'
import struct, sys
backing, fmt = sys.argv[2].encode(), b"raw"
ext = struct.pack(">II", 0xE2792ACA, len(fmt)) + fmt.ljust(8, b"\0") + b"\0" * 8
hdr = struct.pack(">IIQIIQIIQQIIQQQQII", 0x514649FB, 3, 104 + len(ext), len(backing), 16, 1 << 20,
                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 104)
open(sys.argv[1], "wb").write((hdr + ext + backing).ljust(4096, b"\0"))
PY
chmod 644 "$SC/evil.qcow2"

compare_as() { # SETPRIV-ARGS|root -- prints "ErrorName: message"
        local who=$1
        if [ "$who" = root ]; then
                BUSCTL_BUS=--system busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
                        org.virtdiff.VirtDiff1.Manager Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s "$SC/evil.qcow2" \
                        1 1 path s "$A" 0
        else
                # shellcheck disable=SC2086
                setpriv $who bash -c "source '$LIB_DIR/lib.sh' >/dev/null 2>&1; trap - EXIT; \
                        BUSCTL_BUS=--system busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
                        org.virtdiff.VirtDiff1.Manager Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s '$SC/evil.qcow2' \
                        1 1 path s '$A' 0"
        fi
}
NOBODY_ARGS="--reuid=65534 --regid=65534 --clear-groups"
NOBODY_4242="--reuid=65534 --regid=65534 --groups=4242"

got=$(compare_as "$NOBODY_ARGS")
[[ $got == "org.virtdiff.VirtDiff1.Error.AccessDenied: $SC/evil.qcow2: backing file $SC/secret.raw: permission denied"* ]] ||
        fail "nobody on a 0600 root backing file: $got"
pass "nobody, backing file 0600 root: $got"

# Past the chain check, qemu-img finds the hand-made header lacks its
# tables: InvalidImage, the proof that the caller was let through.
chmod 644 "$SC/secret.raw"
got=$(compare_as "$NOBODY_ARGS")
[[ $got == org.virtdiff.VirtDiff1.Error.InvalidImage:* ]] || fail "nobody on a 0644 backing file: $got"
pass "nobody, backing file 0644: let through to qemu-img ($got)"

chgrp 4242 "$SC/secret.raw"
chmod 640 "$SC/secret.raw"
got=$(compare_as "$NOBODY_4242")
[[ $got == org.virtdiff.VirtDiff1.Error.InvalidImage:* ]] || fail "nobody in group 4242 on a 0640 root:4242 file: $got"
got=$(compare_as "$NOBODY_ARGS")
[[ $got == org.virtdiff.VirtDiff1.Error.AccessDenied:* ]] || fail "nobody without group 4242: $got"
pass "a group the bus knows the caller has lets it read; without it: AccessDenied"

chmod 600 "$SC/secret.raw"
got=$(compare_as root)
[[ $got == org.virtdiff.VirtDiff1.Error.InvalidImage:* ]] || fail "root: $got"
pass "root reads what it may read"

[ "$(launches)" = "$before" ] || fail "the backing-file checks started an appliance"
rm "$PK/rules.d/40-virt-diffd-compare.rules"

kill -0 "$DAEMON_PID" || fail "the daemon died"
terminate_pids 60 "$DAEMON_PID"
assert_no_qemu
