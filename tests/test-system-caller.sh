#!/bin/bash
# The system bus's case: the daemon runs as root for callers who may read
# less than it can. A qcow2 whose header names a backing file the caller
# may not read is refused with AccessDenied naming it; the same caller is
# let through when a mode or one of its groups (as the bus knows them) lets
# it read the file. A private bus of the system type and real uids (nobody,
# through setpriv); no appliance: every case is decided before a launch.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon busctl setpriv
requires_root
ensure_fixtures

GOOD=$FIXTURES/kinds-a.img
# Where nobody can reach the bus socket and the images.
chmod 755 "$TEST_TMPDIR"
dir=$TEST_TMPDIR/sys
mkdir -p "$dir"
cat >"$dir/bus.conf" <<EOF2
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF2
dbus-daemon --config-file="$dir/bus.conf" --fork --print-pid=4 4>"$dir/bus.pid" 2>>"$TEST_TMPDIR/bus.log" ||
        fail "no system-type bus: $(cat "$TEST_TMPDIR/bus.log")"
BUS_PID=$(head -n1 "$dir/bus.pid")
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$dir/socket
"$VIRT_DIFFD" --system --no-cache --idle-timeout=0 --pool-size=0 2>>"$TEST_TMPDIR/bus.log" &
daemon=$!
for ((i = 0; i < 100; i++)); do
        timeout 5 busctl --system status org.virtdiff.VirtDiff1 >/dev/null 2>&1 && break
        kill -0 $daemon 2>/dev/null || fail "the daemon exited: $(tail -n 3 "$TEST_TMPDIR/bus.log")"
        sleep 0.1
done
timeout 5 busctl --system status org.virtdiff.VirtDiff1 >/dev/null 2>&1 || fail "the daemon did not take its name"

# A file only root may read, and a qcow2 header naming it as a raw backing
# file (the format given: only the caller's rights decide).
head -c 1M /dev/zero >"$dir/secret.raw"
chmod 600 "$dir/secret.raw"
"$PYTHON" - "$dir/evil.qcow2" "$dir/secret.raw" <<'PY'
import struct, sys
backing, fmt = sys.argv[2].encode(), b"raw"
ext = struct.pack(">II", 0xE2792ACA, len(fmt)) + fmt.ljust(8, b"\0") + b"\0" * 8
hdr = struct.pack(">IIQIIQIIQQIIQQQQII", 0x514649FB, 3, 104 + len(ext), len(backing), 16, 1 << 20,
                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 104)
open(sys.argv[1], "wb").write((hdr + ext + backing).ljust(4096, b"\0"))
PY
chmod 644 "$dir/evil.qcow2"

compare_as() { # SETPRIV-ARGS|root -- prints "ErrorName: message"
        local who=$1
        if [ "$who" = root ]; then
                BUSCTL_BUS=--system busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
                        org.virtdiff.VirtDiff1.Manager Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s "$dir/evil.qcow2" \
                        1 1 path s "$GOOD" 0
        else
                # shellcheck disable=SC2086
                setpriv $who bash -c "source '$LIB_DIR/lib.sh' >/dev/null 2>&1; trap - EXIT; \
                        BUSCTL_BUS=--system busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
                        org.virtdiff.VirtDiff1.Manager Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s '$dir/evil.qcow2' \
                        1 1 path s '$GOOD' 0"
        fi
}
NOBODY="--reuid=65534 --regid=65534 --clear-groups"
NOBODY_4242="--reuid=65534 --regid=65534 --groups=4242"

got=$(compare_as "$NOBODY")
[[ $got == "org.virtdiff.VirtDiff1.Error.AccessDenied: $dir/evil.qcow2: backing file $dir/secret.raw: permission denied"* ]] ||
        fail "nobody on a 0600 root backing file: $got"
pass "nobody, backing file 0600 root: $got"

# Past the chain check, qemu-img finds the hand-made header lacks its
# tables: InvalidImage, the proof that the caller was let through.
chmod 644 "$dir/secret.raw"
got=$(compare_as "$NOBODY")
[[ $got == org.virtdiff.VirtDiff1.Error.InvalidImage:* ]] || fail "nobody on a 0644 backing file: $got"
pass "nobody, backing file 0644: let through to qemu-img ($got)"

chgrp 4242 "$dir/secret.raw"
chmod 640 "$dir/secret.raw"
got=$(compare_as "$NOBODY_4242")
[[ $got == org.virtdiff.VirtDiff1.Error.InvalidImage:* ]] || fail "nobody in group 4242 on a 0640 root:4242 file: $got"
got=$(compare_as "$NOBODY")
[[ $got == org.virtdiff.VirtDiff1.Error.AccessDenied:* ]] || fail "nobody without group 4242: $got"
pass "a group the bus knows the caller has lets it read; without it: AccessDenied"

chmod 600 "$dir/secret.raw"
got=$(compare_as root)
[[ $got == org.virtdiff.VirtDiff1.Error.InvalidImage:* ]] || fail "root: $got"
pass "root reads what it may read"

if grep -qE 'KVM is not usable|Using KVM' "$TEST_TMPDIR/bus.log"; then
        fail "an appliance was started"
fi
