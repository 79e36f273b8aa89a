#!/bin/bash
# --output=virt-diff, the compatibility mode, against libguestfs virt-diff.
#
# 1. The scenario of upstream's diff/test-virt-diff.sh on our phony Fedora
#    guest (tests/fixtures-guestfish.sh: partitions, an LVM volume group
#    with three empty volumes, /etc/motd): /diff created, a line appended to
#    /etc/motd; upstream's exact output, the diff's hunks included, exit 0.
# 2. Upstream's own virt-diff on a pair with one change of each kind, with
#    --csv --all --checksum, compared row by row with ours: --all's fields,
#    the md5 default of --checksum and the CSV columns. What upstream gets
#    wrong (FACTS.md, "Upstream virt-diff defects") is named below and
#    evened out before the comparison; nothing else is.
# Four appliance launches of ours (two in parallel), two of upstream's.
source "$(dirname "$0")/lib.sh"
requires_root
requires guestfish
ensure_guestfish_fixtures

A=$FIXTURES/fedora.img
B=$FIXTURES/fedora-b.qcow2
C=$FIXTURES/fedora-c.qcow2
UPSTREAM=/usr/bin/virt-diff

# Upstream's virt-diff, in the background from the start: two appliances
# one after the other. libguestfs would not find out by itself that KVM
# is broken here; the software emulation works everywhere.
have_upstream=false
if [ -x "$UPSTREAM" ] && "$UPSTREAM" --version 2>/dev/null | grep -q '^virt-diff 1\.'; then
        have_upstream=true
        LIBGUESTFS_BACKEND_SETTINGS=force_tcg "$UPSTREAM" --csv --all --checksum --format=raw -a "$A" \
                --format=qcow2 -A "$C" >"$TEST_TMPDIR/upstream.csv" 2>"$TEST_TMPDIR/upstream.err" </dev/null &
        upstream_pid=$!
else
        note "no libguestfs virt-diff at $UPSTREAM: the comparison with it is skipped"
fi

# ---- options, no appliance ----
bad() { # EXIT-STATUS MESSAGE ARGS...
        local rc=$1 want=$2
        shift 2
        run_virt_diff "$TEST_TMPDIR/out" "$TEST_TMPDIR/err" "$@"
        assert_rc "$rc" "$TEST_TMPDIR/err"
        assert_lines "$TEST_TMPDIR/out" 0
        assert_contains "$TEST_TMPDIR/err" "$want"
}
# A bad command line is trouble too: upstream's 1 in the mode, wherever
# --output=virt-diff stands.
bad 1 "conflicting options -u and --csv (virt-diff's CSV has no diffs)" --output=virt-diff --csv -u "$A" "$B"
bad 1 "conflicting options --human-readable and --csv" --output=virt-diff --human-readable --csv "$A" "$B"
bad 1 "unknown option '--no-such-option'" --no-such-option --output virt-diff "$A" "$B"
bad 2 "conflicting options -u and --no-unified" -u --no-unified "$A" "$B"
bad 2 "--blocksize '1024': a sector size is 512 or 4096" --blocksize=1024 "$A" "$B"
# Trouble is upstream's 1 in the compatibility mode, our 2 otherwise.
bad 1 "$TEST_TMPDIR/none.img" --output=virt-diff "$TEST_TMPDIR/none.img" "$B"
bad 2 "$TEST_TMPDIR/none.img" "$TEST_TMPDIR/none.img" "$B"
pass "option conflicts of the compatibility mode; trouble is exit status 1 there, 2 otherwise"

# ---- upstream's test scenario ----
run_virt_diff "$TEST_TMPDIR/vd" "$TEST_TMPDIR/err" --output=virt-diff --format=raw -a "$A" --format=qcow2 -A "$B"
assert_rc 0 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 0
assert_file_is "$TEST_TMPDIR/vd" <<'EOF'
+ - 0644          0 /diff
= - 0644         37 /etc/motd
@@ -1 +1,2 @@
 Welcome to Fedora release 14 (Phony)
+Testing virt-diff
@@ End of diff @@
EOF
pass "upstream's test scenario: its exact output, hunks by default, exit 0 ($SECONDS_TAKEN s)"

# From the cache: without the diffs; our own mode's exit status; -c with
# image files is a warning, as upstream ignores it.
run_virt_diff "$TEST_TMPDIR/vd" "$TEST_TMPDIR/err" --output=virt-diff --no-unified -c test:///default "$A" "$B"
assert_rc 0 "$TEST_TMPDIR/err"
assert_file_is "$TEST_TMPDIR/vd" <<'EOF'
+ - 0644          0 /diff
= - 0644         37 /etc/motd
EOF
assert_file_is "$TEST_TMPDIR/err" <<<"virt-diff: warning: -c test:///default is ignored: it is for libvirt domains (-d, -D)"
run_virt_diff "$TEST_TMPDIR/vd" "$TEST_TMPDIR/err" "$A" "$B"
assert_rc 1 "$TEST_TMPDIR/err"
assert_file_is "$TEST_TMPDIR/vd" <<'EOF'
/diff: File added
/etc/motd: File modified
EOF
pass "--no-unified; -c URI with image files warns and carries on; outside the mode, exit 1 for differences"

