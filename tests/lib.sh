# Shared by the integration tests (tests/test-*.sh): source it first.
#
# Each test gets a private temporary directory ($TEST_TMPDIR, also TMPDIR,
# so libguestfs puts its overlays there and every qemu it starts names it
# on its command line), cleanup handlers run on exit whatever happens, an
# optional private session bus (start_bus) that D-Bus-activates the daemon
# of the build tree, and the shared fixtures (ensure_fixtures).
#
# Exit status: 0 pass, 1 fail, 77 skip (meson's convention).
set -euo pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SRCDIR:=$(dirname "$LIB_DIR")}"
: "${BUILDDIR:=$SRCDIR/build}"
export SRCDIR BUILDDIR

# pyenv's python3 lacks jsonschema; Debian's has it (python3-jsonschema).
PYTHON=/usr/bin/python3
FIXTURES=$BUILDDIR/fixtures
VIRT_DIFF=$BUILDDIR/virt-diff
export VIRT_DIFFD=${VIRT_DIFFD:-$BUILDDIR/virt-diffd}
TEST_NAME=$(basename "$0" .sh)
# --no-direct: these tests are about appliances (launches, the pool, the
# hang watch); test-engine.sh and test-cross-check.sh cover the direct
# engine, and a test that wants it sets DAEMON_ARGS without it.
DAEMON_ARGS=${DAEMON_ARGS---pool-size=0 --no-direct}

export LC_ALL=C.UTF-8
export LIBGUESTFS_BACKEND=direct
# The daemon must find out by itself that KVM is broken here.
unset LIBGUESTFS_BACKEND_SETTINGS
# The appliance is built once and shared, not rebuilt in every TMPDIR.
export LIBGUESTFS_CACHEDIR=${LIBGUESTFS_CACHEDIR:-/var/tmp}
unset DBUS_SESSION_BUS_ADDRESS DBUS_STARTER_ADDRESS DBUS_STARTER_BUS_TYPE

TEST_TMPDIR=$(mktemp -d "/tmp/vdt-$TEST_NAME.XXXXXX")
export TMPDIR=$TEST_TMPDIR
# The daemon remembers its KVM probe (and may cache manifests) under
# XDG_CACHE_HOME: a fresh one, so each test's daemon probes and scans for
# real instead of trusting what an earlier run left.
export XDG_CACHE_HOME=$TEST_TMPDIR/cache
# Inherited by everything this test starts (bus, daemon, qemu): how the
# cleanup finds them, and nothing else's.
export VIRT_DIFF_TEST_TMPDIR=$TEST_TMPDIR

# ------------------------------------------------------------ reporting ----

note() { echo "# $*"; }
pass() { echo "ok - $*"; }

fail() {
        echo "FAIL: $TEST_NAME: $*" >&2
        exit 1
}

skip() {
        echo "SKIP: $TEST_NAME: $*"
        exit 77
}

requires() { # PROG...
        local p
        for p in "$@"; do
                command -v "$p" >/dev/null 2>&1 || skip "$p is not installed"
        done
}

requires_root() {
        [ "$(id -u)" = 0 ] || skip "needs root (the fixtures hold device nodes and files of other owners)"
}

# --------------------------------------------------------------- cleanup ----

_CLEANUPS=()

# Runs "$@" at exit, the last registered first.
cleanup_fn() {
        local q
        printf -v q '%q ' "$@"
        _CLEANUPS+=("$q")
}

