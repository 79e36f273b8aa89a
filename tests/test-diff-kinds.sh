#!/bin/bash
# Every kind of change, through the real daemon on a private session bus.
#
# Two diffs: one --json of two disks a side (kinds-a + same-1 against
# kinds-b + same-2: no OS, so each filesystem is a tree of its own, keyed by
# its device), and one long text listing of the kinds pair.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon dbus-send
requires_jsonschema
ensure_fixtures
start_bus

# ---- JSON, two disks a side ----
run_virt_diff "$TEST_TMPDIR/result.json" "$TEST_TMPDIR/err" --json \
        -a "$FIXTURES/kinds-a.img" -a "$FIXTURES/same-1.img" \
        -A "$FIXTURES/kinds-b.img" -A "$FIXTURES/same-2.img"
assert_rc 1 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 0
assert_no_qemu

{
        kinds_expectation /dev/sda
        # same-1 and same-2: one tree built twice, a second apart, with the
        # same UUID: nothing differs (no /dev/sdb lines).
        echo "fs /dev/sda unchanged device"
        echo "fs /dev/sdb unchanged device"
        echo "json a.inspected false"
        echo "json b.inspected false"
        # Scanned by appliances, not taken from the manifest cache.
        echo "json a.cached false"
        echo "json b.cached false"
} >"$TEST_TMPDIR/expected"
check_result "$TEST_TMPDIR/result.json" "$TEST_TMPDIR/expected"
pass "--json: the exact change set of kinds-a -> kinds-b, none for same-1 -> same-2"

# The daemon decided on its own how to run qemu (no force_tcg is set).
daemon_log | grep -qE 'KVM is not usable .*falling back to TCG|Using KVM hardware virtualisation' ||
        fail "the daemon did not log its KVM decision"
daemon_log | grep -E 'KVM is not usable|Using KVM' | head -n1 | sed 's/^/# /'
pass "the daemon probed KVM itself"

check_daemon_serves_after_client_left

# ---- long text listing, one disk a side ----
run_virt_diff "$TEST_TMPDIR/long.txt" "$TEST_TMPDIR/err" -l "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img"
assert_rc 1 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 0
assert_no_qemu

# Where each side came from (scanned by an appliance, not cached); then one tree, so no
# "TREE:" prefix; names that are not plain UTF-8 text are quoted with C
# escapes; filesystems are all unchanged, so no line for them.
L=${LONG_PATH}
assert_file_is "$TEST_TMPDIR/long.txt" <<EOF
# A: $FIXTURES/kinds-a.img (scanned, appliance)
# B: $FIXTURES/kinds-b.img (scanned, appliance)
/added.txt: added, size: 21
/chmod.txt: metadata, size: 5, fields: mode
/chown.txt: metadata, size: 6, fields: uid,gid
/devs/chr: modified, size: 0, kind: char, fields: rdev
/devs/fifo-new: added, size: 0, kind: fifo
/dir/inner: modified, size: 11
/gone: removed, size: 4096, kind: directory
/gone/a.txt: removed, size: 2
/gone/sub: removed, size: 4096, kind: directory
/gone/sub/b.txt: removed, size: 2
/hard/link.txt: added, size: 7
/link: modified, size: 8, kind: symlink, target: target-b
$L/deep-new.txt: added, size: 9
$L/deep.txt: modified, size: 7
/modified-same.txt: modified, size: 9
/modified-size.txt: modified, size: 19
/mtime.txt: metadata, size: 6, fields: mtime
"/names/back\\\\slash \\"q\\"": modified, size: 8
"/names/caf\\xe9": modified, size: 13
"/names/new\\nline": added, size: 8
"/names/two\\nlines": modified, size: 3
/names/with space.txt: modified, size: 11
"/names/\\xff\\xfe.bin": added, size: 7
/nlink/newsub: added, size: 4096, kind: directory
/removed.txt: removed, size: 21
/type-change: type, size: 4096, kind: file -> directory
/type-change/c1.txt: added, size: 4
/type-change/sub: added, size: 4096, kind: directory
/type-change/sub/c2.txt: added, size: 4
/xattr.txt: metadata, size: 6, fields: xattrs
EOF
pass "-l: the long listing, with quoted names"

# ---- the other formats, from the manifests the -l run cached ----

for fmt in csv ndjson summary; do
        run_virt_diff "$TEST_TMPDIR/out.$fmt" "$TEST_TMPDIR/err" --output=$fmt "$FIXTURES/kinds-a.img" \
                "$FIXTURES/kinds-b.img"
        assert_rc 1 "$TEST_TMPDIR/err"
done
"$PYTHON" - "$TEST_TMPDIR/result.json" "$TEST_TMPDIR/out.csv" "$TEST_TMPDIR/out.ndjson" \
        "$TEST_TMPDIR/out.summary" <<'PY' || fail "--csv, --output=ndjson or --summary disagree with --json"
import base64, csv, io, json, sys

