#!/usr/bin/python3
"""What the real package managers say about a tree, as sorted lines the
package reader tests compare with their own (daemon/packages/test-*.c).

  package-oracle.py dpkg-packages ROOT   name TAB arch TAB version
  package-oracle.py dpkg-files ROOT      name TAB path (diversions applied)
  package-oracle.py dpkg-conffiles ROOT  name TAB path TAB md5 (listed ones)
  package-oracle.py rpm-packages ROOT    name TAB arch TAB EVR
  package-oracle.py rpm-files ROOT       name TAB path
  package-oracle.py rpm-config ROOT      name TAB path TAB digest

Only installed packages: dpkg's "config-files" and "not-installed" states
are left out, as the reader leaves them out."""

import subprocess
import sys

DPKG_FMT = "${db:Status-Abbrev}\t${binary:Package}\t${Package}\t${Architecture}\t${Version}\n"
RPM_DEFS = ["--define", "_dbpath /var/lib/rpm"]


def run(args):
    return subprocess.run(args, check=True, capture_output=True, text=True,
                          errors="surrogateescape").stdout


def dpkg_installed(root):
    admin = "--admindir=" + root + "/var/lib/dpkg"
    rows = [l.split("\t") for l in run(["dpkg-query", admin, "-W", "-f=" + DPKG_FMT]).splitlines()]
    return admin, [r for r in rows if r[0][1] not in "nc"]


def dpkg_packages(root):
    _, rows = dpkg_installed(root)
    return ["%s\t%s\t%s" % (r[2], r[3], r[4]) for r in rows]


def dpkg_list(admin, names):
    """dpkg-query -L of several packages: one block each, blank-line separated."""
    blocks = run(["dpkg-query", admin, "-L"] + names).split("\n\n")
    if blocks and blocks[-1].strip() == "":
        blocks.pop()
    if len(blocks) != len(names):
        blocks = [run(["dpkg-query", admin, "-L", n]) for n in names]
    return blocks


def dpkg_files(root):
    admin, rows = dpkg_installed(root)
    out = []
    for i in range(0, len(rows), 200):
        chunk = rows[i:i + 200]
        for r, block in zip(chunk, dpkg_list(admin, [r[1] for r in chunk])):
            paths = []
            for l in block.splitlines():
                if l.startswith("diverted by "):
                    # this package's file lives where the diversion put it
                    paths[-1] = l.split(" to: ", 1)[1]
                elif l.startswith("/") and l != "/.":
                    paths.append(l.rstrip("/") or "/")
            out += ["%s\t%s" % (r[2], p) for p in paths]
    return out


def dpkg_conffiles(root):
    admin, rows = dpkg_installed(root)
    installed = set(r[1] for r in rows)
    # dpkg owns only what a package's list names: a conffile of the status
    # file that is not there (remove-on-upgrade, obsolete) is nobody's.
    owned = set(dpkg_files(root))
    out, name = [], None
    text = run(["dpkg-query", admin, "-W", "-f=${binary:Package}\t${Package}\n${Conffiles}\n"])
    for l in text.splitlines():
        if not l.startswith(" "):
            name = l.split("\t") if "\t" in l else None
            continue
        w = l.split()
        if name and name[0] in installed and len(w) >= 2 and "%s\t%s" % (name[1], w[0]) in owned:
            out.append("%s\t%s\t%s" % (name[1], w[0], w[1]))
    return out


def rpm(root, fmt):
    return run(["rpm", "--root", root] + RPM_DEFS + ["-qa", "--qf", fmt]).splitlines()


def rpm_packages(root):
    return rpm(root, "%{NAME}\t%|ARCH?{%{ARCH}}:{}|\t%{EVR}\n")


def rpm_files(root):
    return [l for l in rpm(root, "[%{=NAME}\t%{FILENAMES}\n]") if "\t" in l]


def rpm_config(root):
    lines = rpm(root, "[%{=NAME}\t%{FILENAMES}\t%{FILEFLAGS:fflags}\t%{FILEDIGESTS}\n]")
    out = []
    for l in lines:
        name, path, flags, digest = l.split("\t")
        if "c" in flags:
            out.append("%s\t%s\t%s" % (name, path, digest))
    return out


def main():
    what, root = sys.argv[1], sys.argv[2]
    lines = {"dpkg-packages": dpkg_packages, "dpkg-files": dpkg_files,
             "dpkg-conffiles": dpkg_conffiles, "rpm-packages": rpm_packages,
             "rpm-files": rpm_files, "rpm-config": rpm_config}[what](root)
    sys.stdout.write("".join(sorted(l + "\n" for l in lines)))


main()
