#!/bin/bash
# One OS-like image pair, in one run: our diff cold (empty cache, a private
# daemon, so no warm appliance), ours again with both manifests cached, and
# upstream virt-diff --csv on the same images; times and ratios.
#   bench/cold-diff.sh [FILES]    (default 2000 files)
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-2000}
tools/build.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# An OS-like tree: /etc with fstab and os-release, /bin, and FILES files.
make_tree() {
    local d=$1
    mkdir -p "$d/etc" "$d/bin" "$d/usr/share/doc" "$d/boot"
    printf '/dev/sda1 / ext4 defaults 0 1\n' > "$d/etc/fstab"
    printf 'ID=debian\nVERSION_ID=12\nPRETTY_NAME="Debian GNU/Linux 12"\n' > "$d/etc/os-release"
    echo bench > "$d/etc/hostname"
    local i=0
    while [ $i -lt "$files" ]; do
        local sub="$d/usr/share/doc/pkg$((i / 50))"
        mkdir -p "$sub"
        head -c $((i % 4096 + 1)) /dev/urandom > "$sub/file$i"
        i=$((i + 1))
    done
}

make_tree "$work/a"
cp -a "$work/a" "$work/b"
echo changed > "$work/b/etc/hostname"
for i in $(seq 0 97 $((files - 1))); do echo edit >> "$work/b/usr/share/doc/pkg$((i / 50))/file$i"; done
chmod 600 "$work/b/etc/fstab"
uuid=0b3c9d2e-5f4a-4e1b-8c7d-112233445566
for s in a b; do
    truncate -s 256M "$work/$s.img"
    mke2fs -q -t ext4 -U "$uuid" -E hash_seed="$uuid" -d "$work/$s" "$work/$s.img"
    # A partition table, as a guest disk has: the filesystem in partition 1.
    truncate -s 257M "$work/$s.disk"
    printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q "$work/$s.disk"
    dd if="$work/$s.img" of="$work/$s.disk" bs=1M seek=1 conv=notrunc status=none
done

export LIBGUESTFS_BACKEND=direct
export XDG_CACHE_HOME=$work/cache
ours_diff() { # OUT
    local status=0
    build/virt-diff --private --json "$work/a.disk" "$work/b.disk" > "$1" || status=$?
    [ $status -le 1 ] || { echo "our diff failed ($status)" >&2; exit 1; }
}
t0=$(date +%s.%N)
ours_diff "$work/ours.json"
t1=$(date +%s.%N)
ours_diff "$work/cached.json"
t1c=$(date +%s.%N)

upstream=missing
if command -v virt-diff >/dev/null && [ "$(command -v virt-diff)" != "$PWD/build/virt-diff" ]; then
    t2=$(date +%s.%N)
    LIBGUESTFS_BACKEND_SETTINGS=force_tcg /usr/bin/virt-diff --csv -a "$work/a.disk" -A "$work/b.disk" \
        > "$work/upstream.csv" 2>"$work/upstream.err" || true
    t3=$(date +%s.%N)
    upstream=$(/usr/bin/python3 -c "print($t3 - $t2)")
fi
ours=$(/usr/bin/python3 -c "print($t1 - $t0)")
cached=$(/usr/bin/python3 -c "print($t1c - $t1)")
changes=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["changes"]))' "$work/ours.json")
ratio() { [ "$upstream" = missing ] && echo - || /usr/bin/python3 -c "print(f'{$upstream / $1:.1f}x')"; }
up=$([ "$upstream" = missing ] && echo "not installed" || printf '%.1f' "$upstream")
printf '| run (%s files, %s changes) | seconds | faster than upstream |\n|---|---|---|\n' "$files" "$changes"
printf '| upstream virt-diff --csv | %s | 1x |\n' "$up"
printf '| ours, cold | %.1f | %s |\n' "$ours" "$(ratio "$ours")"
printf '| ours, both manifests cached | %.2f | %s |\n' "$cached" "$(ratio "$cached")"
echo "ours: $changes changes, content hashed (SHA-256); upstream: $(wc -l < "$work/upstream.csv" 2>/dev/null || echo 0) csv lines, no content hashes" >&2
