#!/usr/bin/env python3
"""Queue benchmark driver (standard library): N producer + N consumer threads against the
broker over HTTP keep-alive, 1 KiB messages, send -> receive -> ack, batches of 10.
Prints one JSON line: msgs/s acked, and the CPU the driver itself used (to show whether the
client is the bottleneck)."""
import http.client, json, os, sys, threading, time

port, pairs, seconds, token = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
H = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
body = json.dumps({"messages": [{"body": "x" * 1000} for _ in range(10)]})
stop = time.time() + seconds
acked = [0] * pairs

def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

def call(c, method, path, data=None):
    c.request(method, path, body=data, headers=H)
    r = c.getresponse()
    return r.status, r.read()

def producer(i):
    c = conn()
    while time.time() < stop:
        call(c, "POST", "/internal/v1/queues/bench/messages/batch", body)

def consumer(i):
    c = conn()
    while time.time() < stop:
        s, b = call(c, "POST", "/internal/v1/queues/bench/receive", '{"max_messages":10,"wait_seconds":1}')
        msgs = json.loads(b)["messages"]
        if msgs:
            call(c, "POST", "/internal/v1/queues/bench/ack", json.dumps({"receipts": [m["receipt"] for m in msgs]}))
            acked[i] += len(msgs)

c = conn()
call(c, "PUT", "/internal/v1/queues/bench", "{}")
t0, cpu0 = time.time(), time.process_time()
threads = [threading.Thread(target=producer, args=(i,)) for i in range(pairs)] + [threading.Thread(target=consumer, args=(i,)) for i in range(pairs)]
for t in threads: t.start()
for t in threads: t.join()
elapsed, cpu = time.time() - t0, time.process_time() - cpu0
print(json.dumps({"pairs": pairs, "msgs_per_s": round(sum(acked) / elapsed), "driver_cpu_cores": round(cpu / elapsed, 2)}))