# Processes of this test by command name (a regex on /proc/PID/comm): those
# whose environment carries this test's marker.
marked_pids() { # COMM-REGEX
        local p pid comm
        for p in /proc/[0-9]*; do
                pid=${p#/proc/}
                [ "$pid" != $$ ] && [ "$pid" != "$BASHPID" ] || continue
                comm=$(cat "$p/comm" 2>/dev/null) || continue
                [[ $comm =~ $1 ]] || continue
                if tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qxF "VIRT_DIFF_TEST_TMPDIR=$TEST_TMPDIR"; then
                        echo "$pid"
                fi
        done
}

# qemu processes of this test: their command line names this test's
# TMPDIR (libguestfs overlays live there), or their environment carries
# the marker (the daemon's KVM probe too).
test_qemu_pids() {
        local pid
        {
                for pid in $(pgrep -f qemu-system || true); do
                        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$TEST_TMPDIR"; then
                                echo "$pid"
                        fi
                done
                marked_pids '^qemu'
        } | sort -u
}

# Fails when qemu of this test is still running after a grace period.
assert_no_qemu() { # [GRACE-SECONDS]
        local grace=${1:-5} i pids
        for ((i = 0; i <= grace * 5; i++)); do
                pids=$(test_qemu_pids)
                [ -n "$pids" ] || return 0
                sleep 0.2
        done
        ps -o pid,ppid,etime,args -p "$(echo $pids | tr ' ' ,)" >&2 || true
        fail "qemu still running: $(echo $pids)"
}

# Sends SIGTERM, waits up to TIMEOUT seconds, then SIGKILL.
terminate_pids() { # TIMEOUT PID...
        local timeout=$1 i
        shift
        [ $# -gt 0 ] || return 0
        kill -TERM "$@" 2>/dev/null || true
        for ((i = 0; i < timeout * 5; i++)); do
                kill -0 "$@" 2>/dev/null || return 0
                sleep 0.2
        done
        echo "# still running after ${timeout}s, killing: $*" >&2
        kill -KILL "$@" 2>/dev/null || true
}

_on_exit() {
        local rc=$? i pids
        set +eu
        for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do
                eval "${_CLEANUPS[i]}"
        done
        # Clients left in the background, then daemons: stopping one cancels
        # its jobs and takes its qemu down.
        terminate_pids 10 $(marked_pids '^virt-diff(ctl)?$')
        terminate_pids 60 $(marked_pids '^virt-diffd$')
        if [ -n "${BUS_PID:-}" ]; then
                terminate_pids 10 "$BUS_PID"
        fi
        terminate_pids 10 $(marked_pids '^dbus-daemon$')
        pids=$(test_qemu_pids)
        if [ -n "$pids" ]; then
                echo "FAIL: $TEST_NAME: qemu outlived the test: $(echo $pids)" >&2
                ps -o pid,ppid,etime,args -p "$(echo $pids | tr ' ' ,)" >&2
                kill -KILL $pids 2>/dev/null
                [ "$rc" != 0 ] || rc=1
        fi
        if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -s "$TEST_TMPDIR/bus.log" ]; then
                echo "# daemon and bus log ($TEST_TMPDIR/bus.log), last lines:" >&2
                tail -n 40 "$TEST_TMPDIR/bus.log" | sed 's/^/#   /' >&2
        fi
        if [ "$rc" = 0 ] || [ "$rc" = 77 ] || [ -z "${KEEP_TMP:-}" ]; then
                rm -rf "$TEST_TMPDIR"
        else
                echo "# kept $TEST_TMPDIR" >&2
        fi
        exit "$rc"
}
trap _on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------- bus ----

# A private session bus whose service directory activates the daemon of the
# build tree (with $DAEMON_ARGS; by default --pool-size=0 --no-direct, so that no warm
# appliance outlives a job and assert_no_qemu holds). The daemon's and the bus's stderr go to $TEST_TMPDIR/bus.log.
start_bus() {
        requires dbus-daemon
        local dir=$TEST_TMPDIR/bus
        mkdir -p "$dir/services"
        cat >"$dir/services/org.virtdiff.VirtDiff1.service" <<-EOF
	[D-BUS Service]
	Name=org.virtdiff.VirtDiff1
	Exec=$BUILDDIR/virt-diffd --session --idle-timeout=30 ${DAEMON_ARGS-}
	EOF
        cat >"$dir/session.conf" <<-EOF
	<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <type>session</type>
	  <keep_umask/>
	  <listen>unix:path=$dir/socket</listen>
	  <servicedir>$dir/services</servicedir>
	  <policy context="default">
	    <allow send_destination="*" eavesdrop="true"/>
	    <allow eavesdrop="true"/>
	    <allow own="*"/>
	  </policy>
	</busconfig>
	EOF
        # Known before the bus starts, so the bus (and what it activates)
        # inherits it too.
        export DBUS_SESSION_BUS_ADDRESS=unix:path=$dir/socket
        # DBUS_DEBUG_OUTPUT keeps the forked bus's stderr, which activated
        # services inherit: the daemon's log lands in bus.log.
        DBUS_DEBUG_OUTPUT=1 dbus-daemon --config-file="$dir/session.conf" --fork \
                --print-address=3 --print-pid=4 3>"$dir/address" 4>"$dir/pid" 2>>"$TEST_TMPDIR/bus.log" ||
                fail "dbus-daemon did not start: $(cat "$TEST_TMPDIR/bus.log")"
        BUS_PID=$(head -n1 "$dir/pid")
        [ -S "$dir/socket" ] || fail "no bus socket at $dir/socket"
        note "session bus $DBUS_SESSION_BUS_ADDRESS (pid $BUS_PID)"
}

# The pid owning the daemon's bus name, or nothing.
daemon_pid() {
        dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus.GetConnectionUnixProcessID string:org.virtdiff.VirtDiff1 2>/dev/null |
                awk '{print $2}'
}

daemon_log() {
        cat "$TEST_TMPDIR/bus.log" 2>/dev/null || true
}

# ------------------------------------------------------------ known bugs ----

# Bugs of the C code that break an assertion, by name. Such an assertion
# still runs, as an expected failure: while the bug shows it prints XFAIL
# and works around it; once the bug is gone the test FAILS, asking for the
# name to be deleted here, which turns it into an ordinary assertion again.
#
# owner-gone-spin: daemon/bus/job-bus.c on_owner_gone() returns 0; sd-bus then
#   puts the job's emptied sd_bus_track back on its queue and calls the
#   handler again, forever: once the client that submitted a job has left,
#   the daemon spins at 100% CPU in sd_event_run() and never reads the bus
#   again (callers time out) until its idle timer ends it.
#
# os-tree-prefix: client/output/output-text.c output_change_label() prefixes every path with
#   "TREE:" once changes come from more than one tree, also for the
#   inspected OS's tree "/": "/:/boot/grub.cfg: File modified" where the
#   guest path "/boot/grub.cfg" is meant (PRODUCT.md, Paths).
#
# truncated-as-corrupt: daemon/source/disk.c check_qcow2() finds a
#   truncated qcow2 by "image-end-offset > file size", but qemu-img check
#   (7.2) reports the end of a cut file as its size and counts the clusters
#   past it as corruptions: a truncated copy is refused as CorruptImage
#   ("corrupt qcow2 image: 7 corruptions"), never as TruncatedImage.
#
# backing-not-named: daemon/source/disk.c classify_qemu_img_error() spots a
#   missing backing file by the word "backing" in qemu-img's message, which
#   qemu-img 7.2 does not print ("Could not open 'base.qcow2': ... No such
#   file or directory"): the overlay is refused as InvalidImage, "not a
#   valid qcow2 image", instead of MissingBackingFile.
#
# qcow2-end-offset: the same check_qcow2() refuses any qcow2 that
#   "qemu-img create" just made (overlay or not) as TruncatedImage: such a
#   file ends inside its last cluster (196616 bytes) while qemu-img check
#   rounds image-end-offset up to the cluster (262144).
KNOWN_BUGS=()

known_bug() { # NAME
        local b
        for b in "${KNOWN_BUGS[@]}"; do
                [ "$b" = "$1" ] && return 0
        done
        return 1
}

# An assertion that known bug NAME breaks: CHECK... is the command that
# holds when the bug is fixed; WORKAROUND is eval'ed after an XFAIL.
xfail_check() { # NAME DESCRIPTION WORKAROUND CHECK...
        local name=$1 what=$2 workaround=$3
        shift 3
        if "$@"; then
                if known_bug "$name"; then
                        fail "known bug '$name' no longer shows ($what holds): delete it from KNOWN_BUGS in tests/lib.sh"
                fi
                pass "$what"
        else
                known_bug "$name" || fail "$what: no"
                echo "XFAIL (known bug '$name'): $what: no"
                eval "$workaround"
        fi
}

# Waits until a paused qemu holds FILE's "write" lock byte (offset 101), as
# a running VM does; asks without taking it.
wait_for_write_lock() { # FILE
        local i
        for ((i = 0; i < 100; i++)); do
                _write_lock_held "$1" && return 0
                sleep 0.1
        done
        fail "no qemu holds the write lock of $1"
}

_write_lock_held() { # FILE
        "$PYTHON" - "$1" <<-'EOF'
	import fcntl, os, struct, sys
	fd = os.open(sys.argv[1], os.O_RDONLY)
	got = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 101, 1, 0))
	sys.exit(0 if struct.unpack("hhqqi", got[:struct.calcsize("hhqqi")])[0] != fcntl.F_UNLCK else 1)
	EOF
}

