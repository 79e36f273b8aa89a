#!/usr/bin/env python3
"""Opens HTML reports (virt-diff --output=html) in headless Chromium and
checks what a reader sees: the counts, every change's name, the filters
and the search, the diffs, the plain list without scripting, and that no
name in the hostile fixture made an element or ran a script.

  check-report.py small RESULT.json REPORT.html ARTIFACTS-DIR
  check-report.py hostile RESULT.json REPORT.html ARTIFACTS-DIR
  check-report.py big RESULT.json REPORT.html ARTIFACTS-DIR   (prints times)
  check-report.py result RESULT.json REPORT.html ARTIFACTS-DIR
                                   any result: counts, every name, no error
  check-report.py markdown RESULT.json REPORT.md      (rendered by cmark-gfm,
                                                       GitHub's own renderer)

Exit status 0 when every check holds; the first failure is printed.
"""
import base64
import html.parser
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser import Browser  # noqa: E402

READY = "document.documentElement.getAttribute('data-rendered-at-ms')"
SHOWN = "document.querySelector('.shown').textContent"


def fail(msg):
    print("FAIL: check-report: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def escape(raw):
    """What a name looks like in the report: escape_bytes() of common/quote.c,
    written again here from its description."""
    out, i = [], 0
    while i < len(raw):
        b = raw[i]
        n = 1 if b < 0x80 else 2 if b & 0xE0 == 0xC0 else 3 if b & 0xF0 == 0xE0 else 4 if b & 0xF8 == 0xF0 else 0
        seq = raw[i:i + n] if n else b""
        try:
            ch = seq.decode("utf-8") if n and len(seq) == n else None
        except UnicodeDecodeError:
            ch = None
        bad = ch is None or ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F or 0x80 <= ord(ch) <= 0x9F \
            or 0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069
        if not bad:
            out.append(ch)
            i += n
            continue
        for x in (seq if ch is not None else raw[i:i + 1]):
            out.append({0x0A: "\\n", 0x09: "\\t", 0x5C: "\\\\"}.get(x, "\\x%02x" % x))
        i += len(seq) if ch is not None else 1
    return "".join(out)


def raw_path(c):
    return base64.b64decode(c["path_base64"]) if "path_base64" in c else c["path"].encode()


def expected_titles(result):
    trees = []
    for c in result["changes"]:
        if c["tree"] not in trees:
            trees.append(c["tree"])
    prefix = lambda c: c["tree"] + ":" if len(trees) > 1 and c["tree"] != "/" else ""
    return sorted(prefix(c) + escape(raw_path(c)) for c in result["changes"])


def open_all(b):
    """Opens every directory and entry, and every 'Show more', until none is left."""
    for _ in range(50):
        n = b.eval("""(() => {
            let n = 0;
            document.querySelectorAll('.tree details:not([open])').forEach(d => { d.open = true; n++; });
            document.querySelectorAll('.tree button.more').forEach(x => { x.click(); n++; });
            return n; })()""")
        if not n:
            return
        time.sleep(0.1)
    fail("the tree did not finish opening")


def titles(b):
    return sorted(b.eval("[...document.querySelectorAll('.tree details.leaf > summary')].map(s => s.title)"))


def leaf_title_count(b):
    return b.eval("document.querySelectorAll('.tree details.leaf').length")


def common_checks(b, result, name):
    s = result["summary"]
    badges = b.eval("[...document.querySelectorAll('header .summary .badge')].map(e => e.textContent)")
    want = ["%s %s" % (format(s[k], ","), k) for k in ("added", "removed", "modified", "metadata", "type")]
    check(badges == want, "%s: summary %s, expected %s" % (name, badges, want))
    n = len(result["changes"])
    check(b.eval(SHOWN) == "Showing %s of %s change%s" % (format(n, ","), format(n, ","), "" if n == 1 else "s"),
          "%s: %r" % (name, b.eval(SHOWN)))
    fss = b.eval("document.querySelectorAll('#filesystems tr').length")
    check(fss == len(result["filesystems"]) + 1, "%s: %d filesystem rows" % (name, fss))
    # The page fetched nothing and allows nothing to be fetched.
    csp = b.eval("document.querySelector('meta[http-equiv=Content-Security-Policy]').content")
    check(csp.startswith("default-src 'none'; script-src 'sha256-"), "%s: CSP %r" % (name, csp))
    check(b.eval("performance.getEntriesByType('resource').length") == 0, name + ": resources were fetched")


def set_filter(b, kind, on):
    b.eval("(() => { const x = document.querySelector('.controls input[name=%s]'); "
           "if (x.checked !== %s) x.click(); })()" % (kind, "true" if on else "false"))


def search(b, text):
    b.eval("(() => { const s = document.querySelector('.controls input[type=search]'); s.value = %s; "
           "s.dispatchEvent(new Event('input')); })()" % json.dumps(text))
    # The search waits 150 ms for more typing.
    want = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if b.eval("document.querySelector('.controls input[type=search]').value") == text:
            want = b.eval(SHOWN)
            time.sleep(0.25)
            if b.eval(SHOWN) == want:
                return want
    fail("search %r did not settle" % text)


def shown_count(text):
    return int(text.split()[1].replace(",", ""))


def small(result, html, artifacts):
    n = len(result["changes"])
    with Browser() as b:
        b.open("file://" + html)
        b.wait_for(READY)
        common_checks(b, result, "small")
        b.screenshot(os.path.join(artifacts, "report-small.png"), full_page=True)

        # Filters: each kind off alone leaves the others.
        for kind in ("added", "removed", "modified", "metadata"):
            set_filter(b, kind, False)
            time.sleep(0.1)
            got = shown_count(b.eval(SHOWN))
            check(got == n - result["summary"][kind], "small: without %s: %d shown" % (kind, got))
            set_filter(b, kind, True)
        # Search, case-insensitive, on the whole path.
        hits = sum(1 for c in result["changes"] if "nginx" in escape(raw_path(c)).lower())
        got = shown_count(search(b, "NGINX"))
        check(got == hits, "small: search NGINX: %d shown, expected %d" % (got, hits))
        search(b, "")

        open_all(b)
        check(titles(b) == expected_titles(result), "small: names %s" % titles(b))
        # A diff, highlighted line by line.
        diff = b.eval("""(() => {
            const s = [...document.querySelectorAll('.tree details.leaf > summary')]
                .find(x => x.title === '/etc/nginx/nginx.conf');
            const pre = s.parentElement.querySelector('pre.diff');
            return pre ? [...pre.children].map(x => [x.className, x.textContent]) : null; })()""")
        check(diff and ["del", "-    keepalive_timeout 65;"] in diff and ["add", "+    keepalive_timeout 15;"] in diff
              and diff[0][0] == "head" and diff[2][0] == "hunk", "small: nginx.conf diff %s" % diff)
        fields = b.eval("""(() => {
            const s = [...document.querySelectorAll('.tree details.leaf > summary')]
                .find(x => x.title === '/etc/shadow');
            return [...s.parentElement.querySelectorAll('.detail tr')].map(r => [...r.children].map(x => x.textContent)); })()""")
        check(fields == [["field", "old (A)", "new (B)"], ["mode", "0640", "0600"], ["gid", "42", "0"]],
              "small: /etc/shadow fields %s" % fields)
        # The picture for the README (docs/report.png): /etc opened on a diff
        # and a metadata change, the other directories closed.
        b.eval("document.querySelectorAll('.tree details.leaf').forEach(d => { d.open = ['/etc/nginx/nginx.conf',"
               " '/etc/shadow'].includes(d.querySelector('summary').title); })")
        b.eval("document.querySelectorAll('.tree details.dir').forEach(d => { const n = d.querySelector('summary .name')"
               ".textContent; d.open = ['/', 'etc/', 'nginx/', 'var/'].includes(n); })")
        b.screenshot(os.path.join(artifacts, "report-small-open.png"), full_page=True)
        check(not b.problems(), "small: %s" % b.problems())

    # Without scripting: the plain list, every change, in order.
    with Browser(scripts=False) as b:
        b.open("file://" + html)
        items = b.eval("[...document.querySelectorAll('ul.plain > li > code')].map(e => e.textContent)")
        want = [x for x in (("%s:" % c["tree"] if c["tree"] != "/" else "") + escape(raw_path(c))
                            for c in result["changes"])]
        check(items == want, "small, no scripting: %s" % items)
        check(b.eval("document.getElementById('app').children.length") == 0, "small, no scripting: the app ran")
        b.screenshot(os.path.join(artifacts, "report-small-noscript.png"), full_page=True)
    print("ok - small report: counts, filters, search, names, diff, fields; the plain list without scripting")


INJECTED = "document.querySelectorAll('img, iframe, object, embed, frame, link, base, form, meta[http-equiv=refresh]')"


def no_injection(b, name):
    check(b.eval("typeof window.__pwned") == "undefined", "%s: an injected script ran (%s)" % (
        name, b.eval("window.__pwned")))
    check(b.eval("document.scripts.length") == 2, "%s: %d scripts" % (name, b.eval("document.scripts.length")))
    check(b.eval(INJECTED + ".length") == 0, "%s: injected elements" % name)
    check(b.eval("document.querySelectorAll('svg').length") <= 1, "%s: an injected svg" % name)
    handlers = b.eval("[...document.querySelectorAll('*')].flatMap(e => [...e.attributes]"
                      ".filter(a => /^on/i.test(a.name)).map(a => e.tagName + ' ' + a.name))")
    check(handlers == [], "%s: event handler attributes %s" % (name, handlers))
    dialogs = [p for p in b.problems() if p.startswith("dialog")]
    check(not dialogs, "%s: %s" % (name, dialogs))


def hostile(result, html, artifacts):
    with Browser() as b:
        b.open("file://" + html)
        b.wait_for(READY)
        common_checks(b, result, "hostile")
        no_injection(b, "hostile")
        open_all(b)
        no_injection(b, "hostile, opened")
        check(titles(b) == expected_titles(result), "hostile: names %s\nexpected %s" % (
            titles(b), expected_titles(result)))
        # A search for markup finds the names holding it, as text.
        hits = sum(1 for c in result["changes"] if "<script" in escape(raw_path(c)).lower())
        got = shown_count(search(b, "<script"))
        check(got == hits and hits > 0, "hostile: search <script: %d, expected %d" % (got, hits))
        no_injection(b, "hostile, searched")
        # The header shows the image names and the label as text.
        header = b.eval("document.querySelector('header').textContent")
        check("/img/<script>window.__pwned=10</script>.qcow2" in header and "\\xff" in header,
              "hostile: header %r" % header)
        b.screenshot(os.path.join(artifacts, "report-hostile.png"), full_page=True)
        problems = b.problems()
        check(not problems, "hostile: %s" % problems)
    with Browser(scripts=False) as b:
        b.open("file://" + html)
        no_injection(b, "hostile, no scripting")
        items = sorted(b.eval("[...document.querySelectorAll('ul.plain > li > code')].map(e => e.textContent)"))
        check(items == expected_titles(result), "hostile, no scripting: %s" % items)
    print("ok - hostile names: shown as text with and without scripting, no element made, no script run")


def result(result, html, artifacts):
    with Browser() as b:
        b.open("file://" + html)
        b.wait_for(READY)
        common_checks(b, result, "result")
        open_all(b)
        check(titles(b) == expected_titles(result), "result: names %s" % titles(b))
        b.screenshot(os.path.join(artifacts, "report-result.png"), full_page=True)
        check(not b.problems(), "result: %s" % b.problems())
    print("ok - the report in chromium: its counts and every change's name")


def big(result, html, artifacts):
    n = len(result["changes"])
    size = os.path.getsize(html)
    with Browser() as b:
        load = b.open("file://" + html)
        ready = int(b.wait_for(READY))
        common_checks(b, result, "big")
        b.screenshot(os.path.join(artifacts, "report-100k.png"))
        # Usable: opening a directory, a search and a filter each render at once.
        start = time.monotonic()
        b.eval("document.querySelector('.tree details.dir details.dir').open = true")
        b.wait_for("document.querySelector('.tree details.dir details.dir .kids').children.length > 0")
        opened = time.monotonic() - start
        start = time.monotonic()
        got = shown_count(search(b, "/d07/"))
        searched = b.eval("document.documentElement.getAttribute('data-render-ms')")
        hits = sum(1 for c in result["changes"] if "/d07/" in c["path"])
        check(got == hits, "big: search: %d, expected %d" % (got, hits))
        search(b, "")
        set_filter(b, "added", False)
        filtered = b.eval("document.documentElement.getAttribute('data-render-ms')")
        check(shown_count(b.eval(SHOWN)) == n - result["summary"]["added"], "big: filter")
        rendered = b.eval("document.querySelectorAll('.tree details').length")
        check(rendered < 2000, "big: %d entries rendered at once" % rendered)
        check(not b.problems(), "big: %s" % b.problems())
    print("# %s changes: report %.1f MB; page loaded in %.2f s, tree shown %d ms after navigation; "
          "a directory opened in %.2f s; a search rendered in %s ms, a filter in %s ms" % (
              format(n, ","), size / 1e6, load, ready, opened, searched, filtered))
    print("ok - %s changes: rendered lazily (%d entries in the page), search and filters" % (format(n, ","), rendered))


class Tags(html.parser.HTMLParser):
    """The elements of rendered Markdown, and the text of each table's cells."""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.tables, self.pres = set(), [], []
        self.cell = self.pre = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = ""
        elif tag == "pre":
            self.pre = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self.cell)
            self.cell = None
        elif tag == "pre":
            self.pres.append(self.pre)
            self.pre = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.pre is not None:
            self.pre += data


