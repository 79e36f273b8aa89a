#!/bin/bash
# Trouble: exit status 2 and one line on stderr naming the image and what
# is wrong with it; on the bus, the matching named error. Bad input is
# refused before any appliance starts; only the last case (no filesystem on
# a disk) needs a launch pair.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon dbus-send busctl
ensure_fixtures
start_bus

GOOD=$FIXTURES/kinds-a.img

# expect_error DESCRIPTION MESSAGE-PART... -- virt-diff ARGS...
# Exit status 2, nothing on stdout, exactly one line on stderr that starts
# with "virt-diff: " and holds every MESSAGE-PART; and no appliance: fast,
# and the daemon has not decided how to run qemu (it does so at its first
# launch). The line is left in $TEST_TMPDIR/err.
expect_error() {
        local what=$1 parts=() part
        shift
        while [ "$1" != "--" ]; do
                parts+=("$1")
                shift
        done
        shift
        run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" "$@"
        assert_rc 2 "$TEST_TMPDIR/err"
        assert_lines "$TEST_TMPDIR/out" 0
        assert_lines "$TEST_TMPDIR/err" 1
        grep -q '^virt-diff: ' "$TEST_TMPDIR/err" || fail "$what: $(cat "$TEST_TMPDIR/err")"
        for part in "${parts[@]}"; do
                assert_contains "$TEST_TMPDIR/err" "$part"
        done
        if [ "${LAUNCH:-0}" = 0 ]; then
                if daemon_log | grep -qE 'KVM is not usable|Using KVM'; then
                        fail "$what: an appliance was started"
                fi
        fi
        pass "$what: $(cat "$TEST_TMPDIR/err")"
}

err_has() { # FIXED-STRING
        grep -qF -- "$1" "$TEST_TMPDIR/err"
}

# ---- the command line ----

expect_error "unknown option" "unknown option '--bogus'" -- \
        --bogus "$GOOD" "$GOOD"
expect_error "one image only" "expected two images, got 1 argument" -- \
        "$GOOD"
expect_error "no -A disk" "two images are needed" -- \
        -a "$GOOD"

# ---- images refused before any launch ----

# A disk a paused qemu holds for writing, as a running VM does.
requires qemu-system-x86_64
cp --sparse=always "$GOOD" "$TEST_TMPDIR/running.img"
qemu-system-x86_64 -accel tcg -m 64 -nodefaults -display none -S \
        -drive file="$TEST_TMPDIR/running.img",format=raw,if=virtio </dev/null >/dev/null 2>&1 &
vm=$!
wait_for_write_lock "$TEST_TMPDIR/running.img"

expect_error "an image in use by a running VM" "$TEST_TMPDIR/running.img: image is in use by a running virtual machine" -- \
        "$TEST_TMPDIR/running.img" "$GOOD"

expect_error "missing file" "$TEST_TMPDIR/no-such.img: no such file" -- \
        "$GOOD" "$TEST_TMPDIR/no-such.img"
# Every refusal from here on comes from this one daemon.
first_pid=$(daemon_pid)
[ -n "$first_pid" ] || fail "no daemon after the first refusal"
expect_error "a directory" "$FIXTURES: is a directory" -- \
        "$FIXTURES" "$GOOD"
expect_error "empty file" "$FIXTURES/empty.img: empty file" -- \
        "$FIXTURES/empty.img" "$GOOD"
# A FIFO nobody writes to: opening it for reading must not block the
# daemon (the guard is generous; the refusal itself is immediate).
mkfifo "$TEST_TMPDIR/fifo.img"
expect_error "a FIFO" "$TEST_TMPDIR/fifo.img: not a regular file or block device" -- \
        "$TEST_TMPDIR/fifo.img" "$GOOD"
daemon_answers || fail "the daemon does not answer after the FIFO"
expect_error "/dev/zero" "/dev/zero: not a regular file or block device" -- \
        /dev/zero "$GOOD"
expect_error "text file forced to qcow2" "$FIXTURES/notes.txt: not a valid qcow2 image" -- \
        --format=qcow2 "$FIXTURES/notes.txt" "$GOOD"

expect_error "truncated qcow2" "$FIXTURES/truncated.qcow2: " -- \
        "$FIXTURES/truncated.qcow2" "$GOOD"
xfail_check truncated-as-corrupt "a truncated qcow2 is called truncated" \
        'assert_contains "$TEST_TMPDIR/err" "corrupt qcow2 image"' \
        err_has ": truncated"

expect_error "missing backing file" "$FIXTURES/missing-backing.qcow2: " "no-such-base.qcow2" -- \
        "$GOOD" "$FIXTURES/missing-backing.qcow2"
xfail_check backing-not-named "a missing backing file is called that" \
        'assert_contains "$TEST_TMPDIR/err" "not a valid qcow2 image: Could not open"' \
        err_has "backing file"

# ---- the backing-file attack ----

