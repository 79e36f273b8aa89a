#!/bin/bash
# Libvirt domains and snapshots, through libvirt's own test driver
# (test:///PATH/node.xml: a real read-only libvirt connection whose domains,
# run states and snapshots the XML below defines) on fixture images.
#
# Diffs: two domains; a snapshot against now; two snapshots; IMAGE@SNAP; an
# external snapshot; a running domain's disk (held by a paused qemu). The
# cache serves every side already seen, so the whole test costs nine
# launches (two of them for -u's file contents): a snapshot's key is its own and does not move when the live
# image is written. Every libvirt error has its name and one line, and no
# qemu-nbd outlives its job, whether it ends, is cancelled, loses its
# client or its daemon.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon busctl qemu-nbd qemu-img qemu-system-x86_64
requires_jsonschema
ensure_fixtures
start_bus

T=$TEST_TMPDIR
cp --sparse=always "$FIXTURES/snaps.qcow2" "$T/snaps.qcow2"
cp --sparse=always "$FIXTURES/kinds-a.img" "$T/ext-base.img"
qemu-img create -q -f qcow2 -b "$T/ext-base.img" -F raw "$T/ext-overlay.qcow2"
cp --sparse=always "$FIXTURES/kinds-a.qcow2" "$T/live.qcow2"
cp --sparse=always "$FIXTURES/kinds-a.img" "$T/name@with-at.img"
VM_B_UUID=6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0b0b

# ---- the libvirt "host" ----

disk() { # TYPE FORMAT SOURCE TARGET
        local src="file='$3'"
        [ "$1" = block ] && src="dev='$3'"
        echo "<disk type='$1' device='disk'><driver name='qemu' type='$2'/><source $src/><target dev='$4' bus='virtio'/></disk>"
}

# A domain; RUNSTATE 1 running, 5 shut off (the test driver's own namespace).
domain() { # NAME RUNSTATE DEVICES [SNAPSHOTS]
        cat <<-EOF
	<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
	  <name>$1</name>
	  $([ "$1" = vm-b ] && echo "<uuid>$VM_B_UUID</uuid>")
	  <memory>65536</memory>
	  <os><type>hvm</type></os>
	  <devices>$3</devices>
	  <test:runstate>$2</test:runstate>
	  ${4:-}
	</domain>
	EOF
}

snapshot() { # DOMAIN NAME TIME PARENT CURRENT(0|1) DISKS
        cat <<-EOF
	<test:domainsnapshot>
	  <name>$2</name>
	  <creationTime>$3</creationTime>
	  <state>shutoff</state>
	  $([ -n "$4" ] && echo "<parent><name>$4</name></parent>")
	  <memory snapshot='no'/>
	  <disks>$6</disks>
	  <active>$5</active>
	  <domain type='test'><name>$1</name><memory>65536</memory><os><type>hvm</type></os></domain>
	</test:domainsnapshot>
	EOF
}

{
        echo "<node>"
        domain vm-a 5 "$(disk file raw "$FIXTURES/kinds-a.img" vda)"
        domain vm-b 5 "$(disk file raw "$FIXTURES/kinds-b.img" vda)"
        # s1 holds kinds-a, s2 and the live image kinds-b (fixtures.sh).
        domain vm-snap 5 "$(disk file qcow2 "$T/snaps.qcow2" vda)
                <disk type='file' device='cdrom'><source file='$T/no-such.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>" \
                "$(snapshot vm-snap s1 1700000000 "" 0 "<disk name='vda' snapshot='internal'/>")
                 $(snapshot vm-snap s2 1700000100 s1 1 "<disk name='vda' snapshot='internal'/>")"
        # External: the overlay was made at snapshot time on ext-base.img,
        # which keeps the state the snapshot names.
        domain vm-ext 5 "$(disk file qcow2 "$T/ext-overlay.qcow2" vda)" \
                "$(snapshot vm-ext before 1700000200 "" 1 "<disk name='vda' snapshot='external'><driver type='qcow2'/><source file='$T/ext-overlay.qcow2'/></disk>")"
        domain vm-live 1 "$(disk file qcow2 "$T/live.qcow2" vda)"
        domain vm-net 5 "$(disk file raw "$FIXTURES/kinds-a.img" vda)
                <disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd' name='x'><host name='localhost' port='10809'/></source><target dev='vdb' bus='virtio'/></disk>"
        echo "</node>"
} >"$T/node.xml"
URI=test://$T/node.xml

