#!/bin/bash
# The engines as a user meets them, on a daemon with the direct engine on
# (the default) and no cache, so that every diff scans:
# - the OS pair through the direct engine gives tests/golden/'s outputs,
#   contents (-u) and md5 checksums included, with no appliance;
# - auto picks the direct engine for ext4 and an appliance for an XFS disk
#   in the same run, counted through AppliancesLaunched, and a side the
#   direct engine refuses (a journal to replay) goes to an appliance, the
#   result saying so; both give the same changes as the direct engine;
# - the change stream (Job.OpenChanges) holds what GetResult holds;
# - --engine=direct fails where the direct engine cannot read a side, and
#   with --packages (package databases are read by appliances only).
# Two appliance launches in all.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon busctl
requires_jsonschema
ensure_fixtures
DAEMON_ARGS="--pool-size=0 --no-cache"
start_bus

A=$FIXTURES/os-a.img
B=$FIXTURES/os-b.img
SCHEMA=$SRCDIR/schemas/diff-result.schema.json

launches() {
        busctl --user get-property org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
                org.virtdiff.VirtDiff1.Manager AppliancesLaunched | awk '{print $2}'
}

# ---- the goldens, through the direct engine ----
before=$(launches)
# The goldens were written from the cache; here each side is scanned.
GOLDEN_SED=(-e 's|(scanned, direct)|(cached)|')
os_goldens
os_md5 "$TEST_TMPDIR/md5" "scanned, direct"
[ "$(launches)" = "$before" ] || fail "the direct engine launched $(($(launches) - before)) appliances"
assert_no_qemu
pass "the OS pair through the direct engine: every golden output, -u contents and md5 checksums, no appliance"

# ---- the change stream: what the client prints from as the job runs ----
out=$("$PYTHON" "$SRCDIR/tests/changes-check.py" "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img") ||
        fail "Job.OpenChanges: $out"
pass "Job.OpenChanges on kinds-a/kinds-b: head, $(echo "$out" | cut -d' ' -f2) changes and end as GetResult has them; none for -u"

# ---- auto: direct for ext4, an appliance for XFS, in one run ----
before=$(launches)
run_virt_diff "$TEST_TMPDIR/xfs.json" "$TEST_TMPDIR/err" --json "$FIXTURES/kinds-a.img" "$FIXTURES/xfs.img"
assert_rc 1 "$TEST_TMPDIR/err"
[ $(($(launches) - before)) = 1 ] || fail "kinds-a against xfs: $(($(launches) - before)) launches, expected 1"
"$PYTHON" - "$TEST_TMPDIR/xfs.json" "$SCHEMA" <<'PY' || fail "kinds-a against xfs: the sides' engines"
import json, sys, jsonschema
d = json.load(open(sys.argv[1]))
jsonschema.validate(d, json.load(open(sys.argv[2])))
assert d["a"]["engine"] == "direct" and d["a"]["direct_refused"] is None, d["a"]
assert d["b"]["engine"] == "appliance" and "xfs" in d["b"]["direct_refused"], d["b"]
PY
pass "auto: kinds-a by the direct engine, xfs.img by an appliance (one launch), the JSON says which and why"