def markdown(result, md):
    rendered = subprocess.run(["cmark-gfm", "--unsafe", "-e", "table", md], check=True,
                              capture_output=True, text=True).stdout
    p = Tags()
    p.feed(rendered)
    allowed = {"h2", "h3", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "code", "details",
               "summary", "pre", "blockquote"}
    check(p.tags <= allowed, "markdown: elements %s" % (p.tags - allowed))
    changes = p.tables[-1]
    check(changes[0] == ["Change", "Path", "Kind", "Size", "Details"], "markdown: header %s" % changes[0])
    want = [[c["change"], ("%s:" % c["tree"] if c["tree"] != "/" and len({x["tree"] for x in result["changes"]}) > 1
                           else "") + escape(raw_path(c)), c["kind"]] for c in result["changes"]]
    got = [row[:3] for row in changes[1:]]
    check(got == want, "markdown: rows\n%s\nexpected\n%s" % (got, want))
    diffs = [c["diff"] for c in result["changes"] if "diff" in c]
    check(p.pres == diffs, "markdown: diffs %s" % p.pres)
    print("ok - %s rendered by cmark-gfm: only the report's own elements, every name as text, every diff whole"
          % os.path.basename(md))


def main(argv):
    if len(argv) == 4 and argv[1] == "markdown":
        with open(argv[2], encoding="utf-8") as f:
            markdown(json.load(f), argv[3])
        return 0
    if len(argv) != 5 or argv[1] not in ("small", "hostile", "big", "result"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[2], encoding="utf-8") as f:
        result = json.load(f)
    os.makedirs(argv[4], exist_ok=True)
    globals()[argv[1]](result, os.path.abspath(argv[3]), argv[4])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
