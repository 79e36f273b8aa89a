"""The soak's figures: counted from every thread, printed as one Markdown
table, and the verdict (any loss, wrong result, leak or anomaly fails)."""
import collections
import threading


class Figures:
    def __init__(self):
        self.lock = threading.Lock()
        self.states = collections.Counter()
        self.kinds = collections.Counter()
        self.frontends = collections.Counter()
        self.faults = collections.Counter()       # landed or applied
        self.aimed = collections.Counter()        # aimed at a job
        self.wrong = []                           # (spec, outcome)
        self.never = []
        self.restarts = []
        self.anomalies = []
        self.resubmitted = 0
        self.values = {}

    def job(self, spec, outcome):
        with self.lock:
            self.kinds[spec.kind] += 1
            self.frontends[spec.frontend] += 1
            self.states[outcome.state] += 1
            if spec.fault:
                self.aimed[spec.fault] += 1
                if outcome.landed:
                    self.faults[spec.fault + " (landed)"] += 1
            if outcome.state == "never-ended":
                self.never.append((spec, outcome))
            elif not outcome.ok:
                self.wrong.append((spec, outcome))

    def fault(self, kind):
        with self.lock:
            self.faults[kind] += 1

    def restart(self, sig, children, busy, left, tmp_left, note):
        with self.lock:
            self.restarts.append((sig, children, busy, left, tmp_left, note))

    def anomaly(self, what):
        with self.lock:
            self.anomalies.append(what)

    def set(self, key, value):
        with self.lock:
            self.values[key] = value

    def landed(self, kind):
        with self.lock:
            return self.faults[kind + " (landed)"] if kind in ("worker-segv", "qemu-kill", "qemu-stop") \
                else self.faults[kind]

    # ---- the verdict ----

    def failures(self):
        v = self.values
        out = []
        if self.never:
            out.append(f"{len(self.never)} jobs never ended")
        if self.wrong:
            out.append(f"{len(self.wrong)} jobs ended wrongly")
        for r in self.restarts:
            if r[3]:
                out.append(f"after {r[0]}: left running {', '.join(r[3])}")
            if r[4]:
                out.append(f"after {r[0]}: left in TMPDIR {', '.join(r[4])}")
        for k in ("leftover processes", "leftover temporary entries", "daemon fds beyond baseline"):
            if v.get(k):
                out.append(f"{k}: {v[k]}")
        if v.get("integrity_check") != "ok":
            out.append(f"integrity_check: {v.get('integrity_check')}")
        if v.get("rss growth") and v["rss growth"] > 1:
            out.append(f"daemon RSS grew beyond noise: {v.get('rss at start')} -> {v.get('rss at end')} KiB")
        out += self.anomalies
        return out

    def table(self, title):
        v = self.values
        kill_left = sum(len(r[3]) for r in self.restarts)
        tmp_left = sum(len(r[4]) for r in self.restarts)
        rows = [
            ("jobs run", f"{sum(self.kinds.values())} ({', '.join(f'{k} {n}' for k, n in sorted(self.kinds.items()))})"),
            ("clients, seed", f"{v.get('clients')} clients, seed {v.get('seed')}"),
            ("front-ends", ", ".join(f"{k} {n}" for k, n in sorted(self.frontends.items()))),
            ("jobs by terminal state", ", ".join(f"{k} {n}" for k, n in sorted(self.states.items()))),
            ("jobs that never ended", str(len(self.never))),
            ("results or errors that differ from the quiet run", str(len(self.wrong))),
            ("submissions cut by a restart (run again)", str(self.resubmitted)),
            ("faults", ", ".join(f"{k} {n}" for k, n in sorted(self.faults.items()))),
            ("faults aimed at a job", ", ".join(f"{k} {n}" for k, n in sorted(self.aimed.items()))),
            ("daemon restarts survived", f"{len(self.restarts)} ("
             + ", ".join(f"{s} {n}" for s, n in sorted(collections.Counter(r[0] for r in self.restarts).items()))
             + f"; {sum(1 for r in self.restarts if r[2])} with an appliance running)"),
            ("left running 10 s after a daemon's death (workers, qemu, qemu-nbd)",
             f"{kill_left} (of {sum(r[1] for r in self.restarts)} children at the kills)"),
            ("left in TMPDIR after a daemon's death", str(tmp_left)),
            ("leftover processes after the run", str(v.get("leftover processes", "?"))),
            ("leftover temporary entries after the run", str(v.get("leftover temporary entries", "?"))),
            ("daemon fds: baseline, at the end (kept results among them; on images)",
             f"{v.get('fds at start')} ({v.get('results at start')}), {v.get('fds at end')} "
             f"({v.get('results at end')}; {v.get('daemon fds on images', '?')})"),
            ("store PRAGMA integrity_check", str(v.get("integrity_check"))),
            ("daemon RSS after warm-up / at the end (VmRSS, KiB)",
             f"{v.get('rss at start')} / {v.get('rss at end')}"),
            ("daemon peak RSS, first / last incarnation (VmHWM, KiB)",
             f"{v.get('hwm at start')} / {v.get('hwm at end')}"),
            ("appliances launched (last incarnation)", str(v.get("launches"))),
            ("duration", f"{v.get('duration', 0):.0f} s ({v.get('quiet', 0):.0f} s of quiet reference runs)"),
        ]
        w = max(len(r[0]) for r in rows)
        lines = [f"### {title}", "", f"| {'figure'.ljust(w)} | value |", f"| {'-' * w} | --- |"]
        lines += [f"| {k.ljust(w)} | {val} |" for k, val in rows]
        return "\n".join(lines)
