#!/usr/bin/env python3
"""The checks of tests/test-varlink.sh against a real virt-diffd serving
varlink: run as "varlink-checks.py CHECK SOCKET ARGS...", each check
prints "ok - ..." lines and exits non-zero on the first failure."""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
vc = __import__("varlink-client")

IFACE = "org.virtdiff.VirtDiff1"


def ok(what):
    print(f"ok - {what}", flush=True)


def fail(what):
    print(f"FAIL: {what}", file=sys.stderr, flush=True)
    sys.exit(1)


def expect_error(c, method, params, name, part=""):
    try:
        replies = list(c.call(method, params))
    except vc.VarlinkError as e:
        if e.name != name or part not in json.dumps(e.parameters):
            fail(f"{method} {json.dumps(params)[:120]}: {e.name} {e.parameters}, expected {name} ({part})")
        return e.parameters
    fail(f"{method} {json.dumps(params)[:120]}: {replies}, expected {name}")


def disks(*paths):
    return [{"path": p} for p in paths]


def check_discovery(sock, idl_path):
    with vc.VarlinkClient(sock) as c:
        info = c.call1("org.varlink.service.GetInfo")
        if info["interfaces"] != ["org.varlink.service", IFACE] or info["product"] != "virt-diffd":
            fail(f"GetInfo: {info}")
        desc = c.call1("org.varlink.service.GetInterfaceDescription", {"interface": IFACE})["description"]
        if desc != open(idl_path).read():
            fail("the served interface description differs from varlink/org.virtdiff.VirtDiff1.varlink")
        d = c.call1(f"{IFACE}.Describe")
        if not d["version"]:
            fail(f"Describe: {d}")
    ok("GetInfo lists org.virtdiff.VirtDiff1; its description is the file in the repository")


def check_errors(sock, fixtures, tmp):
    with vc.VarlinkClient(sock) as c:
        good = f"{fixtures}/kinds-a.img"
        expect_error(c, f"{IFACE}.Compare", {"a": disks(good), "b": disks(f"{tmp}/no-such.img")},
                     f"{IFACE}.NoSuchFile", "no such file")
        expect_error(c, f"{IFACE}.Compare", {"a": disks(fixtures), "b": disks(good)}, f"{IFACE}.InvalidImage")
        expect_error(c, f"{IFACE}.Compare", {"a": disks(f"{fixtures}/empty.img"), "b": disks(good)},
                     f"{IFACE}.InvalidImage", "empty file")
        expect_error(c, f"{IFACE}.Compare", {"a": [{"path": f"{fixtures}/notes.txt", "format": "qcow2"}],
                                             "b": disks(good)}, f"{IFACE}.InvalidImage", "not a valid qcow2")
        expect_error(c, f"{IFACE}.Compare", {"a": disks(good), "b": []}, f"{IFACE}.InvalidArgs", "side B has no disk")
        expect_error(c, f"{IFACE}.Compare", {"a": [{"path": good, "domain": "g"}], "b": disks(good)},
                     f"{IFACE}.InvalidArgs", "either a 'path' or a 'domain'")
        expect_error(c, f"{IFACE}.Compare", {"a": disks(*[good] * 33), "b": disks(good)},
                     f"{IFACE}.InvalidArgs", "at most 32 disks a side")
        expect_error(c, f"{IFACE}.Compare", {"a": disks("/" + "x" * 4096), "b": disks(good)},
                     f"{IFACE}.InvalidArgs", "longer than 4096 bytes")
        expect_error(c, f"{IFACE}.Compare", {"a": disks(good), "b": disks(good), "options": {"checksum": "crc32c"}},
                     f"{IFACE}.InvalidArgs", "not an algorithm")
        expect_error(c, f"{IFACE}.Compare", {"a": disks(good), "b": disks(good), "options": {"ignore": ["colour"]}},
                     f"{IFACE}.InvalidArgs", "ignore 'colour'")
        expect_error(c, f"{IFACE}.Wait", {"job": 999999}, f"{IFACE}.NoSuchJob", "no job 999999")
        expect_error(c, f"{IFACE}.Cancel", {"job": 999999}, f"{IFACE}.NoSuchJob")
        expect_error(c, f"{IFACE}.CachePurge", {"image": good}, f"{IFACE}.NotCached", "never scanned")
        expect_error(c, f"{IFACE}.CachePurge", {"image": "relative.img"}, f"{IFACE}.InvalidArgs", "not an absolute path")
        expect_error(c, f"{IFACE}.Warm", {"disks": [{"domain": "g"}]}, f"{IFACE}.InvalidArgs", "Warm takes image files")
        # varlink's own
        expect_error(c, f"{IFACE}.Compare", {"a": [{"path": 1}], "b": []}, "org.varlink.service.InvalidParameter",
                     "a[0].path")
        expect_error(c, f"{IFACE}.Compare", {"a": [], "b": [], "options": {"fast": True}},
                     "org.varlink.service.InvalidParameter", "options.fast")
        expect_error(c, f"{IFACE}.Nope", None, "org.varlink.service.MethodNotFound")
        expect_error(c, "org.example.Nope", None, "org.varlink.service.InterfaceNotFound")
        if c.call1(f"{IFACE}.ListJobs")["jobs"]:
            fail("a refused Compare left a job")
    ok("named errors: NoSuchFile, InvalidImage, InvalidArgs (limits, options), NoSuchJob, NotCached, "
       "InvalidParameter, MethodNotFound, InterfaceNotFound; no job for a refusal")


