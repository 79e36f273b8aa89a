#!/bin/bash
# The system service under a real systemd: builds a Debian 12 tree
# (debootstrap from this machine's apt source, cached between runs),
# installs the project into a throwaway overlay of it with meson install
# --destdir, boots it with systemd-nspawn -b (systemd as PID 1, the system
# bus, polkitd, journald), and checks inside, from a unit that runs once the
# system is up:
#   - D-Bus activation of org.virtdiff.VirtDiff1 starts the hardened
#     virt-diffd.service, which reports READY, a STATUS line and the
#     watchdog to systemd;
#   - a diff by path as root runs real appliances (TCG) under the unit's
#     sandbox;
#   - an unprivileged user diffs by fd (--pass-fds), and is refused by
#     polkit when naming paths;
#   - the daemon exits when idle and the next call activates it again;
#   - systemd-analyze security rates the unit (its exposure score).
# The results, the unit's journal and the score land in $OUT
# (default: the cache's out/); exit status 0 when every check held.
#
# Usage (root): tests/system-nspawn.sh [--rebuild-tree]
# Environment: VIRT_DIFFD_NSPAWN_CACHE (default /var/tmp/virt-diffd-nspawn),
# BUILDDIR for the project build to install (default: a release build of
# its own under the cache), NSPAWN_TIMEOUT seconds for the boot and the
# checks (default 1800), NSPAWN_TRACE=1 for the daemon's --trace (the
# appliances' messages in the journal).
set -euo pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VIRT_DIFFD_NSPAWN_CACHE:-/var/tmp/virt-diffd-nspawn}
TIMEOUT=${NSPAWN_TIMEOUT:-1800}
BASE=$CACHE/base
RUN=$CACHE/run
OUT=${OUT:-$CACHE/out}
fail() { echo "FAIL: system-nspawn: $*" >&2; exit 1; }
note() { echo "# $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, mounts, systemd-nspawn)"
for p in debootstrap systemd-nspawn meson ninja mke2fs; do
        command -v "$p" >/dev/null || fail "$p is missing (apt-get install debootstrap systemd-container meson e2fsprogs)"
done

# What the tree needs to run the daemon, its appliances and the checks.
PACKAGES="systemd systemd-sysv dbus libpam-systemd polkitd util-linux procps python3
 libguestfs0 libguestfs-tools linux-image-amd64 qemu-system-x86 qemu-utils supermin
 libvirt0 libjson-c5 libsqlite3-0 libssl3 libsystemd0 libxml2 libext2fs2 libnbd0 libseccomp2 libblkid1 libmount1
 libarchive13 librpm9"
STAMP=$(echo "bookworm $PACKAGES" | sha256sum | cut -d' ' -f1)

# The mirror this machine's apt uses (deb822 sources first, then the list).
mirror() {
        local m
        m=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1)
        [ -n "$m" ] || m=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
        echo "${m:-http://deb.debian.org/debian}"
}

build_tree() {
        local tmp=$CACHE/base.tmp m
        m=$(mirror)
        note "building the Debian 12 tree from $m (once; a few minutes)"
        rm -rf "$tmp"
        mkdir -p "$CACHE"
        debootstrap --variant=minbase bookworm "$tmp" "$m" >"$CACHE/debootstrap.log" 2>&1 ||
                { tail -n 20 "$CACHE/debootstrap.log" >&2; fail "debootstrap failed"; }
        mount -t proc proc "$tmp/proc"
        printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
        chmod +x "$tmp/usr/sbin/policy-rc.d"
        # shellcheck disable=SC2086
        if ! { chroot "$tmp" apt-get update -qq &&
                DEBIAN_FRONTEND=noninteractive chroot "$tmp" apt-get install -y -qq --no-install-recommends $PACKAGES; } \
                >"$CACHE/apt.log" 2>&1; then
                umount "$tmp/proc"
                tail -n 20 "$CACHE/apt.log" >&2
                fail "installing the packages into the tree failed"
        fi
        umount "$tmp/proc"
        rm -f "$tmp/usr/sbin/policy-rc.d"
        chroot "$tmp" apt-get clean
        echo "$STAMP" >"$tmp/.virt-diffd-tree"
        rm -rf "$BASE"
        mv "$tmp" "$BASE"
}

# A tree built before the list grew: the packages it lacks, installed into it.
update_tree() {
        note "installing the packages the tree lacks"
        mount -t proc proc "$BASE/proc"
        printf '#!/bin/sh\nexit 101\n' >"$BASE/usr/sbin/policy-rc.d"
        chmod +x "$BASE/usr/sbin/policy-rc.d"
        # shellcheck disable=SC2086
        if ! { chroot "$BASE" apt-get update -qq &&
                DEBIAN_FRONTEND=noninteractive chroot "$BASE" apt-get install -y -qq --no-install-recommends $PACKAGES; } \
                >"$CACHE/apt-update.log" 2>&1; then
                umount "$BASE/proc"
                tail -n 20 "$CACHE/apt-update.log" >&2
                fail "installing the packages into the tree failed"
        fi
        umount "$BASE/proc"
        rm -f "$BASE/usr/sbin/policy-rc.d"
        chroot "$BASE" apt-get clean
        echo "$STAMP" >"$BASE/.virt-diffd-tree"
}

[ "${1:-}" = --rebuild-tree ] && rm -rf "$BASE"
if [ ! -f "$BASE/.virt-diffd-tree" ]; then
        build_tree
