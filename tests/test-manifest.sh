#!/bin/bash
# Manifests that travel, on the kinds pair (one difference of each kind):
# one cold -u diff scans both sides and reads their changed files (two
# launches, with the progress line forced on); then, all from the cache,
# each side is exported (virt-diffctl manifest: JSON, CSV, mtree read back
# by bsdtar), re-imported and diffed against its own image (exit 0) and
# against the other side (the same changes as the image diff), manifest
# against manifest, from standard input, and broken manifests refused with
# one line naming what is wrong.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon busctl
requires_jsonschema
ensure_fixtures
start_bus

A=$FIXTURES/kinds-a.img
B=$FIXTURES/kinds-b.img
VIRT_DIFFCTL=$BUILDDIR/virt-diffctl
T=$TEST_TMPDIR

launches() {
        busctl --user get-property org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
                org.virtdiff.VirtDiff1.Manager AppliancesLaunched | awk '{print $2}'
}

manifest() { # OUT ARGS...: virt-diffctl manifest, which must succeed quietly
        local out=$1
        shift
        note "virt-diffctl manifest $*"
        "$VIRT_DIFFCTL" manifest "$@" >"$out" 2>"$T/manifest.err" </dev/null ||
                { cat "$T/manifest.err" >&2; fail "virt-diffctl manifest $* failed"; }
        assert_lines "$T/manifest.err" 0
}

same_changes() { # RESULT-1 RESULT-2 WHAT
        "$PYTHON" - "$1" "$2" "$SRCDIR/schemas/diff-result.schema.json" <<'PY' || fail "$3: not the same changes"
import json, sys, jsonschema
a, b = (json.load(open(p)) for p in sys.argv[1:3])
schema = json.load(open(sys.argv[3]))
for d in (a, b):
    jsonschema.validate(d, schema)
for key in ("changes", "filesystems", "summary"):
    if a[key] != b[key]:
        print(json.dumps(a[key])[:2000], "\n---\n", json.dumps(b[key])[:2000], file=sys.stderr)
        sys.exit(1)
PY
}

# ---- one cold diff, the progress line forced onto a file ----
before=$(launches)
run_virt_diff "$T/image.json" "$T/progress" --progress -u --json "$A" "$B"
assert_rc 1 "$T/progress"
[ $(($(launches) - before)) = 2 ] || fail "the cold diff: $(($(launches) - before)) launches, expected 2"
# Redrawn in place (a carriage return before each state), the phases by
# name with their elapsed time, and cleared before the result.
grep -qaE $'\r(launch|scan|hash|fingerprint) +[0-9]+:[0-9]{2}' "$T/progress" ||
        { cat -A "$T/progress" >&2; fail "--progress: no phase with its elapsed time"; }
[ "$(tail -c 4 "$T/progress" | od -An -c | tr -d ' ')" = '\r033[K' ] ||
        { cat -A "$T/progress" >&2; fail "--progress: the line is not cleared at the end"; }
[ "$(tr -cd '\n' <"$T/progress" | wc -c)" = 0 ] || { cat -A "$T/progress" >&2; fail "--progress: a line break on stderr"; }
pass "--progress: phases redrawn in place with their times, cleared before the result"
# Without --progress on a file: nothing.
run_virt_diff "$T/quiet.json" "$T/quiet.err" --json "$A" "$B"
assert_rc 1 "$T/quiet.err"
assert_lines "$T/quiet.err" 0
[ -s "$T/quiet.err" ] && fail "progress shown on a stderr that is not a terminal"
if command -v script >/dev/null; then
        # On a terminal by default (script(1) gives the command one).
        script -qec "$VIRT_DIFF --summary $A $B" /dev/null >"$T/tty.out" </dev/null || true
        grep -qa $'\r\033\\[K' "$T/tty.out" || { cat -A "$T/tty.out" >&2; fail "no progress line on a terminal"; }
        grep -qa "added," "$T/tty.out" || fail "no summary on the terminal"
        pass "the progress line: shown on a terminal, never when stderr is a file"
fi

# ---- export both sides: from the cache, no appliance ----
before=$(launches)
manifest "$T/a.json" "$A"
manifest "$T/b.json" --output=json "$B"
"$PYTHON" - "$T/a.json" "$T/image.json" "$SRCDIR/schemas/manifest.schema.json" <<'PY' || fail "the exported manifest"
import json, sys, jsonschema
m, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
jsonschema.validate(m, json.load(open(sys.argv[3])))
assert m["format"] == "virt-diff-manifest" and m["version"] == 1, m["format"]
assert m["key"] == r["a"]["key"], (m["key"], r["a"]["key"])
assert m["cached"] is True and m["images"][0]["path"] == r["a"]["images"][0]["path"], m["images"]
assert sum(len(t["entries"]) for t in m["trees"]) > 20
PY
[ "$(launches)" = "$before" ] || fail "exporting cached sides launched appliances"
pass "manifest: both sides exported from the cache, schema, format version and the side's key"