result = json.load(open(sys.argv[1]))
want = sorted(
    (base64.b64decode(c["path_base64"]) if "path_base64" in c else c["path"].encode(), c["change"], ";".join(c["fields"]))
    for c in result["changes"] if c["tree"] == "/dev/sda")

# CSV: a header row, names as their exact bytes (read back losslessly).
text = open(sys.argv[2], "rb").read().decode("utf-8", "surrogateescape")
rows = list(csv.DictReader(io.StringIO(text, newline="")))
got = sorted((r["path"].encode("utf-8", "surrogateescape"), r["change"], r["fields"])
             for r in rows if r["scope"] == "entry")
assert got == want, ("csv", got, want)
assert all(r["tree"] == "/dev/sda" for r in rows if r["scope"] == "entry")

# NDJSON: one record a line, every change exactly as in the JSON document.
lines = [json.loads(l) for l in open(sys.argv[3])]
# st_dev is the appliance's device number, which depends on how many disks
# it had (the JSON run had two a side): not part of what is compared.
def without_dev(c):
    c = dict(c)
    for side in ("old", "new"):
        if c.get(side):
            c[side] = {k: v for k, v in c[side].items() if k != "dev"}
    return c
changes = [without_dev(l["change"]) for l in lines if "change" in l]
assert changes == [without_dev(c) for c in result["changes"] if c["tree"] == "/dev/sda"], "ndjson changes"
assert [list(l)[0] for l in lines][:2] == ["a", "b"] and "summary" in lines[-1], "ndjson records"

s = result["summary"]
line = f'{s["added"]} added, {s["removed"]} removed, {s["modified"]} modified, {s["metadata"]} metadata'
if s["type"]:
    line += f', {s["type"]} type'
assert open(sys.argv[4]).read() == line + "\n", ("summary", open(sys.argv[4]).read(), line)
PY
pass "--csv (read back by Python's csv), --output=ndjson and --summary agree with --json"

# ---- libguestfs virt-diff's line format and the filters, from the cache ----
# The compatibility mode: exit status 0 for a comparison that ran.
run_virt_diff "$TEST_TMPDIR/vd.txt" "$TEST_TMPDIR/err" --output=virt-diff --no-unified --path /names --path /link \
        --path /type-change --path /chmod.txt "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img"
assert_rc 0 "$TEST_TMPDIR/err"
assert_file_is "$TEST_TMPDIR/vd.txt" <<'EOF'
- - 0644          5 /chmod.txt
+ - 0600          5 /chmod.txt
# changed: st_mode
- l 0777          8 /link -> target-a
+ l 0777          8 /link -> target-b
# changed: link
= - 0644          8 "/names/back\\slash \"q\""
= - 0644          8 "/names/caf\xe9"
+ - 0644          8 "/names/new\nline"
= - 0644          3 "/names/two\nlines"
= - 0644          7 /names/with space.txt
+ - 0644          7 "/names/\xff\xfe.bin"
- - 0644         15 /type-change
+ d 0755       4096 /type-change
# changed: st_mode st_size
+ - 0644          4 /type-change/c1.txt
+ d 0755       4096 /type-change/sub
+ - 0644          4 /type-change/sub/c2.txt
EOF
pass "--output=virt-diff: upstream's lines, names quoted, '=' only for content, scoped by --path"

run_virt_diff "$TEST_TMPDIR/ign.txt" "$TEST_TMPDIR/err" --summary --ignore mode,uid,gid \
        --ignore mtime,xattr:user.* "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img"
assert_rc 1 "$TEST_TMPDIR/err"
assert_file_is "$TEST_TMPDIR/ign.txt" <<<"10 added, 5 removed, 10 modified, 0 metadata, 1 type"
run_virt_diff "$TEST_TMPDIR/ign.txt" "$TEST_TMPDIR/err" --ignore mode,uid,gid,mtime,xattrs \
        --path /chmod.txt --path /chown.txt --path /mtime.txt --path /xattr.txt \
        "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img"
assert_rc 0 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/ign.txt" 0
run_virt_diff "$TEST_TMPDIR/ign.txt" "$TEST_TMPDIR/err" --include '*.txt' --exclude '/names' --exclude 'deep*' \
        --exclude /gone --exclude '/type-change/*' "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img"
assert_rc 1 "$TEST_TMPDIR/err"
assert_file_is "$TEST_TMPDIR/ign.txt" <<'EOF'
/added.txt: File added
/chmod.txt: File metadata changed (mode)
/chown.txt: File metadata changed (uid, gid)
/hard/link.txt: File added
/modified-same.txt: File modified
/modified-size.txt: File modified
/mtime.txt: File metadata changed (mtime)
/removed.txt: File removed
/xattr.txt: File metadata changed (xattrs)
EOF
pass "--ignore (fields and xattr:GLOB), --include and --exclude: exit 0 when all that differs is ignored"

