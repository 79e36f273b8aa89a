#!/bin/bash
# The manifest cache: a repeated diff starts no appliance; touching an image
# reuses its manifest; a changed byte, or a changed backing file, changes
# the key and the result; a damaged row met while comparing drops that
# manifest and scans its side again; a corrupt database is set aside, not
# deleted.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon busctl debugfs sqlite3
ensure_fixtures
start_bus

A=$TEST_TMPDIR/a.img
B=$TEST_TMPDIR/b.img
cp --sparse=always "$FIXTURES/kinds-a.img" "$A"
cp --sparse=always "$FIXTURES/kinds-b.img" "$B"

json_get() { # FILE PYTHON-EXPR-ON-d
        "$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# Runs a --json diff and checks how many appliances it launched.
diff_launching() { # EXPECTED-LAUNCHES OUT ARGS...
        local want=$1 out=$2 before after
        shift 2
        before=$(launches)
        run_virt_diff "$out" "$TEST_TMPDIR/err" --json "$@"
        [ "$RC" -le 1 ] || { cat "$TEST_TMPDIR/err" >&2; fail "virt-diff $*: exit status $RC"; }
        after=$(launches)
        [ $((after - before)) = "$want" ] ||
                fail "virt-diff $*: $((after - before)) appliance launches, expected $want"
}

changes_of() { # FILE
        json_get "$1" 'json.dumps(d["changes"], sort_keys=True)'
}

# Activate the daemon first so that its launch counter spans every diff.
daemon_answers || fail "the daemon does not answer"

diff_launching 2 "$TEST_TMPDIR/1.json" "$A" "$B"
[ "$(json_get "$TEST_TMPDIR/1.json" 'd["a"]["cached"], d["b"]["cached"]')" = "False False" ] ||
        fail "a cold diff claims a cached side"
pass "cold diff: two launches, nothing from the cache"

diff_launching 0 "$TEST_TMPDIR/2.json" "$A" "$B"
[ "$(json_get "$TEST_TMPDIR/2.json" 'd["a"]["cached"], d["b"]["cached"]')" = "True True" ] ||
        fail "the repeated diff did not use the cache"
[ "$(changes_of "$TEST_TMPDIR/1.json")" = "$(changes_of "$TEST_TMPDIR/2.json")" ] ||
        fail "the cached result differs from the scanned one"
pass "repeated diff: no launch, both sides cached, the same changes"

run_virt_diff "$TEST_TMPDIR/long.txt" "$TEST_TMPDIR/err" -l "$A" "$B"
assert_contains "$TEST_TMPDIR/long.txt" "# A: $A (cached)"
assert_contains "$TEST_TMPDIR/long.txt" "# B: $B (cached)"
pass "-l says where each side came from"

touch "$A"
diff_launching 0 "$TEST_TMPDIR/3.json" "$A" "$B"
[ "$(json_get "$TEST_TMPDIR/1.json" 'd["a"]["key"]')" = "$(json_get "$TEST_TMPDIR/3.json" 'd["a"]["key"]')" ] ||
        fail "touching an image changed its key"
pass "touched image (mtime only): rehashed to the same key, no launch"

# One byte inside a file's data block of B: the key changes, and the file
# shows as modified although its size and mtime are the same.
block=$(debugfs -R "bmap /chmod.txt 0" "$B" 2>/dev/null)
bsize=$(dumpe2fs -h "$B" 2>/dev/null | awk -F: '/^Block size/ {gsub(/ /, "", $2); print $2}')
[ -n "$block" ] && [ -n "$bsize" ] || fail "cannot find /chmod.txt's block in $B"
printf 'Z' | dd of="$B" bs=1 seek=$((block * bsize)) conv=notrunc status=none
diff_launching 1 "$TEST_TMPDIR/4.json" "$A" "$B"
[ "$(json_get "$TEST_TMPDIR/2.json" 'd["b"]["key"]')" != "$(json_get "$TEST_TMPDIR/4.json" 'd["b"]["key"]')" ] ||
        fail "a changed byte left the key as it was"
[ "$(json_get "$TEST_TMPDIR/4.json" '[c["change"] for c in d["changes"] if c["path"] == "/chmod.txt"][0]')" = modified ] ||
        fail "/chmod.txt with a changed byte is not modified"
[ "$(json_get "$TEST_TMPDIR/4.json" 'sorted([c["fields"] for c in d["changes"] if c["path"] == "/chmod.txt"][0])')" = \
        "['content', 'mode']" ] || fail "/chmod.txt: expected fields content and mode"
pass "one changed byte: a new key for B only (one launch), the file is modified by its hash"

# An overlay's key covers its backing file.
qemu-img convert -f raw -O qcow2 "$FIXTURES/kinds-a.img" "$TEST_TMPDIR/base.qcow2"
qemu-img create -q -f qcow2 -b "$TEST_TMPDIR/base.qcow2" -F qcow2 "$TEST_TMPDIR/overlay.qcow2"
diff_launching 1 "$TEST_TMPDIR/5.json" "$TEST_TMPDIR/overlay.qcow2" "$B"
qemu-img convert -f raw -O qcow2 "$FIXTURES/kinds-b.img" "$TEST_TMPDIR/base.qcow2"
diff_launching 1 "$TEST_TMPDIR/6.json" "$TEST_TMPDIR/overlay.qcow2" "$B"
[ "$(json_get "$TEST_TMPDIR/5.json" 'd["a"]["key"]')" != "$(json_get "$TEST_TMPDIR/6.json" 'd["a"]["key"]')" ] ||
        fail "a changed backing file left the overlay's key as it was"
[ "$(json_get "$TEST_TMPDIR/6.json" 'len(d["changes"])')" = 1 ] ||
        fail "overlay on kinds-b against kinds-b with one byte changed: expected exactly one change"
pass "changed backing file: the overlay gets a new key and is scanned again"

# The cache commands, on the daemon of the bus.
"$BUILDDIR/virt-diffctl" cache stats >"$TEST_TMPDIR/stats" || fail "cache stats failed"
# A, B before and after its changed byte, the overlay on two bases.
assert_contains "$TEST_TMPDIR/stats" "Manifests: 5"
"$BUILDDIR/virt-diffctl" cache list >"$TEST_TMPDIR/list" || fail "cache list failed"
assert_contains "$TEST_TMPDIR/list" "$A"
"$BUILDDIR/virt-diffctl" cache verify >"$TEST_TMPDIR/verify" || fail "cache verify failed"
assert_contains "$TEST_TMPDIR/verify" "ok"
"$BUILDDIR/virt-diffctl" cache purge "$A" >"$TEST_TMPDIR/purge" || fail "cache purge failed"
assert_contains "$TEST_TMPDIR/purge" "1 manifest removed"
diff_launching 1 "$TEST_TMPDIR/7.json" "$A" "$B"
pass "cache stats, list, verify; purge IMAGE forgets that image only"

# A damaged row in a cached manifest, which its head's checks cannot see:
# met while comparing, the manifest is dropped and A scanned again, with
# the same changes.
db=$XDG_CACHE_HOME/virt-diffd/manifests.sqlite
key_a=$(json_get "$TEST_TMPDIR/7.json" 'd["a"]["key"]')
sqlite3 "$db" "UPDATE entries SET kind = 'bogus' WHERE (manifest_id, tree_idx, seq) = (SELECT e.manifest_id,
               e.tree_idx, e.seq FROM entries e JOIN manifests m ON m.id = e.manifest_id
               WHERE lower(hex(m.key)) = lower('$key_a') ORDER BY e.tree_idx DESC, e.seq DESC LIMIT 1)" ||
        fail "cannot damage a row of A's manifest"
