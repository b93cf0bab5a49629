#!/usr/bin/env python3
"""Queue benchmark driver: N producer/consumer pairs, 1 KiB persistent messages,
send -> receive -> ack, against the Bulkhead queue-broker (HTTP) or RabbitMQ (AMQP 0-9-1).

  driver.py bulkhead PORT PAIRS SECONDS TOKEN
  driver.py rabbit   PAIRS SECONDS

Same shape for both brokers (asyncio, one event loop per worker process; producers and
consumers run in separate processes, each side spread over up to WORKERS processes, so one
Python interpreter is not the ceiling):
- producer: sends a batch of 10 messages and waits until the broker confirms them
  (Bulkhead: POST .../messages/batch answered after commit; RabbitMQ: 10 publishes with
  publisher confirms, delivery_mode=2, awaited together), then the next batch; with
  BENCH_WINDOW=W it runs W such loops (W batches in flight; Bulkhead: W connections);
- consumer: Bulkhead: W loops of receive up to 10 (long poll) then ack them in one request
  (answered after commit); RabbitMQ: basic.consume with prefetch 20*W and manual acks,
  `multiple=True` every 10 messages.
Counts acks inside [start+WARMUP, start+WARMUP+SECONDS] and prints one JSON line with
msgs/s acked and sent, and the driver's own CPU use in cores (all worker processes).
Producers pause while more than BENCH_MAX_BACKLOG (10,000) messages are unacked.
"""
import asyncio, json, multiprocessing as mp, os, resource, sys, time

try:  # libuv event loop: cuts the driver's own CPU per request for both brokers
    import uvloop
    uvloop.install()
except ImportError:
    pass

WARMUP = 1.0
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
BODY = "x" * 1024
BATCH = 10
# Batches each producer (and receive loops each consumer) keeps in flight: 1 = strict
# request/answer; more = pipelined like an asynchronous AMQP publisher with a confirm window.
WINDOW = int(os.environ.get("BENCH_WINDOW", "1"))
# RabbitMQ pushes to consumers: unacked messages allowed per consumer. Bulkhead's consumer
# holds at most 10 x WINDOW leases; RabbitMQ gets twice that so acking every 10 never stalls it.
PREFETCH = 20 * WINDOW
# Producers pause while more than this many messages are sent but not yet acked (all
# processes together), so both brokers are measured in the same steady state with a bounded
# backlog: the acked rate is sustainable and RSS is the broker's, not a growing backlog's.
MAX_BACKLOG = int(os.environ.get("BENCH_MAX_BACKLOG", "10000"))
SENT = mp.Value("q", 0)
ACKED = mp.Value("q", 0)


def add(counter, n):
    with counter.get_lock():
        counter.value += n


async def throttle():
    while SENT.value - ACKED.value > MAX_BACKLOG:
        await asyncio.sleep(0.001)


# ---------- Bulkhead (minimal HTTP/1.1 keep-alive client on asyncio streams) ----------

