#!/bin/bash
# Builds the package fixtures into the directory given as $1: OS-like
# images (one ext4 filesystem each, made by mke2fs -d, no appliance) whose
# root holds the trees of tests/make-package-trees.sh, so that libguestfs
# inspects them as a Debian and a Fedora guest with real package
# databases.
#
#   pkg-dpkg-a.img, pkg-dpkg-b.img   Debian-like, dpkg database; B has the
#                                    injected changes make-package-trees.sh
#                                    lists (upgrade, downgrade, epoch, tilde,
#                                    added, removed, a binary rewritten with
#                                    its size and mtime kept, a file deleted,
#                                    a conffile edited, unowned files)
#   pkg-rpm-a.img, pkg-rpm-b.img     Fedora-like, rpm database (sqlite), the
#                                    same changes
#   pkg-dpkg-corrupt.img             pkg-dpkg-b with a NUL byte in its
#                                    status file
#
# Needs root (owners), mke2fs >= 1.43, dpkg-deb, dpkg, rpmbuild, rpm.
set -euo pipefail

OUT=${1:?usage: package-fixtures.sh OUTPUT-DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "$OUT/.pkgwork.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C
umask 022
HERE=$(cd "$(dirname "$0")" && pwd)

T0=1700000000
UUID_DPKG=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0011
UUID_RPM=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0012

bash "$HERE/make-package-trees.sh" "$WORK/trees"

# What inspection needs to see an OS: fstab, os-release, a shell, and the
# distribution's own marker file. Files that exist before the packages'
# trees are merged in keep one fixed time.
skeleton() { # ROOT debian|fedora
        local root=$1
        mkdir -p "$root"/{etc,usr/bin,usr/lib,var/log,tmp}
        ln -sfn usr/bin "$root/bin"
        ln -sfn usr/lib "$root/lib"
        echo "/dev/sda / ext4 defaults 0 1" >"$root/etc/fstab"
        printf '#!/bin/sh\n' >"$root/usr/bin/sh"
        chmod 0755 "$root/usr/bin/sh"
        echo "guest" >"$root/etc/hostname"
        if [ "$2" = debian ]; then
                printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' \
                        >"$root/etc/os-release"
                echo "12.0" >"$root/etc/debian_version"
        else
                printf 'NAME="Fedora Linux"\nVERSION_ID=39\nID=fedora\nPRETTY_NAME="Fedora Linux 39"\n' \
                        >"$root/etc/os-release"
                echo "Fedora release 39 (Thirty Nine)" >"$root/etc/fedora-release"
                ln -sfn fedora-release "$root/etc/redhat-release"
        fi
}

image() { # TREE-NAME IMAGE UUID debian|fedora
        local root=$WORK/root-$1
        rm -rf "$root"
        mkdir -p "$root"
        skeleton "$root" "$4"
        find "$root" -exec touch -h -d "@$T0" {} +
        # The package trees bring their own times (the packages' and the
        # edits'); directories they share with the skeleton get theirs.
        cp -a "$WORK/trees/$1/." "$root/"
        truncate -s 64M "$OUT/$2.tmp"
        mke2fs -q -F -t ext4 -b 4096 -U "$3" -L root -E "hash_seed=$3,nodiscard" -d "$root" "$OUT/$2.tmp"
        mv "$OUT/$2.tmp" "$OUT/$2"
}

image dpkg-a pkg-dpkg-a.img "$UUID_DPKG" debian
image dpkg-b pkg-dpkg-b.img "$UUID_DPKG" debian
image rpm-a pkg-rpm-a.img "$UUID_RPM" fedora
image rpm-b pkg-rpm-b.img "$UUID_RPM" fedora

# The B side with a status file dpkg itself would refuse.
printf 'Package: vd\0broken\nStatus: install ok installed\n' >>"$WORK/trees/dpkg-b/var/lib/dpkg/status"
image dpkg-b pkg-dpkg-corrupt.img "$UUID_DPKG" debian
