#!/usr/bin/env python3
"""api-core bulkhead benchmark driver (standard library only). See bench/api-core/README.md.

One run: start the whole stack (`bulkhead run` from a release bin dir, free ports, a temporary
data dir), set up one tenant with N users on a plan that allows the load, then ROUNDS times:

  1. IDLE:   a fixed-rate, open-loop load of logins (auth) and settings GET/PATCH (api-core);
  2. LOADED: submit JOBS chat jobs on a slow simulator model, confirm the backlog and that every
             worker slot is busy, then the same fixed-rate load again while SSE followers (another
             process) watch jobs to their end;
  3. cancel the jobs left and wait for the queue to drain.

Each phase's samples are pooled over the rounds.

It records every latency, the CPU each process used per phase (from /proc) and the queue's
backlog, prints a Markdown report and writes it to --out.

usage: driver.py --bin-dir DIR --out FILE [options]     (bench/api-core/run passes them)
       driver.py follow ...                             (internal: the SSE follower process)
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

PASSWORD = "benchmark password 1"  # auth wants >= 10 characters
CLK_TCK = os.sysconf("SC_CLK_TCK")
STACK_NAMES = ["api-core", "auth", "inference-gateway", "queue-broker", "cache", "metrics", "autoscaler", "inference-worker"]


def say(msg):
    print(f"[api-core bench] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------- HTTP


class Conn:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port; reconnects once on a dropped one."""

    def __init__(self, port, timeout=30):
        self.port, self.timeout, self.conn = port, timeout, None

    def call(self, method, path, body=None, headers=None):
        """(status, payload bytes, seconds from sending to the last body byte); status 0 = transport error."""
        data = None
        h = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            h["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                payload = r.read()
                elapsed = time.perf_counter() - start
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, payload, elapsed
            except (OSError, http.client.HTTPException) as e:
                self.conn.close()
                self.conn = None
                # A keep-alive connection the server closed while idle fails at once: retry that
                # once on a new connection (the time counted is the retry's).
                if attempt == 1:
                    return 0, repr(e).encode(), time.perf_counter() - start
        return 0, b"unreachable", 0.0


def js(payload):
    try:
        return json.loads(payload) if payload else {}
    except ValueError:
        return {}


def expect(status, payload, wanted, what):
    if status not in wanted:
        raise SystemExit(f"setup failed: {what}: HTTP {status}: {payload[:300]!r}")
    return js(payload)


# ------------------------------------------------------------------------------------- /proc


def stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command's closing parenthesis (fields[0] is the
    state, field 3 of proc(5)); None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()


def proc_ticks(pid):
    """utime + stime of a process (all its threads), in clock ticks; None when it is gone."""
    fields = stat_fields(pid)
    return None if fields is None else int(fields[11]) + int(fields[12])


def machine_ticks():
    """(busy, total, interrupts, steal) clock ticks over all CPUs since boot: busy counts all but
    idle and iowait; interrupts are irq + softirq (loopback networking lands there); steal is time
    the hypervisor gave to other machines."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    total = sum(v)
    return total - v[3] - v[4], total, v[5] + v[6], v[7]


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = stat_fields(entry)
        if fields is not None and int(fields[1]) == pid:
            out.append(int(entry))
    return out


def env_of(pid):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return {}
    out = {}
    for item in raw.split(b"\0"):
        k, _, v = item.partition(b"=")
        if k:
            out[k.decode(errors="replace")] = v.decode(errors="replace")
    return out


POLICIES = {0: "normal", 1: "FIFO", 2: "RR", 3: "batch", 5: "idle", 6: "deadline"}


def scheduling_of(pid):
    """(policy name, nice) of a process's main thread, from /proc/<pid>/stat; None when gone."""
    fields = stat_fields(pid)
    return None if fields is None else (POLICIES.get(int(fields[38]), fields[38]), int(fields[16]))


def store_commits(stack):
    """queue-broker's (fsynced, deferred, checkpoints) commit counters from its /metrics."""
    s, p, _ = Conn(stack.ports["queue-broker"], timeout=5).call("GET", "/metrics")
    out = {"immediate": 0, "deferred": 0, "syncs": 0}
    if s != 200:
        return out
    for line in p.decode(errors="replace").splitlines():
        for key, prefix in (("immediate", 'queue_store_commits{fsync="immediate"}'), ("deferred", 'queue_store_commits{fsync="deferred"}'),
                            ("syncs", "queue_store_deferred_syncs ")):
            if line.startswith(prefix):
                out[key] = int(float(line.split()[-1]))
    return out


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ------------------------------------------------------------------------------------- stack


