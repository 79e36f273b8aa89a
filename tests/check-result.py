#!/usr/bin/python3
"""Checks a virt-diff --json result against the schema and an exact set of
expected changes.

Usage: check-result.py RESULT.json EXPECTATIONS [--define NAME=VALUE ...]

EXPECTATIONS is a file ("-" for stdin), one assertion a line, split like a
shell line (shlex), '#' starts a comment, ${NAME} is replaced by a --define:

  change TREE PATH CHANGE KIND [FIELDS [FILESYSTEM]]
      One element of "changes". PATH takes the escapes \\n \\t \\\\ \\xHH
      (bytes), so write it in single quotes. FIELDS is a comma list in any
      order; "-" or nothing for none. FILESYSTEM, when given, is the device
      the entry must be on.
  fs DEVICE CHANGE MATCHED_BY [FIELDS [MOUNTPOINT]]
      One element of "filesystems"; MOUNTPOINT "-" (the default) for null.
  json DOTTED.PATH JSON-VALUE
      A value anywhere in the document, e.g. "json a.inspected true" or
      "json a.images.0.format qcow2" (what is not JSON is a string).

The change and filesystem lines are the whole set: anything missing or
extra fails. Independently of the expectations it also checks what the
schema cannot: the order of changes, the summary counts, that path_base64
appears exactly when needed and matches the lossy path, that old/new and
kind/size agree with the change, that each field named differs and each
default field not named is equal, that every regular file was hashed, and
that a side is crash_consistent exactly when it is a running domain's
current disks.

Exit status 0 when everything holds, 1 otherwise (each problem on stderr).
"""

import argparse
import base64
import json
import os
import re
import shlex
import sys

try:
    import jsonschema
