#!/bin/bash
# A diff on warm appliances next to a cold one: one daemon on a private
# session bus, without the manifest cache (so every diff scans); the first
# diff launches two appliances, the second finds them warm in the pool.
#   bench/warm.sh [FILES]    (default 2000 files an image)
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-2000}
tools/build.sh

if [ -z "${VIRT_DIFF_BENCH_BUS:-}" ]; then
    VIRT_DIFF_BENCH_BUS=1 exec dbus-run-session -- "$0" "$@"
fi

work=$(mktemp -d)
daemon=
cleanup() {
    [ -z "$daemon" ] || { kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT

# FILES small files in directories of 50, and a copy with every 97th edited.
mkdir -p "$work/a"
for ((i = 0; i < files; i++)); do
    d="$work/a/dir$((i / 50))"
    [ -d "$d" ] || mkdir "$d"
    echo "file $i" > "$d/f$i"
done
cp -a "$work/a" "$work/b"
for ((i = 0; i < files; i += 97)); do echo edit >> "$work/b/dir$((i / 50))/f$i"; done
for s in a b; do truncate -s 128M "$work/$s.img"; mke2fs -q -t ext4 -d "$work/$s" "$work/$s.img"; done

export LIBGUESTFS_BACKEND=direct XDG_CACHE_HOME=$work/cache
build/virt-diffd --session --no-cache --idle-timeout=0 --pool-idle=600 2>"$work/daemon.log" &
daemon=$!
for ((i = 0; i < 100; i++)); do
    busctl --user status org.virtdiff.VirtDiff1 >/dev/null 2>&1 && break
    sleep 0.1
done

launches() {
    busctl --user get-property org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
        org.virtdiff.VirtDiff1.Manager AppliancesLaunched | awk '{print $2}'
}
timed_diff() { # prints seconds and launches
    local before t0 t1 status=0
    before=$(launches)
    t0=$(date +%s.%N)
    build/virt-diff --session -q "$work/a.img" "$work/b.img" > /dev/null || status=$?
    t1=$(date +%s.%N)
    [ $status -le 1 ] || { echo "diff failed ($status)" >&2; cat "$work/daemon.log" >&2; exit 1; }
    echo "$(/usr/bin/python3 -c "print(f'{$t1 - $t0:.1f}')") $(($(launches) - before))"
}

read -r cold cold_l < <(timed_diff)
read -r warm warm_l < <(timed_diff)
printf '| diff of two %s-file images, no manifest cache | seconds | launches |\n|---|---|---|\n' "$files"
printf '| cold (appliances launched) | %s | %s |\n' "$cold" "$cold_l"
printf '| second diff, appliances warm in the pool | %s | %s |\n' "$warm" "$warm_l"
printf '| speedup | %s | |\n' "$(/usr/bin/python3 -c "print(f'{$cold / $warm:.1f}x')")"
