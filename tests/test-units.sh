#!/bin/bash
# The installed service files: meson installs the system and user units,
# their varlink sockets, both D-Bus activation files, the system bus policy and the polkit actions
# to their directories; systemd-analyze verify accepts the units and the
# XML files are well formed.
source "$(dirname "$0")/lib.sh"
requires systemd-analyze xmllint

DEST=$TEST_TMPDIR/dest
meson install -C "$BUILDDIR" --no-rebuild --quiet --destdir "$DEST" >"$TEST_TMPDIR/install.log" 2>&1 ||
        { cat "$TEST_TMPDIR/install.log" >&2; fail "meson install failed"; }

# One file of each kind, found by its install path under the prefix.
installed() { # PATH-PATTERN
        local f
        f=$(cd "$DEST" && find . -path "$1" -type f | head -n1)
        [ -n "$f" ] || fail "nothing installed at $1"
        echo "$DEST/${f#./}"
}
SYSTEM_UNIT=$(installed '*/systemd/system/virt-diffd.service')
USER_UNIT=$(installed '*/systemd/user/virt-diffd.service')
SYSTEM_SOCKET=$(installed '*/systemd/system/virt-diffd.socket')
USER_SOCKET=$(installed '*/systemd/user/virt-diffd.socket')
IDL=$(installed '*/virt-diffd/org.virtdiff.VirtDiff1.varlink')
cmp -s "$IDL" "$SRCDIR/varlink/org.virtdiff.VirtDiff1.varlink" || fail "the installed interface definition differs"
SYSTEM_ACT=$(installed '*/dbus-1/system-services/org.virtdiff.VirtDiff1.service')
SESSION_ACT=$(installed '*/dbus-1/services/org.virtdiff.VirtDiff1.service')
POLICY=$(installed '*/dbus-1/system.d/org.virtdiff.VirtDiff1.conf')
ACTIONS=$(installed '*/polkit-1/actions/org.virtdiff.VirtDiff1.policy')
pass "installed: units, sockets, activation files, bus policy, polkit actions, varlink interface"

# The units name the installed daemon, which lives under DEST: verify
# copies with ExecStart pointing there.
DAEMON=$(installed '*/sbin/virt-diffd')
for unit in "$SYSTEM_UNIT" "$USER_UNIT"; do
        kind=$(basename "$(dirname "$unit")")
        mkdir -p "$TEST_TMPDIR/verify-$kind"
        copy=$TEST_TMPDIR/verify-$kind/virt-diffd.service
        sed "s|^ExecStart=[^ ]*|ExecStart=$DAEMON|" "$unit" >"$copy"
        # The socket beside it: verify checks that it has a service to start.
        cp "$(dirname "$unit")/virt-diffd.socket" "$TEST_TMPDIR/verify-$kind/"
        out=$TEST_TMPDIR/verify-$kind.log
        args=()
        # A user manager needs a runtime directory of its own.
        [ "$kind" = user ] && args=(--user) && export XDG_RUNTIME_DIR=$TEST_TMPDIR/run &&
                mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
        # verify prints its findings and fails on errors; with no running
        # manager only the unit's own problems matter.
        SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "${args[@]}" --man=no "$copy" \
                "$TEST_TMPDIR/verify-$kind/virt-diffd.socket" >"$out" 2>&1 ||
                { cat "$out" >&2; fail "systemd-analyze verify rejects the $kind unit or socket"; }
        if grep -v "Failed to connect to bus\|Failed to setup" "$out" | grep -q "virt-diffd.s"; then
                cat "$out" >&2
                fail "systemd-analyze verify complains about the $kind unit"
        fi
done
pass "systemd-analyze verify accepts the system and the user unit and socket"

# The hardening the system unit must keep.
for line in Type=notify BusName=org.virtdiff.VirtDiff1 'ExecStart=.*/virt-diffd --system' ProtectSystem=strict \
        ProtectHome=read-only PrivateTmp=yes NoNewPrivileges=yes 'CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_SETUID CAP_SETGID$' \
        CacheDirectory=virt-diffd 'DeviceAllow=/dev/kvm rw' WatchdogSec=30; do
        grep -qx "$line" "$SYSTEM_UNIT" || fail "system unit lacks '$line'"
done
grep -qx 'ExecStart=.*/virt-diffd --session' "$USER_UNIT" || fail "user unit does not run --session"
grep -qx 'SystemdService=virt-diffd.service' "$SYSTEM_ACT" || fail "system activation names no unit"
grep -qx 'User=root' "$SYSTEM_ACT" || fail "system activation has no User=root"
grep -qx 'Exec=.*/virt-diffd --system' "$SYSTEM_ACT" || fail "system activation does not run --system"
grep -qx 'Exec=.*/virt-diffd --session' "$SESSION_ACT" || fail "session activation does not run --session"
pass "the system unit is hardened; activation files run the right mode"

# The varlink sockets: where clients look, who may connect, and the name
# the daemon takes them by.
for line in ListenStream=/run/virt-diffd/io.virtdiff.VirtDiff1 FileDescriptorName=varlink SocketMode=0666 \
        WantedBy=sockets.target; do
        grep -qx "$line" "$SYSTEM_SOCKET" || fail "system socket lacks '$line'"
done
for line in 'ListenStream=%t/virt-diffd/io.virtdiff.VirtDiff1' FileDescriptorName=varlink SocketMode=0600 \
        DirectoryMode=0700 WantedBy=sockets.target; do
        grep -qx "$line" "$USER_SOCKET" || fail "user socket lacks '$line'"
done
grep -qx 'Also=virt-diffd.socket' "$SYSTEM_UNIT" || fail "enabling the system unit does not enable its socket"
grep -qx 'Also=virt-diffd.socket' "$USER_UNIT" || fail "enabling the user unit does not enable its socket"
pass "varlink sockets: system 0666 in /run/virt-diffd, user 0600 in the runtime directory"

for f in "$POLICY" "$ACTIONS"; do
        xmllint --noout "$f" 2>"$TEST_TMPDIR/xml.err" || { cat "$TEST_TMPDIR/xml.err" >&2; fail "$f: not well-formed XML"; }
done
# The bus policy: root owns the name, everyone may call.
[ "$(xmllint --xpath 'string(//policy[@user="root"]/allow/@own)' "$POLICY")" = org.virtdiff.VirtDiff1 ] ||
        fail "the bus policy does not let root own the name"
[ "$(xmllint --xpath 'count(//policy[@context="default"]/allow[@send_interface="org.virtdiff.VirtDiff1.Manager"])' "$POLICY")" = 1 ] ||
        fail "the bus policy does not let everyone call the Manager"
# The polkit actions the daemon asks for are all declared.
for action in $(grep -o '"org\.virtdiff\.VirtDiff1\.[a-z-]*"' "$SRCDIR/daemon/bus/polkit.h" | tr -d '"'); do
        [ "$(xmllint --xpath "count(//action[@id=\"$action\"])" "$ACTIONS")" = 1 ] ||
                fail "the daemon asks polkit for $action, which the actions file does not declare"
done
[ "$(xmllint --xpath 'count(//action)' "$ACTIONS")" = 3 ] || fail "expected three polkit actions"
pass "bus policy and polkit actions: well-formed, and declare what the daemon asks"