class HTTP:
    def __init__(self, port, token):
        self.port, self.token = port, token

    async def open(self):
        self.r, self.w = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def call(self, method, path, body=b""):
        head = (f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.w.write(head + body)
        status_line = await self.r.readuntil(b"\r\n")
        length = 0
        while True:
            line = await self.r.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        data = await self.r.readexactly(length) if length else b""
        return int(status_line.split()[1]), data


async def bulkhead_pairs(port, token, queue, role, pairs, t0, t1, deadline):
    batch = json.dumps({"messages": [{"body": BODY} for _ in range(BATCH)]}).encode()
    counts = {"acked": 0, "sent": 0}

    async def producer():
        c = await HTTP(port, token).open()
        while time.time() < deadline:
            await throttle()
            s, _ = await c.call("POST", f"/internal/v1/queues/{queue}/messages/batch", batch)
            if s != 200:
                raise RuntimeError(f"send failed: {s}")
            add(SENT, BATCH)
            if t0 <= time.time() <= t1:
                counts["sent"] += BATCH

    async def consumer():
        c = await HTTP(port, token).open()
        recv = b'{"max_messages":10,"wait_seconds":1}'
        while time.time() < deadline:
            s, b = await c.call("POST", f"/internal/v1/queues/{queue}/receive", recv)
            msgs = json.loads(b)["messages"]
            if msgs:
                s, _ = await c.call("POST", f"/internal/v1/queues/{queue}/ack",
                                    json.dumps({"receipts": [m["receipt"] for m in msgs]}).encode())
                if s != 200:
                    raise RuntimeError(f"ack failed: {s}")
                add(ACKED, len(msgs))
                if t0 <= time.time() <= t1:
                    counts["acked"] += len(msgs)

    await asyncio.gather(*[(producer() if role == "producer" else consumer()) for _ in range(pairs * WINDOW)])
    return counts


# ---------- RabbitMQ (aiormq) ----------

async def rabbit_pairs(queue, role, pairs, t0, t1, deadline):
    import aiormq
    from pamqp import commands as spec
    counts = {"acked": 0, "sent": 0}
    props = spec.Basic.Properties(delivery_mode=2)
    body = BODY.encode()

    async def producer():
        conn = await aiormq.connect("amqp://guest:guest@127.0.0.1/")
        ch = await conn.channel(publisher_confirms=True)

        async def loop():
            while time.time() < deadline:
                await throttle()
                confirms = await asyncio.gather(*[ch.basic_publish(body, routing_key=queue, properties=props) for _ in range(BATCH)])
                if not all(isinstance(c, spec.Basic.Ack) for c in confirms):
                    raise RuntimeError("publish not confirmed")
                add(SENT, BATCH)
                if t0 <= time.time() <= t1:
                    counts["sent"] += BATCH
        await asyncio.gather(*[loop() for _ in range(WINDOW)])
        await conn.close()

    async def consumer():
        conn = await aiormq.connect("amqp://guest:guest@127.0.0.1/")
        ch = await conn.channel()
        await ch.basic_qos(prefetch_count=PREFETCH)
        pending = [0]

        async def on_message(m):
            pending[0] += 1
            if pending[0] >= BATCH:
                await ch.basic_ack(m.delivery.delivery_tag, multiple=True)
                add(ACKED, pending[0])
                if t0 <= time.time() <= t1:
                    counts["acked"] += pending[0]
                pending[0] = 0

        await ch.basic_consume(queue, on_message, no_ack=False)
        while time.time() < deadline:
            await asyncio.sleep(0.05)
        await conn.close()

    await asyncio.gather(*[(producer() if role == "producer" else consumer()) for _ in range(pairs)])
    return counts


def worker(kind, args, role, pairs, t0, t1, deadline, out):
    if kind == "bulkhead":
        port, token, queue = args
        counts = asyncio.run(bulkhead_pairs(port, token, queue, role, pairs, t0, t1, deadline))
    else:
        (queue,) = args
        counts = asyncio.run(rabbit_pairs(queue, role, pairs, t0, t1, deadline))
    ru = resource.getrusage(resource.RUSAGE_SELF)
    counts["cpu"] = ru.ru_utime + ru.ru_stime
    out.put(counts)


async def setup_rabbit(queue, delete=False):
    import aiormq
    conn = await aiormq.connect("amqp://guest:guest@127.0.0.1/")
    ch = await conn.channel()
    if delete:
        await ch.queue_delete(queue)
    else:
        await ch.queue_declare(queue, durable=True, arguments={"x-queue-type": "classic"})
        await ch.queue_purge(queue)
    await conn.close()


def main():
    kind = sys.argv[1]
    if kind == "bulkhead":
        port, pairs, seconds, token = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
        queue = f"bench-{pairs}-{os.getpid()}"

        async def create():
            c = await HTTP(port, token).open()
            s, b = await c.call("PUT", f"/internal/v1/queues/{queue}", b"{}")
            assert s in (200, 201), b
        asyncio.run(create())
        args = (port, token, queue)
    else:
        pairs, seconds = int(sys.argv[2]), float(sys.argv[3])
        queue = f"bench-{pairs}"
        asyncio.run(setup_rabbit(queue))
        args = (queue,)
    start = time.time() + 0.5
    t0, t1 = start + WARMUP, start + WARMUP + seconds
    deadline = t1 + 0.5
    # Producers and consumers run in separate processes (up to WORKERS of each).
    n = min(WORKERS, pairs)
    share = [pairs // n + (1 if i < pairs % n else 0) for i in range(n)]
    out = mp.Queue()
    procs = [mp.Process(target=worker, args=(kind, args, role, share[i], t0, t1, deadline, out))
             for role in ("producer", "consumer") for i in range(n)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    if kind == "rabbit":
        asyncio.run(setup_rabbit(queue, delete=True))
    wall = deadline + 0.5 - (start - 0.5)  # the workers' whole life, warm-up included
    print(json.dumps({
        "broker": kind, "pairs": pairs, "window": WINDOW,
        "msgs_per_s": round(sum(r["acked"] for r in results) / seconds),
        "sent_per_s": round(sum(r["sent"] for r in results) / seconds),
        "driver_cpu_cores": round(sum(r["cpu"] for r in results) / wall, 2),
        # The busiest single driver process (a Python process near 1.00 would be a ceiling).
        "driver_max_process_cores": round(max(r["cpu"] for r in results) / wall, 2),
        "driver_processes": len(results),
    }))


if __name__ == "__main__":
    main()