[ "$(sqlite3 "$db" "SELECT count(*) FROM entries WHERE kind = 'bogus'")" = 1 ] || fail "no row of A's manifest damaged"
diff_launching 1 "$TEST_TMPDIR/9.json" "$A" "$B"
[ "$(json_get "$TEST_TMPDIR/9.json" 'd["a"]["cached"], d["b"]["cached"]')" = "False True" ] ||
        fail "the damaged side was not scanned again (or B was)"
# What changed, and how (the entries' st_dev is the appliance's device for
# the disk, which may differ between two launches).
changed_of() { # FILE
        json_get "$1" 'json.dumps([(c["path"], c["change"], sorted(c.get("fields", []))) for c in d["changes"]])'
}
[ "$(changed_of "$TEST_TMPDIR/7.json")" = "$(changed_of "$TEST_TMPDIR/9.json")" ] ||
        fail "the changes after the rescan differ"
daemon_log | grep -q "dropping the manifest .*an entry of no known kind" || fail "the daemon did not say it dropped A's manifest"
[ "$(sqlite3 "$db" "SELECT count(*) FROM entries WHERE kind = 'bogus'")" = 0 ] || fail "the damaged row is still cached"
pass "a damaged row met mid-comparison: the manifest dropped, A scanned again (one launch), the same changes"