class Stack:
    """`bulkhead run` in its own process group, with the PIDs of its children by service name."""

    def __init__(self, args, work):
        self.args, self.work = args, work
        self.base = free_port_range(8)
        self.token = os.urandom(24).hex()
        self.ports = {name: self.base + i for i, name in enumerate(STACK_NAMES)}
        self.proc = None
        self.log_path = os.path.join(work, "stack.log")

    def start(self):
        catalog = os.path.join(self.work, "catalog.json")
        with open(catalog, "w") as f:
            json.dump(catalog_for(self.args), f)
        env = {k: v for k, v in os.environ.items() if k not in ("PORT", "HOST", "DATA_DIR", "AUTH_SCRYPT_LOG_N", "LOOP_THREADS")}
        env.update({
            "BULKHEAD_INTERNAL_TOKEN": self.token,
            "GATEWAY_CATALOG": catalog,
            "GATEWAY_WORKER_CONCURRENCY": str(self.args.worker_concurrency),
            "GATEWAY_WORKER_DRAIN_TIMEOUT": "1s",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "warning"),
            "ACCESS_LOG": os.environ.get("ACCESS_LOG", "false"),
        })
        cmd = [os.path.join(self.args.bin_dir, "bulkhead"), "run", "--base-port", str(self.base), "--port", "0",
               "--data-dir", os.path.join(self.work, "data"), "--bin-dir", self.args.bin_dir, "--stop-timeout", "10s"]
        say("starting: " + " ".join(cmd))
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 120
        waiting = ["api-core", "auth", "queue-broker", "inference-worker"]
        while waiting:
            if self.proc.poll() is not None:
                raise SystemExit(f"bulkhead run exited ({self.proc.returncode}) before the stack was ready; last lines:\n{self.tail()}")
            if time.time() > deadline:
                raise SystemExit(f"the stack was not ready within 120 s (waiting for {waiting}); last lines:\n{self.tail()}")
            name = waiting[0]
            status, _, _ = Conn(self.ports[name], timeout=2).call("GET", "/readyz")
            if status == 200:
                waiting.pop(0)
            else:
                time.sleep(0.2)
        say(f"stack ready on ports {self.base}..{self.base + 7}")

    def pids(self):
        """{name: pid} of the runner ("bulkhead") and each service child, found by its PORT."""
        out = {"bulkhead (runner, ingress)": self.proc.pid}
        by_port = {str(p): n for n, p in self.ports.items()}
        for child in children(self.proc.pid):
            name = by_port.get(env_of(child).get("PORT", ""))
            if name:
                out[name] = child
        return out

    def tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def free_port_range(n):
    """A base port with n consecutive free ports (checked by binding each)."""
    for _ in range(200):
        base = random.randrange(20000, 60000 - n)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise SystemExit("no range of free ports found")


def catalog_for(args):
    """One slow chat model on the simulator, not cacheable: every job really occupies a worker slot."""
    return {"models": [{
        "name": "sim-bench", "kind": "chat", "cacheable": False,
        "deployments": [{
            "id": "simulator/bench", "provider": "simulator", "context_window": 32768, "max_output_tokens": 4096,
            "price": {"input": 2.5, "output": 10.0},
            "simulator": {"ttft_ms": args.ttft_ms, "tokens_per_second": args.tokens_per_second, "output_tokens": args.output_tokens},
        }],
    }]}


def renice(stack, specs):
    """Applies --nice PROCESS=N to every thread of that process (nice values are per thread on
    Linux; threads created later inherit their creator's)."""
    done = []
    pids = stack.pids()
    for spec in specs:
        name, _, value = spec.partition("=")
        if name not in pids or not value.lstrip("-").isdigit():
            raise SystemExit(f"--nice {spec}: expected PROCESS=N with PROCESS one of {sorted(pids)}")
        for tid in os.listdir(f"/proc/{pids[name]}/task"):
            os.setpriority(os.PRIO_PROCESS, int(tid), int(value))
        done.append(f"{name} nice {value}")
    return done


# ------------------------------------------------------------------------------------- setup


def setup_tenant(stack, n_users):
    """One tenant on a plan that allows the whole load; returns [(email, access token)]."""
    auth = Conn(stack.ports["auth"])
    internal = {"Authorization": "Bearer " + stack.token}
    # Far above the load, but within the cache's counter capacity (≤ 10^12), which the gateway's
    # limiter uses for these budgets.
    big = 10**11
    s, p, _ = auth.call("PUT", "/internal/plans/bench", {
        "ai_budget_micro_usd_per_day": big, "ai_cost_micro_usd_per_minute": big, "requests_per_minute": 10**9,
        "tokens_per_minute": big, "max_concurrent_jobs": 1_000_000}, internal)
    expect(s, p, (200, 201), "PUT /internal/plans/bench")
    tag = os.urandom(4).hex()
    owner = f"owner-{tag}@bench.example.com"
    s, p, _ = auth.call("POST", "/v1/auth/signup", {"tenant_name": "bench", "email": owner, "password": PASSWORD})
    signup = expect(s, p, (201,), "signup")
    tenant = signup["tenant"]["id"]
    s, p, _ = auth.call("PUT", f"/internal/tenants/{tenant}/plan", {"plan": "bench"}, internal)
    expect(s, p, (200,), "PUT tenant plan")
    emails = [owner]
    owner_bearer = {"Authorization": "Bearer " + signup["access_token"]}
    for i in range(1, n_users):
        email = f"user{i}-{tag}@bench.example.com"
        s, p, _ = auth.call("POST", "/v1/auth/members", {"email": email, "password": PASSWORD, "role": "member"}, owner_bearer)
        expect(s, p, (201,), "POST /v1/auth/members")
        emails.append(email)
    return tenant, emails


