#!/bin/bash
# Encrypted volumes (tests/fixtures-luks.sh: a plain partition and a LUKS2
# one a side, passphrases alpha-secret and beta-secret): without a key the
# volume is a filesystem that could not be read and the rest comes out;
# with --key (a device selector and all:file:) and with --keys-from-stdin
# (a line a locked volume, the first guest's first) what it holds is
# compared. The passphrases never reach the cache, the daemon's log, the
# output or the jobs' properties, and a manifest of an opened volume is
# not cached. Six launches.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon busctl
requires_jsonschema
ensure_luks_fixtures
start_bus

A=$FIXTURES/luks-a.img
B=$FIXTURES/luks-b.img

locked_errors() { # ERRFILE REASON
        assert_lines "$1" 2
        for side in 1 2; do
                assert_contains "$1" "virt-diff: /dev/sda2 of image $side not compared: encrypted (LUKS): $2"
        done
}

# ---- no key: the volume is named, the plain partition compared ----
run_virt_diff "$TEST_TMPDIR/nokey" "$TEST_TMPDIR/err" "$A" "$B"
assert_rc 2 "$TEST_TMPDIR/err"
locked_errors "$TEST_TMPDIR/err" "no key given for it (--key DEVICE:key:PASSPHRASE"
assert_file_is "$TEST_TMPDIR/nokey" <<<"/plain.txt: File modified"
pass "no key: the LUKS volume a filesystem that could not be read, the rest of the diff out ($SECONDS_TAKEN s)"

# ---- --key: a device's, then any volume's from a file ----
printf 'beta-secret' >"$TEST_TMPDIR/beta.key"
before=$(launches)
run_virt_diff "$TEST_TMPDIR/key.json" "$TEST_TMPDIR/err" --json --key /dev/sda2:key:alpha-secret \
        --key "all:file:$TEST_TMPDIR/beta.key" "$A" "$B"
assert_rc 1 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 0
# The cached manifests of the locked volumes were no answer: scanned again.
[ $(($(launches) - before)) = 2 ] || fail "--key: $(($(launches) - before)) launches, expected 2"
cat >"$TEST_TMPDIR/expected" <<'EOF'
fs /dev/sda1 unchanged device
fs /dev/sda2 unchanged device
fs /dev/mapper/luks-sda2 unchanged device
change /dev/sda1 /plain.txt modified file content,size
change /dev/mapper/luks-sda2 /secret.txt modified file content,size
change /dev/mapper/luks-sda2 /new-secret.txt added file
EOF
check_result "$TEST_TMPDIR/key.json" "$TEST_TMPDIR/expected"
pass "--key DEVICE:key: and all:file:: the volumes opened and what they hold compared ($SECONDS_TAKEN s)"

# ---- --keys-from-stdin: a line for each locked volume, side A's first ----
note "virt-diff --keys-from-stdin --output=virt-diff --no-unified (alpha-secret, beta-secret on stdin)"
set +e
printf 'alpha-secret\nbeta-secret\n' |
        "$VIRT_DIFF" --keys-from-stdin --output=virt-diff --no-unified "$A" "$B" >"$TEST_TMPDIR/stdin" 2>"$TEST_TMPDIR/err"
RC=$?
set -e
assert_rc 0 "$TEST_TMPDIR/err"
assert_file_is "$TEST_TMPDIR/stdin" <<'EOF'
+ - 0644         13 /dev/mapper/luks-sda2:/new-secret.txt
= - 0644         14 /dev/mapper/luks-sda2:/secret.txt
= - 0644         13 /dev/sda1:/plain.txt
EOF
pass "--keys-from-stdin: the first line opens the first guest's volume, the second the second guest's"

# ---- what the keys left behind: nothing ----
before=$(launches)
run_virt_diff "$TEST_TMPDIR/again" "$TEST_TMPDIR/err" "$A" "$B"
assert_rc 2 "$TEST_TMPDIR/err"
locked_errors "$TEST_TMPDIR/err" "no key given for it"
assert_file_is "$TEST_TMPDIR/again" <<<"/plain.txt: File modified"
[ "$(launches)" = "$before" ] || fail "no key again: $(($(launches) - before)) launches, expected the cache"
pass "without a key again, from the cache: nothing the keys opened was cached"

props=$TEST_TMPDIR/properties
: >"$props"
for job in $(busctl --user call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
        ListJobs | grep -o '/org/virtdiff/VirtDiff1/job/[0-9]*'); do
        busctl --user introspect org.virtdiff.VirtDiff1 "$job" >>"$props"
done
[ -s "$props" ] || fail "no job to look at"
for secret in alpha-secret beta-secret; do
        for place in "$XDG_CACHE_HOME" "$TEST_TMPDIR/bus.log" "$props" "$TEST_TMPDIR/key.json" "$TEST_TMPDIR/stdin" \
                "$TEST_TMPDIR/err"; do
                ! grep -rqaF "$secret" "$place" || fail "$secret is in $place"
        done
done
pass "the passphrases are in no cache file, log line, output or job property"
assert_no_qemu
