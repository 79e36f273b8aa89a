#!/bin/bash
# Nothing a client may still ask about is lost when the daemon goes away:
# - a detached job's result outlives a SIGTERM and a new daemon (activated
#   by the next call): virt-diffctl wait prints it byte for byte;
# - a job that was running when the daemon was killed with SIGKILL ends
#   with JobLost at the next daemon, never "unknown object"; the killed
#   daemon's workers, qemu and qemu-nbd go at once;
# - GetResult of a job that was not detached is JobLost after a restart,
#   its state still known;
# - job ids are never given twice across restarts, a job the daemon never
#   listed is NoSuchJob, and ListJobs shows the kept jobs;
# - a job listed while the store could not be written (a read-only bind
#   mount), then lost to a kill, is JobLost too: its record waited in the
#   runtime directory, and the store takes it once it can;
# - the store's jobs survive its integrity check.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon busctl mke2fs sqlite3
requires_jsonschema
ensure_fixtures
DAEMON_ARGS="--pool-size=0 --no-direct"
# Where the daemon keeps the job records its store refuses.
export XDG_RUNTIME_DIR=$TEST_TMPDIR/run
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"
start_bus
CTL=$BUILDDIR/virt-diffctl
STORE=$XDG_CACHE_HOME/virt-diffd/manifests.sqlite

A=$FIXTURES/kinds-a.img
B=$FIXTURES/kinds-b.img

job_number() { echo "${1##*/}"; }

# ---- a detached job's result across a SIGTERM ----
job1=$("$VIRT_DIFF" --detach "$A" "$B") || fail "diff --detach failed"
"$CTL" wait --json "$job1" >"$TEST_TMPDIR/before.json" 2>"$TEST_TMPDIR/err" && rc=0 || rc=$?
[ $rc = 1 ] || { cat "$TEST_TMPDIR/err" >&2; fail "wait before the restart: exit status $rc"; }
pid1=$(daemon_pid)
restart_daemon
"$CTL" wait --json "$job1" >"$TEST_TMPDIR/after.json" 2>"$TEST_TMPDIR/err" && rc=0 || rc=$?
[ $rc = 1 ] || { cat "$TEST_TMPDIR/err" >&2; fail "wait after the restart: exit status $rc"; }
[ "$(daemon_pid)" != "$pid1" ] || fail "the daemon was not restarted"
cmp -s "$TEST_TMPDIR/before.json" "$TEST_TMPDIR/after.json" || fail "the kept result differs from the first"
pass "detached job $(job_number "$job1"): after SIGTERM and a new daemon, wait prints the same result"

# ---- a job of a client that stays: its state is kept, its result not ----
"$VIRT_DIFF" -v -q "$A" "$B" 2>"$TEST_TMPDIR/err" && rc=0 || rc=$?
[ $rc = 1 ] || { cat "$TEST_TMPDIR/err" >&2; fail "diff: exit status $rc"; }
job2=$(sed -n 's/^virt-diff: following //p' "$TEST_TMPDIR/err")
[ -n "$job2" ] || fail "virt-diff -v did not name its job: $(cat "$TEST_TMPDIR/err")"
restart_daemon
[ "$(busctl --user call org.virtdiff.VirtDiff1 "$job2" org.virtdiff.VirtDiff1.Job Wait)" = "ub 3 true" ] ||
        fail "Wait on the kept job $job2 does not say succeeded with differences"
err=$(busctl_error call org.virtdiff.VirtDiff1 "$job2" org.virtdiff.VirtDiff1.Job GetResult)
[[ $err == org.virtdiff.VirtDiff1.Error.JobLost:*"not kept"* ]] || fail "GetResult of $job2 after a restart: $err"
pass "job $(job_number "$job2") of a client that stayed: its state is kept, GetResult is JobLost: ${err#*: }"

# ---- a running job when the daemon is killed ----
# A cold pair (never scanned), so that the job is launching when the
# daemon dies.
mkdir -p "$TEST_TMPDIR/tree"
for i in $(seq 1 50); do echo "file $i" >"$TEST_TMPDIR/tree/f$i"; done
mke2fs -q -t ext4 -d "$TEST_TMPDIR/tree" "$TEST_TMPDIR/c.img" 32M
job3=$("$VIRT_DIFF" --detach "$TEST_TMPDIR/c.img" "$A") || fail "diff --detach failed"
for ((i = 0; i < 600; i++)); do
        phase=$(busctl --user get-property org.virtdiff.VirtDiff1 "$job3" org.virtdiff.VirtDiff1.Job Phase |
                awk '{print $2}')
        [ "$phase" -ge 2 ] && [ -n "$(test_qemu_pids)" ] && break
        sleep 0.1
done
[ -n "$(test_qemu_pids)" ] || fail "job $job3 started no qemu"
killed=$(daemon_pid)
workers=$(pgrep -P "$killed" -x diffd-worker | tr '\n' ' ')
kill -KILL "$killed"
assert_no_qemu 10
# As the soak counts them: gone (or a zombie nobody has reaped yet) within
# 10 s of the daemon's death, the time it takes a worker to see the hang-up
# and take its qemu and directory with it.
worker_alive() { # PID
        local state
        state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
        [[ $state != Z* ]]
}
for w in $workers; do
        for ((i = 0; i < 100; i++)); do
                worker_alive "$w" || break
                sleep 0.1
        done
        ! worker_alive "$w" || fail "worker $w outlived its daemon by 10 s"