elif [ "$(cat "$BASE/.virt-diffd-tree")" != "$STAMP" ]; then
        update_tree
fi

# ---- the project, installed into an overlay of the tree ----
BUILD=${BUILDDIR:-$CACHE/build}
if [ ! -f "$BUILD/build.ninja" ]; then
        meson setup "$BUILD" "$SRCDIR" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
                --buildtype=release >/dev/null
fi
ninja -C "$BUILD" >/dev/null

cleanup() {
        mountpoint -q "$RUN/root" && umount "$RUN/root"
        true
}
trap cleanup EXIT
cleanup
rm -rf "$RUN"
mkdir -p "$RUN/upper" "$RUN/work" "$RUN/root"
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$RUN/upper,workdir=$RUN/work" "$RUN/root"
ROOT=$RUN/root
# guestfs-tools' virt-diff, which ours replaces (it comes with the
# debugging tools of the tree).
rm -f "$ROOT/usr/bin/virt-diff"
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$ROOT" >"$RUN/install.log" 2>&1 ||
        { cat "$RUN/install.log" >&2; fail "meson install failed"; }
# A release build under /usr/local would put the binaries elsewhere.
[ -x "$ROOT/usr/sbin/virt-diffd" ] || fail "no /usr/sbin/virt-diffd in the tree (configure the build with --prefix=/usr)"

# Images for the checks, built here (no appliance): the kinds pair.
mkdir -p "$CACHE/fixtures"
if [ "$(cat "$CACHE/fixtures/.stamp" 2>/dev/null)" != "$(sha256sum <"$SRCDIR/tests/fixtures.sh")" ]; then
        bash "$SRCDIR/tests/fixtures.sh" "$CACHE/fixtures" >"$CACHE/fixtures.log" 2>&1 ||
                { tail -n 20 "$CACHE/fixtures.log" >&2; fail "cannot build the fixtures"; }
        sha256sum <"$SRCDIR/tests/fixtures.sh" >"$CACHE/fixtures/.stamp"
fi
mkdir -p "$ROOT/srv/vd"
cp --sparse=always "$CACHE/fixtures/kinds-a.img" "$CACHE/fixtures/kinds-b.img" "$CACHE/fixtures/same-1.img" \
        "$CACHE/fixtures/same-2.img" "$CACHE/fixtures/blank-a.img" "$CACHE/fixtures/blank-b.img" "$ROOT/srv/vd/"
chmod 0644 "$ROOT/srv/vd/"*.img

# A user without rights beyond its own, and the checks as a unit that runs
# once the system is up and powers it off afterwards.
chroot "$ROOT" useradd -m -u 1000 -s /bin/bash tester
echo virt-diffd >"$ROOT/etc/hostname"
# The short idle timeout and no warm pool let the idle exit show within
# the run; the sandbox is the unit's own.
mkdir -p "$ROOT/etc/systemd/system/virt-diffd.service.d"
cat >"$ROOT/etc/systemd/system/virt-diffd.service.d/checks.conf" <<-EOF
	[Service]
	ExecStart=
	ExecStart=/usr/sbin/virt-diffd --system --idle-timeout=20 --pool-size=0${NSPAWN_TRACE:+ --trace}
	EOF
install -m 0755 "$SRCDIR/tests/system-checks.sh" "$ROOT/usr/local/sbin/virt-diffd-system-checks"
cat >"$ROOT/etc/systemd/system/virt-diffd-checks.service" <<-'EOF'
	[Unit]
	Description=virt-diffd checks under systemd
	After=multi-user.target dbus.service
	[Service]
	Type=oneshot
	ExecStart=/usr/local/sbin/virt-diffd-system-checks /vdout
	ExecStopPost=/bin/systemctl poweroff --no-block
	StandardOutput=journal+console
	StandardError=journal+console
	TimeoutStartSec=infinity
	[Install]
	WantedBy=multi-user.target
	EOF
ln -sf /etc/systemd/system/virt-diffd-checks.service \
        "$ROOT/etc/systemd/system/multi-user.target.wants/virt-diffd-checks.service"
mkdir -p "$ROOT/var/log/journal"

rm -rf "$OUT"
mkdir -p "$OUT"
note "booting the tree with systemd-nspawn -b (systemd as PID 1); the checks run inside"
start=$(date +%s)
set +e
# --register=no --keep-unit: this host's PID 1 is not systemd and it has no
# system bus for machined. No /dev/kvm inside: the appliances use TCG.
timeout --foreground "$TIMEOUT" systemd-nspawn --register=no --keep-unit --quiet -D "$ROOT" \
        --bind="$OUT:/vdout" -b >"$OUT/console.log" 2>&1 </dev/null
rc=$?
set -e
note "the container ran $(($(date +%s) - start)) s (systemd-nspawn exit status $rc)"
journalctl -D "$ROOT/var/log/journal" -u virt-diffd.service -u virt-diffd-checks.service --no-pager \
        >"$OUT/journal.log" 2>&1 || true
[ -s "$OUT/checks.log" ] || { tail -n 40 "$OUT/console.log" >&2; fail "the checks left no report (see $OUT)"; }
cat "$OUT/checks.log"
grep -q '^RESULT: pass' "$OUT/checks.log" || fail "a check failed (journal: $OUT/journal.log)"
