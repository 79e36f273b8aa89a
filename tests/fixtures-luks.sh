#!/bin/bash
# Builds a pair of disks with an encrypted (LUKS2) partition into the
# directory given as $1, with no appliance: mke2fs -d makes each ext4, and
# cryptsetup encrypts one of them in place in a file of its own (offline,
# with no device-mapper), which then goes into its partition.
#
#   luks-a.img, luks-b.img   MBR: sda1 plain ext4 (/plain.txt), sda2 LUKS2
#                            holding ext4 (/secret.txt). Passphrases
#                            "alpha-secret" (a) and "beta-secret" (b); the
#                            same volume UUIDs on both. b: /plain.txt and
#                            /secret.txt edited, /new-secret.txt added.
#
# PBKDF2 with few iterations: opening a volume costs milliseconds, also in
# an emulated appliance (a real volume's Argon2 would cost seconds there).
# Needs cryptsetup (cryptsetup-bin), mke2fs, sfdisk.
set -euo pipefail

OUT=${1:?usage: fixtures-luks.sh OUTPUT-DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "$OUT/.work-luks.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C
umask 022

T0=1700000000
LUKS_UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a00a1
INNER_UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a00a2
PLAIN_UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a00a3
# 96 MiB: sda1 16 MiB at 1 MiB, sda2 to the end (its first 16 MiB the
# LUKS2 header).
P1_START=2048 P1_SIZE=32768
P2_START=34816 P2_SIZE=161792

build() { # a|b PASSPHRASE
        local v=$1 img=$WORK/luks-$1.img d=$WORK/$1
        mkdir -p "$d/plain" "$d/secret"
        if [ "$v" = a ]; then
                echo "plain, first" >"$d/plain/plain.txt"
                echo "secret, first" >"$d/secret/secret.txt"
        else
                echo "plain, second edition" >"$d/plain/plain.txt"
                echo "secret, second edition" >"$d/secret/secret.txt"
                echo "a new secret" >"$d/secret/new-secret.txt"
        fi
        find "$d" -exec touch -h -d "@$T0" {} +

        truncate -s 96M "$img"
        printf 'label: dos\nlabel-id: 0x1e5a1e5a\nstart=%s, size=%s, type=83\nstart=%s, size=%s, type=83\n' \
                $P1_START $P1_SIZE $P2_START $P2_SIZE | sfdisk -q "$img" >/dev/null
        mke2fs -q -F -t ext4 -b 4096 -U "$PLAIN_UUID" -L plain -E "offset=$((P1_START * 512)),hash_seed=$PLAIN_UUID" \
                -d "$d/plain" "$img" $((P1_SIZE * 512 / 4096))

        # The volume: an ext4 in the front of a file of the partition's size,
        # encrypted in place behind a header made room for at the front.
        local vol=$WORK/vol-$v.img key=$WORK/key-$v
        truncate -s $((P2_SIZE * 512)) "$vol"
        mke2fs -q -F -t ext4 -b 4096 -U "$INNER_UUID" -L secret -E "hash_seed=$INNER_UUID" -d "$d/secret" "$vol" 4096
        printf '%s' "$2" >"$key"
        cryptsetup reencrypt --encrypt --batch-mode --type luks2 --uuid "$LUKS_UUID" --reduce-device-size 32M \
                --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$key" "$vol" >/dev/null
        dd if="$vol" of="$img" bs=512 seek=$P2_START conv=notrunc,sparse status=none
}

build a alpha-secret
build b beta-secret
mv -f "$WORK/luks-a.img" "$WORK/luks-b.img" "$OUT/"
