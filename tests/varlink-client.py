#!/usr/bin/env python3
"""A small varlink client (varlink.org) with nothing but the standard
library, for the tests: NUL-terminated JSON messages on a Unix socket.

Usage:
  varlink-client.py [OPTIONS] SOCKET METHOD [PARAMETERS-JSON]
  varlink-client.py [OPTIONS] SOCKET info
  varlink-client.py [OPTIONS] SOCKET introspect INTERFACE

Options: --more (stream replies), --oneway (no reply), --transcript
(print each message sent and received, '->' and '<-'), --timeout=SEC.
Prints each reply's parameters as one JSON line; an error reply prints
{"error": NAME, "parameters": ...} on stderr and exits 1.
"""
import json
import socket
import sys


class VarlinkError(Exception):
    """An error reply: its name and parameters."""

    def __init__(self, name, parameters):
        super().__init__(f"{name}: {json.dumps(parameters)}")
        self.name = name
        self.parameters = parameters


class ProtocolError(Exception):
    """The server broke the protocol or closed the connection."""


class VarlinkClient:
    def __init__(self, path, timeout=600.0, transcript=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.transcript = transcript

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _log(self, direction, data):
        if self.transcript:
            self.transcript.write(f"{direction} {data}\n")
            self.transcript.flush()

    def send_raw(self, data):
        """Bytes as they are: for malformed messages."""
        self.sock.sendall(data)

    def send(self, message):
        text = json.dumps(message, separators=(",", ":"))
        self._log("->", text)
        self.sock.sendall(text.encode() + b"\0")

    def receive(self):
        """The next message, or None when the server closed the connection."""
        while b"\0" not in self.buf:
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if self.buf:
                    raise ProtocolError(f"connection closed within a message: {self.buf[:80]!r}")
                return None
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        self._log("<-", raw.decode(errors="replace"))
        return json.loads(raw)

    def call(self, method, parameters=None, more=False, oneway=False, upgrade=False):
        """Sends a call; yields the parameters of each reply (none with
        oneway). An error reply raises VarlinkError."""
        message = {"method": method}
        if parameters is not None:
            message["parameters"] = parameters
        for key, flag in (("more", more), ("oneway", oneway), ("upgrade", upgrade)):
            if flag:
                message[key] = True
        self.send(message)
        if oneway:
            return
        while True:
            reply = self.receive()
            if reply is None:
                raise ProtocolError("connection closed before the reply")
            if "error" in reply:
                raise VarlinkError(reply["error"], reply.get("parameters") or {})
            yield reply.get("parameters") or {}
            if not reply.get("continues"):
                return

    def call1(self, method, parameters=None):
        """A call with exactly one reply: its parameters."""
        replies = list(self.call(method, parameters))
        return replies[-1]


def main(argv):
    opts = {"more": False, "oneway": False, "transcript": False, "timeout": 600.0}
    args = []
    for a in argv:
        if a in ("--more", "--oneway", "--transcript"):
            opts[a[2:]] = True
        elif a.startswith("--timeout="):
            opts["timeout"] = float(a.split("=", 1)[1])
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            args.append(a)
    if len(args) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, verb, rest = args[0], args[1], args[2:]
    if verb == "info":
        method, params = "org.varlink.service.GetInfo", None
    elif verb == "introspect":
        method, params = "org.varlink.service.GetInterfaceDescription", {"interface": rest[0]}
    else:
        method, params = verb, json.loads(rest[0]) if rest else None
    with VarlinkClient(path, timeout=opts["timeout"],
                       transcript=sys.stdout if opts["transcript"] else None) as c:
        try:
            for reply in c.call(method, params, more=opts["more"], oneway=opts["oneway"]):
                if verb == "introspect":
                    sys.stdout.write(reply["description"])
                elif not opts["transcript"]:
                    print(json.dumps(reply, separators=(",", ":")))
        except VarlinkError as e:
            if not opts["transcript"]:
                print(json.dumps({"error": e.name, "parameters": e.parameters}), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
