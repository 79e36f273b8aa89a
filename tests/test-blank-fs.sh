#!/bin/bash
# Filesystems with nothing to hash: an ext4 with no regular file (only
# lost+found), one holding only a fifo, a device node, a dangling symlink and
# empty directories, and a partition never formatted beside them. The diff
# comes out whole; the only change is the file added to the first.
source "$(dirname "$0")/lib.sh"
requires_jsonschema
ensure_fixtures

DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
        run_virt_diff "$TEST_TMPDIR/result.json" "$TEST_TMPDIR/err" --json \
        "$FIXTURES/blank-a.img" "$FIXTURES/blank-b.img"
assert_rc 1 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 0
{
        echo "change /dev/sda1 /hello.txt added file"
        echo "fs /dev/sda1 unchanged device"
        echo "fs /dev/sda2 unchanged device"
        echo "json a.inspected false"
        echo "json b.inspected false"
} >"$TEST_TMPDIR/expected"
check_result "$TEST_TMPDIR/result.json" "$TEST_TMPDIR/expected"
pass "an empty ext4 and one of special files only diff; the unformatted partition is no filesystem"

# The empty side against itself: no difference at all.
DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
        run_virt_diff "$TEST_TMPDIR/same.txt" "$TEST_TMPDIR/err" "$FIXTURES/blank-a.img" "$FIXTURES/blank-a.img"
assert_rc 0 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/same.txt" 0
pass "the blank disk against itself: exit 0, nothing listed"
