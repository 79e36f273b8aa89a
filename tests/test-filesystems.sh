#!/bin/bash
# XFS, btrfs, NTFS and vfat: one disk a side holding one of each
# (tests/fixtures-guestfish.sh), the same small tree on each, changed the
# same way on the second side. A disk of 4096-byte sectors with
# --blocksize=4096. Then the first pair on an appliance whose kernel has
# no XFS driver: the XFS filesystems are named, with their type and what to
# install, and the other three still come out. Six launches.
source "$(dirname "$0")/lib.sh"
requires_root
requires_jsonschema
requires guestfish
ensure_guestfish_fixtures

run_virt_diff "$TEST_TMPDIR/result.json" "$TEST_TMPDIR/err" --json "$FIXTURES/fs-a.img" "$FIXTURES/fs-b.img"
assert_rc 1 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 0
{
        for p in 1 2 3 4; do
                echo "fs /dev/sda$p unchanged device"
                echo "change /dev/sda$p /hello.txt modified file content,size,mtime"
                echo "change /dev/sda$p /docs/remove-me.txt removed file"
                echo "change /dev/sda$p /docs/new.txt added file"
        done
        # Modes and symlinks where the filesystem has them.
        for p in 1 2; do
                echo "change /dev/sda$p /docs/readme.txt metadata file mode"
                echo "change /dev/sda$p /link added symlink"
        done
        echo "json a.inspected false"
} >"$TEST_TMPDIR/expected"
check_result "$TEST_TMPDIR/result.json" "$TEST_TMPDIR/expected"
"$PYTHON" - "$TEST_TMPDIR/result.json" <<'PY' || fail "filesystem types"
import json, sys
fss = {f["device"]: f["type"] for f in json.load(open(sys.argv[1]))["filesystems"]}
assert fss == {"/dev/sda1": "xfs", "/dev/sda2": "btrfs", "/dev/sda3": "ntfs", "/dev/sda4": "vfat"}, fss
PY
pass "XFS, btrfs, NTFS and vfat diff: the same changes found on each ($SECONDS_TAKEN s)"

# ---- 4096-byte sectors: what --blocksize is for ----
ensure_fixtures
run_virt_diff "$TEST_TMPDIR/4k.json" "$TEST_TMPDIR/err" --json --blocksize=4096 "$FIXTURES/4k-a.img" "$FIXTURES/4k-b.img"
assert_rc 1 "$TEST_TMPDIR/err"
cat >"$TEST_TMPDIR/expected" <<'EOF'
fs /dev/sda1 unchanged device
change /dev/sda1 /added.txt added file
json a.images.0.blocksize 4096
json b.images.0.blocksize 4096
EOF
check_result "$TEST_TMPDIR/4k.json" "$TEST_TMPDIR/expected"
pass "--blocksize=4096: the partition a 4096-byte-sector MBR describes is found and compared"

# ---- an appliance that cannot read XFS ----
# libguestfs' own appliance, built here as supermin builds it, without the
# kernel's XFS driver: a fixed appliance (LIBGUESTFS_PATH) the worker uses.
requires supermin debugfs
SUPERMIN_D=
for d in /usr/lib/*/guestfs/supermin.d /usr/lib64/guestfs/supermin.d /usr/lib/guestfs/supermin.d; do
        [ -d "$d" ] && SUPERMIN_D=$d && break
done
[ -n "$SUPERMIN_D" ] || skip "no libguestfs supermin.d to build an appliance from"
APPLIANCE=$TEST_TMPDIR/appliance
supermin --build -f ext2 --host-cpu "$(uname -m)" -o "$APPLIANCE" "$SUPERMIN_D" >"$TEST_TMPDIR/supermin.log" 2>&1 ||
        { cat "$TEST_TMPDIR/supermin.log" >&2; fail "supermin could not build an appliance"; }
touch "$APPLIANCE/README.fixed"
KVER=$(basename "$(readlink -f "$APPLIANCE/kernel")" | sed 's/^vmlinuz-//')
XFS_KO=$(debugfs -R "ls -p /lib/modules/$KVER/kernel/fs/xfs" "$APPLIANCE/root" 2>/dev/null | awk -F/ '$6 ~ /^xfs\.ko/ {print $6}')
[ -n "$XFS_KO" ] || skip "the appliance's kernel has no XFS module to take out (built in?)"
debugfs -w -R "rm /lib/modules/$KVER/kernel/fs/xfs/$XFS_KO" "$APPLIANCE/root" >/dev/null 2>&1 ||
        fail "cannot take $XFS_KO out of the appliance"

# A fresh cache: the manifests above must not answer for this appliance.
XDG_CACHE_HOME=$TEST_TMPDIR/cache-noxfs LIBGUESTFS_PATH=$APPLIANCE \
        run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" "$FIXTURES/fs-a.img" "$FIXTURES/fs-b.img"
assert_rc 2 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 2
for side in 1 2; do
        assert_contains "$TEST_TMPDIR/err" "virt-diff: /dev/sda1 of image $side not compared: cannot read XFS: the appliance's kernel has no XFS driver; install the host kernel's xfs module and libguestfs-xfs (mount_ro: "
done
grep -q '^/dev/sda1:' "$TEST_TMPDIR/out" && fail "changes on the unread XFS filesystem"
assert_lines "$TEST_TMPDIR/out" 11
pass "no XFS driver: the XFS filesystems named with their type and what to install; btrfs, NTFS and vfat compared"
assert_no_qemu
