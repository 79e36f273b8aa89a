#!/bin/bash
# Packages, ownership and offline verification on OS-like image pairs whose
# package databases real dpkg and rpm wrote (tests/package-fixtures.sh):
# the exact package diff, each injected change under its cause (a binary
# rewritten with its size and mtime kept is tampered), the cached rerun with
# no appliance, a corrupt status file as a named error beside an intact
# file diff, and data disks with an empty package section.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon busctl dpkg-deb dpkg rpmbuild rpm db5.3_load flock
requires_root

# The package fixtures, built once per version of their scripts.
PKG=$FIXTURES/packages
mkdir -p "$PKG"
exec 9>"$PKG/.lock"
flock 9
want=$(cat "$SRCDIR/tests/package-fixtures.sh" "$SRCDIR/tests/make-package-trees.sh" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$PKG/.stamp" 2>/dev/null)" != "$want" ]; then
        note "building the package fixtures in $PKG"
        rm -f "$PKG/.stamp"
        bash "$SRCDIR/tests/package-fixtures.sh" "$PKG" >"$TEST_TMPDIR/pkg-fixtures.log" 2>&1 ||
                { cat "$TEST_TMPDIR/pkg-fixtures.log" >&2; fail "cannot build the package fixtures"; }
        echo "$want" >"$PKG/.stamp"
fi
flock -u 9
exec 9>&-
ensure_fixtures
start_bus

launches() {
        busctl --user get-property org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
                org.virtdiff.VirtDiff1.Manager AppliancesLaunched | awk '{print $2}'
}