# ---- auto: a side the direct engine refuses goes to an appliance ----
run_virt_diff "$TEST_TMPDIR/direct.json" "$TEST_TMPDIR/err" --json "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img"
assert_rc 1 "$TEST_TMPDIR/err"
before=$(launches)
# One scan, read twice: as JSON and with -l.
job=$("$VIRT_DIFF" --detach "$FIXTURES/recover.img" "$FIXTURES/kinds-b.img") || fail "--detach: $job"
"$BUILDDIR/virt-diffctl" wait --json "$job" >"$TEST_TMPDIR/recover.json" 2>"$TEST_TMPDIR/err" && RC=0 || RC=$?
assert_rc 1 "$TEST_TMPDIR/err"
"$BUILDDIR/virt-diffctl" wait -l --path /unchanged.txt "$job" >"$TEST_TMPDIR/recover.long" 2>"$TEST_TMPDIR/err" || true
[ $(($(launches) - before)) = 1 ] || fail "recover.img: $(($(launches) - before)) launches, expected 1"
"$PYTHON" - "$TEST_TMPDIR/direct.json" "$TEST_TMPDIR/recover.json" "$SCHEMA" <<'PY' || { cp "$TEST_TMPDIR"/*.json /tmp/; fail "recover.img: fallback"; }
import json, sys, jsonschema
direct, fallback = (json.load(open(p)) for p in sys.argv[1:3])
for d in (direct, fallback):
    jsonschema.validate(d, json.load(open(sys.argv[3])))
assert direct["a"]["engine"] == direct["b"]["engine"] == "direct"
assert fallback["a"]["engine"] == "appliance" and "recovery" in fallback["a"]["direct_refused"], fallback["a"]
assert fallback["b"]["engine"] == "direct"
# The appliance's side and the direct engine's give the same changes, but
# for st_dev: it numbers the appliance's own disk, sda or sdb as its
# kernel happened to probe them (see tests/cross-check.c).
def without_dev(changes):
    for c in changes:
        for side in ("old", "new"):
            if c.get(side):
                c[side].pop("dev", None)
    return changes
assert without_dev(direct["changes"]) == without_dev(fallback["changes"]), "the changes differ between the engines"
assert direct["filesystems"] == fallback["filesystems"]
PY
assert_contains "$TEST_TMPDIR/recover.long" "# A: $FIXTURES/recover.img (scanned, appliance; the direct engine could not: /dev/sda: its journal needs recovery"
assert_contains "$TEST_TMPDIR/recover.long" "# B: $FIXTURES/kinds-b.img (scanned, direct)"
assert_no_qemu
pass "auto: a journal to replay sends the side to an appliance, -l and the JSON say why, the changes are the same"

# ---- --engine=direct: no appliance, an error where it cannot read ----
before=$(launches)
run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" --engine=direct "$FIXTURES/kinds-a.img" "$FIXTURES/xfs.img"
assert_rc 2 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 1
assert_contains "$TEST_TMPDIR/err" "xfs.img"
assert_contains "$TEST_TMPDIR/err" "a filesystem of type xfs"
[ "$(launches)" = "$before" ] || fail "--engine=direct launched an appliance"
# Package databases are the appliance's.
run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" --engine=direct --packages "$A" "$B"
assert_rc 2 "$TEST_TMPDIR/err"
assert_contains "$TEST_TMPDIR/err" "it does not read package databases"
[ "$(launches)" = "$before" ] || fail "--engine=direct --packages launched an appliance"
# A qcow2 side scanned on the job's second thread: its qemu-nbd (started
# for the direct engine) dies with that thread, and the diffs read later
# must not be left on it.
run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" --engine=direct -u "$FIXTURES/kinds-b.img" "$FIXTURES/kinds-a.qcow2"
assert_rc 1 "$TEST_TMPDIR/err"
assert_contains "$TEST_TMPDIR/out" "+AAAAAAAA"
[ "$(launches)" = "$before" ] || fail "--engine=direct -u on a qcow2 launched an appliance"
# Disks of 4096-byte sectors are the appliance's.
run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" --engine=direct --blocksize=4096 "$FIXTURES/4k-a.img" "$FIXTURES/4k-b.img"
assert_rc 2 "$TEST_TMPDIR/err"
assert_contains "$TEST_TMPDIR/err" "512-byte sectors only (blocksize 4096)"
[ "$(launches)" = "$before" ] || fail "--engine=direct --blocksize=4096 launched an appliance"
run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" --engine=fast "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img"
assert_rc 2 "$TEST_TMPDIR/err"
assert_contains "$TEST_TMPDIR/err" "--engine 'fast': not auto, direct or appliance"
out=$(busctl --user call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
        Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s "$A" 1 1 path s "$B" 1 engine s quick 2>&1) &&
        fail "Compare with engine=quick was accepted: $out"
[[ $out == *"not auto, direct or appliance"* ]] || fail "Compare with engine=quick: $out"
pass "--engine=direct: -u on a qcow2 second side; fails on XFS, with --packages and on 4096-byte sectors, one line and no launch; bad engine names refused"