json_get() { # FILE PYTHON-EXPR-ON-d
        "$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# The same changes in two results, else the first that differs on stderr.
# Device numbers inside the appliance (not compared by default) may differ.
same_changes() { # FILE1 FILE2
        "$PYTHON" - "$1" "$2" <<-'EOF'
	import json, sys
	a, b = (json.load(open(f))["changes"] for f in sys.argv[1:3])
	for c in a + b:
	    for side in (c["old"], c["new"]):
	        if side:
	            side.pop("dev", None)
	for x, y in zip(a + [None] * len(b), b + [None] * len(a)):
	    if json.dumps(x, sort_keys=True) != json.dumps(y, sort_keys=True):
	        print(f"# {sys.argv[1]}: {json.dumps(x, sort_keys=True)}", file=sys.stderr)
	        print(f"# {sys.argv[2]}: {json.dumps(y, sort_keys=True)}", file=sys.stderr)
	        sys.exit(1)
	EOF
}

# Runs a --json diff (virt-diff, or virt-diffctl diff with "ctl" first) and
# checks its exit status and how many appliances it launched.
diff_json() { # EXPECTED-RC EXPECTED-LAUNCHES OUT [ctl] ARGS...
        local rc=$1 want=$2 out=$3 before after
        shift 3
        before=$(launches)
        if [ "$1" = ctl ]; then
                shift
                note "virt-diffctl diff $*"
                set +e
                "$BUILDDIR/virt-diffctl" diff --json "$@" >"$out" 2>"$T/err" </dev/null
                RC=$?
                set -e
        else
                run_virt_diff "$out" "$T/err" --json "$@"
        fi
        assert_rc "$rc" "$T/err"
        after=$(launches)
        [ $((after - before)) = "$want" ] ||
                fail "$*: $((after - before)) appliance launches, expected $want"
}

qemu_nbd_pids() {
        marked_pids '^qemu-nbd$'
}

assert_no_qemu_nbd() { # WHEN
        local i pids
        for ((i = 0; i < 50; i++)); do
                pids=$(qemu_nbd_pids)
                [ -z "$pids" ] && { pass "no qemu-nbd left $1"; return 0; }
                sleep 0.2
        done
        ps -o pid,ppid,args -p "$(echo $pids | tr ' ' ,)" >&2 || true
        fail "qemu-nbd still running $1: $pids"
}

kinds_expected() { # FILE [JSON-LINES...]
        local f=$1
        shift
        {
                kinds_expectation /dev/sda
                echo "fs /dev/sda unchanged device"
                printf '%s\n' "$@"
        } >"$f"
}

daemon_answers || fail "the daemon does not answer"

# ---- two domains ----

diff_json 1 2 "$T/domains.json" -c "$URI" -d vm-a -D "$VM_B_UUID"
kinds_expected "$T/expected" "json a.domain.name vm-a" "json b.domain.name $VM_B_UUID" "json a.domain.uri $URI" \
        "json a.domain.running false" "json a.crash_consistent false" "json a.images.0.path $FIXTURES/kinds-a.img" \
        "json a.images.0.format raw"
check_result "$T/domains.json" "$T/expected"
pass "-d vm-a -D UUID: the domains' disks, every kinds change, two launches"

# ---- a snapshot against now ----

diff_json 1 2 "$T/s1-now.json" ctl -c "$URI" --domain vm-snap --snapshot s1
kinds_expected "$T/expected" "json a.domain.snapshot s1" "json a.images.0.snapshot s1" "json b.domain.snapshot null" \
        "json a.images.0.path $T/snaps.qcow2" "json b.images.0.path $T/snaps.qcow2" "json a.images.0.format qcow2"
check_result "$T/s1-now.json" "$T/expected"
same_changes "$T/domains.json" "$T/s1-now.json" ||
        fail "snapshot s1 (kinds-a) against now (kinds-b) is not the kinds diff"
assert_no_qemu_nbd "after a diff read a snapshot"
pass "--domain vm-snap --snapshot s1: the snapshot (qemu-nbd) against the live image, the cdrom left out"

long=$T/long.txt
"$BUILDDIR/virt-diffctl" diff -l -c "$URI" --domain vm-snap --snapshot s1 >"$long" 2>"$T/err" || [ $? = 1 ] ||
        fail "-l: $(cat "$T/err")"
assert_contains "$long" "# A: $T/snaps.qcow2@s1 (cached; domain vm-snap at snapshot s1)"
assert_contains "$long" "# B: $T/snaps.qcow2 (cached; domain vm-snap)"
pass "-l names the domain and the snapshot of each side"

# ---- the job's qemu-nbd ends with it: cancel, client gone, daemon gone ----

# Starts a diff that needs snapshot s2 (not cached yet) in the background
# and waits for its qemu-nbd.
start_s2_diff() {
        "$VIRT_DIFF" -q -c "$URI" -d vm-snap --snapshot s2 -A "$FIXTURES/kinds-b.img" >/dev/null 2>"$T/bg.err" &
        BG=$!
        local i
        for ((i = 0; i < 300; i++)); do
                [ -n "$(qemu_nbd_pids)" ] && return 0
                kill -0 "$BG" 2>/dev/null || fail "the diff ended before its qemu-nbd was seen: $(cat "$T/bg.err")"
                sleep 0.1
        done
        fail "no qemu-nbd for snapshot s2 within 30 s"
}

start_s2_diff
kill -INT "$BG"
set +e
wait "$BG"
rc=$?
set -e
[ "$rc" = 2 ] || fail "a cancelled diff: exit status $rc"
assert_contains "$T/bg.err" "cancelled"
assert_no_qemu_nbd "after Cancel"

start_s2_diff
kill -KILL "$BG"
wait "$BG" 2>/dev/null || true
assert_no_qemu_nbd "after its client was killed"

start_s2_diff
restart_daemon
wait "$BG" 2>/dev/null || true
assert_no_qemu_nbd "after its daemon stopped"
assert_no_qemu
daemon_answers || fail "no daemon after the restart"

# ---- two snapshots; IMAGE@SNAP; keys ----

diff_json 1 1 "$T/s1-s2.json" ctl -c "$URI" --domain vm-snap --snapshot s1 --snapshot s2
kinds_expected "$T/expected" "json a.cached true" "json b.cached false" "json b.images.0.snapshot s2"
check_result "$T/s1-s2.json" "$T/expected"
[ "$(json_get "$T/s1-s2.json" 'd["a"]["key"] != d["b"]["key"]')" = True ] || fail "s1 and s2 share a key"
[ "$(json_get "$T/s1-s2.json" 'd["a"]["key"]')" = "$(json_get "$T/s1-now.json" 'd["a"]["key"]')" ] ||
        fail "s1 has another key in another daemon"
pass "--snapshot s1 --snapshot s2: s1 from the cache, s2 scanned, two keys"

diff_json 1 0 "$T/at.json" "$T/snaps.qcow2@s1" "$T/snaps.qcow2@s2"
[ "$(json_get "$T/at.json" 'd["a"]["key"], d["b"]["key"]')" = \
        "$(json_get "$T/s1-s2.json" 'd["a"]["key"], d["b"]["key"]')" ] || fail "IMAGE@SNAP keys differ from the domain's"
[ "$(json_get "$T/at.json" '"domain" in d["a"], d["a"]["images"][0]["snapshot"]')" = "False s1" ] ||
        fail "IMAGE@s1 is not snapshot s1 of a plain image"
pass "IMAGE@s1 IMAGE@s2: the same snapshot keys as through the domain, no launch"

# Content diffs read files after the scan: both snapshots come from the
# cache, so the content stage serves them again (two launches).
before=$(launches)
run_virt_diff "$T/u.txt" "$T/err" -u "$T/snaps.qcow2@s1" "$T/snaps.qcow2@s2"
assert_rc 1 "$T/err"
[ $(($(launches) - before)) = 2 ] || fail "-u of two cached snapshots: $(($(launches) - before)) launches, expected 2"
assert_contains "$T/u.txt" "-short"
assert_contains "$T/u.txt" "+a good deal longer"
assert_no_qemu_nbd "after the content stage"
pass "-u IMAGE@s1 IMAGE@s2: file contents read from both snapshots"

diff_json 0 0 "$T/at-file.json" "$T/name@with-at.img" "$FIXTURES/kinds-a.img"
[ "$(json_get "$T/at-file.json" 'd["a"]["images"][0]["path"], "snapshot" in d["a"]["images"][0]')" = \
        "$T/name@with-at.img False" ] || fail "a file named with '@' was not taken as the file"
pass "a file whose name holds '@' is the file"

# Writing the live image (kinds-a's content into the active layer) moves
# its key; snapshot s1's key and cached manifest stay.
qemu-img convert -n -f raw -O qcow2 "$FIXTURES/kinds-a.img" "$T/snaps.qcow2"
diff_json 0 1 "$T/s1-now2.json" ctl -c "$URI" --domain vm-snap --snapshot s1
[ "$(json_get "$T/s1-now2.json" 'd["a"]["cached"], d["b"]["cached"]')" = "True False" ] ||
        fail "after writing the live image: expected s1 cached and the live image scanned"
[ "$(json_get "$T/s1-now2.json" 'd["a"]["key"]')" = "$(json_get "$T/s1-now.json" 'd["a"]["key"]')" ] ||
        fail "writing the live image changed snapshot s1's key"
[ "$(json_get "$T/s1-now2.json" 'd["b"]["key"]')" != "$(json_get "$T/s1-now.json" 'd["b"]["key"]')" ] ||
        fail "writing the live image left its key as it was"
diff_json 1 0 "$T/s1-s2b.json" "$T/snaps.qcow2@s1" "$T/snaps.qcow2@s2"
pass "live image written: s1 and s2 still from the cache (no launch), the live image scanned again and now equal to s1"

# ---- an external snapshot ----

diff_json 1 0 "$T/ext.json" -c "$URI" -d vm-ext --snapshot before -A "$FIXTURES/kinds-b.img"
kinds_expected "$T/expected" "json a.images.0.path $T/ext-base.img" "json a.domain.snapshot before" \
        "json a.cached true" "json b.cached true"
check_result "$T/ext.json" "$T/expected"
pass "external snapshot: the file its overlay was created on (kinds-a: cached, no launch)"

# ---- a running domain ----

qemu-system-x86_64 -accel tcg -m 64 -nodefaults -display none -S \
        -drive file="$T/live.qcow2",format=qcow2,if=virtio </dev/null >/dev/null 2>&1 &
vm=$!
cleanup_fn kill -KILL "$vm"
wait_for_write_lock "$T/live.qcow2"

diff_json 0 1 "$T/live.json" -c "$URI" -d vm-live -D vm-a
{
        echo "fs /dev/sda unchanged device"
        echo "json a.crash_consistent true"
        echo "json a.domain.running true"
        echo "json b.crash_consistent false"
} >"$T/expected"
check_result "$T/live.json" "$T/expected"
"$VIRT_DIFF" -l -c "$URI" -d vm-live -D vm-a >"$long" 2>"$T/err" || fail "-l of the running domain: $(cat "$T/err")"
assert_contains "$long" "# A: $T/live.qcow2 (cached; domain vm-live; running, crash-consistent only)"
cmp -s "$FIXTURES/kinds-a.qcow2" "$T/live.qcow2" || fail "reading the running domain's disk changed it"
pass "a running domain's locked disk is read (crash-consistent, said in JSON and -l), never written"

run_virt_diff "$T/out" "$T/err" "$T/live.qcow2" "$FIXTURES/kinds-a.img"
assert_rc 2 "$T/err"
assert_contains "$T/err" "image is in use by a running virtual machine"
pass "the same locked image given as a path is still refused"
kill -KILL "$vm"
wait "$vm" 2>/dev/null || true

# ---- snapshots listed ----

"$BUILDDIR/virt-diffctl" snapshots -c "$URI" vm-snap >"$T/list" 2>"$T/err" || fail "snapshots: $(cat "$T/err")"
assert_lines "$T/list" 3
grep -qE '^s1 +2023-11-1[45] [0-9:]+ +shutoff +internal +- *$' "$T/list" || fail "s1 is not listed as expected: $(cat "$T/list")"
grep -qE '^s2 +2023-11-1[45] [0-9:]+ +shutoff +internal +s1 +\*$' "$T/list" || fail "s2 is not listed as expected: $(cat "$T/list")"
"$BUILDDIR/virt-diffctl" snapshots -c "$URI" vm-ext >"$T/list" 2>"$T/err" || fail "snapshots: $(cat "$T/err")"
grep -qE '^before .* external +- +\*$' "$T/list" || fail "the external snapshot is not listed as such: $(cat "$T/list")"
pass "virt-diffctl snapshots: name, time, state, internal/external, parent, current"

# ---- errors: one line, exit 2, a named error on the bus ----

expect_trouble() { # DESCRIPTION MESSAGE-PART -- virt-diff ARGS...
        local what=$1 part=$2
        shift 3
        run_virt_diff "$T/out" "$T/err" "$@"
        assert_rc 2 "$T/err"
        assert_lines "$T/err" 1
        assert_lines "$T/out" 0
        assert_contains "$T/err" "$part"
        pass "$what: $(cat "$T/err")"
}

expect_bus_error() { # ERROR-NAME SIDE-A-WORDS...
        local name=$1 got
        shift
        got=$(busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
                Compare 'aa{sv}aa{sv}a{sv}' 1 "$@" 1 1 path s "$FIXTURES/kinds-b.img" 0)
        [[ $got == org.virtdiff.VirtDiff1.Error.$name:* ]] || fail "expected $name, got: $got"
        pass "on the bus: $got"
}

before=$(launches)
expect_trouble "unknown domain" "no libvirt domain named 'no-such-vm' at $URI" -- -c "$URI" -d no-such-vm -D vm-b
expect_bus_error UnknownDomain 2 domain s no-such-vm uri s "$URI"
expect_trouble "unknown snapshot" "domain 'vm-snap' has no snapshot named 'no-such'" -- \
        -c "$URI" -d vm-snap --snapshot no-such
expect_bus_error UnknownSnapshot 3 domain s vm-snap uri s "$URI" snapshot s no-such
expect_trouble "libvirt unreachable" "cannot connect to libvirt at test://$T/no-such.xml" -- \
        -c "test://$T/no-such.xml" -d vm-a -D vm-b
expect_bus_error LibvirtUnreachable 2 domain s vm-a uri s "test://$T/no-such.xml"
# A private daemon's stderr is the client's: still the one line.
expect_trouble "libvirt unreachable, private daemon" "cannot connect to libvirt at test://$T/no-such.xml" -- \
        --private -c "test://$T/no-such.xml" -d vm-a -D vm-b
expect_trouble "a network disk" "domain 'vm-net': disk vdb is a network disk; only file and block disks" -- \
        -c "$URI" -d vm-net -D vm-b
expect_bus_error UnsupportedDisk 2 domain s vm-net uri s "$URI"
expect_trouble "IMAGE@SNAP without that snapshot" "$T/snaps.qcow2: no snapshot named 'no-such' in this image" -- \
        "$T/snaps.qcow2@no-such" "$FIXTURES/kinds-b.img"
expect_bus_error UnknownSnapshot 2 path s "$T/snaps.qcow2" snapshot s no-such
expect_bus_error InvalidArgs 2 path s "$T/snaps.qcow2" domain s vm-a
expect_bus_error InvalidArgs 2 path s "$T/snaps.qcow2" uri s "$URI"
expect_bus_error InvalidArgs 1 vm s vm-a
# -c with image files only is a warning, as upstream has it (test-compat).
expect_trouble "--snapshot without a domain" "--snapshot needs the first guest to be one libvirt domain" -- \
        --snapshot s1 "$FIXTURES/kinds-a.img" "$FIXTURES/kinds-b.img"
[ "$(launches)" = "$before" ] || fail "an error case launched an appliance"

set +e
"$BUILDDIR/virt-diffctl" snapshots -c "$URI" no-such-vm >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "snapshots of an unknown domain: exit status $rc"
assert_lines "$T/err" 1
assert_contains "$T/err" "virt-diffctl snapshots: no libvirt domain named 'no-such-vm'"
pass "snapshots of an unknown domain: $(cat "$T/err")"

assert_no_qemu_nbd "at the end"
assert_no_qemu
