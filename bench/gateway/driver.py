#!/usr/bin/env python3
"""Gateway overhead benchmark (bench/gateway/run starts this).

One fixed-latency upstream (nginx answering an OpenAI chat completion, plain JSON and as an SSE
stream, from memory) and three ways to reach it, measured in the same run with wrk:
  direct     wrk -> nginx
  bulkhead   wrk -> inference-gateway (openai provider) -> nginx
  litellm    wrk -> LiteLLM proxy (one worker) -> nginx
at concurrency 1, 16 and 64, non-streaming and streaming. Added latency = the path's p50/p99
minus the direct p50/p99 of the same cell. Memory: the gateway's RSS before and after.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import benchlib  # noqa: E402

CHAT_TEXT = "Hello from the fixed-latency upstream."
PLAIN_BODY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "bench",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": CHAT_TEXT}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
})


def stream_body():
    def chunk(delta, finish=None, usage=None, choices=True):
        c = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000, "model": "bench",
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else [], "usage": usage}
        return "data: " + json.dumps(c) + "\n\n"
    words = CHAT_TEXT.split(" ")
    out = chunk({"role": "assistant", "content": ""})
    for i, w in enumerate(words):
        out += chunk({"content": (" " if i else "") + w}, finish="stop" if i == len(words) - 1 else None)
    out += chunk({}, usage={"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}, choices=False)
    return out + "data: [DONE]\n\n"


def nginx_conf(work, port):
    def q(s):  # nginx single-quoted string
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return f"""
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 10000000;
  client_body_buffer_size 64k;
  server {{
    listen 127.0.0.1:{port};
    location = /plain/v1/chat/completions {{ default_type application/json; return 200 {q(PLAIN_BODY)}; }}
    location = /stream/v1/chat/completions {{ default_type text/event-stream; return 200 {q(stream_body())}; }}
  }}
}}
"""


def wait_http(url, headers=None, body=None, timeout=90):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, data=body, headers=headers or {})
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read()
        except Exception as e:  # noqa: BLE001
            last = e
            time.sleep(0.3)
    raise RuntimeError(f"{url} not answering: {last}")


def lua_script(work, name, model, stream, auth):
    body = {"model": model, "messages": [{"role": "user", "content": "Say hello to the benchmark."}]}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    path = os.path.join(work, name + ".lua")
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        if auth:
            f.write(f'wrk.headers["Authorization"] = "Bearer {auth}"\n')
    return path


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def catalog(upstream_port):
    def model(name, path):
        return {
            "name": name, "kind": "chat", "cacheable": False,
            "deployments": [{
                "id": "nginx-" + path, "provider": "openai", "upstream_model": "bench",
                "base_url": f"http://127.0.0.1:{upstream_port}/{path}/v1", "api_key_env": "BENCH_UPSTREAM_KEY",
                "max_concurrency": 0, "price": {"input": 0.15, "output": 0.60},
            }],
        }
    return {"models": [model("bench-plain", "plain"), model("bench-stream", "stream")]}


class Stack:
    """The processes of one run; every one is stopped on exit."""

    def __init__(self, work):
        self.work = work
        self.procs = []

    def start(self, name, args, env=None):
        log = open(os.path.join(self.work, name + ".log"), "w")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop(self):
        for _, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for _, p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def run_wrk(work, name, url, script, conns, duration, pids):
    threads = 1 if conns < 2 else 2
    out = os.path.join(work, f"wrk-{name}.txt")
    status = benchlib.wrk_run(out, ",".join(str(p) for p in pids), duration + 30,
                              ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", "-s", script, url])
    with open(out) as f:
        text = f.read()
    r = benchlib.parse_wrk(text)
    r["status"] = status
    with open(out + ".cpu.json") as f:
        r["cpu"] = json.load(f)
    return r


def main():
    bin_dir, litellm_bin, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
    duration = int(os.environ.get("DURATION", "10"))
    conns_list = [int(c) for c in os.environ.get("BENCH_CONNS", "1 16 64").split()]
    modes = os.environ.get("BENCH_MODES", "plain stream").split()
    paths = os.environ.get("BENCH_PATHS", "direct bulkhead litellm").split()
    work = tempfile.mkdtemp(prefix="gwbench-")
    stack = Stack(work)
    try:
        up_port, gw_port, ll_port = benchlib.free_port(), benchlib.free_port(), benchlib.free_port()
        with open(os.path.join(work, "nginx.conf"), "w") as f:
            f.write(nginx_conf(work, up_port))
        nginx = stack.start("nginx", ["nginx", "-c", os.path.join(work, "nginx.conf"), "-p", work, "-g", "daemon off;"])
        with open(os.path.join(work, "catalog.json"), "w") as f:
            json.dump(catalog(up_port), f)
        token = "bench-internal-token-0123456789abcdef"
        env = dict(os.environ, PORT=str(gw_port), HOST="127.0.0.1", DATA_DIR=os.path.join(work, "gw-data"),
                   BULKHEAD_INTERNAL_TOKEN=token, GATEWAY_CATALOG=os.path.join(work, "catalog.json"),
                   BENCH_UPSTREAM_KEY="sk-bench", LOG_LEVEL=os.environ.get("GATEWAY_LOG_LEVEL", "info"))
        for k in ("AUTH_URL", "CACHE_URL", "QUEUE_BROKER_URL"):
            env.pop(k, None)
        gateway = stack.start("gateway", [os.path.join(bin_dir, "inference-gateway")], env=env)
        ll_cfg = os.path.join(work, "litellm.yaml")
        with open(ll_cfg, "w") as f:
            f.write("model_list:\n")
            for name, path in (("bench-plain", "plain"), ("bench-stream", "stream")):
                f.write(f"  - model_name: {name}\n    litellm_params:\n      model: openai/bench\n"
                        f"      api_base: http://127.0.0.1:{up_port}/{path}/v1\n      api_key: sk-bench\n")
            f.write("general_settings:\n  master_key: sk-master\n")
        litellm = None
        if "litellm" in paths:
            llenv = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_LOG="ERROR")
            litellm = stack.start("litellm", [litellm_bin, "--config", ll_cfg, "--host", "127.0.0.1", "--port", str(ll_port),
                                              "--num_workers", "1"], env=llenv)
        chat = json.dumps({"model": "bench-plain", "messages": [{"role": "user", "content": "hi"}]}).encode()
        wait_http(f"http://127.0.0.1:{up_port}/plain/v1/chat/completions", body=chat)
        wait_http(f"http://127.0.0.1:{gw_port}/v1/chat/completions", body=chat,
                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        if litellm:
            wait_http(f"http://127.0.0.1:{ll_port}/v1/chat/completions", body=chat,
                      headers={"Authorization": "Bearer sk-master", "Content-Type": "application/json"}, timeout=120)
        targets = {
            "direct": (f"http://127.0.0.1:{up_port}", None, nginx.pid, "/{mode}/v1/chat/completions"),
            "bulkhead": (f"http://127.0.0.1:{gw_port}", token, gateway.pid, "/v1/chat/completions"),
            "litellm": (f"http://127.0.0.1:{ll_port}", "sk-master", litellm.pid if litellm else None, "/v1/chat/completions"),
        }
        rss_start = rss_kb(gateway.pid)
        rows = []
        for mode in modes:
            for conns in conns_list:
                cell = {}
                for path in paths:
                    base, auth, pid, route = targets[path]
                    script = lua_script(work, f"{path}-{mode}", f"bench-{mode}", mode == "stream", auth)
                    url = base + route.format(mode=mode)
                    # Warm-up: connections, pools, JIT-free but caches and allocators settle.
                    run_wrk(work, f"warm-{path}-{mode}-{conns}", url, script, conns, 2, [pid])
                    r = run_wrk(work, f"{path}-{mode}-{conns}", url, script, conns, duration, [pid])
                    cell[path] = r
                    print(f"  {mode:6} c={conns:<3} {path:9} {r['rps'] or 0:>10.0f} req/s  p50 {r['p50_ms'] or 0:.3f} ms"
                          f"  p99 {r['p99_ms'] or 0:.3f} ms  errors {sum(r['errors'].values())}", file=sys.stderr, flush=True)
                rows.append((mode, conns, cell))
        rss_end = rss_kb(gateway.pid)
        report = render(rows, paths, duration, rss_start, rss_end, litellm)
        print(report)
        with open(out_path, "w") as f:
            f.write(report)
    finally:
        stack.stop()


def render(rows, paths, duration, rss_start, rss_end, litellm):
    def ms(x):
        return "–" if x is None else f"{x:.3f}"

    lines = [f"# Gateway overhead benchmark ({time.strftime('%Y-%m-%d', time.gmtime())})", ""]
    lines += [f"- Machine: {benchlib_machine()}",
              f"- Method: wrk (-t1 at 1 connection, -t2 otherwise), {duration} s per cell after a 2 s warm-up, "
              "POST /v1/chat/completions with a one-message chat; upstream = nginx answering a fixed OpenAI "
              "completion (plain JSON, or an SSE stream of 9 chunks + usage + [DONE]) from memory.",
              "- Paths: direct = wrk → nginx; bulkhead = wrk → inference-gateway (release build, openai provider, "
              "internal credential, no cache, default log level) → nginx; litellm = wrk → LiteLLM proxy "
              "(`litellm[proxy]`, one worker) → nginx.",
              "- added = path's latency minus direct's latency in the same cell (same percentile).", ""]
    lines.append("| mode | conns | path | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | errors | server CPU % |")
    lines.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for mode, conns, cell in rows:
        d = cell.get("direct")
        for path in paths:
            r = cell[path]
            added50 = added99 = None
            if d and path != "direct" and r["p50_ms"] is not None and d["p50_ms"] is not None:
                added50 = r["p50_ms"] - d["p50_ms"]
                added99 = r["p99_ms"] - d["p99_ms"]
            lines.append(f"| {mode} | {conns} | {path} | {r['rps'] or 0:,.0f} | {ms(r['p50_ms'])} | {ms(r['p99_ms'])} | "
                         f"{ms(added50)} | {ms(added99)} | {sum(r['errors'].values())} | {r['cpu']['server_pct']} |")
    lines += ["", f"Gateway RSS: {rss_start // 1024 if rss_start else '?'} MiB before the runs, "
              f"{rss_end // 1024 if rss_end else '?'} MiB after."]
    return "\n".join(lines) + "\n"


def benchlib_machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, load average before the run {os.getloadavg()[0]:.2f}"


if __name__ == "__main__":
    main()