def login_all(stack, emails):
    auth = Conn(stack.ports["auth"])
    users = []
    for email in emails:
        s, p, _ = auth.call("POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
        users.append((email, expect(s, p, (200,), "login")["access_token"]))
    return users


# ------------------------------------------------------------------------------------- open-loop load


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.rows = {}  # call -> list of (latency s, lateness s, ok, detail)

    def add(self, call, latency, lateness, ok, detail):
        with self.lock:
            self.rows.setdefault(call, []).append((latency, lateness, ok, detail))

    def merge(self, other):
        with self.lock:
            for call, rows in other.rows.items():
                self.rows.setdefault(call, []).extend(rows)


def run_open_loop(stack, users, duration, rates, recorder, seed):
    """For each call type, requests are started at fixed times (i / rate) whatever the answers
    do; each runs on a pool thread with its own keep-alive connection. `lateness` is how late a
    request left against its schedule (the driver's own delay, reported so it can be judged)."""
    local = threading.local()

    def conn(port):
        m = getattr(local, "conns", None)
        if m is None:
            m = local.conns = {}
        if port not in m:
            m[port] = Conn(port)
        return m[port]

    def login(i):
        email, _ = users[i % len(users)]
        s, p, t = conn(stack.ports["auth"]).call("POST", "/v1/auth/login", {"email": email, "password": PASSWORD})
        ok = s == 200 and b"access_token" in p
        return t, ok, None if ok else f"login {s} {p[:160]!r}"

    def get_settings(i):
        _, token = users[i % len(users)]
        s, p, t = conn(stack.ports["api-core"]).call("GET", "/v1/me/settings", headers={"Authorization": "Bearer " + token})
        ok = s == 200
        return t, ok, None if ok else f"GET settings {s} {p[:160]!r}"

    def patch_settings(i):
        _, token = users[i % len(users)]
        body = {"theme": random.choice(["dark", "light"]), "bench": {"seq": i, "seed": seed, "at": time.time()},
                "notes": "x" * random.randrange(32, 512)}
        s, p, t = conn(stack.ports["api-core"]).call("PATCH", "/v1/me/settings", body, {"Authorization": "Bearer " + token})
        ok = s == 200
        return t, ok, None if ok else f"PATCH settings {s} {p[:160]!r}"

    calls = {"login": login, "settings GET": get_settings, "settings PATCH": patch_settings}
    start = time.perf_counter() + 0.2
    end = start + duration
    pools = []

    def schedule(name, rate):
        fn = calls[name]
        pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix=name)
        pools.append(pool)

        def task(i, due):
            lateness = time.perf_counter() - due
            latency, ok, detail = fn(i)
            recorder.add(name, latency, lateness, ok, detail)

        # Start each call type at a random phase so the three schedules do not line up.
        offset = random.random() / rate
        i = 0
        while True:
            due = start + offset + i / rate
            if due >= end:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(task, i, due)
            i += 1

    schedulers = [threading.Thread(target=schedule, args=(n, r), name=f"sched-{n}") for n, r in rates.items() if r > 0]
    for t in schedulers:
        t.start()
    for t in schedulers:
        t.join()
    for pool in pools:
        pool.shutdown(wait=True)


# ------------------------------------------------------------------------------------- jobs


def submit_jobs(stack, users, n, threads=8, tag=0):
    """n chat jobs, each with distinct text, from `threads` keep-alive connections."""
    ids, latencies, errors = [], [], []
    lock = threading.Lock()
    counter = iter(range(n))

    def work():
        c = Conn(stack.ports["api-core"])
        while True:
            with lock:
                k = next(counter, None)
            if k is None:
                return
            email, token = users[k % len(users)]
            body = {"kind": "chat", "model": "sim-bench",
                    "input": {"messages": [{"role": "user", "content": f"Benchmark job {tag}.{k}: write a short story about the number {k}."}]},
                    "metadata": {"bench": "api-core", "n": str(k)}}
            s, p, t = c.call("POST", "/v1/jobs", body, {"Authorization": "Bearer " + token})
            with lock:
                if s == 202:
                    latencies.append(t)
                    ids.append((k, js(p).get("id"), token))
                else:
                    errors.append(f"{s} {p[:200]!r}")

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    ids.sort()
    return [(i, tok) for _, i, tok in ids if i], latencies, errors


def queue_stats(stack):
    s, p, _ = Conn(stack.ports["queue-broker"], timeout=5).call(
        "GET", "/internal/v1/queues/ai-jobs/stats", headers={"Authorization": "Bearer " + stack.token})
    return js(p) if s == 200 else {}


