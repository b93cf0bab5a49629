#!/usr/bin/env python3
"""Helpers for bench/run (standard library only).

Subcommands:
  free-port                       print a free TCP port on 127.0.0.1
  port-busy PORT                  exit 0 if something accepts connections on 127.0.0.1:PORT
  children PID                    print the PIDs whose parent is PID, one a line
  mem PID [--tree]                JSON memory of PID (with --tree: PID plus its direct children):
                                  {"rss_kb", "hwm_kb", "pss_kb", "procs"} from /proc
  cpu-busy SECONDS                percent of the machine's CPU in use over SECONDS
  wrk-run OUT PIDS TIMEOUT WRK_ARGS...
                                  run wrk, its output to OUT, and write OUT.cpu.json: the CPU
                                  used by the server (PIDS, comma-separated), by wrk, and by
                                  everything else during the run; exits with wrk's status
  check URL plaintext|json        exit 0 if URL answers 200 with the expected body and type;
                                  prints what was wrong otherwise
  parse-wrk FILE                  JSON of one wrk --latency output
  report DIR OUT                  Markdown report from the files bench/run left in DIR;
                                  printed and written to OUT
"""

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time

EXPECTED = {
    "plaintext": ("text/plain", b"Hello, World!"),
    "json": ("application/json", {"message": "Hello, World!"}),
}