def malformed(sock):
    """Each kind of bad input, on a connection of its own: an error reply or
    the connection closed."""
    cases = [b"not json\0", b"[1,2]\0", b'{"method":"' + IFACE.encode() + b'.Describe","parameters":[]}\0',
             b'{"method":"' + IFACE.encode() + b'.Describe","junk":1}\0']
    for raw in cases:
        with vc.VarlinkClient(sock) as b:
            b.send_raw(raw)
            if b.receive() is not None:
                fail(f"{raw!r}: answered instead of closed")
    # No NUL and a claim of a gigabyte: cut off at the limit, long before.
    with vc.VarlinkClient(sock) as b:
        sent = 0
        try:
            b.send_raw(b'{"method":"' + IFACE.encode() + b'.Describe","parameters":{"x":"')
            while sent < (1 << 30):
                b.send_raw(b"x" * (1 << 20))
                sent += 1 << 20
        except (BrokenPipeError, ConnectionResetError):
            pass
        if sent >= (64 << 20):
            fail(f"{sent} bytes without a NUL were taken")
    with vc.VarlinkClient(sock) as b:
        expect_error(b, f"{IFACE}.Cancel", {"job": "7"}, "org.varlink.service.InvalidParameter", "job")


def check_compare(sock, fixtures, out):
    """A streamed Compare: progress, then the result; malformed clients
    meanwhile change nothing. Writes the job's id and result to out."""
    a, b = f"{fixtures}/kinds-a.img", f"{fixtures}/kinds-b.img"
    with vc.VarlinkClient(sock, transcript=open(out + ".transcript", "w")) as c:
        replies = c.call(f"{IFACE}.Compare", {"a": disks(a), "b": disks(b)}, more=True)
        first = next(replies)
        job = first["job"]
        if "result" in first or first["progress"]["state"] not in ("queued", "running"):
            fail(f"first reply: {first}")
        malformed(sock)
        with vc.VarlinkClient(sock) as other:
            listed = [j for j in other.call1(f"{IFACE}.ListJobs")["jobs"] if j["id"] == job]
            if not listed or listed[0]["object_path"] != f"/org/virtdiff/VirtDiff1/job/{job}":
                fail(f"ListJobs: {listed}")
        n, phases, last = 1, set(), first
        for r in replies:
            n += 1
            phases.add(r["progress"]["phase"])
            if r["job"] != job:
                fail(f"a reply of job {r['job']}")
            last = r
        if "result" not in last or last["progress"]["state"] != "succeeded":
            fail(f"last reply: {json.dumps(last)[:300]}")
        json.dump({"job": job, "result": last["result"]}, open(out, "w"))
    ok(f"Compare with more: {n} replies (phases {', '.join(sorted(phases))}), the last with the result; "
       "malformed messages on other connections closed them or were answered, this one went on")


