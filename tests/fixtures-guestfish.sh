#!/bin/bash
# Builds the fixtures that need an appliance (LVM, XFS, btrfs, NTFS, vfat)
# into the directory given as $1, with guestfish: three launches, once (the
# caller keeps a stamp of this file's hash, see ensure_guestfish_fixtures in
# tests/lib.sh). Needs guestfish, qemu-img and, for XFS, xfsprogs inside
# the appliance (Debian: libguestfs-xfs, which tools/install-deps.sh
# installs).
#
# Fixtures:
#   fedora.img       a phony Fedora guest in the shape of libguestfs' test
#                    guest: MBR, /boot (ext2, label BOOT) on sda1, an LVM
#                    volume group "VG" on sda2 holding the root (ext2, label
#                    ROOT) and three empty ext2 volumes LV1..LV3 that the
#                    guest does not mount. Raw, 512 MiB, sparse.
#   fedora-b.qcow2   overlay on fedora.img with the two changes of upstream's
#                    diff/test-virt-diff.sh: /diff created empty, a line
#                    appended to /etc/motd
#   fedora-c.qcow2   overlay on fedora-b.qcow2 with one change of each kind
#                    (the list is at the guestfish run that makes it), to
#                    compare our --output=virt-diff with upstream's virt-diff
#   fs-a.img         MBR: sda1 XFS, sda2 btrfs, sda3 NTFS, sda4 vfat, each
#                    holding the same small tree
#   fs-b.img         a copy of fs-a.img, then on each filesystem: hello.txt
#                    rewritten, docs/remove-me.txt removed, docs/new.txt
#                    added; on XFS and btrfs also docs/readme.txt chmod 0600
#                    and a symlink link -> hello.txt added
set -euo pipefail