done
pass "daemon killed with SIGKILL mid-launch: its workers ($workers) and qemu went with it"
"$CTL" wait "$job3" >/dev/null 2>"$TEST_TMPDIR/err" && rc=0 || rc=$?
[ $rc = 2 ] || fail "wait on the lost job: exit status $rc"
assert_lines "$TEST_TMPDIR/err" 1
assert_contains "$TEST_TMPDIR/err" "was running when its virt-diffd (pid $killed) ended unexpectedly"
err=$(busctl_error call org.virtdiff.VirtDiff1 "$job3" org.virtdiff.VirtDiff1.Job Wait)
[[ $err == org.virtdiff.VirtDiff1.Error.JobLost:* ]] || fail "Wait on the lost job: $err"
pass "job $(job_number "$job3"), running when its daemon was killed: JobLost ($(cat "$TEST_TMPDIR/err"))"

# ---- ids, unknown jobs, the list ----
job4=$("$VIRT_DIFF" --detach "$A" "$B") || fail "diff --detach failed"
[ "$(job_number "$job4")" -gt "$(job_number "$job3")" ] || fail "job id $job4 given again after $job3"
"$CTL" wait -q "$job4" >/dev/null 2>&1 && rc=0 || rc=$?
[ $rc = 1 ] || fail "wait $job4: exit status $rc"
err=$(busctl_error call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1/job/987654 org.virtdiff.VirtDiff1.Job Wait)
[[ $err == org.virtdiff.VirtDiff1.Error.NoSuchJob:* ]] || fail "Wait on a job never listed: $err"
list=$(busctl --user call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager ListJobs)
for j in "$job1" "$job2" "$job3" "$job4"; do
        grep -qF "\"$j\"" <<<"$list" || fail "ListJobs misses $j: $list"
done
pass "ids never given twice ($job4 after $job3), an unknown job is NoSuchJob, ListJobs shows the kept jobs"

# ---- an ended job, kept readable, holds no file of its inputs ----
held=$(find "/proc/$(daemon_pid)/fd" -lname "$(realpath "$A")*" 2>/dev/null | wc -l)
[ "$held" = 0 ] || fail "the daemon still holds $held open files of $A after its jobs ended"
pass "the kept jobs hold none of their images open"

# ---- a job listed while the store could not be written, lost to a kill ----
# Its record waits in the runtime directory; the next daemon answers
# JobLost for it, not NoSuchJob, and gives it to the store once it can.
CACHE_DIR=$XDG_CACHE_HOME/virt-diffd
if [ "$(id -u)" = 0 ] && mount --bind "$CACHE_DIR" "$CACHE_DIR" 2>/dev/null; then
        cleanup_fn umount -l "$CACHE_DIR"
        mount -o remount,bind,ro "$CACHE_DIR" || fail "cannot make $CACHE_DIR read-only"
        # A daemon that starts now cannot open it (one that had it open
        # before may still write through its open files).
        restart_daemon
        mke2fs -q -t ext4 -d "$TEST_TMPDIR/tree" "$TEST_TMPDIR/d.img" 32M
        job5=$("$VIRT_DIFF" --detach "$TEST_TMPDIR/d.img" "$A") || fail "diff --detach (store read-only) failed"
        id5=$(job_number "$job5")
        [ "$id5" -gt 1000000000 ] || fail "job $id5, listed while the store refused its row, has a store's id"
        aside=$XDG_RUNTIME_DIR/virt-diffd/jobs/$id5
        [ -f "$aside" ] || fail "job $id5's record is not kept in $aside"
        for ((i = 0; i < 600; i++)); do
                [ -n "$(test_qemu_pids)" ] && break
                sleep 0.1
        done
        killed=$(daemon_pid)
        kill -KILL "$killed"
        assert_no_qemu 10
        "$CTL" wait "$id5" >/dev/null 2>"$TEST_TMPDIR/err" && rc=0 || rc=$?
        [ $rc = 2 ] || fail "wait on the lost job $id5 (store read-only): exit status $rc"
        assert_contains "$TEST_TMPDIR/err" "was running when its virt-diffd (pid $killed) ended before its manifest store"
        err=$(busctl_error call org.virtdiff.VirtDiff1 "$job5" org.virtdiff.VirtDiff1.Job Wait)
        [[ $err == org.virtdiff.VirtDiff1.Error.JobLost:* ]] || fail "Wait on $job5 (store read-only): $err"
        umount "$CACHE_DIR" || fail "cannot unmount $CACHE_DIR"
        restart_daemon
        err=$(busctl_error call org.virtdiff.VirtDiff1 "$job5" org.virtdiff.VirtDiff1.Job Wait)
        [[ $err == org.virtdiff.VirtDiff1.Error.JobLost:* ]] || fail "Wait on $job5 (store writable again): $err"
        [ "$(sqlite3 "$STORE" "SELECT error FROM jobs WHERE id = $id5")" = JobLost ] ||
                fail "the store did not take job $id5's record when it could"
        [ ! -e "$aside" ] || fail "$aside is still there once the store holds the job"
        pass "job $id5, listed while the store was read-only, then killed with its daemon: JobLost, from the runtime directory then from the store"
else
        note "not root or no bind mount here: the read-only store case is not checked"
fi

# ---- the store ----
restart_daemon
[ "$(sqlite3 "$STORE" 'PRAGMA integrity_check')" = ok ] || fail "the store fails its integrity check"
rows=$(sqlite3 "$STORE" "SELECT id || ' ' || state || ' ' || coalesce(error, '-') FROM jobs ORDER BY id")
note "jobs in the store: $(tr '\n' ',' <<<"$rows")"
grep -qx "$(job_number "$job3") failed JobLost" <<<"$rows" || fail "the store does not hold $job3 as lost"
pass "the store's jobs pass its integrity check"