# The same as text, which prints while the job runs: what was printed
# before the damage was met is followed by the whole list again, said on
# stderr, so the output ends with exactly what a clean run prints.
damage_a_last_row() {
        sqlite3 "$db" "UPDATE entries SET kind = 'bogus' WHERE (manifest_id, tree_idx, seq) = (SELECT e.manifest_id,
                       e.tree_idx, e.seq FROM entries e JOIN manifests m ON m.id = e.manifest_id
                       WHERE lower(hex(m.key)) = lower('$key_a') ORDER BY e.tree_idx DESC, e.seq DESC LIMIT 1)"
}
damage_a_last_row || fail "cannot damage a row of A's manifest again"
run_virt_diff "$TEST_TMPDIR/9.txt" "$TEST_TMPDIR/9.err" "$A" "$B"
assert_rc 1 "$TEST_TMPDIR/9.err"
run_virt_diff "$TEST_TMPDIR/10.txt" "$TEST_TMPDIR/err" "$A" "$B"
assert_rc 1 "$TEST_TMPDIR/err"
[ -s "$TEST_TMPDIR/10.txt" ] || fail "a clean text run printed nothing"
[ "$(tail -c "$(stat -c %s "$TEST_TMPDIR/10.txt")" "$TEST_TMPDIR/9.txt")" = "$(cat "$TEST_TMPDIR/10.txt")" ] ||
        fail "text over a damaged row does not end with the clean run's output"
if [ "$(stat -c %s "$TEST_TMPDIR/9.txt")" -gt "$(stat -c %s "$TEST_TMPDIR/10.txt")" ]; then
        grep -q "the changes are listed again from the start" "$TEST_TMPDIR/9.err" ||
                fail "text printed twice without saying why"
        note "$(wc -l <"$TEST_TMPDIR/9.txt") lines printed, the last $(wc -l <"$TEST_TMPDIR/10.txt") the whole list"
fi
pass "text over a damaged row: the rescan's list printed whole after what came before, said on stderr"

# A corrupt database is set aside and a fresh one made.
restart_daemon
db=$XDG_CACHE_HOME/virt-diffd/manifests.sqlite
[ -f "$db" ] || fail "no database at $db"
head -c 65536 /dev/urandom >"$db"
rm -f "$db-wal" "$db-shm"
diff_launching 2 "$TEST_TMPDIR/8.json" "$A" "$B"
ls "$db".corrupt-* >/dev/null 2>&1 || fail "the corrupt database was not kept aside"
daemon_log | grep -q "corrupt" || fail "the daemon did not say it set the database aside"
"$BUILDDIR/virt-diffctl" cache verify >"$TEST_TMPDIR/verify" || fail "cache verify failed on the new database"
pass "a corrupt database is renamed to $(basename "$(ls "$db".corrupt-* | head -n1)") and replaced"
assert_no_qemu
