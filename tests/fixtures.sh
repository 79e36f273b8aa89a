#!/bin/bash
# Builds the integration test fixtures into the directory given as $1, with
# no appliance: each filesystem is made by mke2fs -d from a directory tree
# whose timestamps, modes, owners and extended attributes are all fixed, and
# with a fixed filesystem UUID and directory hash seed, so that two builds of
# the same tree compare identical by virt-diff's rules.
#
# Needs root (mknod, chown), mke2fs >= 1.43 (-d with xattrs and hard links),
# sfdisk, qemu-img, setfattr (package attr) or python3.
#
# Usually called through ensure_fixtures (tests/lib.sh), which takes a lock
# and a stamp so parallel tests build once; "bash tests/fixtures.sh DIR" by
# hand also works.
#
# Fixtures (the tests state exactly which changes each pair must show):
#   kinds-a.img, kinds-b.img   raw ext4, one difference of each kind
#   same-1.img, same-2.img     one tree built twice, a second apart
#   os-a.img, os-b.img         partitioned Debian-like disk (/boot, /)
#   kinds-a.qcow2              kinds-a.img converted
#   overlay.qcow2              qcow2 overlay on kinds-a.qcow2, no changes
#   truncated.qcow2            kinds-a.qcow2 cut short of its tables
#   missing-backing.qcow2      overlay whose backing file does not exist
#   random.img                 4 MiB of (seeded) noise
#   empty.img                  0 bytes
#   notes.txt                  a text file
#   snaps.qcow2                internal snapshots: s1 holds kinds-a, s2 and the
#                              live image kinds-b
#   4k-a.img, 4k-b.img         a disk of 4096-byte sectors (MBR), one ext4
#                              partition (b: a file added)
#   blank-a.img, blank-b.img   partitioned: p1 an ext4 with no regular file
#                              (b: one file added), p2 only a fifo, a
#                              device, a symlink and empty directories, p3
#                              never formatted
#   extras.img                 what the kernel shows differently from the disk,
#                              for the direct engine's cross-check: MBR with
#                              logical partitions; p1 ext4 with ACLs, security,
#                              trusted and capability xattrs, an xattr in an EA
#                              inode, sparse and 3 MB files, fast, slow and
#                              long symlinks, devices with large numbers, a
#                              socket, times before 1970, past 2038 and with
#                              nanoseconds, a deleted entry; p2 ext4 with
#                              inline data; p5 ext2 with 128-byte inodes; p6
#                              ext3 with 1 KiB blocks
#   xfs.img                    an empty XFS (300 MiB, sparse): the appliance's
#   recover.img                kinds-a with its journal marked as needing
#                              recovery: the kernel replays it, so the direct
#                              engine leaves it to the appliance
set -euo pipefail