# The daemon on the test bus answers a call within 5 s.
daemon_answers() {
        timeout 10 dbus-send --session --print-reply --reply-timeout=5000 --dest=org.virtdiff.VirtDiff1 \
                /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager.ListJobs >/dev/null 2>&1
}

# Manager.Compare through busctl, one disk (path) a side, options as
# busctl words ("0" for none, or e.g. "1 detached b true"). Prints the job
# path; on failure says why on stderr and returns 1.
bus_compare() { # PATH-A PATH-B [OPTIONS...]
        local a=$1 b=$2 out
        shift 2
        out=$(busctl --user call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
                Compare 'aa{sv}aa{sv}a{sv}' 1 1 path s "$a" 1 1 path s "$b" "${@:-0}" 2>&1) &&
                [[ $out =~ ^o\ \"(/org/virtdiff/VirtDiff1/job/[0-9]+)\"$ ]] ||
                { echo "# Compare $a $b: $out" >&2; return 1; }
        echo "${BASH_REMATCH[1]}"
}

# A busctl call that must fail: prints "ERROR-NAME: MESSAGE". busctl shows
# only the message; its debug log has the error's name.
busctl_error() { # busctl ARGS... (on the session bus, or on $BUSCTL_BUS: --system)
        local out
        if out=$(SYSTEMD_LOG_LEVEL=debug busctl "${BUSCTL_BUS:---user}" "$@" 2>&1); then
                fail "busctl $*: succeeded, expected an error"
        fi
        out=$(grep -o 'type=error .*error-name=[^ ]* error-message=.*' <<<"$out" | tail -n1) ||
                fail "busctl $*: no error reply in its debug log"
        [[ $out =~ error-name=([^ ]+)\ error-message=(.*)$ ]] || fail "cannot parse: $out"
        echo "${BASH_REMATCH[1]}: ${BASH_REMATCH[2]}"
}

# Appliance launches the daemon on the test bus has attempted.
launches() {
        busctl --user get-property org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
                org.virtdiff.VirtDiff1.Manager AppliancesLaunched | awk '{print $2}'
}

# Stops the activated daemon; the next call activates a fresh one.
restart_daemon() {
        note "stopping the daemon; the next call activates a new one"
        terminate_pids 60 $(marked_pids '^virt-diffd$')
}

# After a client that submitted a job has left, the daemon still serves
# others (the bus daemon is shared by every user of the session).
check_daemon_serves_after_client_left() {
        sleep 0.5
        xfail_check owner-gone-spin "the daemon answers once the client of a finished job has left" \
                restart_daemon daemon_answers
}

# -------------------------------------------------------------- fixtures ----

# Builds the fixtures once into $BUILDDIR/fixtures, under a lock so that
# tests started in parallel wait for one build; rebuilt when fixtures.sh
# changes (the stamp holds its hash).
ensure_fixtures() {
        requires_root
        requires mke2fs sfdisk qemu-img flock mkfifo mknod debugfs mkfs.xfs setfacl setfattr
        _ensure_built fixtures.sh .stamp
}

# The fixtures that need appliances to build (LVM, XFS, btrfs, NTFS, vfat:
# tests/fixtures-guestfish.sh, three launches), the same way, with a stamp
# of their own: one of the builds changing does not rebuild the other.
ensure_guestfish_fixtures() {
        requires guestfish qemu-img flock
        _ensure_built fixtures-guestfish.sh .stamp-guestfish
}

# Two disks with an encrypted partition (tests/fixtures-luks.sh), with no
# appliance.
ensure_luks_fixtures() {
        requires_root
        requires cryptsetup mke2fs sfdisk flock
        _ensure_built fixtures-luks.sh .stamp-luks
}

_ensure_built() { # SCRIPT STAMP
        local want have log=$TEST_TMPDIR/${1%.sh}.log
        want=$(sha256sum <"$SRCDIR/tests/$1" | cut -d' ' -f1)
        mkdir -p "$FIXTURES"
        exec 8>"$FIXTURES/.lock"
        flock 8
        have=$(cat "$FIXTURES/$2" 2>/dev/null || true)
        if [ "$have" != "$want" ]; then
                note "building the fixtures of $1 in $FIXTURES"
                rm -f "$FIXTURES/$2"
                bash "$SRCDIR/tests/$1" "$FIXTURES" >"$log" 2>&1 ||
                        { cat "$log" >&2; fail "cannot build the fixtures of $1"; }
                echo "$want" >"$FIXTURES/$2"
        fi
        flock -u 8
        exec 8>&-
}

# The OS pair's outputs against tests/golden/os.NAME (test-output.sh from
# the cache, test-engine.sh through the direct engine); sed expressions in
# GOLDEN_SED (an array) edit each output first.
GOLDEN_SED=()
os_golden() { # NAME ARGS...
        local name=$1
        shift
        run_virt_diff "$TEST_TMPDIR/$name" "$TEST_TMPDIR/err" "$@" "$FIXTURES/os-a.img" "$FIXTURES/os-b.img"
        # --output=virt-diff: upstream's 0 for a comparison that ran.
        assert_rc "$([[ $* == *--output=virt-diff* ]] && echo 0 || echo 1)" "$TEST_TMPDIR/err"
        assert_lines "$TEST_TMPDIR/err" 0
        sed -i -e "s|$FIXTURES/|FIXTURES/|g" "${GOLDEN_SED[@]}" "$TEST_TMPDIR/$name"
        # UPDATE_GOLDEN=1: take this run's output as the new golden file.
        [ -z "${UPDATE_GOLDEN:-}" ] || cp "$TEST_TMPDIR/$name" "$SRCDIR/tests/golden/os.$name"
        if ! cmp -s "$SRCDIR/tests/golden/os.$name" "$TEST_TMPDIR/$name"; then
                diff -u "$SRCDIR/tests/golden/os.$name" "$TEST_TMPDIR/$name" >&2 || true
                fail "virt-diff $* differs from tests/golden/os.$name"
        fi
}

os_goldens() {
        os_golden text
        os_golden unified -u
        os_golden long -l
        os_golden long-extras -l --uids --checksum --human-readable
        os_golden mount -m
        # The compatibility mode shows the diffs by default, and none with
        # --no-unified or in its CSV.
        os_golden virt-diff --output=virt-diff
        os_golden virt-diff-u --output=virt-diff -u --uids
        os_golden virt-diff-checksum --output=virt-diff --no-unified --checksum=sha256 --xattrs --human-readable
        os_golden virt-diff-csv --output=virt-diff --csv --uids --checksum=sha256
        os_golden csv --csv
        os_golden summary --summary
        os_golden path-etc --path /etc
        os_golden include-cfg --include '*.cfg'
        os_golden exclude --exclude /boot --exclude lost+found
}

# -l --checksum=md5 --path /etc on the OS pair, its output checked; HOW is
# how the "# A:" lines say each side was read ("cached", "scanned, direct").
os_md5() { # OUT HOW
        local want_a want_b
        run_virt_diff "$1" "$TEST_TMPDIR/err" -l --checksum=md5 --path /etc "$FIXTURES/os-a.img" "$FIXTURES/os-b.img"
        assert_rc 1 "$TEST_TMPDIR/err"
        want_a=$(printf 'guest-a\n' | md5sum | cut -d' ' -f1)
        want_b=$(printf 'guest-b-renamed\n' | md5sum | cut -d' ' -f1)
        printf '# A: %s (%s)\n# B: %s (%s)\n%s\n%s\n%s\n' "$FIXTURES/os-a.img" "$2" "$FIXTURES/os-b.img" "$2" \
                "/dev/sda1: Filesystem changed, type: ext4, size: 16777216, mount point: /boot, changed: label" \
                "/dev/sda3: Filesystem added, type: ext4, size: 10485760" \
                "/etc/hostname: modified, size: 16, checksum: $want_a -> $want_b" | assert_file_is "$1"
}

# The long path of the kinds fixtures (as in fixtures.sh).
LONG_PATH=/long
for _c in a b c d e; do
        LONG_PATH+=/$(printf "$_c%.0s" {1..200})
done
unset _c

# ------------------------------------------------------------ running it ----

# Runs virt-diff with stdout and stderr in files; sets RC and SECONDS_TAKEN.
run_virt_diff() { # OUT ERR ARGS...
        local out=$1 err=$2 start
        shift 2
        note "virt-diff $*"
        start=$EPOCHREALTIME
        set +e
        "$VIRT_DIFF" "$@" >"$out" 2>"$err" </dev/null
        RC=$?
        set -e
        SECONDS_TAKEN=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }")
        note "exit status $RC after ${SECONDS_TAKEN}s"
}

assert_rc() { # EXPECTED ERRFILE
        if [ "$RC" != "$1" ]; then
                echo "--- stderr:" >&2
                cat "$2" >&2
                fail "exit status $RC, expected $1"
        fi
}

assert_lines() { # FILE COUNT
        local n
        n=$(wc -l <"$1")
        if [ "$n" != "$2" ]; then
                cat "$1" >&2
                fail "$1 has $n lines, expected $2"
        fi
}

assert_contains() { # FILE FIXED-STRING
        if ! grep -qF -- "$2" "$1"; then
                echo "--- $1:" >&2
                cat "$1" >&2
                fail "$1 does not contain '$2'"
        fi
}

# Exact comparison of a file with the expected text on stdin.
assert_file_is() { # FILE
        local want=$TEST_TMPDIR/expected.$RANDOM
        cat >"$want"
        if ! cmp -s "$want" "$1"; then
                diff -u "$want" "$1" | cat -A >&2 || true
                fail "$1 is not as expected"
        fi
}

# check-result.py needs Debian's python3-jsonschema: skip, before any
# appliance runs, when it is missing.
requires_jsonschema() {
        [ -x "$PYTHON" ] || skip "$PYTHON is missing"
        "$PYTHON" -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed"
}

check_result() { # JSON EXPECTATIONS-FILE
        "$PYTHON" "$SRCDIR/tests/check-result.py" "$1" "$2" --define "LONG=$LONG_PATH" ||
                fail "$1 does not hold the expected result"
}

# The changes between kinds-a and kinds-b, as check-result.py takes them,
# for the tree (device) given. Each line is one difference of fixtures.sh.
kinds_expectation() { # TREE
        sed "s|@TREE@|$1|" <<-'EOF'
	change @TREE@ /added.txt                added    file
	change @TREE@ /removed.txt              removed  file
	change @TREE@ /modified-size.txt        modified file      content,size
	# same size, same mtime: only the hash shows it
	change @TREE@ /modified-same.txt        modified file      content
	change @TREE@ /chmod.txt                metadata file      mode
	change @TREE@ /chown.txt                metadata file      uid,gid
	change @TREE@ /xattr.txt                metadata file      xattrs
	change @TREE@ /mtime.txt                metadata file      mtime
	# /mtime-dir: only its mtime moved; directory times are not compared
	change @TREE@ /link                     modified symlink   target
	change @TREE@ /type-change              type     directory
	change @TREE@ /type-change/c1.txt       added    file
	change @TREE@ /type-change/sub          added    directory
	change @TREE@ /type-change/sub/c2.txt   added    file
	change @TREE@ /gone                     removed  directory
	change @TREE@ /gone/a.txt               removed  file
	change @TREE@ /gone/sub                 removed  directory
	change @TREE@ /gone/sub/b.txt           removed  file
	change @TREE@ /devs/chr                 modified char      rdev
	# /devs/fifo-same and /devs/chr-same unchanged
	change @TREE@ /devs/fifo-new            added    fifo
	# a new name for /hard/orig.txt, which stays unchanged (nlink is not compared)
	change @TREE@ /hard/link.txt            added    file
	# /dir-x and /dir.d sort between /dir and /dir/...: no false pairs
	change @TREE@ /dir/inner                modified file      content,size
	change @TREE@ '/names/with space.txt'   modified file      content,size
	change @TREE@ '/names/new\nline'        added    file
	change @TREE@ '/names/two\nlines'       modified file      content
	change @TREE@ '/names/caf\xe9'          modified file      content,size
	change @TREE@ '/names/\xff\xfe.bin'     added    file
	change @TREE@ '/names/back\\slash "q"'  modified file      content
	change @TREE@ '${LONG}/deep.txt'        modified file      content,size
	change @TREE@ '${LONG}/deep-new.txt'    added    file
	# /nlink: its link count grew; /nlink/newsub is new
	change @TREE@ /nlink/newsub             added    directory
	# /atime/*: access times differ on every entry, not compared
	EOF
}
