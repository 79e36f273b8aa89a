#!/bin/bash
# The reports (--output=markdown, --output=html) and the manifest writers
# (virt-diffctl manifest --output=csv|mtree), with no daemon and no
# appliance: result documents made by tests/make-result.py (the result
# JSON is the interface) are written by the client's writers
# (render-result) and checked against golden Markdown files, at the
# --max-bytes boundary, and in headless Chromium (tests/check-report.py):
# counts, names, filters, search, diffs, the plain list without scripting,
# hostile names making no element and running no script, and the time the
# 100,000-change report takes to render (printed, not asserted).
# Screenshots go to $BUILDDIR/test-artifacts/.
source "$(dirname "$0")/lib.sh"
requires_jsonschema
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || skip "chromium is not installed (tools/install-deps.sh installs it)"

RENDER=$BUILDDIR/client/output/render-result
GOLDEN=$SRCDIR/tests/golden
ARTIFACTS=$BUILDDIR/test-artifacts
SCHEMA=$SRCDIR/schemas/diff-result.schema.json
mkdir -p "$ARTIFACTS"
# Dates in the reports are local time.
export TZ=UTC

for doc in small hostile; do
        "$PYTHON" "$SRCDIR/tests/make-result.py" --check "$SCHEMA" $doc "$TEST_TMPDIR/$doc.json" ||
                fail "make-result.py $doc"
done

# ---- Markdown: golden files, and the cut ----
golden() { # NAME RESULT ARGS...
        local name=$1 doc=$2
        shift 2
        "$RENDER" --output=markdown "$@" "$TEST_TMPDIR/$doc.json" >"$TEST_TMPDIR/$name.md" ||
                fail "render-result --output=markdown $* $doc"
        # UPDATE_GOLDEN=1: take this run's output as the new golden file.
        [ -z "${UPDATE_GOLDEN:-}" ] || cp "$TEST_TMPDIR/$name.md" "$GOLDEN/report-$name.md"
        if ! cmp -s "$GOLDEN/report-$name.md" "$TEST_TMPDIR/$name.md"; then
                diff -u "$GOLDEN/report-$name.md" "$TEST_TMPDIR/$name.md" >&2 || true
                fail "markdown $* of $doc differs from tests/golden/report-$name.md"
        fi
}
golden small small
golden hostile hostile
golden small-cut small --max-bytes=1500
golden small-cut-diff small --max-bytes=2300
pass "markdown: tests/golden/report-{small,hostile,small-cut,small-cut-diff}.md"
# As GitHub renders it: cmark-gfm is its Markdown engine.
if command -v cmark-gfm >/dev/null; then
        for doc in small hostile; do
                "$PYTHON" "$SRCDIR/tests/check-report.py" markdown "$TEST_TMPDIR/$doc.json" "$TEST_TMPDIR/$doc.md" ||
                        fail "the $doc markdown rendered by cmark-gfm"
        done
else
        note "cmark-gfm is not installed: markdown not rendered"
fi

# Every limit around the whole length: all of it once it fits, else at most
# the limit, ending in the note (the unit test checks each cut's prefix).
len=$(wc -c <"$TEST_TMPDIR/small.md")
for max in $((len - 2)) $((len - 1)) $len $((len + 1)); do
        "$RENDER" --output=markdown --max-bytes=$max "$TEST_TMPDIR/small.json" >"$TEST_TMPDIR/cut.md"
        got=$(wc -c <"$TEST_TMPDIR/cut.md")
        if [ "$max" -ge "$len" ]; then
                cmp -s "$TEST_TMPDIR/cut.md" "$TEST_TMPDIR/small.md" || fail "--max-bytes=$max cut a $len-byte report"
        else
                [ "$got" -le "$max" ] || fail "--max-bytes=$max wrote $got bytes"
                tail -n 1 "$TEST_TMPDIR/cut.md" | grep -q "^> \*\*Cut to $max bytes\*\*" ||
                        fail "--max-bytes=$max: no note at the end"
        fi
done
pass "--max-bytes at the boundary: $((len - 2))..$((len + 1)) around a $len-byte report"

# ---- HTML in Chromium ----
for doc in small hostile; do
        "$RENDER" --output=html "$TEST_TMPDIR/$doc.json" >"$TEST_TMPDIR/$doc.html" || fail "render-result --output=html $doc"
        "$PYTHON" "$SRCDIR/tests/check-report.py" $doc "$TEST_TMPDIR/$doc.json" "$TEST_TMPDIR/$doc.html" "$ARTIFACTS" ||
                fail "the $doc report in chromium"
done

# ---- manifests: CSV and mtree, read back by other tools ----
"$PYTHON" "$SRCDIR/tests/make-result.py" --check "$SRCDIR/schemas/manifest.schema.json" manifest \
        "$TEST_TMPDIR/manifest.json" || fail "make-result.py manifest"
"$RENDER" --manifest=mtree "$TEST_TMPDIR/manifest.json" >"$TEST_TMPDIR/manifest.mtree" || fail "render-result --manifest=mtree"
cmp -s "$GOLDEN/manifest.mtree" "$TEST_TMPDIR/manifest.mtree" || {
        diff -u "$GOLDEN/manifest.mtree" "$TEST_TMPDIR/manifest.mtree" >&2 || true
        fail "the mtree form differs from tests/golden/manifest.mtree"
}
"$RENDER" --manifest=csv "$TEST_TMPDIR/manifest.json" >"$TEST_TMPDIR/manifest.csv" || fail "render-result --manifest=csv"
"$PYTHON" "$SRCDIR/tests/check-manifest.py" csv "$TEST_TMPDIR/manifest.json" "$TEST_TMPDIR/manifest.csv" ||
        fail "the manifest as CSV"
if command -v bsdtar >/dev/null; then
        # In an empty directory: bsdtar would take the content of a file
        # the spec names from the working directory.
        mkdir "$TEST_TMPDIR/empty"
        (cd "$TEST_TMPDIR/empty" && bsdtar -cf "$TEST_TMPDIR/manifest.tar" "@$TEST_TMPDIR/manifest.mtree") \
                2>"$TEST_TMPDIR/bsdtar.err" || { cat "$TEST_TMPDIR/bsdtar.err" >&2; fail "bsdtar -cf - @manifest.mtree"; }
        "$PYTHON" "$SRCDIR/tests/check-manifest.py" tar "$TEST_TMPDIR/manifest.json" "$TEST_TMPDIR/manifest.tar" ||
                fail "the mtree as bsdtar reads it"
else
        note "bsdtar is not installed (libarchive-tools): the mtree form not read back"
fi
if command -v mtree >/dev/null; then
        n=$(mtree -C -f "$TEST_TMPDIR/manifest.mtree" | wc -l) || fail "mtree -C -f manifest.mtree"
        want=$(grep -vc '^#' "$TEST_TMPDIR/manifest.mtree")
        [ "$n" = "$want" ] || fail "mtree -C read $n entries, expected $want"
        pass "mtree(8) reads the mtree form: $n entries"
fi

# 100,000 changes: how long the page takes is printed, not asserted.
"$PYTHON" "$SRCDIR/tests/make-result.py" big 100000 "$TEST_TMPDIR/big.json" || fail "make-result.py big"
"$RENDER" --output=html "$TEST_TMPDIR/big.json" >"$TEST_TMPDIR/big.html" || fail "render-result --output=html big"
"$PYTHON" "$SRCDIR/tests/check-report.py" big "$TEST_TMPDIR/big.json" "$TEST_TMPDIR/big.html" "$ARTIFACTS" ||
        fail "the 100k report in chromium"
note "screenshots: $ARTIFACTS/report-*.png"