OUT=${1:?usage: fixtures.sh OUTPUT-DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "$OUT/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

PYTHON=/usr/bin/python3
export LC_ALL=C
umask 022

# Every entry gets this time before mke2fs; the variants move some of them.
T0=1700000000
KINDS_UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0001
SAME_UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0002
BOOT_UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0003
ROOT_UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0004
DATA_UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0005

# The long path: five nested directories of 200 bytes each.
LONG_REL=long
for c in a b c d e; do
        LONG_REL+=/$(printf "$c%.0s" {1..200})
done

setxattr() { # NAME VALUE FILE
        if command -v setfattr >/dev/null; then
                setfattr -h -n "$1" -v "$2" "$3"
        else
                "$PYTHON" -c 'import os, sys; os.setxattr(sys.argv[3], sys.argv[1], sys.argv[2].encode(), follow_symlinks=False)' "$@"
        fi
}

# Fixed times on everything (symlinks themselves too, -h), after all the
# content is in place: creating entries moves the times of their parents.
fix_times() { # DIR
        find "$1" -exec touch -h -d "@$T0" {} +
}

# mke2fs -d copies modes, owners, times, xattrs, device nodes, fifos,
# symlinks and hard links. The hash seed fixes the htree layout.
mkfs_dir() { # DIR IMAGE UUID LABEL SIZE-IN-4K-BLOCKS [EXTRA-E-OPTIONS]
        local e="hash_seed=$3,nodiscard${6:+,$6}"
        [ -e "$2" ] || truncate -s $(($5 * 4096)) "$2"
        mke2fs -q -F -t ext4 -b 4096 -U "$3" -L "$4" -E "$e" -d "$1" "$2" "$5"
}

# ---------------------------------------------------------------- kinds ----

# The tree of kinds-a (and of same-1/same-2), or with "b" the changed one.
build_kinds_tree() { # DIR a|b
        local d=$1 v=$2
        mkdir -p "$d"
        cd "$d"

        echo "stays the same" >unchanged.txt
        if [ "$v" = a ]; then
                echo "only on the old side" >removed.txt
        else
                echo "only on the new side" >added.txt
        fi

        # Content, different size.
        if [ "$v" = a ]; then echo "short" >modified-size.txt; else echo "a good deal longer" >modified-size.txt; fi
        # Content, same size, same mtime: only the hash can tell.
        if [ "$v" = a ]; then printf 'AAAAAAAA\n' >modified-same.txt; else printf 'BBBBBBBB\n' >modified-same.txt; fi

        echo "mode" >chmod.txt
        if [ "$v" = a ]; then chmod 0644 chmod.txt; else chmod 0600 chmod.txt; fi
        echo "owner" >chown.txt
        if [ "$v" = b ]; then chown 1000:1000 chown.txt; fi
        echo "xattr" >xattr.txt
        if [ "$v" = b ]; then setxattr user.note "hello" xattr.txt; fi
        # A file with the same xattr on both sides: unchanged.
        echo "xattr kept" >xattr-same.txt
        setxattr user.kept "same value" xattr-same.txt
        echo "mtime" >mtime.txt
        mkdir mtime-dir
        echo "in a directory whose mtime moves" >mtime-dir/keep.txt

        if [ "$v" = a ]; then ln -s target-a link; else ln -s target-b link; fi
        ln -s unchanged.txt link-same

        # File -> directory with children.
        if [ "$v" = a ]; then
                echo "a file for now" >type-change
        else
                mkdir -p type-change/sub
                echo one >type-change/c1.txt
                echo two >type-change/sub/c2.txt
        fi

        # A directory with children, gone on the new side.
        if [ "$v" = a ]; then
                mkdir -p gone/sub
                echo a >gone/a.txt
                echo b >gone/sub/b.txt
        fi

        mkdir devs
        if [ "$v" = a ]; then mknod devs/chr c 1 3; else mknod devs/chr c 1 5; fi
        mknod devs/chr-same c 1 7
        mkfifo devs/fifo-same
        if [ "$v" = b ]; then mkfifo devs/fifo-new; fi

        mkdir hard
        echo "linked" >hard/orig.txt
        if [ "$v" = b ]; then ln hard/orig.txt hard/link.txt; fi
        echo "two names on both sides" >hard/both1.txt
        ln hard/both1.txt hard/both2.txt

        # Sibling order trap: "dir-x" and "dir.d" sort between "dir" and
        # "dir/..." in plain strcmp order.
        mkdir dir dir-x dir.d
        echo a >dir/a.txt
        echo x >dir-x/a.txt
        echo d >dir.d/a.txt
        if [ "$v" = a ]; then echo "inner old" >dir/inner; else echo "inner new!" >dir/inner; fi
        echo z >dir/z.txt

        # Awkward names.
        mkdir names
        if [ "$v" = a ]; then echo "spaced" >"names/with space.txt"; else echo "spaced out" >"names/with space.txt"; fi
        if [ "$v" = b ]; then echo "newline" >"names/new"$'\n'"line"; fi
        if [ "$v" = a ]; then echo "latin-1" >"names/caf"$'\xe9'; else echo "latin-1 name" >"names/caf"$'\xe9'; fi
        if [ "$v" = b ]; then echo "binary" >"names/"$'\xff\xfe'".bin"; fi
        # sha256sum escapes names holding '\\' or a newline: same-size edits,
        # so only a correctly parsed hash shows them.
        if [ "$v" = a ]; then echo "quote-a" >"names/back\\slash \"q\""; else echo "quote-b" >"names/back\\slash \"q\""; fi
        if [ "$v" = a ]; then echo "x1" >"names/two"$'\n'"lines"; else echo "x2" >"names/two"$'\n'"lines"; fi

        mkdir -p "$LONG_REL"
        if [ "$v" = a ]; then echo "deep" >"$LONG_REL/deep.txt"; else echo "deeper" >"$LONG_REL/deep.txt"; fi
        if [ "$v" = b ]; then echo "new deep" >"$LONG_REL/deep-new.txt"; fi

        # Link count of a directory: a new subdirectory raises it.
        mkdir -p nlink/keep
        if [ "$v" = b ]; then mkdir nlink/newsub; fi

        # Many files whose atime differs on the new side.
        mkdir atime
        for i in $(seq 1 20); do echo "$i" >"atime/f$i"; done

        cd - >/dev/null
        fix_times "$d"

        if [ "$v" = b ]; then
                # Access times differ on everything.
                find "$d" -exec touch -h -a -d "@$((T0 + 86400))" {} +
                touch -h -m -d "@$((T0 + 3600))" "$d/mtime.txt"
                touch -h -m -d "@$((T0 + 3600))" "$d/mtime-dir"
        fi
}

build_kinds() {
        build_kinds_tree "$WORK/kinds-a" a
        build_kinds_tree "$WORK/kinds-b" b
        mkfs_dir "$WORK/kinds-a" "$WORK/kinds-a.img" "$KINDS_UUID" kinds 8192
        mkfs_dir "$WORK/kinds-b" "$WORK/kinds-b.img" "$KINDS_UUID" kinds 8192
}

# One tree, built twice at different moments: only ctimes and creation
# times (not compared) differ.
build_same() {
        build_kinds_tree "$WORK/same-1" a
        mkfs_dir "$WORK/same-1" "$WORK/same-1.img" "$SAME_UUID" same 8192
        sleep 1
        build_kinds_tree "$WORK/same-2" a
        mkfs_dir "$WORK/same-2" "$WORK/same-2.img" "$SAME_UUID" same 8192
}

# ------------------------------------------------------------------- os ----

# Partition layout in 512-byte sectors: p1 /boot, p2 /, p3 (os-b only) data.
P1_START=2048 P1_SIZE=32768
P2_START=34816 P2_SIZE=65536
P3_START=100352 P3_SIZE=20480
OS_SECTORS=122880 # 60 MiB

build_os_trees() { # ROOTDIR BOOTDIR a|b
        local root=$1 boot=$2 v=$3
        mkdir -p "$root"/{etc,bin,usr/bin,var/log,boot} "$boot/grub"
        cat >"$root/etc/fstab" <<-EOF
	/dev/sda2 / ext4 defaults 0 1
	/dev/sda1 /boot ext4 defaults 0 2
	EOF
        cat >"$root/etc/os-release" <<-EOF
	PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
	NAME="Debian GNU/Linux"
	VERSION_ID="12"
	VERSION="12 (bookworm)"
	VERSION_CODENAME=bookworm
	ID=debian
	EOF
        echo "12.0" >"$root/etc/debian_version"
        if [ "$v" = a ]; then echo "guest-a" >"$root/etc/hostname"; else echo "guest-b-renamed" >"$root/etc/hostname"; fi
        echo "127.0.0.1 localhost" >"$root/etc/hosts"
        printf '#!/bin/sh\n' >"$root/bin/true"
        chmod 0755 "$root/bin/true"
        echo "log" >"$root/var/log/messages"
        echo "kernel" >"$boot/vmlinuz"
        if [ "$v" = a ]; then
                printf 'set timeout=5\nlinux /vmlinuz root=/dev/sda2\n' >"$boot/grub.cfg"
        else
                printf 'set timeout=1\nlinux /vmlinuz root=/dev/sda2 quiet\n' >"$boot/grub.cfg"
        fi
        echo "grub env" >"$boot/grub/grubenv"
        fix_times "$root"
        fix_times "$boot"
}

build_os() { # a|b
        local v=$1 img=$WORK/os-$1.img
        build_os_trees "$WORK/os-$v-root" "$WORK/os-$v-boot" "$v"
        truncate -s $((OS_SECTORS * 512)) "$img"
        {
                echo "label: dos"
                echo "label-id: 0x1234abcd"
                echo "start=$P1_START, size=$P1_SIZE, type=83"
                echo "start=$P2_START, size=$P2_SIZE, type=83"
                if [ "$v" = b ]; then echo "start=$P3_START, size=$P3_SIZE, type=83"; fi
        } | sfdisk -q "$img" >/dev/null
        # mke2fs takes the size in blocks (-b 4096) and writes at the offset.
        local boot_label=boot
        if [ "$v" = b ]; then boot_label=BOOT; fi
        mkfs_dir "$WORK/os-$v-boot" "$img" "$BOOT_UUID" "$boot_label" $((P1_SIZE * 512 / 4096)) \
                "offset=$((P1_START * 512))"
        mkfs_dir "$WORK/os-$v-root" "$img" "$ROOT_UUID" root $((P2_SIZE * 512 / 4096)) \
                "offset=$((P2_START * 512))"
        if [ "$v" = b ]; then
                mkdir -p "$WORK/os-b-data"
                echo "data" >"$WORK/os-b-data/data.txt"
                fix_times "$WORK/os-b-data"
                mkfs_dir "$WORK/os-b-data" "$img" "$DATA_UUID" data $((P3_SIZE * 512 / 4096)) \
                        "offset=$((P3_START * 512))"
        fi
}

# ------------------------------------------------------------- qcow2 etc ----

build_images() {
        qemu-img convert -f raw -O qcow2 "$WORK/kinds-a.img" "$WORK/kinds-a.qcow2"
        (cd "$WORK" && qemu-img create -q -f qcow2 -b kinds-a.qcow2 -F qcow2 overlay.qcow2)

        # Cut short of where its tables end, well past the header.
        local end
        end=$(qemu-img check --output=json "$WORK/kinds-a.qcow2" |
                "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["image-end-offset"])')
        head -c $((end / 2)) "$WORK/kinds-a.qcow2" >"$WORK/truncated.qcow2"
        [ $((end / 2)) -gt 65536 ]

        (cd "$WORK" && qemu-img create -q -f qcow2 -u -b no-such-base.qcow2 -F qcow2 missing-backing.qcow2 32M)

        # Seeded noise: the same bytes every build, and no boot signature.
        "$PYTHON" - "$WORK/random.img" <<-'EOF'
	import random, sys
	data = bytearray(random.Random(20261125).randbytes(4 << 20))
	data[510:512] = b"\0\0"
	open(sys.argv[1], "wb").write(data)
	EOF
        : >"$WORK/empty.img"
        printf 'These are notes, not a disk image.\n' >"$WORK/notes.txt"

        # An ext4 that blkid recognises but no kernel mounts: an unknown
        # incompatible feature bit (no metadata_csum, so nothing else trips).
        mkdir -p "$WORK/unmountable"
        echo data >"$WORK/unmountable/file.txt"
        truncate -s 16M "$WORK/unmountable.img"
        mke2fs -q -t ext4 -O ^metadata_csum,^metadata_csum_seed -U 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0009 \
                -d "$WORK/unmountable" "$WORK/unmountable.img"
        "$PYTHON" - "$WORK/unmountable.img" <<-'EOF'
	import struct, sys
	with open(sys.argv[1], "r+b") as f:
	    f.seek(1024 + 0x60)
	    incompat = struct.unpack("<I", f.read(4))[0]
	    f.seek(1024 + 0x60)
	    f.write(struct.pack("<I", incompat | 0x10000000))
	EOF
}

# Filesystems with nothing to hash, beside a partition with no filesystem.
BLANK_SECTORS=65536 # 32 MiB: p1 and p2 12 MiB each, p3 4 MiB
build_blank() { # a|b
        local v=$1 img=$WORK/blank-$1.img
        mkdir -p "$WORK/blank-$v-p1" "$WORK/blank-$v-p2/empty-dir/empty-sub"
        if [ "$v" = b ]; then echo "the only file" >"$WORK/blank-$v-p1/hello.txt"; fi
        mkfifo "$WORK/blank-$v-p2/fifo"
        mknod "$WORK/blank-$v-p2/null" c 1 3
        ln -s nowhere "$WORK/blank-$v-p2/dangling"
        fix_times "$WORK/blank-$v-p1"
        fix_times "$WORK/blank-$v-p2"
        truncate -s $((BLANK_SECTORS * 512)) "$img"
        printf 'label: dos\nlabel-id: 0x5678abcd\nstart=2048, size=24576, type=83\nstart=26624, size=24576, type=83\nstart=51200, size=8192, type=83\n' |
                sfdisk -q "$img" >/dev/null
        mkfs_dir "$WORK/blank-$v-p1" "$img" 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0006 empty 3072 "offset=$((2048 * 512))"
        mkfs_dir "$WORK/blank-$v-p2" "$img" 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0007 specials 3072 "offset=$((26624 * 512))"
}

# A disk of 4096-byte sectors (--blocksize=4096): its MBR counts in them,
# so read with 512-byte sectors its partition holds nothing.
build_4k() { # a|b
        local v=$1 img=$WORK/4k-$1.img
        mkdir -p "$WORK/4k-$v"
        echo "four k" >"$WORK/4k-$v/sectors.txt"
        if [ "$v" = b ]; then echo "added" >"$WORK/4k-$v/added.txt"; fi
        fix_times "$WORK/4k-$v"
        truncate -s 16M "$img"
        "$PYTHON" - "$img" <<-'EOF'
	import struct, sys
	with open(sys.argv[1], "r+b") as f:
	    f.seek(440)
	    f.write(struct.pack("<I", 0x4096ABCD))
	    f.seek(446)
	    # not bootable, CHS unused, Linux, first sector 256, 3584 sectors
	    f.write(struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", 256, 3584))
	    f.seek(510)
	    f.write(b"\x55\xaa")
	EOF
        mkfs_dir "$WORK/4k-$v" "$img" 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0008 fourk 3584 "offset=$((256 * 4096))"
}

# Internal snapshots, as "qemu-img snapshot -c" makes them; convert -n
# writes the next state into the live image around them.
build_snapshots() {
        qemu-img convert -f raw -O qcow2 "$WORK/kinds-a.img" "$WORK/snaps.qcow2"
        qemu-img snapshot -c s1 "$WORK/snaps.qcow2"
        qemu-img convert -n -f raw -O qcow2 "$WORK/kinds-b.img" "$WORK/snaps.qcow2"
        qemu-img snapshot -c s2 "$WORK/snaps.qcow2"
}

# ----------------------------------------------------------------- extras ----

# Sectors: p1 32 MiB, p2 16 MiB, p3 extended holding p5 and p6 (10 MiB each).
EXTRAS_SECTORS=165888
build_extras_tree() { # DIR FULL
        local d=$1 full=$2
        mkdir -p "$d/dir/sub" "$d/sticky"
        echo "tiny" >"$d/tiny.txt"
        printf 'x' >"$d/one-byte"
        echo "linked" >"$d/h1"
        ln "$d/h1" "$d/h2"
        ln "$d/h1" "$d/dir/h3"
        ln -s h1 "$d/fast-link"
        ln -s "$(printf 'y%.0s' {1..100})" "$d/inline-link"
        echo "deep" >"$d/dir/sub/deep.txt"
        mkfifo "$d/fifo"
        chmod 1777 "$d/sticky"
        echo "owned" >"$d/owned"
        chown 100000:200000 "$d/owned"
        [ "$full" = full ] || return 0
        echo "acl" >"$d/acl.txt"
        setfacl -m u:1234:rw,g:55:r "$d/acl.txt"
        setfacl -d -m u:1234:rwx "$d/dir"
        setfacl -m u:99:rx "$d/dir"
        echo "sec" >"$d/sec.txt"
        setfattr -n security.selinux -v "system_u:object_r:etc_t:s0" "$d/sec.txt"
        echo "trusted" >"$d/trusted.txt"
        setfattr -n trusted.foo -v bar "$d/trusted.txt"
        echo "cap" >"$d/cap.bin"
        setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= "$d/cap.bin"
        echo "x" >"$d/xattrs.txt"
        setfattr -n user.empty "$d/xattrs.txt"
        setfattr -n user.bin -v 0x00ff00ff0a "$d/xattrs.txt"
        for i in $(seq 1 12); do setfattr -n "user.attr$i" -v "value $i" "$d/xattrs.txt"; done
        setfattr -n user.big -v "$(head -c 900 /dev/zero | tr '\0' z)" "$d/xattrs.txt"
        truncate -s 10M "$d/sparse.bin"
        printf 'middle' | dd of="$d/sparse.bin" bs=1 seek=5000000 conv=notrunc status=none
        "$PYTHON" -c 'import random, sys; open(sys.argv[1], "wb").write(random.Random(14).randbytes(3000000))' \
                "$d/big.bin"
        ln -s "$(printf 'z%.0s' {1..900})" "$d/long-link"
        mknod "$d/bigdev" c 300 70000
        mknod "$d/blkdev" b 8 1
        "$PYTHON" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$d/sock"
        echo "suid" >"$d/suid"
        chmod 4755 "$d/suid"
        echo "old" >"$d/old.txt"
        echo "future" >"$d/future.txt"
        echo "nano" >"$d/nano.txt"
        echo "removed" >"$d/removed.txt"
}

build_extras() {
        local img=$WORK/extras.img
        build_extras_tree "$WORK/extras-full" full
        build_extras_tree "$WORK/extras-small" small
        fix_times "$WORK/extras-full"
        fix_times "$WORK/extras-small"
        touch -h -d "@-100000" "$WORK/extras-full/old.txt"
        head -c 8000 /dev/zero | tr '\0' q >"$WORK/huge-value"
        # Each filesystem on its own, then copied into its partition.
        truncate -s 32M "$WORK/p1.fs"
        mke2fs -q -F -t ext4 -b 4096 -I 256 -O ea_inode -U 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0011 -L extras \
                -E hash_seed=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0011 -d "$WORK/extras-full" "$WORK/p1.fs"
        # What mke2fs -d does not write: nanoseconds, the epoch bits past
        # 2038 and on a time before 1970, an EA inode, a deleted entry.
        debugfs -w -f - "$WORK/p1.fs" >/dev/null 2>&1 <<-EOF
	sif nano.txt mtime_extra 493827156
	sif nano.txt atime_extra 4
	sif future.txt mtime_extra 1
	sif future.txt atime_extra 6
	sif old.txt ctime_extra 3
	ea_set -f $WORK/huge-value xattrs.txt user.huge
	rm removed.txt
	EOF
        truncate -s 16M "$WORK/p2.fs"
        mke2fs -q -F -t ext4 -b 4096 -O inline_data -U 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0012 \
                -E hash_seed=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0012 -d "$WORK/extras-small" "$WORK/p2.fs"
        truncate -s 10M "$WORK/p5.fs" "$WORK/p6.fs"
        mke2fs -q -F -t ext2 -b 1024 -I 128 -U 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0013 \
                -d "$WORK/extras-small" "$WORK/p5.fs" 2>/dev/null
        mke2fs -q -F -t ext3 -b 1024 -I 256 -U 6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0014 -L 'old ext3' \
                -d "$WORK/extras-small" "$WORK/p6.fs"
        truncate -s $((EXTRAS_SECTORS * 512)) "$img"
        printf 'label: dos\nlabel-id: 0x9abcdef0\nstart=2048, size=65536, type=83\nstart=67584, size=32768, type=83\nstart=100352, size=65536, type=5\nstart=102400, size=20480, type=83\nstart=124928, size=20480, type=83\n' |
                sfdisk -q "$img" >/dev/null
        dd if="$WORK/p1.fs" of="$img" bs=512 seek=2048 conv=notrunc,sparse status=none
        dd if="$WORK/p2.fs" of="$img" bs=512 seek=67584 conv=notrunc,sparse status=none
        dd if="$WORK/p5.fs" of="$img" bs=512 seek=102400 conv=notrunc,sparse status=none
        dd if="$WORK/p6.fs" of="$img" bs=512 seek=124928 conv=notrunc,sparse status=none
}

# Sides the direct engine leaves to the appliance.
build_engine_fixtures() {
        truncate -s 300M "$WORK/xfs.img"
        mkfs.xfs -q -m uuid=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0015 -L xfs "$WORK/xfs.img"
        cp --sparse=always "$WORK/kinds-a.img" "$WORK/recover.img"
        debugfs -w -R 'feature needs_recovery' "$WORK/recover.img" >/dev/null 2>&1
}

build_kinds
build_same
build_os a
build_os b
build_images
build_snapshots
build_blank a
build_blank b
build_4k a
build_4k b
build_extras
build_engine_fixtures

# Stale copies of removed fixtures go too; the stamp is the caller's.
for f in kinds-a.img kinds-b.img same-1.img same-2.img os-a.img os-b.img kinds-a.qcow2 overlay.qcow2 \
        truncated.qcow2 missing-backing.qcow2 random.img empty.img notes.txt unmountable.img snaps.qcow2 blank-a.img blank-b.img \
        4k-a.img 4k-b.img extras.img xfs.img recover.img; do
        mv -f "$WORK/$f" "$OUT/$f"
done