def worker_in_flight(stack):
    s, p, _ = Conn(stack.ports["inference-worker"], timeout=5).call("GET", "/metrics")
    if s != 200:
        return None
    for line in p.decode(errors="replace").splitlines():
        if line.startswith("gateway_jobs_in_flight"):
            try:
                return int(float(line.split()[-1]))
            except ValueError:
                return None
    return None


# ------------------------------------------------------------------------------------- SSE followers (own process)


def follow_main(argv):
    """Followers in their own process (so their parsing does not compete for the measuring
    process's interpreter lock): each follows a job's SSE stream to its end, then the next job."""
    ap = argparse.ArgumentParser(prog="driver.py follow")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--jobs-file", required=True)
    ap.add_argument("--followers", type=int, required=True)
    ap.add_argument("--duration", type=float, required=True)
    a = ap.parse_args(argv)
    with open(a.jobs_file) as f:
        jobs = [line.split() for line in f if line.strip()]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    lock = threading.Lock()
    nxt = iter(jobs)
    stats = {"streams": 0, "completed_streams": 0, "events": {}, "errors": [], "first_delta_ms": []}

    def one(job_id, token):
        # Longer than the 15 s heartbeat: a queued job's stream is quiet until it starts.
        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=60)
        try:
            t0 = time.time()
            conn.request("GET", f"/v1/jobs/{job_id}/events", headers={"Authorization": "Bearer " + token, "Accept": "text/event-stream"})
            r = conn.getresponse()
            if r.status != 200:
                with lock:
                    stats["errors"].append(f"events {r.status} {r.read()[:160]!r}")
                return
            with lock:
                stats["streams"] += 1
            saw_delta = False
            while not stop.is_set():
                line = r.readline()
                if not line:
                    break
                if line.startswith(b"event:"):
                    kind = line[6:].strip().decode(errors="replace")
                    with lock:
                        stats["events"][kind] = stats["events"].get(kind, 0) + 1
                        if kind == "delta" and not saw_delta:
                            saw_delta = True
                            stats["first_delta_ms"].append((time.time() - t0) * 1000)
                        if kind in ("completed", "failed", "cancelled"):
                            stats["completed_streams"] += 1
        except (OSError, http.client.HTTPException) as e:
            with lock:
                stats["errors"].append(repr(e)[:160])
        finally:
            conn.close()

    def loop():
        while not stop.is_set():
            with lock:
                job = next(nxt, None)
            if job is None:
                return
            one(job[0], job[1])

    for _ in range(a.followers):
        threading.Thread(target=loop, daemon=True).start()
    end = time.time() + a.duration
    while not stop.wait(0.5) and time.time() < end:
        pass
    stop.set()
    with lock:
        errors = stats["errors"]
        stats["errors"] = errors[:5] + ([f"... {len(errors) - 5} more"] if len(errors) > 5 else [])
        out = json.dumps(stats)
    print(out, flush=True)
    os._exit(0)  # the follower threads may be blocked in a read: do not wait for them


# ------------------------------------------------------------------------------------- CPU accounting


class CPUWindow:
    """CPU used by each process of the stack and of the driver between start() and stop()."""

    def __init__(self, stack, extra):
        self.stack, self.extra = stack, extra

    def _snap(self):
        pids = self.stack.pids()
        pids.update(self.extra())
        return {n: (p, proc_ticks(p)) for n, p in pids.items()}, machine_ticks(), time.time()

    def start(self):
        self.a = self._snap()

    def stop(self):
        b = self._snap()
        (pa, ma, ta), (pb, mb, tb) = self.a, b
        secs = tb - ta
        out = {}
        for name, (pid, ticks) in pb.items():
            before = pa.get(name)
            if before is None or before[0] != pid or ticks is None or before[1] is None:
                out[name] = None  # restarted or gone during the window
                continue
            out[name] = (ticks - before[1]) / CLK_TCK / secs
        busy = (mb[0] - ma[0]) / CLK_TCK / secs
        total = (mb[1] - ma[1]) / CLK_TCK / secs
        restarted = sorted(n for n in pb if n in pa and pa[n][0] != pb[n][0])
        return {"procs": out, "busy": busy, "cores": total, "seconds": secs, "restarted": restarted,
                "interrupts": (mb[2] - ma[2]) / CLK_TCK / secs, "steal": (mb[3] - ma[3]) / CLK_TCK / secs}


def mean_window(windows):
    """The rounds' CPU windows of one phase, averaged (each round's phase lasts the same time)."""
    n = len(windows)
    names = {k for w in windows for k in w["procs"]}
    procs = {}
    for k in names:
        vals = [w["procs"].get(k) for w in windows]
        procs[k] = None if any(v is None for v in vals) else sum(vals) / n
    return {"procs": procs, "seconds": sum(w["seconds"] for w in windows),
            "restarted": sorted({r for w in windows for r in w["restarted"]}),
            **{k: sum(w[k] for w in windows) / n for k in ("busy", "cores", "interrupts", "steal")}}


