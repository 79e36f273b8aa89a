#!/bin/bash
# The Python test client (tests/varlink-client.py) against the varlink
# protocol code, served by a small test server (no daemon, no appliance):
# discovery, a reply, a named error, a stream with "more", a oneway call,
# malformed input closing only its own connection, and the command line.
source "$(dirname "$0")/lib.sh"

SOCK=$TEST_TMPDIR/serve.sock
"$BUILDDIR/daemon/varlink/test-varlink-serve" "$SOCK" &
pid=$!
cleanup_fn kill "$pid"
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || fail "the test server did not listen"

PYTHONPATH=$SRCDIR/tests $PYTHON - "$SOCK" <<'PY' || fail "the Python client's checks failed"
import importlib, sys
vc = importlib.import_module("varlink-client")
path = sys.argv[1]

with vc.VarlinkClient(path) as c:
    info = c.call1("org.varlink.service.GetInfo")
    assert info["interfaces"] == ["org.example.serve", "org.varlink.service"], info
    assert info["product"] == "test-varlink-serve", info
    desc = c.call1("org.varlink.service.GetInterfaceDescription", {"interface": "org.example.serve"})
    assert desc["description"].startswith("interface org.example.serve\n"), desc
    assert c.call1("org.example.serve.Echo", {"text": "hi"}) == {"text": "hi"}
    try:
        c.call1("org.example.serve.Echo", {"text": "refuse"})
        raise AssertionError("no error")
    except vc.VarlinkError as e:
        assert e.name == "org.example.serve.Refused" and e.parameters == {"why": "asked to"}, e
    try:
        c.call1("org.example.serve.Echo", {"text": 5})
        raise AssertionError("no error")
    except vc.VarlinkError as e:
        assert e.name == "org.varlink.service.InvalidParameter" and e.parameters == {"parameter": "text"}, e
    assert [r["n"] for r in c.call("org.example.serve.Count", {"to": 3}, more=True)] == [1, 2, 3]
    assert [r["n"] for r in c.call("org.example.serve.Count", {"to": 3})] == [3]
    list(c.call("org.example.serve.Echo", {"text": "quiet"}, oneway=True))
    assert c.call1("org.example.serve.Echo", {"text": "after"}) == {"text": "after"}

    # Not JSON: that connection is closed; this one still works.
    with vc.VarlinkClient(path) as bad:
        bad.send_raw(b"not json\0")
        assert bad.receive() is None
    # A message with no end, past the 16 MiB limit: cut off.
    with vc.VarlinkClient(path) as big:
        try:
            for _ in range(20):
                big.send_raw(b" " * (1 << 20))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert big.receive() is None
    assert c.call1("org.example.serve.Echo", {"text": "still"}) == {"text": "still"}
print("ok - the Python client: info, description, replies, errors, more, oneway, malformed input")
PY

out=$($PYTHON "$SRCDIR/tests/varlink-client.py" --more "$SOCK" org.example.serve.Count '{"to":2}')
[ "$out" = $'{"n":1}\n{"n":2}' ] || fail "command line: got '$out'"
$PYTHON "$SRCDIR/tests/varlink-client.py" "$SOCK" org.example.serve.Echo '{"text":"refuse"}' 2>"$TEST_TMPDIR/err" &&
        fail "an error reply exits 0"
grep -q '"error": "org.example.serve.Refused"' "$TEST_TMPDIR/err" || fail "the error is not printed"
$PYTHON "$SRCDIR/tests/varlink-client.py" "$SOCK" introspect org.example.serve | grep -qx 'method Count(to: int) -> (n: int)' ||
        fail "introspect does not print the definition"
transcript=$($PYTHON "$SRCDIR/tests/varlink-client.py" --transcript "$SOCK" org.example.serve.Echo '{"text":"t"}')
[ "$transcript" = $'-> {"method":"org.example.serve.Echo","parameters":{"text":"t"}}\n<- {"parameters":{"text":"t"}}' ] ||
        fail "transcript: got '$transcript'"
pass "the command line: --more, errors on stderr, introspect, --transcript"
