#!/bin/bash
# Installs what virt-diffd needs to build and test on Debian 12, if missing.
set -euo pipefail

# libguestfs-xfs puts xfsprogs in the appliance: the tests' fixtures make
# XFS there, and libguestfs' XFS calls need it. Reading a filesystem needs
# only the appliance kernel's driver, which Debian's kernel has for HFS+,
# JFS, NILFS2 and ReiserFS too: measured, JFS, NILFS2, ReiserFS (and XFS)
# filesystems mount read-only in an appliance without their libguestfs-*
# package, so libguestfs-hfsplus, -jfs, -nilfs and -reiserfs (mkfs and
# fsck tools) add nothing a diff uses. libguestfs-zfs is left out: it
# brings zfs-fuse, a host daemon, and libguestfs cannot mount ZFS datasets.
packages=(
    build-essential meson ninja-build pkg-config
    libguestfs-dev libguestfs-tools guestfs-tools libguestfs-xfs linux-image-amd64
    libsystemd-dev systemd libvirt-dev libjson-c-dev libsqlite3-dev libssl-dev
    dbus dbus-daemon qemu-utils qemu-system-x86 e2fsprogs fdisk attr
    python3 python3-jsonschema python3-dbus libxml2-utils polkitd util-linux cryptsetup-bin
    clang libclang-rt-14-dev
    librpm-dev libarchive-dev rpm db5.3-util sqlite3
    chromium cmark-gfm libarchive-tools mtree-netbsd
    libext2fs-dev comerr-dev libblkid-dev libmount-dev libnbd-dev libseccomp-dev
    xfsprogs dosfstools time
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "Installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
