#!/bin/bash
# No session bus at all: virt-diff runs a private daemon over a socket pair
# and the diff works the same, here qcow2 (kinds-a.qcow2) against raw
# (kinds-b.img): the same changes as kinds-a.img -> kinds-b.img.
source "$(dirname "$0")/lib.sh"
requires qemu-img
requires_jsonschema
ensure_fixtures

DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
        run_virt_diff "$TEST_TMPDIR/result.json" "$TEST_TMPDIR/err" --json \
        "$FIXTURES/kinds-a.qcow2" "$FIXTURES/kinds-b.img"
assert_rc 1 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 0

{
        kinds_expectation /dev/sda
        echo "fs /dev/sda unchanged device"
        echo 'json a.images.0.format qcow2'
        echo 'json b.images.0.format raw'
        echo "json a.images.0.virtual_size 33554432"
        echo "json a.cached false"
        echo "json b.cached false"
} >"$TEST_TMPDIR/expected"
check_result "$TEST_TMPDIR/result.json" "$TEST_TMPDIR/expected"
pass "qcow2 against raw through a private daemon: the kinds change set"

# The private daemon went with its client, and took its qemu along.
[ -z "$(marked_pids '^virt-diffd$')" ] || fail "the private virt-diffd outlived its client"
assert_no_qemu 0
pass "no daemon and no qemu left behind"
