#!/bin/bash
# The full command line on the OS pair (os-a -> os-b, see test-diff-os.sh):
# option errors first (no appliance), then one cold -u --json diff that
# scans both sides and reads the changed files' contents with the same two
# appliances; every other output comes from the manifest and content
# cache and is checked against tests/golden/. --checksum=md5 needs
# appliances once, then comes from the store too.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon dbus-send busctl
requires_jsonschema
ensure_fixtures
start_bus

A=$FIXTURES/os-a.img
B=$FIXTURES/os-b.img
GOLDEN=$SRCDIR/tests/golden

# ---- bad command lines: exit 2, one line on stderr, nothing on stdout ----
bad() { # EXPECTED-MESSAGE ARGS...
        local want=$1
        shift
        run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" "$@"
        assert_rc 2 "$TEST_TMPDIR/err"
        assert_lines "$TEST_TMPDIR/err" 1
        assert_lines "$TEST_TMPDIR/out" 0
        assert_contains "$TEST_TMPDIR/err" "$want"
}
bad "conflicting options --json and --csv" --json --csv "$A" "$B"
bad "conflicting options --output=csv and --summary" --output=csv --summary "$A" "$B"
bad "conflicting options -l and --json" -l --json "$A" "$B"
bad "conflicting options -u and --csv" -u --csv "$A" "$B"
bad "conflicting options --time-t and --time-days" --time-t --time-days "$A" "$B"
bad "conflicting options --session and --private" --session --private "$A" "$B"
bad "conflicting options --progress and -q" --progress -q "$A" "$B"
bad "unknown output format 'xml'" --output=xml "$A" "$B"
bad "--checksum 'sha3': unknown algorithm" --checksum=sha3 "$A" "$B"
bad "--ignore 'content': content fields" --ignore mode,content "$A" "$B"
bad "--ignore 'bogus': unknown field" --ignore bogus "$A" "$B"
bad "--path 'etc': a path scope must be absolute" --path etc "$A" "$B"
bad "--path '/etc/../root'" --path /etc/../root "$A" "$B"
bad "--format 'qcow2,raw': not a disk format name" --format=qcow2,raw "$A" "$B"
bad "unknown option '--no-such-option'" --no-such-option "$A" "$B"
bad "option '--path' needs an argument" "$A" "$B" --path
bad "expected two images, got 3 arguments" "$A" "$B" "$B"
# The daemon checks the same options (scripts may call it directly).
out=$(busctl --user call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
        Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s "$A" 1 1 path s "$B" 1 ignore as 1 size 2>&1) &&
        fail "Compare with ignore=[size] was accepted: $out"
[[ $out == *"ignore 'size': content fields"* ]] || fail "Compare with ignore=[size]: $out"
out=$(busctl --user call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
        Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s "$A" 1 1 path s "$B" 1 checksum s whirlpool 2>&1) &&
        fail "Compare with checksum=whirlpool was accepted: $out"
[[ $out == *"not an algorithm"* ]] || fail "Compare with checksum=whirlpool: $out"
pass "bad options: one line naming the problem, exit status 2, in the client and the daemon"

# ---- one cold diff: scan and read contents with the same appliances ----
before=$(launches)
run_virt_diff "$TEST_TMPDIR/u.json" "$TEST_TMPDIR/err" -u --json "$A" "$B"
assert_rc 1 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 0
assert_no_qemu
[ $(($(launches) - before)) = 2 ] || fail "-u --json, cold: $(($(launches) - before)) launches, expected 2"
"$PYTHON" - "$TEST_TMPDIR/u.json" "$SRCDIR/schemas/diff-result.schema.json" <<'PY' || fail "-u --json: diffs"
import json, sys, jsonschema
d = json.load(open(sys.argv[1]))
jsonschema.validate(d, json.load(open(sys.argv[2])))
diffs = {c["path"]: c.get("diff") for c in d["changes"] if c["change"] == "modified"}
assert diffs["/etc/hostname"] == ("--- a/etc/hostname\n+++ b/etc/hostname\n@@ -1 +1 @@\n"
                                  "-guest-a\n+guest-b-renamed\n"), diffs
