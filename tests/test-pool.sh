#!/bin/bash
# The appliance pool, cancellation and faults, on a daemon without a
# manifest cache (so every diff scans):
# - warm A and B, then diff A B: no new appliance; the pool lists both;
#   a second diff reuses them again (they were cleaned after the first);
# - diff --detach prints the job and exits; the job survives its client;
#   virt-diffctl wait JOB prints its result;
# - touching an image closes its warm appliance;
# - Cancel() during the scan ends the job Cancelled within seconds, and its
#   appliances are closed, not kept;
# - killing the qemu mid-job fails the job with ApplianceFailed, and so
#   does stopping them (a hang, noticed by the hang watch); each time the
#   next job on the same images succeeds;
# - a worker process killed by SIGSEGV mid-job fails only that job, with
#   WorkerCrashed, and takes its qemu with it; idle workers that crash are
#   replaced at their next use;
# - stopping the daemon takes the warm appliances' qemu with it.
source "$(dirname "$0")/lib.sh"
requires dbus-daemon busctl mke2fs
ensure_fixtures
DAEMON_ARGS="--no-cache --pool-size=4 --pool-idle=600 --no-direct"
start_bus
CTL=$BUILDDIR/virt-diffctl

A=$TEST_TMPDIR/a.img
B=$TEST_TMPDIR/b.img
cp --sparse=always "$FIXTURES/kinds-a.img" "$A"
cp --sparse=always "$FIXTURES/kinds-b.img" "$B"

# A larger pair for the mid-scan faults: enough files that the scan lasts.
mkdir -p "$TEST_TMPDIR/big"
for d in $(seq 1 400); do
        mkdir "$TEST_TMPDIR/big/d$d"
        for f in $(seq 1 10); do echo "$d $f" >"$TEST_TMPDIR/big/d$d/f$f"; done
done
mke2fs -q -t ext4 -d "$TEST_TMPDIR/big" "$TEST_TMPDIR/big-a.img" 64M
echo changed >"$TEST_TMPDIR/big/d1/f1"
mke2fs -q -t ext4 -d "$TEST_TMPDIR/big" "$TEST_TMPDIR/big-b.img" 64M
BA=$TEST_TMPDIR/big-a.img
BB=$TEST_TMPDIR/big-b.img

job_prop() { # PATH PROPERTY
        busctl --user get-property org.virtdiff.VirtDiff1 "$1" org.virtdiff.VirtDiff1.Job "$2" | awk '{print $2}'
}

# Waits until the job's Phase is at least PHASE (4 scan); fails if it ends first.
wait_phase() { # PATH PHASE
        local i
        for ((i = 0; i < 1200; i++)); do
                [ "$(job_prop "$1" Phase)" -ge "$2" ] && return 0
                [ "$(job_prop "$1" State)" -le 2 ] || fail "job $1 ended before phase $2"
                sleep 0.05
        done
        fail "job $1 never reached phase $2"
}

daemon_answers || fail "the daemon does not answer"

# ---- warm, then diff: no launch ----
"$CTL" warm "$A" >"$TEST_TMPDIR/warm-a" &
wa=$!
"$CTL" warm "$B" >"$TEST_TMPDIR/warm-b" || fail "warm B failed"
wait $wa || fail "warm A failed"
assert_contains "$TEST_TMPDIR/warm-a" "$A: warm"
[ "$(launches)" = 2 ] || fail "warming two images launched $(launches) appliances"
"$CTL" warm "$A" >"$TEST_TMPDIR/warm-a2" || fail "warm A again failed"
assert_contains "$TEST_TMPDIR/warm-a2" "was warm already"
"$CTL" pool >"$TEST_TMPDIR/pool" || fail "virt-diffctl pool failed"
assert_contains "$TEST_TMPDIR/pool" "warm"
assert_contains "$TEST_TMPDIR/pool" "$A"
assert_contains "$TEST_TMPDIR/pool" "$B"
pass "warm A and B: two launches, listed by virt-diffctl pool; warming A again launches nothing"