except ImportError:  # the test then skips: it needs python3-jsonschema
    print("check-result.py: python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(77)

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schemas", "diff-result.schema.json")

# Fields compared by default, and how to tell from the two stats.
DEFAULT_FIELDS = ("size", "target", "rdev", "mode", "uid", "gid", "mtime", "xattrs")

problems = []
doc_filesystems = []


def problem(msg):
    problems.append(msg)


def unescape(s):
    """\\n \\t \\\\ \\xHH escapes of an expectation into bytes."""
    out = bytearray()
    i = 0
    raw = s.encode("utf-8", "surrogateescape")
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            n = raw[i + 1]
            if n == ord("n"):
                out.append(10)
                i += 2
                continue
            if n == ord("t"):
                out.append(9)
                i += 2
                continue
            if n == 0x5C:
                out.append(0x5C)
                i += 2
                continue
            if n == ord("x") and i + 3 < len(raw):
                out.append(int(raw[i + 2:i + 4].decode(), 16))
                i += 4
                continue
        out.append(c)
        i += 1
    return bytes(out)


def utf8_len(b):
    if b < 0x80:
        return 1
    if b & 0xE0 == 0xC0:
        return 2
    if b & 0xF0 == 0xE0:
        return 3
    if b & 0xF8 == 0xF0:
        return 4
    return 0


def lossy(data):
    """What the schema promises for a name that is not UTF-8: valid
    sequences kept, each other byte (and NUL) as U+FFFD."""
    out = []
    i = 0
    while i < len(data):
        n = utf8_len(data[i])
        if data[i] != 0 and n > 0 and i + n <= len(data):
            try:
                out.append(data[i:i + n].decode("utf-8"))
                i += n
                continue
            except UnicodeDecodeError:
                pass
        out.append("\ufffd")
        i += 1
    return "".join(out)


def is_text(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in data


def name_bytes(obj, key, where):
    """The exact bytes of obj[key], checking the NAME/NAME_base64 rule."""
    s = obj.get(key)
    b64 = obj.get(key + "_base64")
    if s is None:
        if b64 is not None:
            problem(f"{where}: {key}_base64 without {key}")
        return None
    if b64 is None:
        data = s.encode("utf-8")
        if not is_text(data):
            problem(f"{where}: {key} {s!r} holds NUL but has no {key}_base64")
        return data
    data = base64.b64decode(b64, validate=True)
    if is_text(data):
        problem(f"{where}: {key}_base64 given for a name that is valid UTF-8: {data!r}")
    if s != lossy(data):
        problem(f"{where}: {key} {s!r} is not the lossy form {lossy(data)!r} of {data!r}")
    return data


def path_key(data):
    # Components compared bytewise, '/' before every other byte.
    return [1 if b == 0x2F else b for b in data]


def show(data):
    return repr(data)[1:]


def stat_field_differs(field, old, new):
    if field == "size":
        return old["size"] != new["size"]
    if field == "target":
        return name_bytes(old, "target", "old") != name_bytes(new, "target", "new")
    if field == "rdev":
        return old.get("rdev") != new.get("rdev")
    if field == "mtime":
        return old["mtime_ns"] != new["mtime_ns"]
    if field == "xattrs":
        key = lambda x: (name_bytes(x, "name", "xattr"), x["value_base64"])
        return sorted(map(key, old["xattrs"])) != sorted(map(key, new["xattrs"]))
    return old[field] != new[field]


def check_change(c, i):
    path = name_bytes(c, "path", f"changes[{i}]")
    where = f"change {c['tree']}:{show(path)}"
    old, new = c["old"], c["new"]
    kind, fields = c["change"], c["fields"]
    present = {"added": (False, True), "removed": (True, False)}.get(kind, (True, True))
    if (old is not None, new is not None) != present:
        problem(f"{where}: {kind} but old is {'set' if old else 'null'} and new is {'set' if new else 'null'}")
        return
    side = new or old
    if c["kind"] != side["kind"]:
        problem(f"{where}: kind {c['kind']} is not the {'new' if new else 'old'} side's {side['kind']}")
    if c["size"] != side["size"]:
        problem(f"{where}: size {c['size']} is not the {'new' if new else 'old'} side's {side['size']}")
    if c["filesystem"] is None:
        problem(f"{where}: no filesystem")
    elif c["tree"] != "/" and c["filesystem"] != c["tree"]:
        # A filesystem scanned on its own is its own tree.
        problem(f"{where}: on {c['filesystem']}, not on its tree's device")
    devices = [f["device"] for f in doc_filesystems]
    if c["filesystem"] is not None and c["filesystem"] not in devices:
        problem(f"{where}: its filesystem {c['filesystem']} is not among the filesystems")
    for st, name in ((old, "old"), (new, "new")):
        if st and st["kind"] == "file" and "sha256" not in st:
            problem(f"{where}: the {name} file was not hashed")
        if st and (st["kind"] in ("char", "block")) != ("rdev" in st):
            problem(f"{where}: rdev present on a {st['kind']} ({name}) or missing")
        if st and (st["kind"] == "symlink") != ("target" in st):
            problem(f"{where}: target present on a {st['kind']} ({name}) or missing")
    if kind in ("added", "removed", "type"):
        if fields:
            problem(f"{where}: {kind} with fields {fields}")
        if kind == "type" and old["kind"] == new["kind"]:
            problem(f"{where}: type change but both sides are {old['kind']}")
        return
    if old["kind"] != new["kind"]:
        problem(f"{where}: {kind} across kinds {old['kind']} -> {new['kind']}")
        return
    content = {"content", "size", "target", "rdev"} & set(fields)
    if (kind == "modified") != bool(content):
        problem(f"{where}: {kind} with fields {fields}")
    if "content" in fields and old["kind"] == "file" and old["size"] == new["size"] \
            and old.get("sha256") == new.get("sha256"):
        problem(f"{where}: content differs but sizes and hashes are equal")
    if "content" not in fields and old["kind"] == "file" and old.get("sha256") != new.get("sha256"):
        problem(f"{where}: hashes differ but content is not among the fields")
    for f in DEFAULT_FIELDS:
        if f == "mtime" and old["kind"] == "directory":
            continue  # directory times only with --dir-times
        differs = stat_field_differs(f, old, new)
        if differs and f not in fields:
            problem(f"{where}: {f} differs but is not among the fields {fields}")
        if not differs and f in fields:
            problem(f"{where}: {f} is among the fields but is equal on both sides")


def load_expectations(path, defines):
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8", errors="surrogateescape").read()
    changes, fss, values = [], [], []

    def subst(m):
        if m.group(1) not in defines:
            raise SystemExit(f"check-result.py: ${{{m.group(1)}}} is not defined")
        return defines[m.group(1)]

    for n, line in enumerate(text.splitlines(), 1):
        line = re.sub(r"\$\{(\w+)\}", subst, line)
        words = shlex.split(line, comments=True, posix=True)
        if not words:
            continue
        what, args = words[0], words[1:]

        def fields(i):
            return tuple(sorted(args[i].split(","))) if len(args) > i and args[i] not in ("", "-") else ()

        if what == "change" and len(args) in (4, 5, 6):
            changes.append((args[0], unescape(args[1]), args[2], args[3], fields(4),
                            args[5] if len(args) > 5 else None))
        elif what == "fs" and len(args) in (3, 4, 5):
            mp = args[4] if len(args) > 4 and args[4] != "-" else None
            fss.append((args[0], args[1], args[2], fields(3), mp))
        elif what == "json" and len(args) == 2:
            try:
                value = json.loads(args[1])
            except ValueError:
                value = args[1]  # a bare word is a string
            values.append((args[0], value))
        else:
            raise SystemExit(f"check-result.py: {path}:{n}: cannot parse {line!r}")
    return changes, fss, values


def matches(e, a):
    """An expected tuple against an actual one; None in e matches anything."""
    return len(e) == len(a) and all(x is None or x == y for x, y in zip(e, a))


def compare_sets(what, expected, actual, fmt):
    exp, act = list(expected), list(actual)
    for e in list(exp):
        for a in act:
            if matches(e, a):
                act.remove(a)
                exp.remove(e)
                break
    for e in exp:
        problem(f"missing {what}: {fmt(e)}")
    for a in act:
        problem(f"unexpected {what}: {fmt(a)}")


def check_side(side, name):
    """What the schema cannot say about a side taken from libvirt."""
    dom = side.get("domain")
    if side["crash_consistent"] and not (dom and dom["running"]):
        problem(f"{name}: crash_consistent without a running domain")
    if dom and dom["running"] and dom["snapshot"] is None and not side["crash_consistent"]:
        problem(f"{name}: the current disks of running domain {dom['name']} are not called crash_consistent")
    snapped = [img["snapshot"] for img in side["images"] if "snapshot" in img]
    if snapped and not (dom is None or dom["snapshot"] in snapped):
        problem(f"{name}: images read at snapshot {snapped} of domain snapshot {dom['snapshot']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("result")
    ap.add_argument("expectations")
    ap.add_argument("--define", action="append", default=[])
    ap.add_argument("--schema", default=SCHEMA)
    a = ap.parse_args()
    defines = dict(d.split("=", 1) for d in a.define)

    with open(a.result, "rb") as f:
        raw = f.read()
    try:
        doc = json.loads(raw)
    except ValueError as e:
        print(f"check-result.py: {a.result} is not JSON: {e}", file=sys.stderr)
        return 1
    with open(a.schema) as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors[:20]:
        problem(f"schema: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}")
    if errors:
        for p in problems:
            print(f"check-result.py: {p}", file=sys.stderr)
        return 1

    exp_changes, exp_fss, exp_values = load_expectations(a.expectations, defines)
    doc_filesystems.extend(doc["filesystems"])

    check_side(doc["a"], "a")
    check_side(doc["b"], "b")

    # Order, summary, and the consistency of each element.
    keys = []
    for i, c in enumerate(doc["changes"]):
        check_change(c, i)
        keys.append((c["tree"].encode(), path_key(name_bytes(c, "path", f"changes[{i}]") or b"")))
    for i in range(1, len(keys)):
        if keys[i - 1] >= keys[i]:
            problem(f"changes out of order or repeated at index {i}: "
                    f"{doc['changes'][i - 1]['path']!r} then {doc['changes'][i]['path']!r}")
    s = doc["summary"]
    for k in ("added", "removed", "modified", "metadata", "type"):
        n = sum(1 for c in doc["changes"] if c["change"] == k)
        if s[k] != n:
            problem(f"summary.{k} is {s[k]}, the changes hold {n}")
    for k in ("added", "removed", "changed", "unchanged"):
        n = sum(1 for f in doc["filesystems"] if f["change"] == k)
        if s["filesystems"][k] != n:
            problem(f"summary.filesystems.{k} is {s['filesystems'][k]}, the filesystems hold {n}")
    differs = bool(doc["changes"]) or any(f["change"] != "unchanged" for f in doc["filesystems"])
    if s["differences"] != differs:
        problem(f"summary.differences is {s['differences']}")
    for i, f in enumerate(doc["filesystems"]):
        where = f"filesystems[{i}] {f['device']}"
        if (f["old"] is None, f["new"] is None) != {"added": (True, False), "removed": (False, True)}.get(
                f["change"], (False, False)):
            problem(f"{where}: {f['change']} with old/new {f['old'] is not None}/{f['new'] is not None}")
        if f["change"] == "changed" and not f["fields"]:
            problem(f"{where}: changed without fields")
        if f["change"] != "changed" and f["fields"]:
            problem(f"{where}: {f['change']} with fields {f['fields']}")

    actual_changes = [(c["tree"], name_bytes(c, "path", "change"), c["change"], c["kind"],
                       tuple(sorted(c["fields"])), c["filesystem"]) for c in doc["changes"]]
    compare_sets("change", exp_changes, actual_changes,
                 lambda e: f"{e[0]} {show(e[1])} {e[2]} {e[3]} [{','.join(e[4])}]"
                           + (f" on {e[5]}" if e[5] else ""))
    actual_fss = [(f["device"], f["change"], f["matched_by"], tuple(sorted(f["fields"])),
                   None if f["mountpoint"] is None else name_bytes(f, "mountpoint", "fs").decode("utf-8", "replace"))
                  for f in doc["filesystems"]]
    compare_sets("filesystem", exp_fss, actual_fss,
                 lambda e: f"{e[0]} {e[1]} matched by {e[2]} [{','.join(e[3])}] mount point {e[4]}")

    for path, want in exp_values:
        v = doc
        try:
            for part in path.split("."):
                v = v[int(part)] if isinstance(v, list) else v[part]
        except (KeyError, IndexError, ValueError, TypeError):
            problem(f"{path}: absent, expected {json.dumps(want)}")
            continue
        if v != want:
            problem(f"{path}: {json.dumps(v)}, expected {json.dumps(want)}")

    for p in problems:
        print(f"check-result.py: {p}", file=sys.stderr)
    if not problems:
        print(f"check-result.py: {a.result}: schema valid, {len(doc['changes'])} changes and "
              f"{len(doc['filesystems'])} filesystems as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