def check_changes(sock, fixtures):
    """Compare with "changes": the replies' lines are the job's change
    stream, whole lines in order: the head, every change and the end of the
    result Wait then gives, and the last reply has no result. Wait with
    "changes" on a running job streams the same lines; -u has no stream."""
    a, b = f"{fixtures}/kinds-a.img", f"{fixtures}/kinds-b.img"

    def follow(replies):
        text, last, job = "", None, None
        for r in replies:
            job = r["job"]
            chunk = r.get("changes", "")
            if chunk and not chunk.endswith("\n"):
                fail(f"a reply's changes end inside a line: {chunk[-80:]!r}")
            text += chunk
            last = r
        return job, text, last

    with vc.VarlinkClient(sock) as c:
        job, text, last = follow(c.call(f"{IFACE}.Compare", {"a": disks(a), "b": disks(b), "changes": True},
                                        more=True))
        if "result" in last or last["progress"]["state"] != "succeeded":
            fail(f"last reply of a streamed Compare: {json.dumps(last)[:300]}")
        result = c.call1(f"{IFACE}.Wait", {"job": job})["result"]
    lines = [json.loads(l) for l in text.splitlines()]
    kinds = [next(iter(l)) for l in lines]
    if not kinds or kinds[0] != "head" or kinds[-1] != "end" or set(kinds[1:-1]) - {"change"}:
        fail(f"lines out of order: {kinds[:3]} ... {kinds[-2:]}")
    head, end, changes = lines[0]["head"], lines[-1]["end"], [l["change"] for l in lines[1:-1]]
    for key in ("version", "a", "b", "filesystems"):
        if head[key] != result[key]:
            fail(f"the head's {key} differs from the result's")
    if changes != result["changes"] or end["summary"] != result["summary"] or not changes:
        fail(f"the streamed changes ({len(changes)}) differ from the result's ({len(result['changes'])})")
    # Wait with "changes" on a running job: the same lines, from the start.
    with vc.VarlinkClient(sock) as c, vc.VarlinkClient(sock) as w:
        replies = c.call(f"{IFACE}.Compare", {"a": disks(a), "b": disks(b), "options": {"atime": True}},
                         more=True)
        job2 = next(replies)["job"]
        _, text2, last2 = follow(w.call(f"{IFACE}.Wait", {"job": job2, "changes": True}, more=True))
        for _ in replies:
            pass
        whole = c.call1(f"{IFACE}.Wait", {"job": job2})["result"]
    lines2 = [json.loads(l) for l in text2.splitlines()]
    if "result" in last2 and not lines2:
        ok_wait = "ended before Wait came: the result instead"
        if last2["result"] != whole:
            fail("Wait's result differs")
    elif [l["change"] for l in lines2 if "change" in l] != whole["changes"] or "result" in last2:
        fail("Wait with changes: the stream differs from the result")
    else:
        ok_wait = f"{len(lines2)} lines"
    # -u writes its result whole: no changes in the replies, the result last.
    with vc.VarlinkClient(sock) as c:
        _, text3, last3 = follow(c.call(f"{IFACE}.Compare", {"a": disks(a), "b": disks(b), "changes": True,
                                                             "options": {"unified": True}}, more=True))
        if text3 or "result" not in last3:
            fail("a -u Compare with changes: " + json.dumps(last3)[:300])
    ok(f"Compare with changes: {len(changes)} changes between a head and an end in whole lines, equal to "
       f"Wait's result, no result in the last reply; Wait with changes: {ok_wait}; -u: the result whole")