# Bad input to warm and pool: exit 2, one line naming what is wrong.
expect_ctl_error() { # MESSAGE-PART ARGS...
        local part=$1 rc=0
        shift
        "$CTL" "$@" >"$TEST_TMPDIR/out" 2>"$TEST_TMPDIR/err" || rc=$?
        [ $rc = 2 ] || fail "virt-diffctl $*: exit status $rc, expected 2"
        assert_lines "$TEST_TMPDIR/err" 1
        assert_lines "$TEST_TMPDIR/out" 0
        assert_contains "$TEST_TMPDIR/err" "$part"
}
expect_ctl_error "$TEST_TMPDIR/none.img" warm "$TEST_TMPDIR/none.img"
expect_ctl_error "$FIXTURES/empty.img" warm "$FIXTURES/empty.img"
expect_ctl_error "expected at least one image" warm
expect_ctl_error "unexpected argument 'x'" pool x
expect_ctl_error "unknown option '--bogus'" warm --bogus "$A"
[ "$(launches)" = 2 ] || fail "bad input to warm launched an appliance"
pass "warm on a missing file or an empty one, warm without images, pool with an argument: exit 2, one line"

# Round 1 shows no progress (stderr is no terminal), round 2 is told to.
for round in 1 2; do
        run_virt_diff "$TEST_TMPDIR/r$round.json" "$TEST_TMPDIR/err$round" --json \
                $([ $round = 2 ] && echo --progress) "$A" "$B"
        assert_rc 1 "$TEST_TMPDIR/err$round"
        [ "$(launches)" = 2 ] || fail "diff $round on warm images launched $(($(launches) - 2)) appliances"
done
assert_lines "$TEST_TMPDIR/err1" 0
grep -q $'\r.*scan' "$TEST_TMPDIR/err2" || fail "--progress showed no scan phase: $(cat -v "$TEST_TMPDIR/err2")"
pass "progress: nothing when stderr is no terminal, a live line with --progress"
cmp -s <("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["changes"])' "$TEST_TMPDIR/r1.json") \
        <("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["changes"])' "$TEST_TMPDIR/r2.json") ||
        fail "the second diff on the reused appliances differs from the first"
grep -q '"/chmod.txt"' "$TEST_TMPDIR/r1.json" || fail "the diff on warm appliances misses /chmod.txt"
pass "two diffs of A and B on the warm appliances: no launch, the same changes"

# ---- detached job, followed later ----
job=$("$VIRT_DIFF" --detach "$A" "$B") || fail "diff --detach failed"
[[ $job =~ ^/org/virtdiff/VirtDiff1/job/[0-9]+$ ]] || fail "diff --detach printed '$job'"
[ "$(job_prop "$job" Detached)" = true ] || fail "the job is not detached"
"$CTL" wait --json "$job" >"$TEST_TMPDIR/detached.json" 2>"$TEST_TMPDIR/err" && rc=0 || rc=$?
[ $rc = 1 ] || { cat "$TEST_TMPDIR/err" >&2; fail "wait: exit status $rc, expected 1"; }
grep -q '"/chmod.txt"' "$TEST_TMPDIR/detached.json" || fail "wait printed no result"
"$CTL" wait -q "${job##*/}" >/dev/null 2>&1 && rc=0 || rc=$?
[ $rc = 1 ] || fail "wait by job number: exit status $rc"
pass "diff --detach printed $job and exited; it ran on without its client; wait JOB printed its result"

"$CTL" wait /org/virtdiff/VirtDiff1/job/999 >/dev/null 2>"$TEST_TMPDIR/err" && rc=0 || rc=$?
[ $rc = 2 ] && [ "$(wc -l <"$TEST_TMPDIR/err")" = 1 ] || fail "wait on no job: exit status $rc, $(cat "$TEST_TMPDIR/err")"
"$VIRT_DIFF" --detach --private "$A" "$B" >/dev/null 2>"$TEST_TMPDIR/err" && rc=0 || rc=$?
[ $rc = 2 ] || fail "--detach --private: exit status $rc"
assert_contains "$TEST_TMPDIR/err" "--detach needs the daemon on a bus"
pass "wait on no such job, and --detach --private: exit 2, one line"

