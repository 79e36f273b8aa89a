#!/bin/bash
# Sets up what is needed, builds two small disk images that differ, and
# compares them through the daemon on a private session bus.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/a/etc" "$work/a/srv"
echo golden > "$work/a/etc/hostname"
echo "port 22" > "$work/a/etc/sshd_config"
echo data > "$work/a/srv/data.txt"
cp -a "$work/a" "$work/b"
echo rebuilt > "$work/b/etc/hostname"
chmod 600 "$work/b/etc/sshd_config"
echo new > "$work/b/srv/new.txt"
rm "$work/b/srv/data.txt"
uuid=5e1f0c4a-0d1f-4a53-9c1e-6d2b8c3e7a10
for side in a b; do
    truncate -s 32M "$work/$side.img"
    mke2fs -q -t ext4 -U "$uuid" -E hash_seed="$uuid" -d "$work/$side" "$work/$side.img"
done
qemu-img convert -O qcow2 "$work/b.img" "$work/b.qcow2"

echo "Comparing a.img (raw) with b.qcow2 through virt-diffd (ext4: the direct engine, no appliance)..." >&2
export LIBGUESTFS_BACKEND=direct
status=0
dbus-run-session -- bash -c '
    build/virt-diffd --session --idle-timeout=10 &
    for i in $(seq 50); do
        dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
            org.freedesktop.DBus.NameHasOwner string:org.virtdiff.VirtDiff1 | grep -q "boolean true" && break
        sleep 0.1
    done
    build/virt-diff --session -l "$1/a.img" "$1/b.qcow2"
' demo "$work" 2> >(grep -v 'Failed to set fd limit' >&2) || status=$?
echo "virt-diff exited with $status (0 identical, 1 differences, 2 trouble)" >&2
[ "$status" -le 1 ]
