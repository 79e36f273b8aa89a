"""The faults: those aimed at one job (a cancel, its client killed, its
worker crashed, its qemu killed or stopped) and those that hit the whole
daemon (stopped with SIGTERM or SIGKILL and started again, its cache
directory read-only for a while), with what is left behind each time."""
import os
import signal
import subprocess
import threading
import time

from soaklib import env as procs

# How long after a daemon's death its children may take to go.
KILL_GRACE = 10
# What a daemon leaves in TMPDIR: appliance overlays, qemu-nbd sockets.
TMP_PREFIXES = ("virt-diffd", "libguestfs")


def send(pid, sig):
    """True when the signal reached pid (False: it had ended)."""
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


class Faults:
    def __init__(self, env, figures, rng):
        self.env = env
        self.fig = figures
        self.rng = rng
        self.lock = threading.Lock()
        self.generation = 0          # daemon incarnations started by a fault
        self.daemon_lock = threading.Lock()

    # ---- aimed at one job ----

    def qemu_of(self, images, job, timeout):
        """The qemu reading one of the images, once there is one; None when
        the job ends first."""
        end = time.monotonic() + timeout
        checked = 0
        while time.monotonic() < end:
            if time.monotonic() - checked > 2:
                checked = time.monotonic()
                state = self.job_state(job)
                if state is None or state >= 3:
                    return None
            daemon = self.env.daemon_pid()
            if daemon:
                for img in images:
                    pid = procs.holder_of(img.split("@")[0], "qemu-system", under=daemon)
                    if pid:
                        return pid
            time.sleep(0.2)
        return None

    def job_state(self, job):
        r = self.env.busctl("get-property", "org.virtdiff.VirtDiff1", f"/org/virtdiff/VirtDiff1/job/{job}",
                            "org.virtdiff.VirtDiff1.Job", "State")
        try:
            return int(r.stdout.split()[1])
        except (IndexError, ValueError):
            return None

    def aim(self, spec, job, images, client):
        """Run by the job's client thread once the job exists."""
        kind = spec.fault
        with self.lock:
            delay = self.rng.uniform(0, 8)
        if kind in ("cancel-bus", "cancel-sigint", "client-kill"):
            # A random moment: queued, launching, scanning or already done.
            time.sleep(delay)
            if kind == "cancel-bus":
                self.env.busctl("call", "org.virtdiff.VirtDiff1", f"/org/virtdiff/VirtDiff1/job/{job}",
                                "org.virtdiff.VirtDiff1.Job", "Cancel")
            elif client and client.poll() is None:
                client.send_signal(signal.SIGINT if kind == "cancel-sigint" else signal.SIGKILL)
            self.fig.fault(kind)
            return
        qemu = self.qemu_of(images, job, 600)
        if not qemu:
            return
        time.sleep(min(delay, 2))
        # The qemu (or its worker) may have ended meanwhile: the job went on
        # without the fault, which then did not land (and is tried again).
        if kind == "worker-segv":
            worker = procs.ppid_of(qemu)
            if worker and procs.comm_of(worker) == "diffd-worker" and send(worker, signal.SIGSEGV):
                self.fig.fault(kind)
        elif kind == "qemu-kill":
            if send(qemu, signal.SIGKILL):
                self.fig.fault(kind)
        elif kind == "qemu-stop":
            if send(qemu, signal.SIGSTOP):
                self.fig.fault(kind)

    # ---- the whole daemon ----

    def tmp_entries(self):
        t = self.env.env["TMPDIR"]
        return sorted(n for n in os.listdir(t) if n.startswith(TMP_PREFIXES))

    def restart(self, sig, note=""):
        """Stops the daemon with sig in the middle of its work, counts what its
        death left behind, and has it activated again."""
        with self.daemon_lock:
            pid = self.env.daemon_pid()
            if not pid:
                pid = self.env.activate()
            # Its children now: what must go with it.
            kids = procs.descendants(pid)
            watched = [p for p, c in kids.items()
                       if c and (c.startswith("qemu") or c in ("diffd-worker", "diffd-direct"))]
            tmp_before = set(self.tmp_entries())
            busy = sum(1 for c in kids.values() if c and c.startswith("qemu-system"))
            # Before the signal: a client that sees the daemon go knows why.
            with self.lock:
                self.generation += 1
            os.kill(pid, sig)
            if procs.wait_gone([pid], 60):
                os.kill(pid, signal.SIGKILL)
                procs.wait_gone([pid], 10)
                self.fig.anomaly(f"daemon {pid} outlived {signal.Signals(sig).name} by 60 s")
            left = procs.wait_gone(watched, KILL_GRACE)
            left_desc = [f"{p} {procs.comm_of(p)}" for p in left]
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            self.env.activate()
            # A second step: jobs begun while it was down saw a restart too.
            with self.lock:
                self.generation += 1
            # Its temporary directories: gone with it, or cleared by the
            # daemon that follows it.
            time.sleep(1)
            tmp_left = sorted(set(self.tmp_entries()) & tmp_before)
            self.fig.restart(signal.Signals(sig).name, len(watched), busy, left_desc, tmp_left, note)

    def read_only(self, seconds, restart_inside):
        """The cache's directory read-only for a while (a read-only bind
        mount over it: root ignores modes), with a daemon restart inside
        it when asked: that daemon starts without its store."""
        d = self.env.cache_dir
        as_root = os.geteuid() == 0
        if as_root:
            # A machine where root may not mount (a container without
            # CAP_SYS_ADMIN) runs the rest of the soak without this fault.
            if subprocess.run(["mount", "--bind", d, d], stderr=subprocess.DEVNULL).returncode != 0:
                self.fig.fault("cache-read-only (skipped: no bind mount here)")
                return
            if subprocess.run(["mount", "-o", "remount,bind,ro", d]).returncode != 0:
                subprocess.run(["umount", "-l", d])
                self.fig.fault("cache-read-only (skipped: no bind mount here)")
                return
        else:
            os.chmod(d, 0o500)
        self.fig.fault("cache-read-only")
        try:
            if restart_inside:
                time.sleep(seconds / 3)
                self.restart(signal.SIGTERM, "inside a read-only window")
                time.sleep(seconds * 2 / 3)
            else:
                time.sleep(seconds)
        finally:
            if as_root:
                self.end_read_only(d)
            else:
                os.chmod(d, 0o700)

    def end_read_only(self, d):
        """Unmounts the read-only bind mount. A job that opened a cached
        manifest through it holds the file until it ends (its other side
        may be scanning in an appliance): a mount still busy 5 minutes
        later is an anomaly (with who holds it)."""
        end = time.monotonic() + 300
        while subprocess.run(["umount", d], stderr=subprocess.DEVNULL).returncode != 0:
            if time.monotonic() >= end:
                holders = procs.holders_under(d)
                self.fig.anomaly(f"the read-only mount over {d} was still busy 5 minutes after its end: "
                                 f"{', '.join(holders) or 'no process holds a file there'}")
                subprocess.run(["umount", "-l", d], check=True)
                return
            time.sleep(1)

    def wait_busy(self, timeout):
        """Until some appliance runs under the daemon (so that a kill lands
        mid-job), or timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid = self.env.daemon_pid()
            if pid and any(c and c.startswith("qemu-system") for c in procs.descendants(pid).values()):
                return True
            time.sleep(0.3)
        return False
