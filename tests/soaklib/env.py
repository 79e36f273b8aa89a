"""The soak's world: a private directory, a private session bus that
activates the daemon of the build tree, the fixtures, and what /proc says
about the processes the soak started (the daemon, its workers, their qemu
and qemu-nbd)."""
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time


class Env:
    def __init__(self, srcdir, builddir, daemon_args, keep=False):
        self.srcdir = srcdir
        self.builddir = builddir
        self.keep = keep
        self.tmp = tempfile.mkdtemp(prefix="vd-soak.", dir="/tmp")
        self.bus_pid = None
        self.daemon_args = daemon_args
        self.virt_diff = os.path.join(builddir, "virt-diff")
        self.ctl = os.path.join(builddir, "virt-diffctl")
        self.daemon = os.environ.get("VIRT_DIFFD") or os.path.join(builddir, "virt-diffd")
        self.fixtures = os.path.join(builddir, "fixtures")
        self.run = os.path.join(self.tmp, "run")
        self.cache_dir = os.path.join(self.tmp, "cache", "virt-diffd")
        self.store = os.path.join(self.cache_dir, "manifests.sqlite")
        self.varlink = os.path.join(self.run, "virt-diffd", "io.virtdiff.VirtDiff1")
        self.log = os.path.join(self.tmp, "bus.log")
        os.makedirs(self.run, mode=0o700)
        os.makedirs(os.path.join(self.tmp, "t"))
        self.env = dict(os.environ)
        for k in ("DBUS_SESSION_BUS_ADDRESS", "DBUS_STARTER_ADDRESS", "DBUS_STARTER_BUS_TYPE",
                  "LIBGUESTFS_BACKEND_SETTINGS"):
            self.env.pop(k, None)
        self.env.update({
            "LC_ALL": "C.UTF-8",
            "LIBGUESTFS_BACKEND": "direct",
            "LIBGUESTFS_CACHEDIR": os.environ.get("LIBGUESTFS_CACHEDIR", "/var/tmp"),
            # Everything the daemon and its children make goes here: the
            # leftovers are what is left in it.
            "TMPDIR": os.path.join(self.tmp, "t"),
            "XDG_CACHE_HOME": os.path.join(self.tmp, "cache"),
            "XDG_RUNTIME_DIR": self.run,
            # How the soak tells its processes from everyone else's.
            "VIRT_DIFF_TEST_TMPDIR": self.tmp,
        })

    # ---- the bus and the daemon ----

    def start_bus(self):
        d = os.path.join(self.tmp, "bus")
        os.makedirs(os.path.join(d, "services"))
        with open(os.path.join(d, "services", "org.virtdiff.VirtDiff1.service"), "w") as f:
            f.write("[D-BUS Service]\nName=org.virtdiff.VirtDiff1\n"
                    f"Exec={self.daemon} --session --varlink={self.varlink} {self.daemon_args}\n")
        with open(os.path.join(self.srcdir, "tests", "session-bus.conf.in")) as f:
            conf = f.read().replace("@DIR@", d)
        with open(os.path.join(d, "session.conf"), "w") as f:
            f.write(conf)
        self.env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={d}/socket"
        log = open(self.log, "ab")
        env = dict(self.env, DBUS_DEBUG_OUTPUT="1")
        p = subprocess.run(["dbus-daemon", f"--config-file={d}/session.conf", "--fork", "--print-pid"],
                           env=env, stdout=subprocess.PIPE, stderr=log, check=True)
        self.bus_pid = int(p.stdout.split()[0])

    def busctl(self, *args, timeout=30):
        return subprocess.run(["busctl", "--user", *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def activate(self, timeout=120):
        """Calls the daemon (activating it) until it answers; its pid."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                r = self.busctl("call", "org.virtdiff.VirtDiff1", "/org/virtdiff/VirtDiff1",
                                "org.virtdiff.VirtDiff1.Manager", "ListJobs", timeout=60)
            except subprocess.TimeoutExpired:
                continue
            pid = self.daemon_pid()
            if r.returncode == 0 and pid:
                return pid
            time.sleep(0.5)
        raise RuntimeError("the daemon does not answer")

    def daemon_pid(self):
        r = self.busctl("call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                        "GetConnectionUnixProcessID", "s", "org.virtdiff.VirtDiff1")
        return int(r.stdout.split()[1]) if r.returncode == 0 else None

    def pool_size(self):
        r = self.busctl("call", "org.virtdiff.VirtDiff1", "/org/virtdiff/VirtDiff1",
                        "org.virtdiff.VirtDiff1.Manager", "ListPool")
        return int(r.stdout.split()[1]) if r.returncode == 0 else -1

    # ---- fixtures (tests/fixtures.sh, shared with the other tests) ----

    def ensure_fixtures(self):
        script = os.path.join(self.srcdir, "tests", "fixtures.sh")
        with open(script, "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        os.makedirs(self.fixtures, exist_ok=True)
        with open(os.path.join(self.fixtures, ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with open(os.path.join(self.fixtures, ".stamp")) as f:
                    have = f.read().strip()
            except OSError:
                have = ""
            if have != want:
                subprocess.run(["bash", script, self.fixtures], check=True, capture_output=True)
                with open(os.path.join(self.fixtures, ".stamp"), "w") as f:
                    f.write(want + "\n")

    # ---- processes ----

    def cleanup(self, failed):
        for comm in ("virt-diff", "virt-diffctl", "virt-diffd", "dbus-daemon"):
            for pid in marked(self.tmp, comm):
                try:
                    os.kill(pid, signal.SIGTERM)
                except OSError:
                    pass
            wait_gone(marked(self.tmp, comm), 60)
        for pid in marked(self.tmp, None):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if failed and self.keep:
            print(f"# kept {self.tmp}")
        else:
            subprocess.run(["umount", "-l", self.cache_dir], capture_output=True)
            shutil.rmtree(self.tmp, ignore_errors=True)


def read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return None


def comm_of(pid):
    c = read(f"/proc/{pid}/comm")
    return c.strip() if c else None


def ppid_of(pid):
    s = read(f"/proc/{pid}/stat")
    if not s:
        return None
    return int(s[s.rindex(")") + 2:].split()[1])


def pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def marked(tmp, comm):
    """Processes whose environment carries the soak's marker (comm, or all)."""
    out = []
    me = os.getpid()
    for pid in pids():
        if pid == me:
            continue
        c = comm_of(pid)
        if c is None or (comm is not None and c != comm):
            continue
        env = read(f"/proc/{pid}/environ", "rb")
        if env and f"VIRT_DIFF_TEST_TMPDIR={tmp}".encode() in env.split(b"\0"):
            out.append(pid)
    return out


def descendants(root):
    """Every process under root, with its comm."""
    children = {}
    for pid in pids():
        pp = ppid_of(pid)
        if pp:
            children.setdefault(pp, []).append(pid)
    out, todo = {}, [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out[c] = comm_of(c)
            todo.append(c)
    return out


def alive(pid):
    s = read(f"/proc/{pid}/stat")
    return bool(s) and s[s.rindex(")") + 2] not in "ZX"


def wait_gone(pid_list, seconds):
    """Waits until none of them runs; those still running."""
    end = time.monotonic() + seconds
    left = [p for p in pid_list if alive(p)]
    while left and time.monotonic() < end:
        time.sleep(0.1)
        left = [p for p in left if alive(p)]
    return left


def open_files(pid):
    """What pid's file descriptors point to (none once it is gone)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return
    for fd in fds:
        try:
            yield os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue


def holder_of(path, comm_prefix, under=None):
    """A process (of that comm, under a pid) holding path open."""
    real = os.path.realpath(path)
    scope = descendants(under) if under else {p: comm_of(p) for p in pids()}
    for pid, comm in scope.items():
        if comm and comm.startswith(comm_prefix) and \
                any(t in (real, real + " (deleted)") for t in open_files(pid)):
            return pid
    return None


def holders_under(directory):
    """'PID COMM PATH' of each process with a file open under directory."""
    real = os.path.realpath(directory) + "/"
    return [f"{pid} {comm_of(pid)} {t}" for pid in pids() for t in open_files(pid) if t.startswith(real)]


def status_kb(pid, field):
    s = read(f"/proc/{pid}/status") or ""
    for line in s.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def fd_targets(pid):
    out = []
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for fd in fds:
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return out


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0
