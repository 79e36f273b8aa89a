"""bench/run --scale: the daemon's memory as the image grows.

Builds pairs of 8k, 100k and 1M entries (mke2fs -d from a generated tree;
kept in the work directory), with scattered changes of every kind: content
edits (size and same-size), mode, owner and mtime changes, removals of files
and of whole directories, additions of files and directories, type changes
(file to symlink, file to directory) and symlink retargets. Each diff's
change set is checked against an oracle computed from the two trees. Then,
with the direct engine, on each pair:

  nocache  a daemon with --no-cache (every scan into a temporary store)
  cold     a daemon with an empty manifest cache
  cached   a new daemon on that cache: both manifests in it

and prints the time and the peak RSS of the daemon, of its worker
processes and of the client, as a Markdown table.

  bench/scale.py [WORK [SIZE...]]              the direct engine's runs
  bench/scale.py --appliance [WORK [SIZE...]]  the appliance's scanner
                                               instead (--engine=appliance; under
                                               TCG, 100k takes minutes)
"""
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("VIRT_DIFF_BUILD", os.path.join(ROOT, "build"))
UUID = "0b3c9d2e-5f4a-4e1b-8c7d-112233445566"
MTIME = 1_700_000_000


def log(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------- trees

def make_tree(root, n, seed):
    """n entries: directories of 100 under /srv/dX/eY, most files empty or
    tiny (the cost of an entry, not of its bytes, is what grows), every
    25th a symlink. Fixed times, so a copy is the same tree."""
    rnd = random.Random(seed)
    files = []
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc/fstab"), "w") as f:
        f.write("/dev/sda1 / ext4 defaults 0 1\n")
    with open(os.path.join(root, "etc/os-release"), "w") as f:
        f.write('ID=debian\nVERSION_ID=12\nPRETTY_NAME="Debian GNU/Linux 12"\n')
    for d in ("usr/bin", "usr/sbin", "usr/lib"):
        os.makedirs(os.path.join(root, d))
    for d in ("bin", "sbin", "lib"):
        os.symlink("usr/" + d, os.path.join(root, d))
    for i in range(n):
        d = os.path.join(root, "srv", f"d{i // 10000}", f"e{(i // 100) % 100}")
        if i % 100 == 0:
            os.makedirs(d, exist_ok=True)
        p = os.path.join(d, f"f{i}")
        if i % 25 == 24:
            os.symlink(f"f{i - 1}", p)
        else:
            with open(p, "wb") as f:
                if rnd.random() < 0.4:
                    f.write(rnd.randbytes(rnd.randint(1, 200)))
            files.append(p)
    for dirpath, dirs, names in os.walk(root, topdown=False):
        for x in names + dirs:
            os.utime(os.path.join(dirpath, x), ns=(MTIME * 10**9, MTIME * 10**9), follow_symlinks=False)
    return files


def change_tree(root, files, n_changes, seed):
    """Scattered changes of every kind, about n_changes entries in all."""
    rnd = random.Random(seed)
    q = max(1, n_changes // 12)
    picked = rnd.sample(files, 10 * q)
    groups = [picked[k * q:(k + 1) * q] for k in range(10)]
    for p in groups[0]:                       # content and size
        with open(p, "ab") as f:
            f.write(b"edited\n")
    for p in groups[1]:                       # same size, new content
        size = os.path.getsize(p)
        with open(p, "wb") as f:
            f.write(b"x" * size if size else b"")
        if size == 0:
            with open(p, "wb") as f:
                f.write(b"now some bytes\n")
    for p in groups[2]:
        os.chmod(p, 0o600)
    for p in groups[3]:
        os.chown(p, 1000, 1000)
    for p in groups[4]:
        os.utime(p, ns=(MTIME * 10**9, (MTIME + 3600) * 10**9))
    for p in groups[5]:
        os.unlink(p)
    for p in groups[6]:                       # file to symlink
        os.unlink(p)
        os.symlink("elsewhere", p)
    for p in groups[7]:                       # file to directory
        os.unlink(p)
        os.mkdir(p)
    for i, p in enumerate(groups[8]):         # new files beside old ones
        with open(p + ".new", "w") as f:
            f.write(f"added {i}\n")
    for p in groups[9]:                       # retargeted symlinks
        d = os.path.dirname(p)
        links = [os.path.join(d, x) for x in os.listdir(d) if os.path.islink(os.path.join(d, x))]
        if links:
            os.unlink(links[0])
            os.symlink("retargeted", links[0])
    # A few whole directories gone, a few new ones.
    dirs = sorted({os.path.dirname(p) for p in files})
    for d in rnd.sample(dirs, min(3, len(dirs) // 10 or 1)):
        shutil.rmtree(d, ignore_errors=True)
    for k in range(3):
        d = os.path.join(root, "srv", f"new{k}")
        os.makedirs(d)
        for i in range(20):
            with open(os.path.join(d, f"g{i}"), "w") as f:
                f.write(f"{k} {i}\n")


def snapshot(root):
    """path (as the guest sees it) -> what the comparer looks at."""
    out = {}
    for dirpath, dirs, names in os.walk(root):
        for x in dirs + names:
            p = os.path.join(dirpath, x)
            st = os.lstat(p)
            rel = "/" + os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("symlink", 0, st.st_uid, st.st_gid, st.st_mtime_ns, os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("directory", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, None, None)
            else:
                with open(p, "rb") as f:
                    h = hashlib.sha256(f.read()).hexdigest()
                out[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_mtime_ns,
                            (st.st_size, h))
    return out


def oracle(a_root, b_root):
    """The change set the comparer must find: {(path, change)}."""
    a, b = snapshot(a_root), snapshot(b_root)
    out = set()
    for p in a.keys() | b.keys():
        x, y = a.get(p), b.get(p)
        if not x:
            out.add((p, "added"))
        elif not y:
            out.add((p, "removed"))
        elif x[0] != y[0]:
            out.add((p, "type"))
        elif x[5] != y[5]:
            out.add((p, "modified"))
        elif x[1:5] != y[1:5]:
            out.add((p, "metadata"))
    return out


def make_disk(tree, disk):
    n = sum(1 + len(d) + len(f) for _, d, f in os.walk(tree))
    size_mb = 256 + n * 3 // 1024          # inode tables and a block for most files
    fs = disk + ".fs"
    with open(fs, "wb") as f:
        f.truncate(size_mb << 20)
    run(["mke2fs", "-q", "-t", "ext4", "-b", "1024", "-I", "256", "-N", str(n * 5 // 4 + 1024), "-U", UUID,
         "-E", f"hash_seed={UUID}", "-d", tree, fs])
    with open(disk, "wb") as f:
        f.truncate((size_mb + 1) << 20)
    run(["sfdisk", "-q", disk], input=b"label: dos\nstart=2048, type=83\n")
    run(["dd", f"if={fs}", f"of={disk}", "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"])
    os.unlink(fs)


def build_pair(work, name, n, n_changes):
    d = os.path.join(work, name)
    if os.path.exists(os.path.join(d, "done")):
        return d
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    log(f"building the {name} pair: {n} entries, about {n_changes} changes")
    t0 = time.monotonic()
    files = make_tree(os.path.join(d, "a"), n, 1)
    run(["cp", "-a", os.path.join(d, "a"), os.path.join(d, "b")])
    change_tree(os.path.join(d, "b"), [p.replace("/a/", "/b/", 1) for p in files], n_changes, 2)
    with open(os.path.join(d, "oracle.json"), "w") as f:
        json.dump(sorted(oracle(os.path.join(d, "a"), os.path.join(d, "b"))), f)
    make_disk(os.path.join(d, "a"), os.path.join(d, "a.img"))
    make_disk(os.path.join(d, "b"), os.path.join(d, "b.img"))
    shutil.rmtree(os.path.join(d, "a"))
    shutil.rmtree(os.path.join(d, "b"))
    with open(os.path.join(d, "done"), "w") as f:
        f.write(f"{n} {n_changes}\n")
    log(f"  built in {time.monotonic() - t0:.0f} s")
    return d


# ---------------------------------------------------------------- runs

def hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Daemon:
    def __init__(self, work, args):
        self.log = open(os.path.join(work, "daemon.log"), "a")
        self.proc = subprocess.Popen([os.path.join(BUILD, "virt-diffd"), "--session", "--idle-timeout=0",
                                      "--pool-size=0"] + args, stderr=self.log)
        self.worker_peak = 0
        self.done = threading.Event()
        for _ in range(200):
            if subprocess.run(["busctl", "--user", "status", "org.virtdiff.VirtDiff1"],
                              capture_output=True).returncode == 0:
                break
            if self.proc.poll() is not None:
                raise SystemExit("virt-diffd did not start: see " + self.log.name)
            time.sleep(0.05)
        threading.Thread(target=self.sample, daemon=True).start()

    def sample(self):
        while not self.done.wait(0.1):
            kids = []
            try:
                # A worker is the child of the job's thread, not the main one.
                for t in os.listdir(f"/proc/{self.proc.pid}/task"):
                    try:
                        kids += open(f"/proc/{self.proc.pid}/task/{t}/children").read().split()
                    except OSError:
                        pass
            except OSError:
                pass
            for c in kids:
                self.worker_peak = max(self.worker_peak, hwm(c))

    def stop(self):
        peak = hwm(self.proc.pid)
        self.done.set()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return peak


def diff(a, b, extra=()):
    """One diff through the running daemon: seconds, the change set, the
    client's peak RSS."""
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.join(BUILD, "virt-diff"), "--session", "--json", *extra, a, b],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    t = time.monotonic() - t0
    if p.returncode not in (0, 1):
        raise SystemExit(f"our diff failed ({p.returncode}): {err.decode(errors='replace')}")
    result = json.loads(out)
    return t, {(c["path"], c["change"]) for c in result["changes"]}, result


def client_rss_run(a, b, fmt="--json"):
    """The same diff, its client's peak RSS; and, for a
    format printed while the job runs, when its first change came out."""
    # Through time(1): wait4()'s figure for a child of this process counts
    # what it shared with it (this process holds the oracle) before exec.
    t0 = time.monotonic()
    first = None
    with tempfile.NamedTemporaryFile("r") as rss:
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss.name, os.path.join(BUILD, "virt-diff"),
                              "--session", fmt, a, b], stdout=subprocess.PIPE)
        for line in p.stdout:
            if first is None and line.startswith(b'{"change"'):
                first = time.monotonic() - t0
        p.wait()
        kb = int(rss.read().split()[-1])
    return time.monotonic() - t0, kb * 1024, first


RUNS = [("nocache", ["--no-cache"], []), ("cold", ["--cache={cache}"], []), ("cached", ["--cache={cache}"], [])]
# --appliance: the appliance's scanner instead (no cache, no warm appliance).
APPLIANCE_RUNS = [("appliance", ["--no-cache"], ["--engine=appliance"])]


def bench_pair(work, name, d, runs=RUNS):
    a, b = d + "/a.img", d + "/b.img"
    with open(d + "/oracle.json") as f:
        want = {tuple(x) for x in json.load(f)}
    row = {"name": name, "oracle": len(want)}

    def check(got, how):
        if got != want:
            missing, extra = sorted(want - got)[:5], sorted(got - want)[:5]
            raise SystemExit(f"{name} {how}: {len(got)} changes, the oracle {len(want)}; "
                             f"missing {missing}, extra {extra}")

    cache = os.path.join(work, f"{name}-cache.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(cache + suffix):
            os.unlink(cache + suffix)

    for how, args, client_args in runs:
        dm = Daemon(work, [x.format(cache=cache) for x in args])
        t, got, _ = diff(a, b, client_args)
        check(got, how)
        _, client, _ = client_rss_run(a, b) if how == "cached" else (None, None, None)
        # NDJSON prints each change as the daemon finds it.
        total, nd_client, first = client_rss_run(a, b, "--output=ndjson") if how == "cached" else (None, None, None)
        row[how] = {"time": t, "daemon": dm.stop(), "worker": dm.worker_peak, "client": client,
                    "ndjson": (first, total, nd_client)}
        log(f"  {name} {how}: {t:.2f} s, daemon {row[how]['daemon'] >> 20} MB, "
            f"workers {row[how]['worker'] >> 20} MB")
    return row


def mb(v):
    return "-" if not v else f"{v / (1 << 20):.0f} MB"


def report(rows):
    if rows and "appliance" in rows[0]:
        out = ["## Scale: the appliance's scanner", "",
               "| pair | changes | seconds | daemon peak RSS | worker peak RSS |", "| --- | ---: | ---: | ---: | ---: |"]
        for r in rows:
            x = r["appliance"]
            out.append(f"| {r['name']} | {r['oracle']} | {x['time']:.2f} | {mb(x['daemon'])} | {mb(x['worker'])} |")
        out += ["", "--engine=appliance on a --no-cache daemon with no warm appliance: both sides walked and hashed in "
                "an appliance under TCG (qemu not counted). The worker is the process holding the libguestfs "
                "handle. Every run's change set equals the oracle."]
        return "\n".join(out) + "\n"
    out = ["## Scale: the direct engine, 8k to 1M entries", "",
           "| pair | changes | run | seconds | daemon peak RSS | worker peak RSS | client peak RSS |",
           "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        for how in ("nocache", "cold", "cached"):
            x = r[how]
            out.append(f"| {r['name']} | {r['oracle']} | {how} | {x['time']:.2f} | {mb(x['daemon'])} "
                       f"| {mb(x['worker'])} | {mb(x['client'])} |")
    out += ["", "Every run's change set equals the oracle computed from the two trees. nocache: --no-cache; "
            "cold: an empty cache; cached: a new daemon, both manifests in the cache. The client's RSS is "
            "measured on a second cached run."]
    out += ["", "| pair | --output=ndjson, cached: first change printed | whole run | client peak RSS |",
            "| --- | ---: | ---: | ---: |"]
    for r in rows:
        first, total, client = r["cached"]["ndjson"]
        out.append(f"| {r['name']} | {'-' if first is None else f'{first:.2f} s'} | {total:.2f} s | {mb(client)} |")
    out += ["", "The first change printed while the comparison runs (the client reads the job's change stream) "
            "against the whole run, and the client's peak RSS printing NDJSON this way."]
    return "\n".join(out) + "\n"


def main(work, sizes, runs=RUNS):
    os.makedirs(work, exist_ok=True)
    rows = []
    for name, n, changes in sizes:
        d = build_pair(work, name, n, changes)
        rows.append(bench_pair(work, name, d, runs))
    text = report(rows)
    print(text)
    return text


SIZES = [("8k", 8000, 200), ("100k", 100000, 1200), ("1M", 1000000, 4000)]

if __name__ == "__main__":
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS_BENCH"):
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS_BENCH="1")
        os.execvpe("dbus-run-session", ["dbus-run-session", "--", sys.executable] + sys.argv, env)
    os.environ["LIBGUESTFS_BACKEND"] = "direct"
    argv = [a for a in sys.argv[1:] if a != "--appliance"]
    only = argv[1:] or None
    main(argv[0] if argv else "/var/tmp/virt-diffd-bench/scale", [s for s in SIZES if not only or s[0] in only],
         APPLIANCE_RUNS if "--appliance" in sys.argv else RUNS)