# CSV and mtree of the same manifest, read back by other tools.
manifest "$T/a.csv" --output=csv "$A"
"$PYTHON" "$SRCDIR/tests/check-manifest.py" csv "$T/a.json" "$T/a.csv" || fail "manifest --output=csv"
manifest "$T/a.mtree" --output=mtree "$A"
if command -v bsdtar >/dev/null; then
        mkdir "$T/empty"
        (cd "$T/empty" && bsdtar -cf "$T/a.tar" "@$T/a.mtree") 2>"$T/bsdtar.err" ||
                { cat "$T/bsdtar.err" >&2; fail "bsdtar -cf - @manifest.mtree"; }
        "$PYTHON" "$SRCDIR/tests/check-manifest.py" tar "$T/a.json" "$T/a.tar" || fail "the mtree as bsdtar reads it"
else
        note "bsdtar is not installed (libarchive-tools): the mtree form not read back"
fi

# ---- diff against manifests ----
before=$(launches)
run_virt_diff "$T/own" "$T/err" --manifest-a "$T/a.json" "$A"
assert_rc 0 "$T/err"
assert_lines "$T/own" 0
assert_lines "$T/err" 0
pass "a manifest against the image it came from: no differences, exit status 0"

run_virt_diff "$T/m-b.json" "$T/err" -u --json --manifest-a "$T/a.json" "$B"
assert_rc 1 "$T/err"
same_changes "$T/image.json" "$T/m-b.json" "--manifest-a against the other image"
"$PYTHON" - "$T/m-b.json" "$T/a.json" <<'PY' || fail "the manifest side in the result"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["a"]["manifest"]["path"] == sys.argv[2], r["a"]
assert r["a"]["manifest"]["exported_at"] and r["a"]["cached"] is False, r["a"]
assert r["a"]["images"][0]["path"].endswith("/kinds-a.img"), r["a"]["images"]
PY
run_virt_diff "$T/m-m.json" "$T/err" -u --json "manifest:$T/a.json" "manifest:$T/b.json"
assert_rc 1 "$T/err"
same_changes "$T/image.json" "$T/m-m.json" "manifest against manifest"
note "virt-diff --manifest-b - (standard input)"
"$VIRT_DIFF" --summary "$A" --manifest-b - <"$T/b.json" >"$T/stdin" 2>"$T/err" && RC=0 || RC=$?
assert_rc 1 "$T/err"
cmp -s "$T/stdin" <("$VIRT_DIFF" --summary "$A" "$B" 2>/dev/null) || fail "--manifest-b - differs from the image diff"
run_virt_diff "$T/long" "$T/err" -l --manifest-a "$T/a.json" --path /added.txt "$B"
assert_contains "$T/long" "(manifest $T/a.json, exported "
[ "$(launches)" = "$before" ] || fail "diffs against manifests launched $(($(launches) - before)) appliances"
pass "against the other side, manifest against manifest, from standard input: the image diff's changes and -u diffs, no appliance"

# ---- manifests that do not parse: one line, exit status 2 ----
bad_manifest() { # EXPECTED-MESSAGE FILE
        run_virt_diff "$T/out" "$T/err" --manifest-a "$2" "$B"
        assert_rc 2 "$T/err"
        assert_lines "$T/err" 1
        assert_lines "$T/out" 0
        assert_contains "$T/err" "$1"
}
printf '{"format": "virt-diff-manifest", "version": 2}' >"$T/v2.json"
bad_manifest "side A: invalid manifest: format version 2 is not supported" "$T/v2.json"
head -c 300 "$T/a.json" >"$T/cut.json"
bad_manifest "side A: invalid manifest: not JSON (it ends too early" "$T/cut.json"
bad_manifest "side A: invalid manifest: format: not \"virt-diff-manifest\"" "$T/image.json"
sed 's/"mode":420/"mode":-1/' "$T/a.json" >"$T/mode.json"
bad_manifest ".mode: out of range" "$T/mode.json"
bad_manifest "$T/none.json: cannot open: No such file or directory" "$T/none.json"
run_virt_diff "$T/out" "$T/err" --manifest-a "$T/a.json" -a "$A" -A "$B"
assert_rc 2 "$T/err"
assert_contains "$T/err" "side A is either images or one manifest"
pass "broken manifests: InvalidManifest naming what is wrong, one line, exit status 2"
