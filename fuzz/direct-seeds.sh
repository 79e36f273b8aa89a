#!/bin/bash
# Writes the direct engine's seed images into fuzz/corpus/direct: small
# filesystems with the features of the test fixtures (xattrs, an ACL,
# fast and slow symlinks, a hard link, a fifo, inline data, an MBR, a guest
# with /etc/fstab and os-release), small enough for libFuzzer to mutate.
set -euo pipefail
out=${1:?usage: direct-seeds.sh DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export E2FSPROGS_FAKE_TIME=1700000000
cd "$work"
mkdir -p t/d os/etc os/bin os/boot
echo hello >t/a.txt
printf x >t/tiny
ln -s a.txt t/l
ln -s "$(printf 'y%.0s' {1..80})" t/slow
ln t/a.txt t/d/h
mkfifo t/f
setfattr -n user.k -v v t/a.txt
setfacl -m u:5:r t/tiny
printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian 12"\n' >os/etc/os-release
echo 12.5 >os/etc/debian_version
printf 'LABEL=root / ext4 defaults 0 1\n/dev/sda2 /boot ext2 defaults 0 2\n' >os/etc/fstab
find t os -exec touch -h -d @1700000000 {} +
mk() { # IMAGE SIZE-KiB MKE2FS-OPTIONS... TREE
        local img=$1 size=$2
        shift 2
        truncate -s "${size}K" "$img"
        mke2fs -q -F -U 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0f00 -E hash_seed=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0f00 "$@" "$img"
}
mk ext4.img 128 -t ext4 -O ^has_journal,^resize_inode -b 1024 -N 32 -d t
mk inline.img 96 -t ext4 -O ^has_journal,^resize_inode,inline_data -b 1024 -I 256 -N 32 -d t
mk ext2.img 64 -t ext2 -b 1024 -I 128 -N 32 -d t 2>/dev/null
mk os.img 128 -t ext4 -O ^has_journal,^resize_inode -b 1024 -N 32 -L root -d os
truncate -s 256K mbr.img
printf 'label: dos\nlabel-id: 0x1234abcd\nstart=64, size=192, type=83\n' | sfdisk -q mbr.img
mke2fs -q -F -t ext2 -b 1024 -N 32 -U 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0f01 -d t -E offset=32768 mbr.img 96
for f in ext4.img inline.img ext2.img os.img mbr.img; do
        cp "$f" "$out/${f%.img}"
done
