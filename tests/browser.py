"""A headless Chromium driven over the DevTools protocol, standard library
only: the browser is started with --remote-debugging-pipe and speaks JSON
messages separated by NUL bytes on its fds 3 (commands) and 4 (replies and
events). Nothing here reaches the network: the flags turn off every
background service, and the pages under test are local files.

    with Browser() as b:
        b.open("file:///tmp/report.html")
        b.eval("document.title")
        b.screenshot("/tmp/report.png")
"""
import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class BrowserError(Exception):
    pass


class Browser:
    def __init__(self, width=1280, height=900, scripts=True, timeout=120):
        self.width, self.height, self.scripts, self.timeout = width, height, scripts, timeout
        self.events = []      # every event seen, for checks (dialogs, console, exceptions)
        self._id = 0
        self._buf = b""

    # ---- the process ----
    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="vd-chromium-")
        cmd_r, self._cmd_w = os.pipe()
        self._rep_r, rep_w = os.pipe()
        # The child's fd 3 reads our commands, its fd 4 writes to us. Our
        # ends are close-on-exec; nothing else is kept from closing.
        # Through fds out of the way: either end may be 3 or 4 already.
        def child_fds():
            os.dup2(cmd_r, 100, inheritable=False)
            os.dup2(rep_w, 101, inheritable=False)
            os.dup2(100, 3)
            os.dup2(101, 4)
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             "--disable-default-apps", "--mute-audio", "--no-default-browser-check",
             "--user-data-dir=" + self.profile, "--remote-debugging-pipe", "about:blank"],
            preexec_fn=child_fds, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.profile, "stderr"), "wb"))
        os.close(cmd_r)
        os.close(rep_w)
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(domain + ".enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=self.width, height=self.height,
                  deviceScaleFactor=1, mobile=False)
        if not self.scripts:
            self.call("Emulation.setScriptExecutionDisabled", session=True, value=True)
        return self

    def __exit__(self, *exc):
        try:
            self._send({"id": self._next(), "method": "Browser.close"})
            self.proc.wait(timeout=15)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._rep_r)
        shutil.rmtree(self.profile, ignore_errors=True)

    # ---- the protocol ----
    def _next(self):
        self._id += 1
        return self._id

    def _send(self, msg):
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")

    def _read(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._rep_r], [], [], left)[0]:
                raise BrowserError("no answer from chromium within %d s" % self.timeout)
            chunk = os.read(self._rep_r, 1 << 20)
            if not chunk:
                raise BrowserError("chromium exited (%s)" % self.proc.poll())
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=False, **params):
        msg_id = self._next()
        msg = {"id": msg_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self._send(msg)
        deadline = time.monotonic() + self.timeout
        while True:
            msg = self._read(deadline)
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise BrowserError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        for e in self.events:
            if e["method"] == method:
                self.events.remove(e)
                return e
        while True:
            msg = self._read(deadline)
            if msg.get("method") == method:
                return msg
            if "method" in msg:
                self.events.append(msg)

    # ---- what tests use ----
    def open(self, url):
        """Loads url and waits for its load event; returns the seconds it took."""
        start = time.monotonic()
        self.call("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired")
        return time.monotonic() - start

    def eval(self, expression):
        r = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise BrowserError("%s: %s" % (expression[:80], r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_for(self, expression, timeout=60):
        """Polls expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.eval(expression)
            if v:
                return v
            time.sleep(0.05)
        raise BrowserError("timed out waiting for: " + expression)

    def screenshot(self, path, full_page=False):
        params = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": min(size["height"], 8000), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def problems(self):
        """Dialogs, uncaught exceptions and console errors seen so far."""
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Page.javascriptDialogOpening":
                out.append("dialog: " + p.get("message", ""))
            elif m == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:300])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console: " + json.dumps(p.get("args", []))[:300])
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append("log: " + p["entry"].get("text", "")[:300])
        return out
