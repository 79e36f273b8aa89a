"""One soak job: what it compares, through which front-end (virt-diff on
D-Bus, virt-diff --varlink, or a varlink client of our own), the fault
aimed at it, and how it ended compared with a quiet run of the same pair."""
import dataclasses
import json
import os
import re
import subprocess
import threading
import time


VD_ERR = "org.virtdiff.VirtDiff1.Error."
JOB_TIMEOUT = 3600  # a queued cold job on a loaded machine waits long; never-ended is beyond this

# What a client says when the daemon went away under it, and the job's id.
LOST_CONNECTION = re.compile(r"lost the connection to virt-diffd \(its job: virt-diffctl wait (\d+)\)")
FOLLOWING = re.compile(r"following /org/virtdiff/VirtDiff1/job/(\d+)")


@dataclasses.dataclass
class Spec:
    n: int
    kind: str                # cached unified snapshot error detached collect cold warm cold-snapshot
    frontend: str = "dbus"   # dbus, varlink-cli, varlink-py
    fault: str = None        # cancel-bus cancel-sigint client-kill worker-segv qemu-kill qemu-stop
    bad: str = None          # for kind error: which bad input
    job: int = None          # for kind collect: the detached job
    generation: int = 0      # the daemon's incarnation when a detached job was submitted


@dataclasses.dataclass
class Outcome:
    state: str               # succeeded failed cancelled lost refused never-ended
    ok: bool
    why: str = ""
    job: int = None
    error: str = None        # the error's short name
    landed: bool = False     # the fault aimed at it made it fail as it should


# The errors a fault makes its job end with.
FAULT_ERRORS = {
    "cancel-bus": {"Cancelled"},
    "cancel-sigint": {"Cancelled"},
    "client-kill": {"Cancelled"},
    "worker-segv": {"WorkerCrashed"},
    "qemu-kill": {"ApplianceFailed"},
    "qemu-stop": {"ApplianceFailed"},
}

# Bad inputs: refused before any job exists.
BAD_INPUTS = {
    "missing": "/nonexistent/soak.img",
    "empty": "empty.img",
    "truncated": "truncated.qcow2",
    "missing-backing": "missing-backing.qcow2",
}


def normal(doc, ref=None):
    """What must be the same as the quiet run: not the sides' sources (paths,
    keys, cached or not, engine), nor an entry's st_dev, which numbers the
    appliance's own disk (its kernel may probe the disks out of order: 8:16
    for /dev/sda) and is never compared. For the soak's own images (ref
    "cold": a new pair made for each job) not the entries' ctime and atime
    either: mke2fs -d gives them the moment it copied the tree (the host's
    ctime, and the atime its reading left), so two pairs of the same tree
    made a second apart differ there and nowhere else."""
    drop = ("dev", "ctime_ns", "atime_ns") if ref == "cold" else ("dev",)
    out = {k: doc.get(k) for k in ("filesystems", "changes", "summary", "checksum_algorithm")}
    for c in out["changes"] or []:
        for side in ("old", "new"):
            if isinstance(c.get(side), dict):
                for k in drop:
                    c[side].pop(k, None)
    return out