# ------------------------------------------------------------------------------------- report


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    # Nearest rank: the smallest value with at least p% of the samples at or below it.
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def ms(x):
    return "—" if x != x else f"{x * 1000:.1f}" if x >= 0.1 else f"{x * 1000:.2f}"


def phase_rows(recorder):
    out = {}
    for call, rows in recorder.rows.items():
        ok = [r[0] for r in rows if r[2]]
        out[call] = {
            "n": len(rows), "ok": len(ok), "errors": len(rows) - len(ok),
            "p50": pct(ok, 50), "p99": pct(ok, 99), "max": max(ok) if ok else float("nan"),
            "late_p99": pct([r[1] for r in rows], 99), "late_max": max(r[1] for r in rows) if rows else float("nan"),
            "first_errors": [r[3] for r in rows if not r[2]][:3],
        }
    return out


def cpu_table(idle, loaded):
    names = [n for n in ["api-core", "auth", "queue-broker", "inference-worker", "inference-gateway", "cache", "metrics",
                         "autoscaler", "bulkhead (runner, ingress)", "driver (load, measuring)", "driver (SSE followers)"]
             if n in idle["procs"] or n in loaded["procs"]]

    def cell(w, n):
        v = w["procs"].get(n)
        return "—" if v is None else f"{v:.2f}"

    lines = ["| process | idle phase (cores) | loaded phase (cores) |", "|---|---:|---:|"]
    for n in names:
        lines.append(f"| {n} | {cell(idle, n)} | {cell(loaded, n)} |")
    for label, w in (("idle", idle), ("loaded", loaded)):
        known = sum(v for v in w["procs"].values() if v)
        w["others"] = max(0.0, w["busy"] - known - w["interrupts"] - w["steal"])
    lines.append(f"| kernel interrupts (irq + softirq: loopback networking, disk) | {idle['interrupts']:.2f} | {loaded['interrupts']:.2f} |")
    lines.append(f"| stolen by the hypervisor (steal) | {idle['steal']:.2f} | {loaded['steal']:.2f} |")
    lines.append(f"| everything else on the machine | {idle['others']:.2f} | {loaded['others']:.2f} |")
    lines.append(f"| **machine busy** (of {idle['cores']:.0f} cores) | **{idle['busy']:.2f}** | **{loaded['busy']:.2f}** |")
    return lines