# ---- one check per remaining option, all from the cache ----
KA=$FIXTURES/kinds-a.img KB=$FIXTURES/kinds-b.img
run_virt_diff "$TEST_TMPDIR/t" "$TEST_TMPDIR/err" -t xfs "$KA" "$KB"
assert_rc 0 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/t" 0
run_virt_diff "$TEST_TMPDIR/t" "$TEST_TMPDIR/err" -t btrfs,ext4 --summary "$KA" "$KB"
assert_rc 1 "$TEST_TMPDIR/err"
assert_file_is "$TEST_TMPDIR/t" <<<"10 added, 5 removed, 10 modified, 4 metadata, 1 type"
pass "-t: only filesystems of the types named (comma lists); nothing shown is exit status 0"

run_virt_diff "$TEST_TMPDIR/t" "$TEST_TMPDIR/err" --xattrs -l --path /xattr.txt "$KA" "$KB"
assert_contains "$TEST_TMPDIR/t" "/xattr.txt: metadata, size: 6, fields: xattrs, xattrs: user.note hello"
run_virt_diff "$TEST_TMPDIR/t" "$TEST_TMPDIR/err" --output=virt-diff --xattrs --path /xattr.txt "$KA" "$KB"
assert_contains "$TEST_TMPDIR/t" "+ - 0644          6 /xattr.txt user.note hello"
pass "--xattrs: names and values in -l and virt-diff lines"

# The comparison flags: each field a change names really differs between
# its old and new stat, every field the flag enables that differs is named,
# and a flag only ever adds changes.
for flags in "" --atime --times --dir-times --dir-links --extra-stats --all; do
        name=${flags:-default}
        # shellcheck disable=SC2086
        run_virt_diff "$TEST_TMPDIR/flag-$name.json" "$TEST_TMPDIR/err" --json $flags "$KA" "$KB"
        assert_rc 1 "$TEST_TMPDIR/err"
done
"$PYTHON" - "$TEST_TMPDIR" <<'PY' || fail "the comparison flags"
import json, sys
d = sys.argv[1]
stat_key = {"mode": "mode", "uid": "uid", "gid": "gid", "mtime": "mtime_ns", "atime": "atime_ns",
            "ctime": "ctime_ns", "nlink": "nlink", "ino": "ino", "dev": "dev", "blocks": "blocks",
            "blksize": "blksize", "size": "size", "rdev": "rdev", "target": "target"}
enables = {"default": set(), "--atime": {"atime"}, "--times": {"ctime"}, "--dir-times": {"mtime"},
           "--dir-links": {"nlink"}, "--extra-stats": {"nlink", "ino", "dev", "blocks", "blksize"},
           "--all": {"atime", "ctime", "mtime", "nlink", "ino", "dev", "blocks", "blksize"}}
base = {c["path"] for c in json.load(open(f"{d}/flag-default.json"))["changes"]}
for flag, extra in enables.items():
    changes = json.load(open(f"{d}/flag-{flag}.json"))["changes"]
    paths = {c["path"] for c in changes}
    assert base <= paths, (flag, base - paths)
    for c in changes:
        old, new = c["old"], c["new"]
        if not old or not new or old["kind"] != new["kind"]:
            continue
        for f in c["fields"]:
            if f in stat_key:
                assert old.get(stat_key[f]) != new.get(stat_key[f]), (flag, c["path"], f)
        is_dir = new["kind"] == "directory"
        for f in extra:
            if f in ("mtime", "atime", "ctime") and is_dir and flag not in ("--dir-times", "--all"):
                continue
            if f == "mtime" and not is_dir:
                continue
            if f == "nlink" and is_dir != (flag in ("--dir-links", "--all")) and flag != "--all":
                continue
            if old[stat_key[f]] != new[stat_key[f]]:
                assert f in c["fields"], (flag, c["path"], f, c["fields"])
    for c in changes:
        for f in c["fields"]:
            assert f not in ("atime", "ctime", "ino", "dev", "blocks", "blksize") or f in extra, (flag, c["path"], f)
    print(f"# {flag}: {len(changes)} changes")
PY
pass "--atime, --times, --dir-times, --dir-links, --extra-stats, --all: exactly the fields they enable"

run_virt_diff "$TEST_TMPDIR/t" "$TEST_TMPDIR/err" -V
assert_rc 0 "$TEST_TMPDIR/err"
grep -qE '^virt-diff [0-9]+\.[0-9]+\.[0-9]+$' "$TEST_TMPDIR/t" || fail "-V: $(cat "$TEST_TMPDIR/t")"
run_virt_diff "$TEST_TMPDIR/t" "$TEST_TMPDIR/err" -h
assert_rc 0 "$TEST_TMPDIR/err"
assert_contains "$TEST_TMPDIR/t" "Usage: virt-diff [OPTIONS] IMAGE1 IMAGE2"
run_virt_diff "$TEST_TMPDIR/t" "$TEST_TMPDIR/err" -v -x --summary "$KA" "$KB"
assert_rc 1 "$TEST_TMPDIR/err"
assert_file_is "$TEST_TMPDIR/t" <<<"10 added, 5 removed, 10 modified, 4 metadata, 1 type"
pass "-V, -h, and -v -x accepted"