class Runner:
    def __init__(self, env, images, refs, engine_option, generation):
        self.env = env
        self.images = images
        self.refs = refs            # kind -> normalized result; ("error", bad) -> message
        self.engine = engine_option  # ["--engine=appliance"] when the daemon has engines
        self.generation = generation  # callable: the daemon's incarnation now
        self.rng_lock = threading.Lock()

    # ---- helpers ----

    def cli(self, args, on_stderr_line=None, timeout=JOB_TIMEOUT, prog=None):
        """Runs virt-diff (or prog); returns (rc, stdout, stderr, popen)."""
        p = subprocess.Popen([prog or self.env.virt_diff, *args], env=self.env.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err_lines = []

        def read_err():
            for raw in p.stderr:
                line = raw.decode(errors="replace").rstrip("\r\n")
                err_lines.append(line)
                if on_stderr_line:
                    on_stderr_line(line, p)

        t = threading.Thread(target=read_err, daemon=True)
        t.start()
        try:
            out = p.stdout.read()
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            t.join()
            return None, b"", "\n".join(err_lines), p
        t.join()
        return p.returncode, out, "\n".join(err_lines), p

    def error_name(self, job):
        # A daemon restarting (the next one activated, reading its store)
        # cannot answer for a moment: asked again, not taken for no error.
        for _ in range(20):
            r = self.env.busctl("get-property", "org.virtdiff.VirtDiff1", f"/org/virtdiff/VirtDiff1/job/{job}",
                                "org.virtdiff.VirtDiff1.Job", "ErrorName")
            if r.returncode == 0 or "NoSuchJob" in r.stderr or "UnknownObject" in r.stderr:
                break
            time.sleep(1)
        m = re.search(r'"' + re.escape(VD_ERR) + r'(\w+)"', r.stdout)
        return m.group(1) if m else None

    def judge_result(self, kind, out):
        try:
            doc = json.loads(out)
        except ValueError:
            return False, "the result is not JSON"
        if normal(doc, kind) != self.refs[kind]:
            return False, "the result differs from the quiet run"
        return True, ""

    def wait_job(self, job, kind, restarted):
        """virt-diffctl wait JOB: the outcome of a job followed later (detached,
        or whose client lost its daemon)."""
        for _ in range(40):
            rc, out, err, _ = self.cli(["wait", "--session", "--json", str(job)], prog=self.env.ctl)
            # A daemon started while its store could not be opened: it
            # knows the job once the store opens again.
            if rc != 2 or "is not known now" not in err:
                break
            time.sleep(3)
        if rc is None:
            return Outcome("never-ended", False, f"wait {job} never returned", job)
        if rc == 1:
            good, why = self.judge_result(kind, out)
            return Outcome("succeeded", good, why, job)
        name = self.error_name(job)
        # A job that succeeded but whose result went with its daemon (not
        # detached) ended well: its ErrorName is empty, and wait's error
        # is GetResult's JobLost, said in words.
        if name is None and "was not kept when virt-diffd restarted" in err:
            name = "JobLost"
        if name == "JobLost":
            return Outcome("lost", restarted(), "" if restarted() else f"JobLost without a restart: {err}", job,
                           name)
        if name == "Cancelled":
            return Outcome("cancelled", True, "", job, name)
        return Outcome("failed", False, f"wait {job}: exit {rc}, {name}: {err}", job, name)

    # ---- the kinds ----

    def sides(self, spec):
        f = self.env.fixtures
        if spec.kind in ("cached", "unified", "detached"):
            return f"{f}/kinds-a.img", f"{f}/kinds-b.img", "kinds"
        if spec.kind == "snapshot":
            return f"{f}/snaps.qcow2@s1", f"{f}/snaps.qcow2@s2", "snapshot"
        if spec.kind == "cold-snapshot":
            a, b = self.images.snapshot_pair()
            return a, b, "cold"
        a, b = self.images.pair()
        return a, b, "cold"

    def run(self, spec, fault_hook):
        gen0 = self.generation()

        def restarted():
            # Odd: a daemon is being stopped and started again right now.
            now = self.generation()
            return now != gen0 or now % 2 == 1

        if spec.kind == "collect":
            return self.wait_job(spec.job, "kinds",
                                 lambda: self.generation() != spec.generation or spec.generation % 2 == 1)
        if spec.kind == "error":
            o = self.run_error(spec)
            if not o.ok and restarted():
                return Outcome("refused", True, "submitted while the daemon restarted")
            return o
        a, b, ref = self.sides(spec)
        try:
            if spec.kind == "warm":
                for img in (a, b):
                    rc, _, err, _ = self.cli(["warm", "--session", img], prog=self.env.ctl)
                    if rc != 0 and not restarted():
                        return Outcome("failed", False, f"warm {img}: exit {rc}: {err}")
            opts = ["-u"] if spec.kind == "unified" else []
            # Faults aim at appliances, and a warm pair is there to be used.
            if spec.fault or spec.kind == "warm":
                opts += self.engine
            if spec.frontend == "varlink-py":
                return self.run_varlink_py(spec, a, b, ref if spec.kind != "unified" else "unified", restarted)
            return self.run_cli(spec, a, b, opts, "unified" if spec.kind == "unified" else ref, restarted,
                                fault_hook)
        finally:
            if ref == "cold":
                self.images.drop(a, b)

    def run_error(self, spec):
        bad = BAD_INPUTS[spec.bad]
        if not bad.startswith("/"):
            bad = os.path.join(self.env.fixtures, bad)
        good = os.path.join(self.env.fixtures, "kinds-a.img")
        want = self.refs[("error", spec.bad)]
        if spec.frontend == "varlink-py":
            name, _ = self.varlink_compare(bad, good, {})
            return Outcome("refused", name == want[1], f"{name}, expected {want[1]}", None, name)
        args = ["--session"] if spec.frontend == "dbus" else ["--varlink"]
        rc, _, err, _ = self.cli([*args, bad, good])
        return Outcome("refused", rc == 2 and err == want[0], f"exit {rc}: {err!r}, expected {want[0]!r}")

    def run_cli(self, spec, a, b, opts, ref, restarted, fault_hook):
        front = ["--session"] if spec.frontend == "dbus" else ["--varlink"]
        if spec.kind == "detached" or spec.fault in ("cancel-bus", "worker-segv", "qemu-kill", "qemu-stop"):
            rc, out, err, _ = self.cli([*front, "--detach", *opts, a, b])
            m = re.search(rb"/job/(\d+)", out)
            if rc != 0 or not m:
                if restarted():
                    return Outcome("refused", True, "submitted while the daemon restarted")
                return Outcome("failed", False, f"--detach: exit {rc}: {err}")
            job = int(m.group(1))
            if spec.kind == "detached":
                return Outcome("submitted", True, "", job)
            fault_hook(spec, job, (a, b), None)
            o = self.wait_job(job, ref, restarted)
            return self.with_fault(spec, o)

        job_box = {}

        def on_line(line, p):
            m = FOLLOWING.search(line)
            if m and "job" not in job_box:
                job_box["job"] = int(m.group(1))
                if spec.fault:
                    threading.Thread(target=fault_hook, args=(spec, job_box["job"], (a, b), p),
                                     daemon=True).start()

        rc, out, err, _ = self.cli([*front, "-v", "--json", *opts, a, b], on_stderr_line=on_line)
        job = job_box.get("job")
        if rc is None:
            return Outcome("never-ended", False, f"virt-diff never returned: {err}", job)
        lost = LOST_CONNECTION.search(err)
        if spec.fault == "client-kill" and job:
            return self.with_fault(spec, self.wait_job(job, ref, restarted))
        if lost:
            return self.wait_job(int(lost.group(1)), ref, restarted)
        if rc == 1:
            good, why = self.judge_result(ref, out)
            return self.with_fault(spec, Outcome("succeeded", good, why, job))
        if job is None:
            if restarted():
                return Outcome("refused", True, "submitted while the daemon restarted")
            return Outcome("failed", False, f"exit {rc}, no job: {err}")
        name = self.error_name(job)
        if name == "JobLost" or (name is None and restarted()):
            return Outcome("lost", restarted(), "" if restarted() else f"lost without a restart: {err}", job, name)
        if name == "Cancelled" and spec.fault in ("cancel-sigint", "cancel-bus", "client-kill"):
            return self.with_fault(spec, Outcome("cancelled", True, "", job, name))
        return self.with_fault(spec, Outcome("failed", False, f"exit {rc}, {name}: {err}", job, name))

    def with_fault(self, spec, o):
        """A fault's own error is the expected end of its job; a job that
        ended before the fault could land is fine, and the fault counts as
        missed."""
        if spec.fault and o.error in FAULT_ERRORS[spec.fault]:
            o.ok, o.landed, o.why = True, True, ""
            o.state = "cancelled" if o.error == "Cancelled" else "failed"
        return o

    # ---- varlink, with a client of our own ----

    def varlink_client(self):
        import importlib.util
        spec = importlib.util.spec_from_file_location("varlink_client", os.path.join(
            self.env.srcdir, "tests", "varlink-client.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    def varlink_compare(self, a, b, options):
        """(error name or None, replies)."""
        vc = self.varlink_client()
        replies = []
        try:
            with vc.VarlinkClient(self.env.varlink, timeout=JOB_TIMEOUT) as c:
                for r in c.call("org.virtdiff.VirtDiff1.Compare",
                                {"a": [{"path": a}], "b": [{"path": b}], "options": options}, more=True):
                    replies.append(r)
        except vc.VarlinkError as e:
            return e.name.rsplit(".", 1)[-1], replies
        except (vc.ProtocolError, OSError) as e:
            return f"connection: {e}", replies
        return None, replies

    def run_varlink_py(self, spec, a, b, ref, restarted):
        options = {"unified": True} if spec.kind == "unified" else {}
        name, replies = self.varlink_compare(a, b, options)
        job = replies[0].get("job") if replies else None
        if name is None:
            result = replies[-1].get("result") if replies else None
            if result is None:
                return Outcome("failed", False, "no result in the last reply", job)
            good = normal(result, ref) == self.refs[ref]
            return Outcome("succeeded", good, "" if good else "the result differs from the quiet run", job)
        if name.startswith("connection"):
            if job:
                return self.wait_job(job, ref, restarted)
            return Outcome("refused", restarted(), name)
        if name == "JobLost":
            return Outcome("lost", restarted(), name, job, name)
        return Outcome("failed", False, f"varlink {name}", job, name)


def pick(rng, weights):
    total = sum(weights.values())
    x = rng.uniform(0, total)
    for k, w in weights.items():
        x -= w
        if x <= 0:
            return k
    return k