json_get() { # FILE PYTHON-EXPR-ON-d
        "$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# Runs virt-diff, checks the exit status and how many appliances it
# launched; OUT gets stdout.
diff_checked() { # EXPECTED-RC EXPECTED-LAUNCHES OUT ARGS...
        local rc=$1 want=$2 out=$3 before after
        shift 3
        before=$(launches)
        run_virt_diff "$out" "$TEST_TMPDIR/err" "$@"
        [ "$RC" = "$rc" ] || { cat "$TEST_TMPDIR/err" >&2; fail "virt-diff $*: exit status $RC, expected $rc"; }
        after=$(launches)
        [ $((after - before)) = "$want" ] ||
                fail "virt-diff $*: $((after - before)) appliance launches, expected $want"
}

daemon_answers || fail "the daemon does not answer"
DA=$PKG/pkg-dpkg-a.img DB=$PKG/pkg-dpkg-b.img RA=$PKG/pkg-rpm-a.img RB=$PKG/pkg-rpm-b.img

# ---- dpkg: the plain diff, then with packages, each cold and cached ----

diff_checked 1 2 "$TEST_TMPDIR/plain.txt" "$DA" "$DB"
PLAIN_COLD=$SECONDS_TAKEN
diff_checked 1 0 "$TEST_TMPDIR/plain2.txt" "$DA" "$DB"
PLAIN_CACHED=$SECONDS_TAKEN
# Cached without their packages: scanned again, once.
diff_checked 1 2 "$TEST_TMPDIR/explain.txt" --packages --explain "$DA" "$DB"
PKG_COLD=$SECONDS_TAKEN
diff_checked 1 0 "$TEST_TMPDIR/explain2.txt" --packages --explain "$DA" "$DB"
PKG_CACHED=$SECONDS_TAKEN
cmp -s "$TEST_TMPDIR/explain.txt" "$TEST_TMPDIR/explain2.txt" || fail "the cached --explain differs from the scanned one"
note "times (s): plain cold $PLAIN_COLD, cached $PLAIN_CACHED; --packages --explain cold $PKG_COLD, cached $PKG_CACHED"
pass "dpkg pair: --packages --explain scans once, then comes from the cache with no launch"

cat >"$TEST_TMPDIR/explain.want" <<'EOF'
vd-base 1.0-1 -> 1.1-1: upgraded
vd-down 2.0-1 -> 1.9-1: downgraded
vd-epoch 2.0-1 -> 1:1.0-1: upgraded
vd-new 1.0-1: added
vd-old 1.0-1: removed
vd-tilde 1.0~rc1-1 -> 1.0-1: upgraded
Tampered (no package change explains them) (2):
  /usr/bin/vd-same: File modified [vd-same]
  /usr/lib/vd/same.dat: File removed [vd-same]
Configuration files edited (1):
  /etc/vd/same.conf: File modified [vd-same]
Installed, upgraded or removed with their packages (7):
  /usr/bin/vd-base: File modified [vd-base]
  /usr/bin/vd-down: File modified [vd-down]
  /usr/bin/vd-epoch: File modified [vd-epoch]
  /usr/bin/vd-new: File added [vd-new]
  /usr/bin/vd-old: File removed [vd-old]
  /usr/bin/vd-tilde: File modified [vd-tilde]
  /usr/lib/vd/libvd.so.1: File modified [vd-base]
Not owned by any package (19):
  /etc/vd/local.conf: File added
  /var/lib/dpkg/info/vd-base.list: File metadata changed (mtime)
  /var/lib/dpkg/info/vd-base.md5sums: File modified
  /var/lib/dpkg/info/vd-down.list: File metadata changed (mtime)
  /var/lib/dpkg/info/vd-down.md5sums: File modified
  /var/lib/dpkg/info/vd-epoch.list: File metadata changed (mtime)
  /var/lib/dpkg/info/vd-epoch.md5sums: File modified
  /var/lib/dpkg/info/vd-new.list: File added
  /var/lib/dpkg/info/vd-new.md5sums: File added
  /var/lib/dpkg/info/vd-old.list: File removed
  /var/lib/dpkg/info/vd-old.md5sums: File removed
  /var/lib/dpkg/info/vd-tilde.list: File metadata changed (mtime)
  /var/lib/dpkg/info/vd-tilde.md5sums: File modified
  /var/lib/dpkg/lock: File metadata changed (mtime)
  /var/lib/dpkg/lock-frontend: File metadata changed (mtime)
  /var/lib/dpkg/status: File modified
  /var/lib/dpkg/status-old: File modified
  /var/lib/dpkg/triggers/Lock: File metadata changed (mtime)
  /var/log/vd.log: File added
EOF
diff -u "$TEST_TMPDIR/explain.want" "$TEST_TMPDIR/explain.txt" || fail "--packages --explain differs"
pass "dpkg pair: each injected change under its cause"

# The same in JSON, from the cache: the package list, and causes, owners and
# mismatching sides per change.
diff_checked 1 0 "$TEST_TMPDIR/p.json" --json --packages "$DA" "$DB"
requires_jsonschema
"$PYTHON" - "$TEST_TMPDIR/p.json" "$SRCDIR/schemas/diff-result.schema.json" <<'PY' || fail "JSON packages and causes"
import json, sys, jsonschema
d = json.load(open(sys.argv[1]))
jsonschema.validate(d, json.load(open(sys.argv[2])))
pk = [(p["name"], p["arch"], p["change"], p["old_version"], p["new_version"]) for p in d["packages"]]
assert pk == [("vd-base", "amd64", "upgraded", "1.0-1", "1.1-1"), ("vd-down", "all", "downgraded", "2.0-1", "1.9-1"),
              ("vd-epoch", "all", "upgraded", "2.0-1", "1:1.0-1"), ("vd-new", "all", "added", None, "1.0-1"),
              ("vd-old", "all", "removed", "1.0-1", None), ("vd-tilde", "all", "upgraded", "1.0~rc1-1", "1.0-1")], pk
c = {x["path"]: x for x in d["changes"]}
def check(path, cause, owner, mismatch):
    x = c[path]
    assert (x["cause"], x["owner"], x["mismatch"]) == (cause, owner, mismatch), (path, x["cause"], x["owner"], x["mismatch"])
check("/usr/bin/vd-same", "tampered", ["vd-same"], ["b"])
check("/usr/lib/vd/same.dat", "tampered", ["vd-same"], ["b"])
check("/etc/vd/same.conf", "config", ["vd-same"], ["b"])
check("/usr/bin/vd-base", "package", ["vd-base"], [])
check("/usr/bin/vd-old", "package", ["vd-old"], [])
check("/usr/bin/vd-new", "package", ["vd-new"], [])
check("/var/log/vd.log", "unowned", [], [])
check("/etc/vd/local.conf", "unowned", [], [])
# The rewritten binary kept its size and mtime: only its digest tells.
same = c["/usr/bin/vd-same"]
assert same["old"]["size"] == same["new"]["size"] and same["old"]["mtime_ns"] == same["new"]["mtime_ns"]
s = d["summary"]
assert s["packages"] == {"added": 1, "removed": 1, "upgraded": 3, "downgraded": 1}, s["packages"]
assert s["causes"] == {"tampered": 2, "config": 1, "package": 7, "unowned": 19}, s["causes"]
assert d["a"]["packages"] == {"format": "dpkg", "count": 6, "error": None}, d["a"]["packages"]
assert d["b"]["packages"] == {"format": "dpkg", "count": 6, "error": None}, d["b"]["packages"]
PY
pass "dpkg pair: JSON packages, causes, owners, mismatches and summary (schema-valid)"

diff_checked 1 0 "$TEST_TMPDIR/cause.txt" --cause=tampered,config "$DA" "$DB"
cat >"$TEST_TMPDIR/cause.want" <<'EOF'
/etc/vd/same.conf: File modified
/usr/bin/vd-same: File modified
/usr/lib/vd/same.dat: File removed
EOF
diff -u "$TEST_TMPDIR/cause.want" "$TEST_TMPDIR/cause.txt" || fail "--cause=tampered,config"
diff_checked 1 0 "$TEST_TMPDIR/cause-sum.txt" --summary --cause tampered "$DA" "$DB"
assert_contains "$TEST_TMPDIR/cause-sum.txt" "0 added, 1 removed, 1 modified, 0 metadata"
assert_contains "$TEST_TMPDIR/cause-sum.txt" "causes: 2 tampered, 0 config, 0 package, 0 unowned"
pass "--cause keeps only those causes, and the summary counts only them"

diff_checked 1 0 "$TEST_TMPDIR/p.csv" --csv --packages --packages-csv="$TEST_TMPDIR/packages.csv" "$DA" "$DB"
cat >"$TEST_TMPDIR/packages.want" <<'EOF'
name,arch,change,old_version,new_version
vd-base,amd64,upgraded,1.0-1,1.1-1
vd-down,all,downgraded,2.0-1,1.9-1
vd-epoch,all,upgraded,2.0-1,1:1.0-1
vd-new,all,added,,1.0-1
vd-old,all,removed,1.0-1,
vd-tilde,all,upgraded,1.0~rc1-1,1.0-1
EOF
diff -u "$TEST_TMPDIR/packages.want" "$TEST_TMPDIR/packages.csv" || fail "--packages-csv"
assert_contains "$TEST_TMPDIR/p.csv" "scope,change,kind,path,tree,filesystem,size,fields,target,cause,owner"
grep -q '^entry,modified,file,/usr/bin/vd-same,/,[^,]*,[0-9]*,content,,tampered,vd-same$' "$TEST_TMPDIR/p.csv" ||
        fail "CSV: no tampered row for /usr/bin/vd-same"
diff_checked 1 0 "$TEST_TMPDIR/p.ndjson" --output=ndjson --packages "$DA" "$DB"
[ "$(grep -c '^{"package":' "$TEST_TMPDIR/p.ndjson")" = 6 ] || fail "ndjson: not six package records"
pass "CSV with cause and owner, --packages-csv, ndjson package records"

# ---- rpm: the same changes, vd-same with md5 digests ----

diff_checked 1 2 "$TEST_TMPDIR/r.json" --json --packages "$RA" "$RB"
"$PYTHON" - "$TEST_TMPDIR/r.json" <<'PY' || fail "rpm pair"
import json, sys
d = json.load(open(sys.argv[1]))
pk = [(p["name"], p["arch"], p["change"], p["old_version"], p["new_version"]) for p in d["packages"]]
assert pk == [("vd-base", "x86_64", "upgraded", "1.0-1", "1.1-1"), ("vd-down", "noarch", "downgraded", "2.0-1", "1.9-1"),
              ("vd-epoch", "noarch", "upgraded", "2.0-1", "1:1.0-1"), ("vd-new", "noarch", "added", None, "1.0-1"),
              ("vd-old", "noarch", "removed", "1.0-1", None), ("vd-tilde", "noarch", "upgraded", "1.0~rc1-1", "1.0-1")], pk
c = {x["path"]: x for x in d["changes"]}
want = {"/usr/bin/vd-same": "tampered", "/usr/lib/vd/same.dat": "tampered", "/etc/vd/same.conf": "config",
        "/usr/bin/vd-base": "package", "/usr/lib/vd/libvd.so.1": "package", "/usr/bin/vd-new": "package",
        "/usr/bin/vd-old": "package", "/var/log/vd.log": "unowned", "/etc/vd/local.conf": "unowned"}
got = {p: c[p]["cause"] for p in want}
assert got == want, got
assert c["/usr/bin/vd-same"]["mismatch"] == ["b"]
assert d["a"]["packages"]["format"] == "rpm" and d["a"]["packages"]["count"] == 6
PY
pass "rpm pair: the package diff and each cause (md5 digests measured in the appliance)"

# ---- a corrupt status file: a named error, the file diff intact ----

diff_checked 2 1 "$TEST_TMPDIR/bad.json" --json --packages "$DA" "$PKG/pkg-dpkg-corrupt.img"
assert_contains "$TEST_TMPDIR/err" "packages of image 2 not read: CorruptPackageDatabase: var/lib/dpkg/status"
"$PYTHON" - "$TEST_TMPDIR/bad.json" <<'PY' || fail "corrupt status file"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["b"]["packages"]["error"]["code"] == "CorruptPackageDatabase", d["b"]["packages"]
assert d["b"]["packages"]["count"] == 0 and d["packages"] == []
assert any(c["path"] == "/usr/bin/vd-same" for c in d["changes"]), "the file diff is missing"
assert all(c["cause"] is None for c in d["changes"])
PY
pass "corrupt status file: CorruptPackageDatabase for that side, exit 2, the file diff still there"

# ---- data disks: an empty package section, not an error ----

diff_checked 1 2 "$TEST_TMPDIR/data.json" --json --packages "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img"
"$PYTHON" - "$TEST_TMPDIR/data.json" <<'PY' || fail "data disks"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["packages"] == []
for s in "ab":
    assert d[s]["packages"] == {"format": "none", "count": 0, "error": None}, d[s]["packages"]
assert d["changes"] and all(c["cause"] == "unowned" for c in d["changes"])
PY
diff_checked 1 0 "$TEST_TMPDIR/data.txt" --packages "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img"
pass "data disks: no package database, an empty package section, exit 1 for the file changes"
