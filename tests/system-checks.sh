#!/bin/bash
# Run by tests/system-nspawn.sh inside the booted container, as root, once
# the system is up: the system service as systemd and the system bus run
# it. Writes OUTDIR/checks.log, ending with "RESULT: pass" or "RESULT: fail".
set -uo pipefail
OUT=${1:?usage: system-checks.sh OUTDIR}
LOG=$OUT/checks.log
A=/srv/vd/kinds-a.img
B=/srv/vd/kinds-b.img
failed=0
exec > >(tee "$LOG") 2>&1

ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; failed=1; }
as_tester() { setpriv --reuid=tester --regid=tester --init-groups --reset-env "$@"; }
show() { systemctl show virt-diffd.service -p "$1" --value; }

echo "# $(uname -r), systemd $(systemctl --version | head -n1 | awk '{print $2}'), PID 1: $(cat /proc/1/comm)"
echo "# system: $(systemctl is-system-running)"

# ---- D-Bus activation of the hardened unit ----
[ "$(show ActiveState)" = inactive ] && ok "virt-diffd.service is not running before the first call" ||
        bad "virt-diffd.service runs before any call: $(show ActiveState)"
if out=$(busctl call org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager ListJobs 2>&1); then
        ok "system bus activation: ListJobs answered ($out)"
else
        bad "system bus activation failed: $out"
fi
[ "$(show ActiveState)" = active ] && [ "$(show Type)" = notify ] &&
        ok "virt-diffd.service active (Type=notify: READY=1 was sent), MainPID $(show MainPID)" ||
        bad "virt-diffd.service is $(show ActiveState)/$(show SubState) after the call"
first_pid=$(show MainPID)

# ---- a diff by path as root: real appliances under the sandbox ----
start=$(date +%s)
virt-diff --system --engine=appliance --json "$A" "$B" >/tmp/root.json 2>/tmp/root.err
rc=$?
took=$(($(date +%s) - start))
if [ $rc = 1 ] && grep -q '"/chmod.txt"' /tmp/root.json; then
        ok "root diffs by path on appliances: exit 1, /chmod.txt among the changes ($took s, cold)"
else
        bad "root diff by path on appliances: exit $rc: $(cat /tmp/root.err)"
fi
# The direct engine's worker locks itself down inside the unit's sandbox
# (a pair not scanned yet, so that nothing comes from the cache).
start=$(date +%s)
virt-diff --system --engine=direct --json /srv/vd/blank-a.img /srv/vd/blank-b.img >/tmp/direct.json 2>/tmp/direct.err
rc=$?
took=$(($(date +%s) - start))
if [ $rc -le 1 ] && grep -q '"engine": *"direct"' /tmp/direct.json; then
        ok "root diffs by path with the direct engine: exit $rc, both sides read directly ($took s)"
else
        bad "root diff with the direct engine: exit $rc: $(cat /tmp/direct.err)"
fi
echo "# accelerator: $(busctl get-property org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 \
        org.virtdiff.VirtDiff1.Manager Accelerator), launches: $(busctl get-property org.virtdiff.VirtDiff1 \
        /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager AppliancesLaunched)"

# ---- STATUS= and the watchdog ----
status=$(show StatusText)
[ -n "$status" ] && ok "STATUS= line: \"$status\"" || bad "no STATUS= line"
wd=$(show WatchdogUSec)
wdt=$(show WatchdogTimestampMonotonic)
[ "$wd" = 30s ] && [ "${wdt:-0}" != 0 ] && ok "watchdog: WatchdogUSec=$wd, last ping at monotonic $wdt" ||
        bad "watchdog: WatchdogUSec=$wd WatchdogTimestampMonotonic=$wdt"

# ---- an unprivileged user: by fd yes (a pair not seen yet: its own
# appliances, reading the fds through qemu-nbd), by path no ----
launches() {
        busctl get-property org.virtdiff.VirtDiff1 /org/virtdiff/VirtDiff1 org.virtdiff.VirtDiff1.Manager \
                AppliancesLaunched | awk '{print $2}'
}
before=$(launches)
as_tester virt-diff --system --pass-fds --engine=appliance --json /srv/vd/same-1.img /srv/vd/same-2.img >/tmp/user.json 2>/tmp/user.err
rc=$?
if [ $rc = 0 ] && python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["changes"] != [])' /tmp/user.json; then
        ok "user tester diffs by fd (--pass-fds): exit 0, no changes, $(($(launches) - before)) appliances launched"
else
        bad "user diff by fd: exit $rc: $(cat /tmp/user.err)"
fi
as_tester virt-diff --system "$A" "$B" >/dev/null 2>/tmp/user-path.err
rc=$?
if [ $rc = 2 ] && grep -q "compare-path" /tmp/user-path.err; then
        ok "user tester refused by polkit by path: $(head -n1 /tmp/user-path.err)"
else
        bad "user diff by path: exit $rc: $(cat /tmp/user-path.err)"
fi

# ---- idle exit and re-activation ----
for ((i = 0; i < 120; i++)); do
        [ "$(show ActiveState)" = inactive ] && break
        sleep 1
done
if [ "$(show ActiveState)" = inactive ]; then
        ok "idle exit: inactive $i s after the last job (--idle-timeout=20, result $(show Result))"
else
        bad "no idle exit within 120 s: $(show ActiveState), $(show StatusText)"
fi
virt-diff --system -q "$A" "$B" >/dev/null 2>/tmp/again.err
rc=$?
[ $rc = 1 ] && [ "$(show ActiveState)" = active ] && [ "$(show MainPID)" != "$first_pid" ] &&
        ok "re-activated by the next call (MainPID $(show MainPID)); the diff came from the cache" ||
        bad "re-activation: exit $rc, $(show ActiveState), MainPID $(show MainPID): $(cat /tmp/again.err)"

# ---- the sandbox, as systemd rates it ----
systemd-analyze security --no-pager virt-diffd.service >"$OUT/security.txt" 2>&1
score=$(grep -o 'Overall exposure level for virt-diffd.service: .*' "$OUT/security.txt")
[ -n "$score" ] && ok "systemd-analyze security: $score" || bad "systemd-analyze security: $(tail -n 3 "$OUT/security.txt")"

journalctl -u virt-diffd.service --no-pager -o short-monotonic >"$OUT/virt-diffd.journal" 2>&1
[ $failed = 0 ] && echo "RESULT: pass" || echo "RESULT: fail"