# ---- ours next to upstream's, on the pair with one change of each kind ----
run_virt_diff "$TEST_TMPDIR/ours.csv" "$TEST_TMPDIR/err" --output=virt-diff --csv --all --checksum \
        --format=raw -a "$A" --format=qcow2 -A "$C"
assert_rc 0 "$TEST_TMPDIR/err"
assert_lines "$TEST_TMPDIR/err" 0
$have_upstream || skip "no libguestfs virt-diff to compare with"
note "waiting for upstream's virt-diff"
wait "$upstream_pid" || { cat "$TEST_TMPDIR/upstream.err" >&2; fail "upstream's virt-diff failed"; }
assert_no_qemu

"$PYTHON" - "$TEST_TMPDIR/upstream.csv" "$TEST_TMPDIR/ours.csv" <<'PY' || fail "ours and upstream's differ"
import csv, sys

up = list(csv.reader(open(sys.argv[1], newline="")))
ours = list(csv.reader(open(sys.argv[2], newline="")))
# Columns with --all --checksum: sign, type, mode, size, uid, gid, mtime,
# ctime, dev, ino, nlink, rdev, blocks, [checksum: regular files], path...
MTIME, CTIME, DEV, NLINK = 6, 7, 8, 10
noise = {}

def named(rule):
    noise[rule] = noise.get(rule, 0) + 1

def groups(rows):
    """Rows grouped by change: '+', '-' or '=' alone, or '-', '+', '#'."""
    out, i = [], 0
    while i < len(rows):
        if rows[i][0] == "-" and i + 2 < len(rows) and rows[i + 1][0] == "+" and rows[i + 2][0] == "#":
            out.append(rows[i:i + 3])
            i += 3
        else:
            out.append(rows[i:i + 1])
            i += 1
    return out

def path(g):
    return g[0][14 if g[0][1] == "-" else 13]

up_groups, our_groups = groups(up), groups(ours)
up_equals = {path(g) for g in up_groups if g[0][0] == "="}

def even_out(g, theirs):
    g = [list(r) for r in g]
    # Either side's noise: st_dev is the appliance kernel's number for the
    # partition, which depends on the order its disks were probed in (the
    # same /boot is 8:1 or 8:17 from one launch to the next).
    for r in g:
        if r[0] != "#":
            r[DEV] = "*"
    if g[-1][0] == "#" and "st_dev" in g[-1]:
        named("st_dev, the appliance's device numbering, " + ("upstream's" if theirs else "ours"))
        g[-1] = [t for t in g[-1] if t != "st_dev"]
        if len(g[-1]) == 2 and g[0][1:] == g[1][1:]:
            return []
    # Upstream's defect: a regular file whose change time moved (chmod,
    # chown, setxattr) is '=', content changed, whatever its checksum says.
    if theirs is False and len(g) == 3 and g[0][1] == g[1][1] == "-" and path(g) in up_equals \
            and g[0][13] == g[1][13]:
        named("upstream's '=' for a file whose ctime moved, its contents unchanged")
        return [["="] + g[0][1:]]
    # Upstream's defect: directory times and link counts it does not compare
    # are shown as zeros (1970-01-01 00:00:00, 0).
    for r in g:
        if r[0] != "#" and r[1] == "d":
            if theirs:
                named("upstream's zeroed directory times and link counts")
            r[MTIME] = r[CTIME] = r[NLINK] = "*"
    if g[-1][0] == "#":
        kind_change = g[0][1] != g[1][1]
        if theirs and kind_change:
            # A change of kind: upstream names every stat of the new kind
            # that differs; ours the kind and the size.
            named("upstream's stats of a new kind")
            g[-1] = g[-1][:2] + [t for t in g[-1][2:] if t in ("st_mode", "st_size")]
        if not theirs and "link" in g[-1]:
            # Ours names a symlink's new target; upstream compares no target.
            g[-1] = [t for t in g[-1] if t != "link"]
    return g

a = [r for g in up_groups for r in even_out(g, True)]
b = [r for g in our_groups for r in even_out(g, False)]
if a != b:
    import difflib
    sys.stdout.writelines(difflib.unified_diff([",".join(r) + "\n" for r in a], [",".join(r) + "\n" for r in b],
                                               "upstream", "ours"))
    sys.exit(1)
# The checksums compared above are md5's, upstream's default.
assert all(len(r[13]) == 32 for r in b if r[0] != "#" and r[1] == "-"), "not md5"
for rule, n in sorted(noise.items()):
    print(f"# evened out: {rule} ({n})")
print(f"# {len(b)} rows equal")
PY
pass "--csv --all --checksum: row by row the same as upstream's virt-diff, once its defects are evened out"
