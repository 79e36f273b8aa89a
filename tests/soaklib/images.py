"""Images for the soak, made with mke2fs -d (no appliance): a template pair
whose differences are known, and fresh copies of it whose bytes are new
(a marker file, the same on both sides) so that nothing is cached, yet
whose comparison is the template's."""
import os
import subprocess
import threading

T0 = 1700000000
UUID = "6a1f0f9e-4b7a-4c55-9a51-0b6f1d1a0f0f"


def _write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _tree(root, variant):
    """A small guest-like tree; "b" differs in each way the comparer knows."""
    for d in range(6):
        for i in range(8):
            _write(f"{root}/usr/share/doc/pkg{d}/file{i}.txt", f"package {d} file {i}\n" * (i + 1))
    _write(f"{root}/etc/hostname", "soak-a\n" if variant == "a" else "soak-b\n")
    _write(f"{root}/etc/motd", "welcome\n")
    _write(f"{root}/etc/same-size", "AAAA\n" if variant == "a" else "BBBB\n")
    _write(f"{root}/etc/secret", "s\n", 0o644 if variant == "a" else 0o600)
    if variant == "a":
        _write(f"{root}/var/log/old.log", "gone\n")
    else:
        _write(f"{root}/var/log/new.log", "new\n")
        for i in range(5):
            _write(f"{root}/opt/added/f{i}", f"added {i}\n")
    os.symlink("motd" if variant == "a" else "hostname", f"{root}/etc/link")


def _fix_times(root):
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            os.utime(os.path.join(dirpath, n), (T0, T0), follow_symlinks=False)
    os.utime(root, (T0, T0))


class Images:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "images")
        self.trees = {}
        self.lock = threading.Lock()
        self.count = 0
        os.makedirs(self.dir)
        for v in ("a", "b"):
            root = os.path.join(self.dir, f"tree-{v}")
            os.makedirs(root)
            _tree(root, v)
            self.trees[v] = root

    def _mkfs(self, variant, marker, path):
        root = self.trees[variant]
        with self.lock:
            _write(f"{root}/soak-id", marker + "\n")
            _fix_times(root)
            subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-U", UUID, "-L", "soak",
                            "-E", f"hash_seed={UUID},nodiscard", "-d", root, path, "4096"],
                           check=True, capture_output=True)

    def pair(self, tag=None):
        """A new pair, never seen before (unless tag names one again)."""
        with self.lock:
            self.count += 1
            n = self.count
        tag = tag or f"p{n}"
        a = os.path.join(self.dir, f"{tag}-a.img")
        b = os.path.join(self.dir, f"{tag}-b.img")
        self._mkfs("a", tag, a)
        self._mkfs("b", tag, b)
        return a, b

    def snapshot_pair(self, tag=None):
        """A new qcow2 holding the pair as internal snapshots s1 and s2."""
        a, b = self.pair(tag)
        q = a[:-len("-a.img")] + "-snaps.qcow2"
        for args in (["convert", "-f", "raw", "-O", "qcow2", a, q], ["snapshot", "-c", "s1", q],
                     ["convert", "-n", "-f", "raw", "-O", "qcow2", b, q], ["snapshot", "-c", "s2", q]):
            subprocess.run(["qemu-img", *args], check=True, capture_output=True)
        os.unlink(a)
        os.unlink(b)
        return f"{q}@s1", f"{q}@s2"

    def drop(self, *paths):
        for p in paths:
            p = p.split("@")[0]
            if p.startswith(self.dir):
                try:
                    os.unlink(p)
                except OSError:
                    pass