# ---------------------------------------------------------------------------- processes


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_busy(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return 0  # kernel threads / zombies have no Vm* lines


def _pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            kids.append(int(entry))
    return sorted(kids)


def mem(pid, tree):
    pids = [pid] + (_children(pid) if tree else [])
    out = {"rss_kb": 0, "hwm_kb": 0, "pss_kb": 0, "procs": 0}
    for p in pids:
        rss = _status_kb(p, "VmRSS")
        if rss is None:
            continue
        out["procs"] += 1
        out["rss_kb"] += rss
        out["hwm_kb"] += _status_kb(p, "VmHWM") or 0
        pss = _pss_kb(p)
        if pss is None or out["pss_kb"] is None:
            out["pss_kb"] = None
        else:
            out["pss_kb"] += pss
    if out["procs"] == 0:
        return None
    return out


# ---------------------------------------------------------------------------- CPU accounting

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _machine_busy():
    """(busy, total) jiffies over all CPUs since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _proc_jiffies(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return 0
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def cpu_busy(seconds):
    b0, t0 = _machine_busy()
    time.sleep(seconds)
    b1, t1 = _machine_busy()
    return 100.0 * (b1 - b0) / max(1, t1 - t0)


def wrk_run(out, pids, timeout, args):
    pids = [int(p) for p in pids.split(",") if p]
    pids = sorted(set(pids + [k for p in pids for k in _children(p)]))
    busy0, total0 = _machine_busy()
    srv0 = sum(_proc_jiffies(p) for p in pids)
    start = time.monotonic()
    with open(out, "w") as f:
        proc = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT)
        deadline = start + timeout
        status, usage = None, None
        while status is None:
            pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, usage = os.waitstatus_to_exitcode(st), ru
                break
            if time.monotonic() > deadline:
                proc.kill()
                _, st, usage = os.wait4(proc.pid, 0)
                status = 124
                break
            time.sleep(0.05)
    wall = time.monotonic() - start
    busy1, total1 = _machine_busy()
    srv1 = sum(_proc_jiffies(p) for p in pids)
    machine = max(1, total1 - total0)  # jiffies of all CPUs during the run
    wrk_j = (usage.ru_utime + usage.ru_stime) * CLK_TCK
    server_j = srv1 - srv0
    other_j = max(0.0, (busy1 - busy0) - server_j - wrk_j)
    with open(out + ".cpu.json", "w") as f:
        json.dump({
            "wall_s": round(wall, 2),
            "cores": os.cpu_count(),
            "server_pct": round(100.0 * server_j / machine, 1),
            "wrk_pct": round(100.0 * wrk_j / machine, 1),
            "other_pct": round(100.0 * other_j / machine, 1),
            "idle_pct": round(100.0 * (machine - (busy1 - busy0)) / machine, 1),
        }, f)
    return status


# ---------------------------------------------------------------------------- HTTP check


def check(url, kind):
    m = re.match(r"http://([^/:]+):(\d+)(/.*)$", url)
    if not m:
        return f"bad URL {url}"
    host, port, path = m.group(1), int(m.group(2)), m.group(3)
    try:
        conn = http.client.HTTPConnection(host, port, timeout=3)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        ctype = resp.getheader("Content-Type", "")
        conn.close()
    except Exception as e:  # noqa: BLE001 - report anything
        return f"GET {url} failed: {e}"
    want_type, want_body = EXPECTED[kind]
    problems = []
    if resp.status != 200:
        problems.append(f"status {resp.status}")
    if not ctype.split(";")[0].strip().lower() == want_type:
        problems.append(f"Content-Type {ctype!r} (want {want_type})")
    if kind == "json":
        try:
            ok = json.loads(body) == want_body
        except ValueError:
            ok = False
    else:
        ok = body == want_body
    if not ok:
        problems.append(f"body {body[:80]!r}")
    return "; ".join(problems)


# ---------------------------------------------------------------------------- wrk output

NOISY_OTHER_PCT = 5.0  # other processes' CPU share above which a run is flagged

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def _to_ms(value, unit):
    return float(value) * _UNIT_MS[unit]


def parse_wrk(text):
    """Parse the text output of `wrk --latency`."""
    r = {"rps": None, "p50_ms": None, "p99_ms": None, "requests": None,
         "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx3xx": 0}}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(r"^\s*" + pct + r"(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
        if m:
            r[key] = _to_ms(m.group(1), m.group(2))
    m = re.search(r"^\s*(\d+) requests in", text, re.M)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        for k, v in zip(("connect", "read", "write", "timeout"), m.groups()):
            r["errors"][k] = int(v)
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        r["errors"]["non2xx3xx"] = int(m.group(1))
    return r


# ---------------------------------------------------------------------------- report


def _read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def _fmt_int(x):
    return "—" if x is None else f"{x:,.0f}"


def _fmt_k(x):
    return f"{x / 1000:.0f}k" if x >= 10000 else f"{x:,.0f}"


def _fmt_ms(x):
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"


def _fmt_mib(kb):
    return "—" if kb in (None, "", "-") else f"{int(kb) / 1024:.1f}"


def _errors_text(r):
    e = r["errors"]
    parts = [f"{k} {v}" for k, v in e.items() if v]
    return ", ".join(parts) if parts else "0"


def report(work, out_path):
    meta = dict(_read_tsv(os.path.join(work, "meta.tsv")))
    ours_label = meta.get("ours_label", "bulkhead")
    lines = []
    add = lines.append

    add(f"# HTTP benchmark, {meta.get('date', '?')[:10]}")
    add("")
    add("| | |")
    add("|---|---|")
    for key, label in (
        ("date", "date (UTC)"), ("kernel", "kernel (`uname -r`)"), ("cpu", "CPU"),
        ("cores", "cores"), ("loadavg", "load average at start"),
        ("cpu_busy", "CPU in use before the runs"), ("wrk", "wrk"),
        ("nginx", "nginx"), ("swift", "swift"), ("commit", "git commit"),
        ("method", "method"), ("bench_server_bin", "bench-server binary"),
        ("bench_server_env", "bench-server env"),
    ):
        if meta.get(key):
            add(f"| {label} | {meta[key]} |")
    add("")

    # ---- throughput and latency
    runs = []
    for row in _read_tsv(os.path.join(work, "runs.tsv")):
        route, conns, server, status, raw = row[0], int(row[1]), row[2], row[3], row[4]
        rep = int(row[5]) if len(row) > 5 else 1
        r = {"route": route, "conns": conns, "server": server, "status": status, "raw": raw,
             "rep": rep, "rps": None, "p50_ms": None, "p99_ms": None,
             "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx3xx": 0}}
        if status == "ok" and os.path.exists(raw):
            with open(raw) as f:
                r.update(parse_wrk(f.read()))
        r["cpu"] = None
        if os.path.exists(raw + ".cpu.json"):
            with open(raw + ".cpu.json") as f:
                r["cpu"] = json.load(f)
        runs.append(r)
    repeats = max((r["rep"] for r in runs), default=1)

    # One row per route, connections and server: the median over the repetitions.
    cells = {}
    for r in runs:
        cells.setdefault((r["route"], r["conns"], r["server"]), []).append(r)
    rows = {}
    for key, group in cells.items():
        ok = [r for r in group if r["status"] == "ok" and r.get("rps") is not None]
        row = {"n": len(ok), "failed": [r["status"] for r in group if r["status"] != "ok"]}
        for metric in ("rps", "p50_ms", "p99_ms"):
            vals = [r[metric] for r in ok if r.get(metric) is not None]
            row[metric] = statistics.median(vals) if vals else None
            row[metric + "_range"] = (min(vals), max(vals)) if vals else None
        errors = {}
        for r in ok:
            for k, v in r["errors"].items():
                errors[k] = errors.get(k, 0) + v
        row["errors"] = errors
        rows[key] = row

    add("## Throughput and latency")
    add("")
    if repeats > 1:
        add(f"Each cell is the median of {repeats} runs (req/s range in parentheses); errors are summed.")
        add("")
    add("| route | conns | server | req/s | p50 ms | p99 ms | errors | ratio to nginx |")
    add("|---|---:|---|---:|---:|---:|---|---:|")
    for (route, conns, server), row in rows.items():
        label = ours_label if server == "bulkhead" else server
        if row["n"] == 0:
            add(f"| /{route} | {conns} | {label} | — | — | — | {row['failed'][0]} | — |")
            continue
        rps = _fmt_int(row["rps"])
        if repeats > 1 and row["rps_range"]:
            lo, hi = row["rps_range"]
            rps += f" ({_fmt_k(lo)}–{_fmt_k(hi)})"
        errors = _errors_text(row)
        if row["failed"]:
            errors += f"; {len(row['failed'])} run(s): {row['failed'][0]}"
        ratio = "—"
        if server == "bulkhead":
            ref = rows.get((route, conns, "nginx"))
            if ref and ref.get("rps") and row.get("rps") is not None:
                ratio = f"{row['rps'] / ref['rps']:.2f}"
        add(f"| /{route} | {conns} | {label} | {rps} | "
            f"{_fmt_ms(row['p50_ms'])} | {_fmt_ms(row['p99_ms'])} | {errors} | {ratio} |")
    add("")
    ours = rows.get(("json", 64, "bulkhead"))
    ref = rows.get(("json", 64, "nginx"))
    if ours and ref and ours.get("rps") and ref.get("rps") and ours.get("p99_ms") is not None:
        ratio = ours["rps"] / ref["rps"]
        met = ratio >= 0.5 and ours["p99_ms"] < 5.0
        add(f"**Target** (/json, 64 connections: ≥ 0.50 of nginx req/s and p99 < 5 ms): "
            f"{'MET' if met else 'NOT MET'} (ratio {ratio:.2f}, p99 {_fmt_ms(ours['p99_ms'])} ms; "
            f"nginx p99 {_fmt_ms(ref['p99_ms'])} ms)")
    else:
        add("**Target** (/json, 64 connections: ≥ 0.50 of nginx req/s and p99 < 5 ms): not measured")
    add("")

    # ---- memory of the two servers
    mem_rows = _read_tsv(os.path.join(work, "mem.tsv"))
    if mem_rows:
        add("## Memory of the benchmarked servers (MiB)")
        add("")
        add("| server | processes | RSS idle (after start) | RSS after the runs | max RSS after a run | peak RSS (VmHWM) | PSS after the runs |")
        add("|---|---:|---:|---:|---:|---:|---:|")
        samples = {}
        for server, phase, blob in mem_rows:
            samples.setdefault(server, []).append((phase, json.loads(blob) if blob != "-" else None))
        for server in sorted(samples, key=lambda k: (k != "bulkhead", k)):
            items = samples[server]
            idle = next((m for p, m in items if p == "idle" and m), None)
            runs_m = [m for p, m in items if p != "idle" and m]
            last = runs_m[-1] if runs_m else None
            label = ours_label if server == "bulkhead" else server
            if server == "nginx":
                label = "nginx (master + workers)"
            add(f"| {label} | {(last or idle or {}).get('procs', '—')} | "
                f"{_fmt_mib(idle and idle['rss_kb'])} | {_fmt_mib(last and last['rss_kb'])} | "
                f"{_fmt_mib(max((m['rss_kb'] for m in runs_m), default=None))} | "
                f"{_fmt_mib(last and last['hwm_kb'])} | {_fmt_mib(last and last['pss_kb'])} |")
        add("")
        add("RSS of several processes is their sum (shared pages counted once per process); "
            "PSS splits shared pages between them.")
        add("")

    # ---- idle RSS per service
    svc_rows = _read_tsv(os.path.join(work, "services.tsv"))
    svc_note = meta.get("services_note")
    if svc_rows or svc_note:
        add("## Idle RSS per service")
        add("")
        if svc_note:
            add(svc_note)
            add("")
        if svc_rows:
            add("| service | /healthz | idle RSS MiB | peak RSS (VmHWM) MiB | note |")
            add("|---|---|---:|---:|---|")
            for name, health, blob, note in svc_rows:
                m = json.loads(blob) if blob != "-" else None
                add(f"| {name} | {health} | {_fmt_mib(m and m['rss_kb'])} | "
                    f"{_fmt_mib(m and m['hwm_kb'])} | {note} |")
            add("")

    notes = os.path.join(work, "notes.txt")
    note_lines = []
    if os.path.exists(notes):
        with open(notes) as f:
            note_lines = [n.rstrip("\n") for n in f if n.strip()]
    for r in runs:
        cpu = r.get("cpu")
        if cpu and cpu["other_pct"] >= NOISY_OTHER_PCT:
            label = ours_label if r["server"] == "bulkhead" else r["server"]
            run = f" (run {r['rep']})" if repeats > 1 else ""
            note_lines.append(
                f"/{r['route']} {r['conns']} connections {label}{run}: other processes used "
                f"{cpu['other_pct']:.0f}% of the machine's CPU during the run; that row is noisy.")
    if note_lines:
        add("## Notes")
        add("")
        lines.extend(f"- {n}" for n in note_lines)
        add("")

    # ---- raw output, for auditing the parsed numbers
    raw_runs = [r for r in runs if r["status"] == "ok" and os.path.exists(r["raw"])]
    if raw_runs:
        add("<details><summary>raw wrk output</summary>")
        add("")
        for r in raw_runs:
            label = ours_label if r["server"] == "bulkhead" else r["server"]
            run = f", run {r['rep']} of {repeats}" if repeats > 1 else ""
            add(f"/{r['route']}, {r['conns']} connections, {label}{run}:")
            add("")
            cpu = r.get("cpu")
            if cpu:
                add(f"CPU during the run (share of all {cpu['cores']} cores): server {cpu['server_pct']}%, "
                    f"wrk {cpu['wrk_pct']}%, other processes {cpu['other_pct']}%, idle {cpu['idle_pct']}%.")
                add("")
            add("```")
            with open(r["raw"]) as f:
                lines.extend(line.rstrip("\n") for line in f)
            add("```")
            add("")
        add("</details>")
        add("")

    text = "\n".join(lines)
    with open(out_path, "w") as f:
        f.write(text)
    print(text)


# ---------------------------------------------------------------------------- main


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "free-port":
        print(free_port())
    elif cmd == "port-busy":
        return 0 if port_busy(int(args[0])) else 1
    elif cmd == "children":
        for kid in _children(int(args[0])):
            print(kid)
    elif cmd == "mem":
        m = mem(int(args[0]), "--tree" in args[1:])
        if m is None:
            print("-")
            return 1
        print(json.dumps(m))
    elif cmd == "cpu-busy":
        print(f"{cpu_busy(float(args[0])):.0f}")
    elif cmd == "wrk-run":
        return wrk_run(args[0], args[1], float(args[2]), args[3:])
    elif cmd == "check":
        problem = check(args[0], args[1])
        if problem:
            print(problem)
            return 1
    elif cmd == "parse-wrk":
        with open(args[0]) as f:
            print(json.dumps(parse_wrk(f.read())))
    elif cmd == "report":
        report(args[0], args[1])
    else:
        print(f"unknown subcommand {cmd}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # Ctrl-C during a run: bench/run cleans up
        sys.exit(130)