# ---- a changed image closes its appliance ----
touch "$A"
"$CTL" pool >"$TEST_TMPDIR/pool" || fail "virt-diffctl pool failed"
grep -qF "$A" "$TEST_TMPDIR/pool" && fail "the appliance on the touched $A is still in the pool"
assert_contains "$TEST_TMPDIR/pool" "$B"
daemon_log | grep -q "Closing the appliance on $A" || fail "the daemon did not say why it closed A's appliance"
pass "touching A closed its warm appliance; B's stays"

# ---- cancel during the scan ----
job=$(bus_compare "$BA" "$BB" 1 detached b true) || fail "Compare failed"
wait_phase "$job" 4
start=$EPOCHREALTIME
busctl --user call org.virtdiff.VirtDiff1 "$job" org.virtdiff.VirtDiff1.Job Cancel >/dev/null
err=$(busctl_error call org.virtdiff.VirtDiff1 "$job" org.virtdiff.VirtDiff1.Job Wait)
took=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }")
[[ $err == org.virtdiff.VirtDiff1.Error.Cancelled:* ]] || fail "cancel during the scan: $err"
[ "$(job_prop "$job" State)" = 5 ] || fail "the cancelled job's state is $(job_prop "$job" State)"
"$CTL" pool >"$TEST_TMPDIR/pool"
grep -qF "$BA" "$TEST_TMPDIR/pool" && fail "a cancelled job's appliance was kept"
pass "Cancel during the scan: Cancelled ${took}s later, its appliances closed"

# ---- qemu killed mid-job ----
# At phase inspect or later for both sides, the slower side is still at
# work: killing both qemu fails the job.
before=$(launches)
job=$(bus_compare "$BA" "$BB" 1 detached b true) || fail "Compare failed"
wait_phase "$job" 3
job_qemu=$(for p in $(test_qemu_pids); do
        echo "$(ps -o etimes= -p "$p" || echo gone) $p"
done | grep -v '^gone' | sort -n | head -n 2 | awk '{print $2}') || true
[ "$(echo $job_qemu | wc -w)" = 2 ] || fail "the job has no two qemu: $job_qemu"
kill -KILL $job_qemu
err=$(busctl_error call org.virtdiff.VirtDiff1 "$job" org.virtdiff.VirtDiff1.Job Wait)
[[ $err == org.virtdiff.VirtDiff1.Error.ApplianceFailed:* ]] || fail "qemu killed mid-job: $err"
pass "qemu killed mid-job: $err"
daemon_answers || fail "the daemon died with its qemu"
run_virt_diff "$TEST_TMPDIR/after.json" "$TEST_TMPDIR/err" --json "$BA" "$BB"
assert_rc 1 "$TEST_TMPDIR/err"
grep -q '"/d1/f1"' "$TEST_TMPDIR/after.json" || fail "the diff after the kill misses /d1/f1"
[ $(($(launches) - before)) = 4 ] || fail "expected 4 launches (2 killed, 2 new), got $(($(launches) - before))"
pass "the next job on the same images gets new appliances and succeeds"