assert diffs["/boot/grub.cfg"].startswith("--- a/boot/grub.cfg\n+++ b/boot/grub.cfg\n@@ -1,2 +1,2 @@\n"), diffs
assert all("diff" not in c for c in d["changes"] if c["change"] != "modified")
PY
pass "-u --json, cold: two launches (scan and contents share them), diffs of both edited files"

# ---- everything else from the cache, against golden files ----
before=$(launches)
os_goldens
[ "$(launches)" = "$before" ] || fail "outputs from the cache launched $(($(launches) - before)) appliances"
pass "text, -u, -l, -m, virt-diff (text and CSV), csv, summary and filters match tests/golden/, all from the cache"

# ---- the reports, from the cache too ----
# Dates in the reports are local time; the fixtures' are fixed.
export TZ=UTC
before=$(launches)
os_golden markdown -u --output=markdown
run_virt_diff "$TEST_TMPDIR/summary-html" "$TEST_TMPDIR/err" --summary --html="$TEST_TMPDIR/report.html" -u "$A" "$B"
assert_rc 1 "$TEST_TMPDIR/err"
cmp -s "$GOLDEN/os.summary" "$TEST_TMPDIR/summary-html" || fail "--summary with --html differs from os.summary"
[ -s "$TEST_TMPDIR/report.html" ] || fail "--html wrote no report"
[ "$(launches)" = "$before" ] || fail "the reports launched $(($(launches) - before)) appliances"
if [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
        "$PYTHON" "$SRCDIR/tests/check-report.py" result "$TEST_TMPDIR/u.json" "$TEST_TMPDIR/report.html" \
                "$BUILDDIR/test-artifacts" || fail "the --html report in chromium"
else
        note "chromium is not installed: the --html report not opened"
fi
bad "--max-bytes cuts the markdown output" --max-bytes=64K "$A" "$B"
bad "--max-bytes '12': not a size of at least 1024 bytes" --output=markdown --max-bytes=12 "$A" "$B"
bad "--html '/nonexistent/r.html': cannot write in /nonexistent" --html=/nonexistent/r.html "$A" "$B"
pass "markdown against tests/golden/os.markdown, --html beside --summary, all from the cache"

# Times: mtime is fixed by the fixtures (1700000000), ctime is not.
run_virt_diff "$TEST_TMPDIR/t" "$TEST_TMPDIR/err" --output=virt-diff --time-t --path /etc/hostname "$A" "$B"
assert_rc 0 "$TEST_TMPDIR/err"
grep -qE '^= - 0644          8 1700000000 +[0-9]{10} /etc/hostname$' "$TEST_TMPDIR/t" ||
        { cat "$TEST_TMPDIR/t" >&2; fail "--time-t: not the epoch seconds"; }
run_virt_diff "$TEST_TMPDIR/t" "$TEST_TMPDIR/err" --output=virt-diff --time-days --path /etc/hostname "$A" "$B"
days=$(( ($(date +%s) - 1700000000) / 86400 ))
grep -qE "^= - 0644          8 +$days +[0-9]+ /etc/hostname$" "$TEST_TMPDIR/t" ||
        { cat "$TEST_TMPDIR/t" >&2; fail "--time-days: not $days days"; }
run_virt_diff "$TEST_TMPDIR/t" "$TEST_TMPDIR/err" -l --time-relative --path /etc/hostname "$A" "$B"
grep -qE "^/etc/hostname: modified, size: 16, mtime: [0-9]+, ctime: [0-9]+( -> [0-9]+)?$" "$TEST_TMPDIR/t" ||
        { cat "$TEST_TMPDIR/t" >&2; fail "-l --time-relative"; }
pass "--time-t, --time-days, --time-relative"

# ---- another checksum algorithm: appliances once, then the store ----
before=$(launches)
os_md5 "$TEST_TMPDIR/md5" cached
assert_no_qemu
[ $(($(launches) - before)) = 2 ] || fail "--checksum=md5: $(($(launches) - before)) launches, expected 2"
before=$(launches)
run_virt_diff "$TEST_TMPDIR/md5-again" "$TEST_TMPDIR/err" -l --checksum=md5 --path /etc "$A" "$B"
cmp -s "$TEST_TMPDIR/md5" "$TEST_TMPDIR/md5-again" || fail "--checksum=md5 from the store differs"
[ "$(launches)" = "$before" ] || fail "--checksum=md5 again launched appliances"
pass "--checksum=md5: computed by appliances once, then from the store"