# A raw disk (the good ext4 image) whose first bytes, unused by ext4, are a
# qcow2 header naming /etc/shadow as its backing file with no format: qemu
# would probe /etc/shadow and read it. qemu-img no longer writes such
# headers, so it is made by hand.
EVIL=$TEST_TMPDIR/evil.img
cp --sparse=always "$GOOD" "$EVIL"
write_qcow2_header() { # FILE BACKING [FORMAT]
        "$PYTHON" - "$@" <<'PY'
import struct, sys
path, backing = sys.argv[1], sys.argv[2].encode()
fmt = sys.argv[3].encode() if len(sys.argv) > 3 else b""
ext = b""
if fmt:
    ext = struct.pack(">II", 0xE2792ACA, len(fmt)) + fmt.ljust((len(fmt) + 7) // 8 * 8, b"\0")
ext += b"\0" * 8
off = 104 + len(ext)
hdr = struct.pack(">IIQIIQIIQQIIQQQQII", 0x514649FB, 3, off, len(backing), 16, 1 << 20, 0, 0, 0, 0, 0, 0, 0,
                  0, 0, 0, 4, 104)
with open(path, "r+b") as f:
    f.write(hdr + ext + backing)
PY
}
write_qcow2_header "$EVIL" /etc/shadow
expect_error "a qcow2 header naming /etc/shadow, no format given" \
        "$EVIL: backing file /etc/shadow is named without its format" -- "$EVIL" "$GOOD"
# Chains a header can make: each a named error, before qemu opens anything.
printf 'x%.0s' {1..512} >"$TEST_TMPDIR/loop-a.qcow2"
cp "$TEST_TMPDIR/loop-a.qcow2" "$TEST_TMPDIR/loop-b.qcow2"
write_qcow2_header "$TEST_TMPDIR/loop-a.qcow2" loop-b.qcow2 qcow2
write_qcow2_header "$TEST_TMPDIR/loop-b.qcow2" loop-a.qcow2 qcow2
expect_error "a looping backing chain" "$TEST_TMPDIR/loop-a.qcow2: its backing chain loops" -- \
        "$TEST_TMPDIR/loop-a.qcow2" "$GOOD"
cp "$TEST_TMPDIR/loop-b.qcow2" "$TEST_TMPDIR/nbd.qcow2"
write_qcow2_header "$TEST_TMPDIR/nbd.qcow2" nbd:localhost:10809 raw
expect_error "a backing file that is not a local file" "is not a local file name" -- \
        "$TEST_TMPDIR/nbd.qcow2" "$GOOD"

# ---- the same on the bus: named errors ----

expect_bus_error() { # ERROR-NAME PATH-A PATH-B
        local got
        got=$(busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
                Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s "$2" 1 1 path s "$3" 0)
        [[ $got == "org.virtdiff.VirtDiff1.Error.$1: "* ]]
}
bus_error_is() { # ERROR-NAME PATH-A PATH-B
        expect_bus_error "$@" || fail "Compare $2 $3: $(busctl_error call org.virtdiff.VirtDiff1 \
                /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager Compare 'aa{sv}aa{sv}a{sv}' \
                1 1 path s "$2" 1 1 path s "$3" 0), expected $1"
        pass "Compare: $1 for $(basename "$2") / $(basename "$3")"
}
bus_error_is NoSuchFile "$GOOD" "$TEST_TMPDIR/no-such.img"
bus_error_is InvalidImage "$FIXTURES" "$GOOD"
bus_error_is InvalidImage "$FIXTURES/empty.img" "$GOOD"
bus_error_is InvalidImage "$TEST_TMPDIR/fifo.img" "$GOOD"
bus_error_is InvalidImage /dev/zero "$GOOD"
bus_error_is ImageLocked "$TEST_TMPDIR/running.img" "$GOOD"
bus_error_is UnsupportedFormat "$EVIL" "$GOOD"
bus_error_is InvalidImage "$TEST_TMPDIR/loop-a.qcow2" "$GOOD"
bus_error_is AccessDenied "$TEST_TMPDIR/nbd.qcow2" "$GOOD"
kill $vm
wait $vm 2>/dev/null || true
xfail_check truncated-as-corrupt "Compare: TruncatedImage for truncated.qcow2" \
        'bus_error_is CorruptImage "$FIXTURES/truncated.qcow2" "$GOOD"' \
        expect_bus_error TruncatedImage "$FIXTURES/truncated.qcow2" "$GOOD"
xfail_check backing-not-named "Compare: MissingBackingFile for missing-backing.qcow2" \
        'bus_error_is InvalidImage "$FIXTURES/missing-backing.qcow2" "$GOOD"' \
        expect_bus_error MissingBackingFile "$FIXTURES/missing-backing.qcow2" "$GOOD"

got=$(busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
        Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s "$GOOD" 0 0)
[[ $got == "org.virtdiff.VirtDiff1.Error.InvalidArgs: side B has no disk" ]] || fail "no side B: $got"
got=$(busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
        Compare 'aa{sv}aa{sv}a{sv}' 1 2 path s "$GOOD" colour s red 1 1 path s "$GOOD" 0)
[[ $got == "org.virtdiff.VirtDiff1.Error.InvalidArgs: unknown disk option 'colour'" ]] || fail "unknown disk option: $got"
got=$(busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
        Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s "$GOOD" 1 1 path s "$GOOD" 1 fast b true)
[[ $got == "org.virtdiff.VirtDiff1.Error.InvalidArgs: unknown option 'fast'" ]] || fail "unknown option: $got"
pass "Compare: InvalidArgs for a side without disks, an unknown disk option, an unknown option"

# ---- limits (common/input-limits.h, virt-diffd(8) LIMITS): InvalidArgs, no job ----

compare_error_is() { # EXPECTED-ERROR WHAT SIDE-A-ARGS... -- SIDE-B-AND-OPTIONS-ARGS...
        local want=$1 what=$2 got
        shift 2
        got=$(busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
                Compare 'aa{sv}aa{sv}a{sv}' "$@")
        [[ $got == "org.virtdiff.VirtDiff1.Error.$want" ]] || fail "$what: $got, expected $want"
        pass "limit: $what: $got"
}
disks=()
for ((i = 0; i < 33; i++)); do disks+=(1 path s "$GOOD"); done
compare_error_is "InvalidArgs: at most 32 disks a side" "33 disks on a side" \
        33 "${disks[@]}" 1 1 path s "$GOOD" 0
long=/$(printf 'x%.0s' {1..4096})
compare_error_is "InvalidArgs: a disk's 'path' is longer than 4096 bytes" "a path of 4097 bytes" \
        1 1 path s "$long" 1 1 path s "$GOOD" 0
compare_error_is "InvalidArgs: a disk's 'snapshot' is longer than 1024 bytes" "a snapshot name of 4097 bytes" \
        1 2 path s "$GOOD" snapshot s "$long" 1 1 path s "$GOOD" 0
items=()
for ((i = 0; i < 257; i++)); do items+=("/dir$i"); done
compare_error_is "InvalidArgs: paths '/dir256': too many filter items" "257 paths" \
        1 1 path s "$GOOD" 1 1 path s "$GOOD" 1 paths as 257 "${items[@]}"
# Repeating a key does not get around its count.
compare_error_is "InvalidArgs: exclude '/dir56': too many filter items" "257 exclude items over two keys" \
        1 1 path s "$GOOD" 1 1 path s "$GOOD" 2 exclude as 200 "${items[@]:0:200}" exclude as 57 "${items[@]:0:57}"
compare_error_is "InvalidArgs: include '${long:0:64}...': filter item too long" "an include glob of 4097 bytes" \
        1 1 path s "$GOOD" 1 1 path s "$GOOD" 1 include as 1 "$long"
options=()
for ((i = 0; i < 65; i++)); do options+=(atime b true); done
compare_error_is "InvalidArgs: more than 64 options" "65 options" \
        1 1 path s "$GOOD" 1 1 path s "$GOOD" 65 "${options[@]}"

# None of the above started an appliance.
if daemon_log | grep -qE 'KVM is not usable|Using KVM'; then
        fail "an appliance was started for refused input"
fi
assert_no_qemu 0

# ---- the only launch pair: noise has no filesystem ----

LAUNCH=1 expect_error "nothing mountable" "$FIXTURES/random.img: no filesystems found" -- \
        "$FIXTURES/random.img" "$GOOD"
assert_no_qemu

# A format the user names is used as is, never probed: qcow2 bytes read as
# raw hold no filesystem (read as qcow2 they hold ext4). The other side was
# cached by the diff above: one launch.
LAUNCH=1 expect_error "--format=raw on a qcow2 file" "$FIXTURES/kinds-a.qcow2: no filesystems found" -- \
        --format=raw "$FIXTURES/kinds-a.qcow2" "$GOOD"
assert_no_qemu

# The attack's image with --format=raw: nothing in it is followed, and it
# is the raw ext4 disk it also is, equal to the image it was copied from.
run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" --format=raw "$EVIL" "$GOOD"
assert_rc 0 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 0
pass "--format=raw on the image whose qcow2 header names /etc/shadow: a raw disk, equal to its source"
assert_no_qemu
# After every bad input above, the same daemon still serves: it has just
# diffed a good pair.
[ "$(daemon_pid)" = "$first_pid" ] || fail "the daemon was replaced: pid $(daemon_pid), was $first_pid"
pass "one daemon (pid $first_pid) refused every bad input and still diffs a good pair"

# ---- a filesystem no kernel mounts, beside one that compares equal ----

run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" -a "$FIXTURES/same-1.img" -a "$FIXTURES/unmountable.img" \
        -A "$FIXTURES/same-2.img" -A "$FIXTURES/unmountable.img"
assert_rc 2 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/out" 0
assert_lines "$TEST_TMPDIR/err" 2
assert_contains "$TEST_TMPDIR/err" "virt-diff: /dev/sdb of image 1 not compared: "
assert_contains "$TEST_TMPDIR/err" "virt-diff: /dev/sdb of image 2 not compared: "
pass "an unmountable filesystem is trouble (exit 2), named on stderr: $(head -n1 "$TEST_TMPDIR/err" | cut -c1-80)"
assert_no_qemu

