#!/usr/bin/env python3
"""Checks virt-diffctl manifest's CSV and mtree forms against the manifest
document they were written from, as other tools read them.

  check-manifest.py csv MANIFEST.json FILE.csv
  check-manifest.py tar MANIFEST.json FILE.tar   (bsdtar -cf FILE.tar @FILE.mtree)

Every entry must be there with its type, mode, owner, size, time, link
target and device numbers; names byte for byte. Exit status 0 when all
hold, else 1 with the first difference.
"""
import base64
import csv
import io
import json
import os
import sys
import tarfile


def fail(msg):
    print("FAIL: check-manifest: " + msg, file=sys.stderr)
    sys.exit(1)


def name(o, key):
    return base64.b64decode(o[key + "_base64"]) if key + "_base64" in o else o[key].encode()


def entries(doc):
    for t in doc["trees"]:
        for e in t["entries"]:
            yield t["tree"], e


def check_csv(doc, path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "surrogateescape")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = ["tree", "path", "filesystem", "kind", "mode", "uid", "gid", "size", "mtime_ns", "sha256", "target"]
    if rows[0] != header:
        fail("csv header %s" % rows[0])
    want = []
    for tree, e in entries(doc):
        want.append([tree, name(e, "path"), e["filesystem"], e["kind"], "%04o" % e["mode"], str(e["uid"]),
                     str(e["gid"]), str(e["size"]), str(e["mtime_ns"]), e.get("sha256", ""),
                     name(e, "target") if "target" in e else b""])
    got = [[c.encode("utf-8", "surrogateescape") if i in (1, 10) else c for i, c in enumerate(r)] for r in rows[1:]]
    if got != want:
        for g, w in zip(got, want):
            if g != w:
                fail("csv row %s, expected %s" % (g, w))
        fail("csv: %d rows, expected %d" % (len(got), len(want)))
    print("ok - manifest as CSV: %d entries, names byte for byte" % len(want))


TYPES = {"file": tarfile.REGTYPE, "directory": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
         "char": tarfile.CHRTYPE, "block": tarfile.BLKTYPE, "fifo": tarfile.FIFOTYPE}


def check_tar(doc, path):
    with tarfile.open(path, encoding="utf-8", errors="surrogateescape") as t:
        members = {m.name.encode("utf-8", "surrogateescape").rstrip(b"/"): m for m in t.getmembers()}
    n = 0
    for tree, e in entries(doc):
        full = (b"." if tree == "/" else b"." + tree.encode() + b":") + (b"" if e["path"] == "/" else name(e, "path"))
        m = members.pop(full, None)
        if e["kind"] == "socket":
            # libarchive's mtree has no socket type: written as a comment.
            if m is not None:
                fail("the socket %r is in the archive" % full)
            continue
        if m is None:
            fail("%r is not in the archive" % full)
        got = (m.type, m.mode, m.uid, m.gid, int(m.mtime))
        want = (TYPES[e["kind"]], e["mode"], e["uid"], e["gid"], e["mtime_ns"] // 10**9)
        if got != want:
            fail("%r: type, mode, uid, gid, mtime %s, expected %s" % (full, got, want))
        if e["kind"] == "file" and m.size != e["size"]:
            fail("%r: size %d, expected %d" % (full, m.size, e["size"]))
        if e["kind"] == "symlink" and m.linkname.encode("utf-8", "surrogateescape") != name(e, "target"):
            fail("%r: link %r, expected %r" % (full, m.linkname, name(e, "target")))
        if e["kind"] in ("char", "block") and (m.devmajor, m.devminor) != (os.major(e["rdev"]), os.minor(e["rdev"])):
            fail("%r: device %d,%d" % (full, m.devmajor, m.devminor))
        n += 1
    if members:
        fail("in the archive but not in the manifest: %s" % list(members))
    print("ok - manifest as mtree, read by bsdtar: %d entries with their type, mode, owner, size, time, "
          "target and device" % n)


def main(argv):
    if len(argv) != 4 or argv[1] not in ("csv", "tar"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[2], encoding="utf-8") as f:
        doc = json.load(f)
    (check_csv if argv[1] == "csv" else check_tar)(doc, argv[3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
