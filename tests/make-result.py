#!/usr/bin/env python3
"""Writes result documents (schemas/diff-result.schema.json) for the report
tests, with no daemon and no image: the result JSON is the interface
between the daemon and the client's writers.

  make-result.py hostile FILE      names built to break out of HTML,
                                   Markdown and the report's script
  make-result.py big N FILE        N changes in a guest-like tree, with
                                   some -u diffs (seeded: always the same)
  make-result.py small FILE        a handful of changes, for the pictures
  make-result.py manifest FILE     an exported manifest (schemas/manifest.schema.json)
                                   with hostile names, every kind of entry

With --check SCHEMA the document is validated first (python3-jsonschema).
"""
import base64
import hashlib
import json
import random
import sys

KEY_A = "a" * 64
KEY_B = "b" * 64
T0 = 1700000000 * 10**9


def name_fields(key, raw):
    """NAME (and NAME_base64 when the bytes are not UTF-8), as the daemon writes them."""
    try:
        text = raw.decode("utf-8")
        if "\0" not in text:
            return {key: text}
    except UnicodeDecodeError:
        pass
    return {key: raw.decode("utf-8", "replace").replace("\0", "\ufffd"),
            key + "_base64": base64.b64encode(raw).decode("ascii")}


def stat(kind="file", size=0, mode=0o644, uid=0, gid=0, mtime=T0, sha=None, target=None, rdev=None, xattrs=()):
    st = {"kind": kind, "mode": mode, "uid": uid, "gid": gid, "size": size, "mtime_ns": mtime,
          "atime_ns": mtime, "ctime_ns": mtime, "nlink": 2 if kind == "directory" else 1, "ino": 12,
          "dev": 2049, "blocks": (size + 511) // 512, "blksize": 4096, "xattrs": []}
    if kind == "file" and sha:
        st["sha256"] = sha
    if kind == "symlink":
        st.update(name_fields("target", target or b"target"))
    if kind in ("char", "block"):
        st["rdev"] = rdev or 0
    for name, value in xattrs:
        x = name_fields("name", name)
        x["value_base64"] = base64.b64encode(value).decode("ascii")
        st["xattrs"].append(x)
    return st


def sha(i):
    return hashlib.sha256(b"%d" % i).hexdigest()


def change(path, kind, change_kind, old=None, new=None, fields=(), tree="/", fs="/dev/sda1", **extra):
    side = new or old
    c = {"tree": tree, "filesystem": fs, "change": change_kind, "kind": side["kind"],
         "fields": list(fields), "size": side["size"], "old": old, "new": new}
    c.update(name_fields("path", path))
    c.update(extra)
    return c


def filesystem(device, label=b"root", mountpoint=b"/", size=1 << 30, uuid="1111", error=None):
    fs = {"device": device, "type": "ext4", "uuid": uuid, "size": size, "scanned": error is None,
          "error": error}
    fs.update(name_fields("label", label))
    fs.update(name_fields("mountpoint", mountpoint) if mountpoint is not None else {"mountpoint": None})
    return fs


def side(path, key, os_name="Debian GNU/Linux 12", cached=False):
    img = {"format": "qcow2", "virtual_size": 1 << 30}
    img.update(name_fields("path", path))
    # A side not from the cache was read by the direct engine (no reason
    # for the appliance to say).
    return {"images": [img], "key": key, "cached": cached, "engine": None if cached else "direct",
            "direct_refused": None, "inspected": os_name is not None, "os": os_name, "crash_consistent": False}


def summary(changes, fss):
    s = {k: 0 for k in ("added", "removed", "modified", "metadata", "type")}
    for c in changes:
        s[c["change"]] += 1
    f = {k: 0 for k in ("added", "removed", "changed", "unchanged")}
    for x in fss:
        f[x["change"]] += 1
    s["filesystems"] = f
    s["differences"] = bool(changes) or any(x["change"] != "unchanged" for x in fss)
    return s


def fs_change(old, new, fields=(), change_kind="unchanged"):
    side_ = new or old
    c = {"device": side_["device"], "type": side_["type"], "change": change_kind, "matched_by": "mountpoint",
         "fields": list(fields), "old": old, "new": new}
    c.update({k: v for k, v in side_.items() if k.startswith("mountpoint")})
    return c


def document(a, b, fss, changes):
    return {"version": 1, "a": a, "b": b, "filesystems": fss, "changes": changes,
            "summary": summary(changes, fss)}


# ---- the hostile names ----
HOSTILE = [
    b"/srv/<script>window.__pwned=1</script>",
    b"/srv/\"><img src=x onerror=\"window.__pwned=2\">",
    b"/srv/a b & c; d",
    b"/srv/new\nline",
    b"/srv/\xff\xfe not utf-8.bin",
    b"/srv/</noscript><script>window.__pwned=3</script>",
    b"/srv/</script><script>window.__pwned=4</script>",
    b"/srv/<!--",
    b"/srv/'single' \"double\"",
    b"/srv/\xe2\x80\xaetxt.exe",
    b"/srv/a|b `tick` ``two``",
    b"/srv/<svg onload=window.__pwned=5>",
    b"/srv/\\u003cscript\\u003e",
]
HOSTILE_DIR = b"/srv/<b>dir</b> & <i>more</i>"


def hostile():
    changes = [change(b"/srv", "directory", "metadata", stat("directory", 4096, 0o755),
                      stat("directory", 4096, 0o700), ["mode"])]
    for i, p in enumerate(sorted(HOSTILE + [HOSTILE_DIR, HOSTILE_DIR + b"/child <u>x</u>"])):
        if p == HOSTILE_DIR:
            changes.append(change(p, "directory", "added", None, stat("directory", 4096, 0o755)))
        elif p.endswith(b"tick` ``two``"):
            changes.append(change(p, "symlink", "modified", stat("symlink", 5, target=b"<old>"),
                                  stat("symlink", 30, target=b"<img src=x onerror=window.__pwned=6>"),
                                  ["size", "target"]))
        elif p.startswith(b"/srv/a b"):
            diff = ("--- a/srv/a b & c; d\n+++ b/srv/a b & c; d\n@@ -1,2 +1,2 @@\n"
                    "-</pre><script>window.__pwned=7</script>\n+<img src=x onerror=window.__pwned=8>\n"
                    " ```\n")
            changes.append(change(p, "file", "modified", stat(size=40, sha=sha(1)), stat(size=41, sha=sha(2)),
                                  ["content", "size"], diff=diff))
        elif p.startswith(b"/srv/'single'"):
            changes.append(change(p, "file", "metadata",
                                  stat(size=3, sha=sha(3), xattrs=[(b"user.<x>", b"<script>")]),
                                  stat(size=3, sha=sha(3), xattrs=[(b"user.<x>", b"</script>\xff")]),
                                  ["xattrs"]))
        elif i % 3 == 1:
            changes.append(change(p, "file", "removed", stat(size=100 + i, sha=sha(i)), None))
        else:
            changes.append(change(p, "file", "added", None, stat(size=1000 * i, sha=sha(i))))
    changes.sort(key=lambda c: [x for x in (base64.b64decode(c["path_base64"]) if "path_base64" in c
                                            else c["path"].encode()).split(b"/")])
    old_fs = filesystem("/dev/sda1", label=b"<i>old</i>", mountpoint=b"/")
    new_fs = filesystem("/dev/sda1", label=b"</title><script>window.__pwned=9</script>", mountpoint=b"/")
    fss = [fs_change(old_fs, new_fs, ["label"], "changed")]
    return document(side(b"/img/<script>window.__pwned=10</script>.qcow2", KEY_A, "<b>OS</b> & co"),
                    side(b"/img/b \xff.qcow2", KEY_B, None, cached=True), fss, changes)


# ---- a big, guest-like pair ----
TOP = ["usr", "var", "etc", "opt", "home", "srv", "boot", "root", "lib", "tmp"]


def big(n):
    rnd = random.Random(17)
    paths = set()
    dirs = set()
    while len(paths) < n:
        top = rnd.choice(TOP)
        depth = rnd.randint(1, 4)
        parts = [top] + ["d%02d" % rnd.randint(0, 30) for _ in range(depth - 1)]
        d = "/" + "/".join(parts)
        paths.add(d + "/f%05d.%s" % (rnd.randint(0, 99999), rnd.choice(["conf", "so", "py", "txt", "bin"])))
        dirs.add(d)
    changes = []
    kinds = ["added"] * 6 + ["removed"] * 2 + ["modified"] * 3 + ["metadata"]
    for i, p in enumerate(sorted(paths | dirs, key=lambda s: s.split("/"))):
        if p in dirs:
            if rnd.random() < 0.05:
                changes.append(change(p.encode(), "directory", "metadata", stat("directory", 4096, 0o755),
                                      stat("directory", 4096, 0o775), ["mode"]))
            continue
        k = rnd.choice(kinds)
        size = int(rnd.paretovariate(1.2) * 2000)
        if k == "added":
            changes.append(change(p.encode(), "file", k, None, stat(size=size, sha=sha(i))))
        elif k == "removed":
            changes.append(change(p.encode(), "file", k, stat(size=size, sha=sha(i)), None))
        elif k == "modified":
            extra = {}
            if i % 97 == 0:
                extra["diff"] = ("--- a%s\n+++ b%s\n@@ -1,3 +1,3 @@\n context\n-old value %d\n+new value %d\n"
                                 " context\n" % (p, p, i, i + 1))
            changes.append(change(p.encode(), "file", k, stat(size=size, sha=sha(i)),
                                  stat(size=size + 10, sha=sha(i + 1)), ["content", "size"], **extra))
        else:
            changes.append(change(p.encode(), "file", k, stat(size=size, sha=sha(i)),
                                  stat(size=size, sha=sha(i), mode=0o600, uid=1000), ["mode", "uid"]))
    fs = filesystem("/dev/sda1")
    return document(side(b"/var/lib/libvirt/images/golden.qcow2", KEY_A, cached=True),
                    side(b"/var/lib/libvirt/images/web01.qcow2", KEY_B), [fs_change(fs, fs)], changes)


def small():
    boot_old = filesystem("/dev/sda1", label=b"boot", mountpoint=b"/boot", size=256 << 20, uuid="0c1d")
    boot_new = filesystem("/dev/sda1", label=b"BOOT", mountpoint=b"/boot", size=256 << 20, uuid="0c1d")
    root = filesystem("/dev/sda2", label=b"root", mountpoint=b"/", uuid="77aa")
    data = filesystem("/dev/sda3", label=b"data", mountpoint=None, size=10 << 20, uuid="9e01")
    fss = [fs_change(boot_old, boot_new, ["label"], "changed"), fs_change(root, root),
           fs_change(None, data, [], "added")]
    hostname = ("--- a/etc/hostname\n+++ b/etc/hostname\n@@ -1 +1 @@\n-web01\n+web01-staging\n")
    nginx = ("--- a/etc/nginx/nginx.conf\n+++ b/etc/nginx/nginx.conf\n@@ -12,7 +12,7 @@\n"
             " http {\n     sendfile on;\n     tcp_nopush on;\n-    keepalive_timeout 65;\n"
             "+    keepalive_timeout 15;\n     types_hash_max_size 2048;\n     server_tokens off;\n }\n")
    changes = [
        change(b"/boot/grub/grub.cfg", "file", "modified", stat(size=4120, sha=sha(1)),
               stat(size=4188, sha=sha(2)), ["content", "size"], diff_omitted="larger than 1 MiB"),
        change(b"/etc/hostname", "file", "modified", stat(size=6, sha=sha(3)), stat(size=14, sha=sha(4)),
               ["content", "size"], diff=hostname),
        change(b"/etc/nginx", "directory", "added", None, stat("directory", 4096, 0o755)),
        change(b"/etc/nginx/nginx.conf", "file", "added", None, stat(size=1490, sha=sha(5))),
        change(b"/etc/nginx/sites-enabled", "directory", "added", None, stat("directory", 4096, 0o755)),
        change(b"/etc/nginx/sites-enabled/default", "symlink", "added", None,
               stat("symlink", 34, target=b"/etc/nginx/sites-available/default")),
        change(b"/etc/shadow", "file", "metadata", stat(size=1024, mode=0o640, gid=42, sha=sha(6)),
               stat(size=1024, mode=0o600, gid=0, sha=sha(6)), ["mode", "gid"]),
        change(b"/usr/sbin/nginx", "file", "added", None, stat(size=1_236_512, mode=0o755, sha=sha(7))),
        change(b"/usr/share/doc/nginx/changelog.gz", "file", "added", None, stat(size=102_311, sha=sha(8))),
        change(b"/var/cache/apt/pkgcache.bin", "file", "modified", stat(size=27_000_000, sha=sha(9)),
               stat(size=28_400_000, sha=sha(10)), ["content", "size"], binary=True),
        change(b"/var/log/nginx", "directory", "added", None, stat("directory", 4096, 0o750, gid=4)),
        change(b"/var/log/nginx/access.log", "file", "added", None, stat(size=88_200, mode=0o640, sha=sha(11))),
        change(b"/var/tmp/build-1234", "directory", "removed", stat("directory", 4096, 0o700), None),
        change(b"/var/tmp/build-1234/out.o", "file", "removed", stat(size=2_400_000, sha=sha(12)), None),
    ]
    nginx_change = change(b"/etc/nginx/nginx.conf", "file", "modified", stat(size=1490, sha=sha(13)),
                          stat(size=1490, sha=sha(14)), ["content"], diff=nginx)
    changes[3] = nginx_change
    changes[2] = change(b"/etc/nginx", "directory", "metadata", stat("directory", 4096, 0o755),
                        stat("directory", 4096, 0o755, mtime=T0 + 86400 * 10**9), ["mtime"])
    changes.insert(0, change(b"/", "directory", "metadata", stat("directory", 4096, 0o755),
                             stat("directory", 4096, 0o755, uid=0, xattrs=[(b"security.selinux", b"root_t")]),
                             ["xattrs"], tree="/"))
    changes.append(change(b"/data.txt", "file", "added", None, stat(size=5_000_000, sha=sha(15)),
                          tree="/dev/sda3", fs="/dev/sda3"))
    return document(side(b"/var/lib/libvirt/images/web01-golden.qcow2", sha(101), cached=True),
                    side(b"/var/lib/libvirt/images/web01.qcow2", sha(102)), fss, changes)


def manifest():
    fs = filesystem("/dev/sda1")
    data = filesystem("/dev/sdb1", label=b"data", mountpoint=None, size=10 << 20)
    entries = [
        (b"/", stat("directory", 4096, 0o755)),
        (b"/bin", stat("symlink", 7, 0o777, target=b"usr/bin")),
        (b"/dev", stat("directory", 4096, 0o755)),
        (b"/dev/null", stat("char", 0, 0o666, rdev=(1 << 8) | 3)),
        (b"/dev/sda", stat("block", 0, 0o660, gid=6, rdev=(8 << 8) | 0)),
        (b"/etc", stat("directory", 4096, 0o755)),
        (b"/etc/hostname", stat(size=6, sha=sha(1))),
        (b"/etc/shadow", stat(size=1024, mode=0o640, gid=42, sha=sha(2))),
        (b"/run", stat("directory", 4096, 0o755)),
        (b"/run/fifo", stat("fifo", 0, 0o600)),
        (b"/run/sock", stat("socket", 0, 0o777)),
        (b"/srv", stat("directory", 4096, 0o1777, mtime=-1_500_000_000)),
    ] + [(p, stat(size=i, sha=sha(10 + i), target=b"\xff<x> y", xattrs=[(b"user.\n", b"\0\xff")]))
         for i, p in enumerate(sorted(b"/srv/" + h[5:].replace(b"/", b"_") for h in HOSTILE + [b"/srv/*?[#glob"]))]
    entries.append((b"/srv/link \xff", stat("symlink", 9, 0o777, target=b"a b\\c\n\xff")))
    entries.sort(key=lambda e: e[0].split(b"/"))

    def entry(p, st, device):
        e = {"filesystem": device}
        e.update(name_fields("path", p))
        e.update(st)
        return e
    doc = {"format": "virt-diff-manifest", "version": 1, "key": KEY_A,
           "images": side(b"/var/lib/libvirt/images/web01.qcow2", KEY_A)["images"],
           "exported_at": "2026-12-05T10:00:00Z", "inspected": True, "os": "Debian GNU/Linux 12",
           "filesystems": [fs, data],
           "trees": [{"tree": "/", "entries": [entry(p, st, "/dev/sda1") for p, st in entries]},
                     {"tree": "/dev/sdb1", "entries": [entry(b"/", stat("directory", 4096, 0o755), "/dev/sdb1"),
                                                       entry(b"/data.txt", stat(size=5, sha=sha(99)), "/dev/sdb1")]}]}
    return doc


def main(argv):
    schema = None
    if len(argv) > 2 and argv[1] == "--check":
        schema = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) >= 3 and argv[1] == "hostile":
        doc, out = hostile(), argv[2]
    elif len(argv) >= 3 and argv[1] == "small":
        doc, out = small(), argv[2]
    elif len(argv) >= 3 and argv[1] == "manifest":
        doc, out = manifest(), argv[2]
    elif len(argv) >= 4 and argv[1] == "big":
        doc, out = big(int(argv[2])), argv[3]
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if schema:
        import jsonschema
        jsonschema.validate(doc, json.load(open(schema)))
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
