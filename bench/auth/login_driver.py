#!/usr/bin/env python3
"""Logins per second against a running auth: N threads, keep-alive connections, fixed duration."""
import http.client, json, sys, threading, time

port, email, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
threads, duration = int(sys.argv[4]), float(sys.argv[5])
body = json.dumps({"email": email, "password": password})
counts, errors, latencies = [0] * threads, [0] * threads, [[] for _ in range(threads)]
deadline = time.monotonic() + duration

def worker(i):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        conn.request("POST", "/v1/auth/login", body, {"Content-Type": "application/json"})
        r = conn.getresponse(); r.read()
        latencies[i].append(time.monotonic() - t0)
        if r.status == 200: counts[i] += 1
        else: errors[i] += 1

start = time.monotonic()
ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
elapsed = time.monotonic() - start
lat = sorted(x for l in latencies for x in l)
p50 = lat[len(lat) // 2] * 1000 if lat else 0
p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else 0
print(f"| {threads} | {sum(counts)} | {sum(errors)} | {elapsed:.1f} | {sum(counts)/elapsed:.1f} | {p50:.1f} | {p99:.1f} |")