def git_commit(root):
    try:
        c = subprocess.run(["git", "-C", root, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain"], capture_output=True, text=True, timeout=20).stdout.strip()
        return c + (", with uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# ------------------------------------------------------------------------------------- one round


def wait_for_empty_queue(stack, timeout=180):
    """Until `ai-jobs` has nothing waiting or running and the worker holds no job."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        q = queue_stats(stack)
        if q.get("visible", 1) == 0 and q.get("in_flight", 1) == 0 and (worker_in_flight(stack) or 0) == 0:
            return True
        time.sleep(0.5)
    return False


def cancel_jobs(stack, jobs, threads=8):
    """Cancels every job (a queued one never runs, a running one is told to stop): the queue
    drains in seconds, so the next round's idle phase finds an idle stack."""
    todo = iter(list(jobs))
    lock = threading.Lock()

    def work():
        c = Conn(stack.ports["api-core"])
        while True:
            with lock:
                item = next(todo, None)
            if item is None:
                return
            job_id, token = item
            c.call("POST", f"/v1/jobs/{job_id}/cancel", headers={"Authorization": "Bearer " + token})

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def run_round(stack, args, emails, rates, extra, follower, r, idle_rec, loaded_rec):
    """One idle phase, then one loaded phase; the jobs left are cancelled at the end."""
    label = f"round {r + 1}/{args.rounds}"
    users = login_all(stack, emails)  # fresh tokens (15-minute lifetime)
    if r > 0 and not wait_for_empty_queue(stack):
        raise SystemExit(f"{label}: ai-jobs did not drain after the previous round's cancels")
    say(f"{label}: IDLE phase {args.duration:.0f} s")
    rec = Recorder()
    cpu = CPUWindow(stack, extra)
    cpu.start()
    run_open_loop(stack, users, args.duration, rates, rec, seed=10 * r + 1)
    idle_cpu = cpu.stop()
    idle_rec.merge(rec)
    out = {"idle": phase_rows(rec), "idle_cpu": idle_cpu}

    say(f"{label}: submitting {args.jobs} jobs")
    t = time.time()
    jobs, submit_lat, submit_err = submit_jobs(stack, users, args.jobs, tag=r)
    out.update(submit_secs=time.time() - t, accepted=len(jobs), submit_lat=submit_lat, submit_err=submit_err)
    if not jobs:
        raise SystemExit(f"no job was accepted: {submit_err[:3]}")
    jobs_file = os.path.join(args.work, f"jobs-{r}.txt")
    with open(jobs_file, "w") as f:
        for job_id, token in jobs:
            f.write(f"{job_id} {token}\n")
    # Followers start now and run through the loaded phase (plus the wait for the workers).
    follower["proc"] = subprocess.Popen(
        [sys.executable, "-B", os.path.abspath(__file__), "follow", "--port", str(stack.ports["api-core"]), "--jobs-file", jobs_file,
         "--followers", str(args.followers), "--duration", str(args.duration + 40)],
        stdout=subprocess.PIPE, text=True)

    # The loaded phase starts only once the backlog is there and every worker slot is busy.
    deadline = time.time() + 30
    while True:
        q = queue_stats(stack)
        busy = worker_in_flight(stack)
        if (q.get("in_flight", 0) >= args.worker_concurrency and (busy is None or busy >= args.worker_concurrency)) or time.time() > deadline:
            break
        time.sleep(0.25)
    out.update(load_q=q, load_busy=busy)
    say(f"{label}: LOADED phase {args.duration:.0f} s; ai-jobs visible {q.get('visible')}, in flight {q.get('in_flight')}, worker busy {busy}")
    rec = Recorder()
    cpu = CPUWindow(stack, extra)
    cpu.start()
    samples_busy = []
    stop_sampling = threading.Event()

    def sample():
        while not stop_sampling.wait(2):
            samples_busy.append(worker_in_flight(stack))

    sampler = threading.Thread(target=sample, daemon=True)
    commits_before = store_commits(stack)
    sampler.start()
    run_open_loop(stack, users, args.duration, rates, rec, seed=10 * r + 2)
    loaded_cpu = cpu.stop()
    commits_after = store_commits(stack)
    stop_sampling.set()
    loaded_rec.merge(rec)
    out.update(loaded=phase_rows(rec), loaded_cpu=loaded_cpu, end_q=queue_stats(stack), end_busy=worker_in_flight(stack),
               busy_samples=[b for b in samples_busy if b is not None],
               commits={k: commits_after[k] - commits_before[k] for k in commits_after})
    # The followers stop at the end of the loaded phase and print what they saw.
    follower["proc"].send_signal(signal.SIGTERM)
    try:
        fout, _ = follower["proc"].communicate(timeout=60)
        out["follow"] = js(fout.strip().splitlines()[-1].encode()) if fout.strip() else {}
    except subprocess.TimeoutExpired:
        follower["proc"].kill()
        out["follow"] = {}
    follower["proc"] = None
    if r + 1 < args.rounds:
        say(f"{label}: cancelling the jobs left")
        cancel_jobs(stack, jobs)
    return out


# ------------------------------------------------------------------------------------- main


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "follow":
        return follow_main(sys.argv[2:])
    ap = argparse.ArgumentParser(description="api-core bulkhead benchmark driver")
    ap.add_argument("--bin-dir", required=True, help="release bin dir with bulkhead and the service executables")
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", required=True, help="temporary directory (data dir, logs)")
    ap.add_argument("--duration", type=float, default=60, help="seconds of each measured phase")
    ap.add_argument("--rounds", type=int, default=3, help="idle/loaded pairs, run one after the other; samples pooled per phase")
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--login-rate", type=float, default=4)
    ap.add_argument("--get-rate", type=float, default=100)
    ap.add_argument("--patch-rate", type=float, default=20)
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--worker-concurrency", type=int, default=16)
    ap.add_argument("--followers", type=int, default=24)
    ap.add_argument("--ttft-ms", type=int, default=500)
    ap.add_argument("--tokens-per-second", type=float, default=20)
    ap.add_argument("--output-tokens", type=int, default=100)
    ap.add_argument("--nice", action="append", default=[], metavar="PROCESS=N",
                    help="experiment: lower the CPU priority of a stack process (every thread) after start, e.g. inference-worker=10")
    ap.add_argument("--command", default="bench/api-core/run", help="the command line shown in the report")
    args = ap.parse_args()
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    b0 = machine_ticks()
    time.sleep(2)
    b1 = machine_ticks()
    busy_before = (b1[0] - b0[0]) / max(1, b1[1] - b0[1]) * 100

    stack = Stack(args, args.work)
    follower = {"proc": None}
    rounds = []
    try:
        stack.start()
        reniced = renice(stack, args.nice)
        scheduling = {name: scheduling_of(pid) for name, pid in stack.pids().items() if name in STACK_NAMES}
        broker_env = env_of(stack.pids().get("queue-broker", 0))
        tenant, emails = setup_tenant(stack, args.users)
        users = login_all(stack, emails)
        say(f"tenant {tenant}: {len(users)} users")
        rates = {"login": args.login_rate, "settings GET": args.get_rate, "settings PATCH": args.patch_rate}
        extra = lambda: {"driver (load, measuring)": os.getpid(),
                         **({"driver (SSE followers)": follower["proc"].pid} if follower["proc"] else {})}

        say(f"warm-up {args.warmup:.0f} s")
        run_open_loop(stack, users, args.warmup, rates, Recorder(), seed=0)

        # Idle and loaded phases alternate for --rounds rounds; each phase's samples are pooled,
        # so a burst of noise on the machine (another VM's steal, a checkpoint) lands in one
        # phase of one round instead of deciding the comparison.
        idle_rec, loaded_rec = Recorder(), Recorder()
        for r in range(args.rounds):
            rounds.append(run_round(stack, args, emails, rates, extra, follower, r, idle_rec, loaded_rec))
        restarted = sorted({n for rd in rounds for n in rd["idle_cpu"]["restarted"] + rd["loaded_cpu"]["restarted"]})
    finally:
        if follower["proc"] and follower["proc"].poll() is None:
            follower["proc"].kill()
        stack.stop()

    # ------------------------------------------------------------------ report
    idle, loaded = phase_rows(idle_rec), phase_rows(loaded_rec)
    calls = ["login", "settings GET", "settings PATCH"]
    lines = [f"# api-core bulkhead benchmark, {started.strftime('%Y-%m-%d')}", ""]
    lines += [
        f"- Date (UTC): {started.strftime('%Y-%m-%dT%H:%M:%SZ')}; kernel {platform.release()}; commit {git_commit(root)}",
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores; load average before the run {load_before}; "
        f"CPU in use by others for 2 s before the run: {busy_before:.0f}%",
        f"- Command: `{args.command}`; binaries: `{args.bin_dir}` (release)",
        "",
        "## Method",
        "",
        f"The whole stack from `bulkhead run` (eight processes: api-core, auth with production scrypt N=2^15, queue-broker "
        f"with `QUEUE_SYNCHRONOUS={broker_env.get('QUEUE_SYNCHRONOUS', 'full')}` and "
        f"`STREAM_SYNC_INTERVAL={broker_env.get('STREAM_SYNC_INTERVAL', '250ms')}`, cache, metrics, autoscaler, the gateway and the AI job worker with "
        f"`GATEWAY_WORKER_CONCURRENCY={args.worker_concurrency}`) on this machine, `LOG_LEVEL=warning ACCESS_LOG=false`. "
        f"One tenant, {args.users} users. The driver calls the services on their own ports (not through the ingress) "
        f"with an open-loop load: every request leaves at its scheduled time whatever the earlier ones are doing "
        f"(a pool of 32 keep-alive connections per call type): logins {args.login_rate:g}/s (auth), settings GET "
        f"{args.get_rate:g}/s and PATCH (JSON merge patch of ~0.1–0.6 KB) {args.patch_rate:g}/s (api-core), round-robin over the users.",
        "",
        f"After {args.warmup:g} s of warm-up, {args.rounds} round(s) of:",
        "",
        f"1. **Idle**: {args.duration:g} s of that load on the idle stack.",
        f"2. **Loaded**: {args.jobs} chat jobs submitted (8 connections) on `sim-bench`, a simulator model with "
        f"{args.ttft_ms} ms to first token, {args.tokens_per_second:g} tokens/s, {args.output_tokens} output tokens "
        f"(≈ {args.ttft_ms / 1000 + args.output_tokens / args.tokens_per_second:.1f} s per job, not cacheable), so the worker stays saturated "
        f"for minutes; once every worker slot is busy, the same {args.duration:g} s load, while {args.followers} SSE "
        f"followers (a separate process) watch jobs' `/v1/jobs/{{id}}/events` streams to their end, one job after another.",
        "3. The jobs left are cancelled through api-core and the queue drains before the next round's idle phase.",
        "",
        "The phases alternate so that noise on the machine (another VM's steal, a checkpoint, a build) falls into one phase "
        "of one round instead of deciding the comparison; the results pool each phase's samples over the rounds, and the "
        "per-round table shows how much the rounds differ.",
        "",
        "CPU scheduling of the stack's processes (policy, nice; as `bulkhead run` set it): "
        + ", ".join(f"{n} {v[0]} {v[1]}" for n, v in scheduling.items() if v) + ".",
        "",
        *([f"**Experiment**: CPU priority lowered after start: {', '.join(reniced)} (`--nice`).", ""] if reniced else []),
        "Latency is from sending the request to reading the last byte of the answer. p99 is nearest-rank.",
        "",
        "## Results",
        "",
        "| call | phase | requests | errors | p50 ms | p99 ms | max ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for c in calls:
        for label, ph in (("idle", idle), ("loaded", loaded)):
            r = ph.get(c)
            if r:
                lines.append(f"| {c} | {label} | {r['n']} | {r['errors']} | {ms(r['p50'])} | {ms(r['p99'])} | {ms(r['max'])} |")
    lines += ["", "| call | idle p99 ms | loaded p99 ms | loaded ÷ idle | goal ≤ 1.5× |", "|---|---:|---:|---:|---|"]
    verdicts = []
    for c in calls:
        i, l = idle.get(c), loaded.get(c)
        if not i or not l:
            continue
        ratio = l["p99"] / i["p99"] if i["p99"] > 0 else float("nan")
        ok = ratio <= 1.5
        verdicts.append(ok)
        lines.append(f"| {c} | {ms(i['p99'])} | {ms(l['p99'])} | {ratio:.2f}× | {'met' if ok else '**missed**'} |")
    overall = all(verdicts) and bool(verdicts)
    lines += ["", f"**Goal (loaded p99 ≤ 1.5 × idle p99 for every call): {'met' if overall else 'NOT met'}.**", ""]

    lines += ["### Round by round (p99 ms, idle → loaded)", "", "| round | " + " | ".join(calls) + " |", "|---|" + "---:|" * len(calls)]
    for n, rd in enumerate(rounds, 1):
        cells = []
        for c in calls:
            i, l = rd["idle"].get(c), rd["loaded"].get(c)
            cells.append("—" if not i or not l else f"{ms(i['p99'])} → {ms(l['p99'])} ({l['p99'] / i['p99']:.2f}×)")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    lines += ["", "## The AI load during the loaded phases", ""]
    ceiling = args.worker_concurrency / (args.ttft_ms / 1000 + args.output_tokens / args.tokens_per_second)
    for n, rd in enumerate(rounds, 1):
        lq, eq, follow, commits, secs = rd["load_q"], rd["end_q"], rd["follow"], rd["commits"], rd["loaded_cpu"]["seconds"]
        done = (eq.get("acked_total", 0) or 0) - (lq.get("acked_total", 0) or 0)
        busy = rd["busy_samples"]
        lat, err = rd["submit_lat"], rd["submit_err"]
        lines += [
            f"Round {n}:",
            "",
            f"- Jobs submitted: {rd['accepted']} accepted (202) in {rd['submit_secs']:.1f} s, {len(err)} refused"
            + (f" (first: `{err[0]}`)" if err else "")
            + f"; submit latency p50 {ms(pct(lat, 50))} ms, p99 {ms(pct(lat, 99))} ms, max {ms(max(lat) if lat else float('nan'))} ms.",
            f"- `ai-jobs` backlog at the start of the loaded phase: {lq.get('visible')} waiting, {lq.get('in_flight')} running; "
            f"at its end: {eq.get('visible')} waiting, {eq.get('in_flight')} running.",
            f"- Worker slots busy (`gateway_jobs_in_flight`, of {args.worker_concurrency}): {rd['load_busy']} at the start, {rd['end_busy']} at the end, "
            f"sampled every 2 s: min {min(busy) if busy else '—'}, max {max(busy) if busy else '—'}.",
            f"- Jobs finished during the phase (acked on `ai-jobs`): {done} in {secs:.1f} s = {done / secs:.2f} jobs/s "
            f"(the model's ceiling at this concurrency: {ceiling:.2f} jobs/s).",
            f"- SSE followers: {follow.get('streams', '—')} streams opened, {follow.get('completed_streams', '—')} followed to their terminal event; "
            f"events by type {json.dumps(follow.get('events', {}), sort_keys=True)}; errors {follow.get('errors', '—')}.",
            f"- queue-broker commits during the phase: {commits['immediate']} fsynced before answering (queue operations), "
            f"{commits['deferred']} with the fsync deferred (stream appends only), {commits['syncs']} checkpoints for deferred ones "
            f"({(commits['immediate'] + commits['syncs']) / secs:.1f} fsyncing commits/s).",
            "",
        ]
    idle_cpu = mean_window([rd["idle_cpu"] for rd in rounds])
    loaded_cpu = mean_window([rd["loaded_cpu"] for rd in rounds])
    lines += [
        "## CPU by process (cores used on average over the rounds; from /proc/<pid>/stat and /proc/stat)",
        "",
    ]
    lines += cpu_table(idle_cpu, loaded_cpu)
    lines += ["", "## Notes", ""]
    notes = []
    for c in calls:
        for label, ph in (("idle", idle), ("loaded", loaded)):
            r = ph.get(c)
            if r and r["errors"]:
                notes.append(f"{c} ({label}): {r['errors']} errors, e.g. {r['first_errors']}")
            if r and r["late_p99"] > 0.005:
                notes.append(f"{c} ({label}): the driver started requests late (p99 {ms(r['late_p99'])} ms, max {ms(r['late_max'])} ms "
                             "behind schedule): the load generator itself was short of CPU.")
    if restarted:
        notes.append(f"Processes restarted during the run (crashed): {', '.join(restarted)}.")
    if busy_before >= 10:
        notes.append(f"Other processes used {busy_before:.0f}% of the CPU just before the run: the numbers are noisy.")
    if idle_cpu["others"] > 0.1 or loaded_cpu["others"] > 0.1:
        notes.append(f"Processes outside the benchmark used {idle_cpu['others']:.2f} cores in the idle phase and {loaded_cpu['others']:.2f} "
                     "in the loaded one (see the CPU table): compare the phases with that in mind.")
    lines += [f"- {n}" for n in notes] or ["- none"]
    report = "\n".join(lines) + "\n"
    print(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report)
    say(f"report written to {args.out}")
    return 0 if overall else 3


if __name__ == "__main__":
    sys.exit(main() or 0)