# ---- qemu hung mid-job ----
# A (touched: launched anew) against B (still warm): both their qemu
# stopped once both sides are past the launch. The slower side hangs in a
# call until the hang watch kills its qemu; B's, if idle by then, is found
# stopped at its next use and replaced. A's qemu is the test's youngest,
# B's (warmed first, never replaced) its oldest; the big pair's are between.
job=$(bus_compare "$A" "$B" 1 detached b true) || fail "Compare failed"
wait_phase "$job" 3
by_age=$(for p in $(test_qemu_pids); do
        echo "$(ps -o etimes= -p "$p" || echo gone) $p"
done | grep -v '^gone' | sort -n | awk '{print $2}') || true
stopped="$(echo "$by_age" | head -n1) $(echo "$by_age" | tail -n1)"
kill -STOP $stopped
err=$(busctl_error call org.virtdiff.VirtDiff1 "$job" org.virtdiff.VirtDiff1.Job Wait)
[[ $err == *ApplianceFailed:*"stopped responding"* ]] || fail "qemu stopped mid-job: $err"
daemon_log | grep -q "stopped responding, killed it" || fail "the daemon did not say it killed a hung qemu"
pass "qemu stopped mid-job: $err"
run_virt_diff "$TEST_TMPDIR/after2.json" "$TEST_TMPDIR/err" --json "$A" "$B"
assert_rc 1 "$TEST_TMPDIR/err"
grep -q '"/chmod.txt"' "$TEST_TMPDIR/after2.json" || fail "the diff after the hang misses /chmod.txt"
for p in $stopped; do
        [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" != T ] || fail "stopped qemu $p is still there"
done
pass "the next job on the same images succeeds; no stopped qemu is left"

# ---- a worker process crashes ----
# Each appliance lives in a worker process, a child of the daemon (its
# libguestfs recovery process is the worker's child, not the daemon's).
daemon_workers() { # the daemon's worker processes, youngest first
        local d
        d=$(marked_pids '^virt-diffd$')
        for p in $(pgrep -P "$d" -x diffd-worker || true); do
                echo "$(ps -o etimes= -p "$p" || echo gone) $p"
        done | grep -v '^gone' | sort -n | awk '{print $2}'
}
# A new copy of the big image: its appliance is the youngest, and its scan
# lasts long enough to crash its worker in the middle.
BA2=$TEST_TMPDIR/big-a2.img
cp --sparse=always "$BA" "$BA2"
job=$(bus_compare "$BA2" "$BB" 1 detached b true) || fail "Compare failed"
wait_phase "$job" 3
crashed=$(daemon_workers | head -n1)
[ -n "$crashed" ] || fail "no worker process under the daemon"
kill -SEGV "$crashed"
err=$(busctl_error call org.virtdiff.VirtDiff1 "$job" org.virtdiff.VirtDiff1.Job Wait)
[[ $err == org.virtdiff.VirtDiff1.Error.WorkerCrashed:*"signal 11"* ]] || fail "worker crashed mid-job: $err"
daemon_answers || fail "the daemon died with its worker"
for ((i = 0; i < 25; i++)); do
        [ -z "$(pgrep -g "$crashed" || true)" ] && break
        sleep 0.2
done
[ -z "$(pgrep -g "$crashed" || true)" ] || fail "the crashed worker's qemu is still there: $(pgrep -g "$crashed" | tr '\n' ' ')"
pass "a worker killed by SIGSEGV mid-job: $err; its qemu went with it"
run_virt_diff "$TEST_TMPDIR/after-crash.json" "$TEST_TMPDIR/err" --json "$BA2" "$BB"
assert_rc 1 "$TEST_TMPDIR/err"
grep -q '"/d1/f1"' "$TEST_TMPDIR/after-crash.json" || fail "the diff after the crash misses /d1/f1"
pass "the next job on the same images succeeds"
# Idle warm workers that crash are found out at their next use, not reused.
# BB is warm from the last job; BA, if still in the pool, is idle too.
"$CTL" pool >"$TEST_TMPDIR/pool"
assert_contains "$TEST_TMPDIR/pool" "$BB"
idle_before=$(launches)
kill -SEGV $(daemon_workers)
run_virt_diff "$TEST_TMPDIR/after-crash2.json" "$TEST_TMPDIR/err" --json "$BA" "$BB"
assert_rc 1 "$TEST_TMPDIR/err"
grep -q '"/d1/f1"' "$TEST_TMPDIR/after-crash2.json" || fail "the diff after the idle crash misses /d1/f1"
[ $(($(launches) - idle_before)) = 2 ] || fail "expected 2 new launches, got $(($(launches) - idle_before))"
pass "every idle worker killed by SIGSEGV: the next diff launches two new appliances and succeeds"

# ---- the daemon takes its warm appliances' qemu with it ----
"$CTL" pool >"$TEST_TMPDIR/pool"
assert_contains "$TEST_TMPDIR/pool" "$BA"
[ -n "$(test_qemu_pids)" ] || fail "no warm qemu before stopping the daemon"
terminate_pids 30 $(marked_pids '^virt-diffd$')
assert_no_qemu 5
pass "daemon stopped: no qemu of its pool left"
