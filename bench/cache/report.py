#!/usr/bin/env python3
"""Markdown report for bench/cache/run: report.py WORKDIR OUT (prints it and writes OUT)."""
import datetime
import json
import os
import subprocess
import sys

work, out = sys.argv[1], sys.argv[2]


def jsonl(name):
    path = os.path.join(work, name)
    if not os.path.exists(path):
        return []
    rows = []
    for line in open(path):
        line = line.strip()
        if line:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return rows


def cpu():
    model = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return model, os.cpu_count()


def f(x, fmt="{:,.0f}"):
    return "—" if x is None else fmt.format(x)


index, http, meta = jsonl("index.jsonl"), jsonl("http.jsonl"), jsonl("meta.jsonl")


def previous_sections(path):
    """The sections (## title -> text) of an earlier report at OUT, to carry over what this run did not measure."""
    if not os.path.exists(path):
        return {}
    sections, title = {}, None
    for line in open(path).read().split("\n"):
        if line.startswith("## "):
            title = line
            sections[title] = []
        elif title:
            sections[title].append(line)
    return {t: "\n".join(body).strip("\n") for t, body in sections.items()}


INDEX_TITLE = "## Vector index in-process (384 dimensions, k = 1, clustered vectors)"
HTTP_TITLE = "## Cache service over HTTP (release binary, 384-dimension vectors)"
earlier = previous_sections(out)
model, cores = cpu()
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = [
    f"# Cache benchmark, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
    "",
    f"Machine: {model}, {cores} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
    f"commit {commit or '?'} (plus the working tree). Made by `bench/cache/run`.",
    "",
    INDEX_TITLE,
    "",
    "Release build, one thread. Queries: half fresh points of the clusters, half near-copies of stored",
    "vectors. Recall@1 is HNSW's top-1 against the exact index's on the same queries (at 1M over the",
    "first 100 queries: each exact 1M lookup scans 1.5 GB). Index bytes = what the index holds (rows,",
    "links, id maps, growth slack); RSS = the process's resident growth while inserting.",
    "",
    "| index | entries | insert/s | build s | lookup p50 ms | lookup p99 ms | recall@1 | index B/entry | RSS B/entry |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
]
if not index and INDEX_TITLE in earlier:
    # SIZES=none: the HTTP part only; keep the index section of the earlier report as it was.
    kept_note = "(Index section kept from the earlier report at this path: the last run had SIZES=none.)"
    del lines[-7:]
    lines += [earlier[INDEX_TITLE]] + ([] if kept_note in earlier[INDEX_TITLE] else ["", kept_note]) + [""]
for r in index:
    lines.append(
        f"| {'† ' if r.get('earlier_run') else ''}{r['kind']}{' (M=%d, efC=%d, ef=%d)' % (r['m'], r['ef_construction'], r['ef_search']) if r['kind'] == 'hnsw' else ''} "
        f"| {r['n']:,} | {f(r['insert_per_s'])} | {f(r['build_s'], '{:.1f}')} | {f(r['p50_ms'], '{:.3f}')} | {f(r['p99_ms'], '{:.3f}')} "
        f"| {f(r['recall_at_1'], '{:.3f}')} | {f(r['index_bytes_per_entry'])} | {f(r['rss_bytes_per_entry'])} |")
if not index and INDEX_TITLE not in earlier:
    lines.append("| (the index benchmark produced no rows) | | | | | | | | |")
snaps = [r for r in index if r.get("snapshot_load_s") is not None]
if snaps:
    lines += ["", "HNSW start-up from a snapshot file (`VectorIndex.writeSnapshot` / `loadSnapshot`, page cache warm):", "",
              "| entries | write s | load s | file B/entry |", "|---:|---:|---:|---:|"]
    for r in snaps:
        lines.append(f"| {r['n']:,} | {r['snapshot_write_s']:.2f} | {r['snapshot_load_s']:.2f} | {r['snapshot_bytes_per_entry']:,.0f} |")
lm = {m.get("phase"): m for m in meta}
if index and any(r.get("earlier_run") for r in index):
    lines += ["", "† From an earlier run of the same script and build (kept because the 1M HNSW build takes "
              "18 min on a shared machine); its load average was far higher (up to 10 on 2 cores), which "
              "slowed its builds and tail latencies."]
if index:
    lines += ["", f"Load average before / after the index runs: {lm.get('index', {}).get('load_before', '?')} / "
          f"{lm.get('index_done', {}).get('load_after', '?')}.", ""]
lines.append("")

names = {
    "put_exact": "PUT entry (vector) into a namespace up to the exact size",
    "lookup_exact": "POST lookup (vector), exact namespace",
    "lookup_key": "POST lookup (exact key hit), exact namespace",
    "put_hnsw": "PUT entry (vector), namespace growing past the HNSW threshold",
    "lookup_hnsw": "POST lookup (vector), HNSW namespace",
    "counters_c32": "POST counters/apply (1 bucket op)",
    "counters_c64": "POST counters/apply (1 bucket op)",
    "redis_incr_c32": "redis-server INCR (redis-benchmark, peer)",
    "redis_incr_c64": "redis-server INCR (redis-benchmark, peer)",
}
lines += [
    HTTP_TITLE,
    "",
    "wrk 2 threads on the same 2 cores as the server (so the numbers are lower bounds for a",
    "dedicated client machine). Each PUT persists to SQLite and updates the index and LRU.",
    "",
    "| operation | connections | req/s | p50 ms | p99 ms | errors | load before → after |",
    "|---|---:|---:|---:|---:|---:|---|",
]
for r in http:
    err = r.get("errors") or {}
    nerr = sum(err.values()) if isinstance(err, dict) else 0
    lines.append(
        f"| {names.get(r['name'], r['name'])} | {r.get('connections', '')} | {f(r.get('rps'))} | {f(r.get('p50_ms'), '{:.2f}')} "
        f"| {f(r.get('p99_ms'), '{:.2f}')} | {nerr} | {r.get('load_before', '?')} → {r.get('load_after', '?')} |")
lines.append("")
for phase, label in (("small", "exact namespace"), ("large", "HNSW namespace")):
    m = lm.get(phase)
    if not m:
        continue
    st = m.get("stats") or {}
    entries = st.get("entries") or 0
    grow = (m.get("rss_kb", 0) - m.get("rss0_kb", 0)) * 1024
    lines.append(f"- {label}: {entries:,} entries, index `{st.get('index', '?')}`, "
                 f"service RSS growth {grow / max(entries, 1):,.0f} B/entry (vector, graph, SQLite cache, entry record)."
                 + (f" The background build completed the graph {m['graph_wait_ms'] / 1000:.1f} s after the last PUT."
                    if m.get("graph_wait_ms") is not None else ""))
svc = lm.get("service", {}).get("stats")
if svc:
    lines += ["", "Service stats after the run: `" + json.dumps(svc, sort_keys=True)[:600] + "`"]
lines.append("")
# Hand-written sections of the earlier report (notes, what changed) are carried over.
for title, body in earlier.items():
    if title not in (INDEX_TITLE, HTTP_TITLE):
        lines += [title, "", body, ""]
text = "\n".join(lines)
print(text)
with open(out, "w") as fh:
    fh.write(text)
