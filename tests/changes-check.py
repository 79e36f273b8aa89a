#!/usr/bin/python3
# Job.OpenChanges on a real daemon: a comparison of A and B by path, its
# change stream opened as soon as the job exists and read to its end once
# the job has ended, must hold the head, every change and the end of the
# job's GetResult document, in its order; a -u comparison has no stream
# (InvalidArgs). Prints "ok N" (N changes) or why not, exit 1.
# Usage: changes-check.py A B
import json
import os
import sys

import dbus

NAME = "org.virtdiff.VirtDiff1"
bus = dbus.SessionBus()
manager = dbus.Interface(bus.get_object(NAME, "/org/virtdiff/VirtDiff1"), NAME + ".Manager")


def compare(options):
    side = lambda p: [{"path": p}]
    path = manager.Compare(side(sys.argv[1]), side(sys.argv[2]), dbus.Dictionary(options, signature="sv"))
    return dbus.Interface(bus.get_object(NAME, path), NAME + ".Job")


def fail(why):
    print(why)
    sys.exit(1)


job = compare({})
stream = os.fdopen(job.OpenChanges().take(), "rb")
state, differs = job.Wait(timeout=600)
if state != 3:
    fail("the job ended in state %d" % state)
result = json.load(os.fdopen(job.GetResult().take(), "rb"))
lines = [json.loads(l) for l in stream.read().splitlines()]
if any(len(l) != 1 for l in lines):
    fail("a line with other than one record")
kinds = [next(iter(l)) for l in lines]
if kinds[0] != "head" or kinds[-1] != "end" or set(kinds[1:-1]) - {"change"}:
    fail("lines out of order: %s" % kinds[:3])
head, end = lines[0]["head"], lines[-1]["end"]
changes = [l["change"] for l in lines[1:-1]]
for key in ("version", "a", "b", "filesystems"):
    if head[key] != result[key]:
        fail("the head's %s differs from the result's" % key)
if sorted(head["trees"]) != sorted({c["tree"] for c in changes} | set(head["trees"])):
    fail("a change from a tree the head does not name")
if changes != result["changes"]:
    fail("the stream's changes differ from the result's")
if end["summary"] != result["summary"] or end["summary"]["differences"] != bool(differs):
    fail("the end's summary differs from the result's")

# -u needs the content stage after the comparison: no stream.
job = compare({"unified": True})
try:
    job.OpenChanges()
    fail("OpenChanges answered for a -u comparison")
except dbus.exceptions.DBusException as e:
    if e.get_dbus_name() != NAME + ".Error.InvalidArgs":
        fail("OpenChanges for -u: %s: %s" % (e.get_dbus_name(), e.get_dbus_message()))
job.Wait(timeout=600)
print("ok", len(changes))