def check_cancel(sock, fixtures):
    a, b = f"{fixtures}/os-a.img", f"{fixtures}/os-b.img"
    with vc.VarlinkClient(sock) as c, vc.VarlinkClient(sock) as d:
        replies = c.call(f"{IFACE}.Compare", {"a": disks(a), "b": disks(b)}, more=True)
        job = next(replies)["job"]
        d.call1(f"{IFACE}.Cancel", {"job": job})
        try:
            for _ in replies:
                pass
            fail("a cancelled Compare succeeded")
        except vc.VarlinkError as e:
            if e.name != f"{IFACE}.Cancelled":
                fail(f"cancelled: {e.name} {e.parameters}")
        d.call1(f"{IFACE}.Cancel", {"job": job})  # idempotent
        expect_error(d, f"{IFACE}.Wait", {"job": job}, f"{IFACE}.Cancelled")
    ok("Cancel from another connection: the Compare ends with Cancelled; Cancel again is no error; Wait says Cancelled")

    # The client goes away mid-job: its job is cancelled.
    c = vc.VarlinkClient(sock)
    replies = c.call(f"{IFACE}.Compare", {"a": disks(a), "b": disks(b)}, more=True)
    job = next(replies)["job"]
    c.close()
    with vc.VarlinkClient(sock) as d:
        for _ in range(600):
            state = [j for j in d.call1(f"{IFACE}.ListJobs")["jobs"] if j["id"] == job][0]["progress"]["state"]
            if state not in ("queued", "running"):
                break
            time.sleep(0.1)
        if state != "cancelled":
            fail(f"job of a client that left: {state}")
    ok("a client that disconnects mid-job gets its job cancelled")


def check_system(sock, fixtures, secret, root_job):
    """As an unprivileged user on the system socket."""
    with vc.VarlinkClient(sock) as c:
        good = f"{fixtures}/kinds-a.img"
        expect_error(c, f"{IFACE}.Compare", {"a": disks(secret), "b": disks(good)}, f"{IFACE}.AccessDenied",
                     "may not read")
        expect_error(c, f"{IFACE}.Compare", {"a": [{"domain": "test", "uri": "test:///default"}], "b": disks(good)},
                     f"{IFACE}.AccessDenied", "only root")
        expect_error(c, f"{IFACE}.ListSnapshots", {"domain": "test"}, f"{IFACE}.AccessDenied", "only root")
        for m in ("CacheList", "CacheVerify", "CachePurge"):
            expect_error(c, f"{IFACE}.{m}", {}, f"{IFACE}.AccessDenied", "only root")
        c.call1(f"{IFACE}.CacheStats")
        expect_error(c, f"{IFACE}.Cancel", {"job": int(root_job)}, f"{IFACE}.AccessDenied", "another user")
        # What the caller may read is compared: its own job, which it may cancel.
        replies = c.call(f"{IFACE}.Compare", {"a": disks(good), "b": disks(f"{fixtures}/kinds-b.img")}, more=True)
        job = next(replies)["job"]
        c2 = vc.VarlinkClient(sock)
        c2.call1(f"{IFACE}.Cancel", {"job": job})
        c2.close()
    ok("system socket, another uid: an unreadable image, a domain, ListSnapshots, the cache's management and "
       "root's job refused (AccessDenied); CacheStats, a readable pair and cancelling its own job allowed")


def start_job(sock, fixtures):
    """Root starts a detached job and leaves; prints its id."""
    with vc.VarlinkClient(sock) as c:
        replies = c.call(f"{IFACE}.Compare", {"a": disks(f"{fixtures}/os-a.img"), "b": disks(f"{fixtures}/os-b.img"),
                                             "options": {"detached": True}}, more=True)
        print(next(replies)["job"])


def cancel_job(sock, job):
    with vc.VarlinkClient(sock) as c:
        c.call1(f"{IFACE}.Cancel", {"job": int(job)})


if __name__ == "__main__":
    check, args = sys.argv[1], sys.argv[2:]
    {"discovery": check_discovery, "errors": check_errors, "compare": check_compare, "changes": check_changes,
     "cancel": check_cancel,
     "system": check_system, "start-job": start_job, "cancel-job": cancel_job}[check](*args)