OUT=${1:?usage: fixtures-guestfish.sh OUTPUT-DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "$OUT/.work-guestfish.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

export LIBGUESTFS_BACKEND=direct
# Built once: software emulation works everywhere, KVM or not.
export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
export LC_ALL=C

qemu-img create -q -f raw fedora.img 512M
qemu-img create -q -f raw fs-a.img 600M

# ----------------------------------------------------------- launch 1 ----
# The phony Fedora on sda, fs-a on sdb. Fedora's partitions in 512-byte
# sectors: sda1 /boot 2048..133119 (64 MiB), sda2 the LVM physical volume
# to the end. fs-a's: sdb1 XFS (mkfs.xfs wants 300 MiB), sdb2 btrfs, sdb3
# NTFS, sdb4 vfat.
fedora_commands() {
        cat <<-'EOF'
	part-init /dev/sda mbr
	part-add /dev/sda p 2048 133119
	part-add /dev/sda p 133120 -2048
	pvcreate /dev/sda2
	vgcreate VG /dev/sda2
	lvcreate Root VG 256
	lvcreate LV1 VG 32
	lvcreate LV2 VG 32
	lvcreate LV3 VG 64
	mkfs ext2 /dev/sda1 blocksize:4096 label:BOOT
	set-uuid /dev/sda1 5c0a1d2e-0000-4000-8000-00000000b007
	mkfs ext2 /dev/VG/Root blocksize:4096 label:ROOT
	set-uuid /dev/VG/Root 5c0a1d2e-0000-4000-8000-0000000000f1
	mkfs ext2 /dev/VG/LV1 blocksize:4096
	mkfs ext2 /dev/VG/LV2 blocksize:1024
	mkfs ext2 /dev/VG/LV3 blocksize:2048
	mount /dev/VG/Root /
	mkdir /boot
	mount /dev/sda1 /boot
	mkdir-p /bin
	mkdir-p /sbin
	mkdir-p /usr/bin
	mkdir-p /etc/sysconfig
	mkdir-p /var/log
	mkdir-p /var/lib/rpm
	mkdir-p /srv
	mkdir-p /boot/grub
	write /etc/fstab "LABEL=BOOT /boot ext2 defaults 0 0\nLABEL=ROOT / ext2 defaults 0 0\n"
	write /etc/redhat-release "Fedora release 14 (Phony)"
	write /etc/fedora-release "Fedora release 14 (Phony)"
	write /etc/motd "Welcome to Fedora release 14 (Phony)\n"
	write /etc/hosts "127.0.0.1 localhost\n"
	write /etc/hostname "phony.invalid\n"
	write /etc/issue "Fedora release 14 (Phony)\n"
	write /etc/sysconfig/network "HOSTNAME=phony.invalid\n"
	write /etc/shadow "root::15440:0:99999:7:::\n"
	chmod 0 /etc/shadow
	lsetxattr security.selinux "system_u:object_r:shadow_t:s0" 29 /etc/shadow
	write /etc/services "ssh 22/tcp\n"
	chown 10 11 /etc/services
	chmod 0600 /etc/services
	write /bin/sh "#!phony shell\n"
	chmod 0755 /bin/sh
	ln-s sh /bin/bash
	ln-s ../usr/share/zoneinfo/UTC /etc/localtime
	mkfifo 0600 /var/log/fifo
	write /var/log/messages "boot\n"
	write /boot/grub/grub.conf "title Fedora\n  root (hd0,0)\n  kernel /vmlinuz\n"
	write /boot/vmlinuz "not a kernel\n"
	umount-all
	EOF
}
fs_a_commands() {
        echo "part-init /dev/sdb mbr"
        echo "part-add /dev/sdb p 2048 657407"
        echo "part-add /dev/sdb p 657408 985087"
        echo "part-add /dev/sdb p 985088 1050623"
        echo "part-add /dev/sdb p 1050624 -2048"
        echo "mkfs xfs /dev/sdb1 label:xfsdata"
        echo "mkfs btrfs /dev/sdb2 label:btrfsdata"
        echo "mkfs ntfs /dev/sdb3 label:ntfsdata"
        echo "mkfs vfat /dev/sdb4 label:VFATDATA"
        for p in 1 2 3 4; do
                echo "mount /dev/sdb$p /"
                echo 'write /hello.txt "hello\n"'
                echo "mkdir /docs"
                echo 'write /docs/readme.txt "read me\n"'
                echo 'write /docs/remove-me.txt "to be removed\n"'
                echo 'write /docs/same.txt "stays the same\n"'
                echo "umount /"
        done
}
{
        echo run
        fedora_commands
        fs_a_commands
} | guestfish --rw -a fedora.img -a fs-a.img

cp --sparse=always fs-a.img fs-b.img
qemu-img create -q -f qcow2 -b fedora.img -F raw fedora-b.qcow2
qemu-img create -q -f qcow2 -b fedora-b.qcow2 -F qcow2 fedora-c.qcow2

# ----------------------------------------------------------- launch 2 ----
# Upstream's two changes as its test makes them (guestfish -i mounts the
# guest), then fs-b's on sdb.
{
        echo "touch /diff"
        echo 'write-append /etc/motd "Testing virt-diff\n"'
        echo "umount-all"
        for p in 1 2 3 4; do
                echo "mount /dev/sdb$p /"
                echo 'write /hello.txt "hello, world\n"'
                echo "rm /docs/remove-me.txt"
                echo 'write /docs/new.txt "new\n"'
                if [ "$p" -le 2 ]; then
                        echo "chmod 0600 /docs/readme.txt"
                        echo "ln-s hello.txt /link"
                fi
                echo "umount /"
        done
} | guestfish --rw --format=qcow2 -a fedora-b.qcow2 --format=raw -a fs-b.img -i

# ----------------------------------------------------------- launch 3 ----
# fedora-c: one change of each kind on top of fedora-b.
guestfish --rw --format=qcow2 -a fedora-c.qcow2 -i <<EOF
# content, same size
write /etc/hostname "PHONY.INVALID\n"
# mode of a file, of a directory
chmod 0600 /etc/hosts
chmod 0700 /var/log
# owner
chown 0 0 /etc/services
# an extended attribute
lsetxattr user.comment "phony" 5 /etc/sysconfig/network
# a symlink's target
rm /etc/localtime
ln-s ../usr/share/zoneinfo/Europe/Paris /etc/localtime
# removed, added, a new directory with a file, a new fifo
rm /etc/issue
mkdir /srv/www
write /srv/www/index.html "<p>phony</p>\n"
mkfifo 0644 /var/log/fifo2
# file -> directory
rm /var/log/messages
mkdir /var/log/messages
EOF

for f in fedora.img fedora-b.qcow2 fedora-c.qcow2 fs-a.img fs-b.img; do
        mv -f "$WORK/$f" "$OUT/$f"
done
