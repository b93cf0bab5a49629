#!/usr/bin/env python3
"""Formats bench/embeddings/run's measurements as markdown: report.py RESULTS KERNELS OUT N."""
import json
import os
import platform
import statistics
import sys


def main() -> None:
    results_file, kernels_file, out, n = sys.argv[1:5]
    rows = [json.loads(l) for l in open(results_file) if l.strip()]
    kernels = [json.loads(l) for l in open(kernels_file) if l.strip()]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), [])
    isa = ", ".join(f for f in ("avx2", "avx512bw", "avx512_vnni") if f in flags)
    impls = []
    for r in rows:
        if r["impl"] not in impls:
            impls.append(r["impl"])
    med = {}
    for impl in impls:
        rs = [r for r in rows if r["impl"] == impl]
        med[impl] = {k: statistics.median(r[k] for r in rs) for k in ("batch1_per_s", "p50_ms", "batch32_per_s", "rss_mb", "hwm_mb")}
        med[impl]["runs"] = len(rs)
        med[impl]["min_cosine"] = min((r.get("min_cosine_to_fp32", 1) for r in rs), default=1)
        med[impl]["weights_mb"] = rs[0].get("weights_mb")
        med[impl]["base_mb"] = rs[0].get("rss_before_load_mb")
    lines = [
        "# Embeddings benchmark (all-MiniLM-L6-v2)", "",
        f"{n} sentences from gptcache_mock_pairs.json, CPU: {cpu} ({isa}), 2 cores (taskset 0,1), {platform.platform()}.",
        "Batch 1 = one call per sentence (p50 is per call); batch 32 = calls of 32. RSS = resident memory after the run (steady), "
        "peak = VmHWM over the whole process life including model loading; both are process totals, and for Bulkhead include "
        "the swift-testing runner (its RSS before the model loads is given as 'runner'). The weights file is read tensor by tensor "
        "(pread), so loading never holds the whole 91 MB file.",
        "**The machine was shared** with other engineers' builds and benchmarks: every measurement held "
        "`/tmp/bulkhead-bench.lock`, but builds do not take it, so absolute numbers move between runs "
        "(load averages below). fp32 and int8 alternate round by round; values are medians over the rounds.", "",
        "| implementation | runs | batch 1 (sent/s) | p50 batch 1 (ms) | batch 32 (sent/s) | RSS (MB) | peak RSS (MB) | runner (MB) | weights (MB) | min cosine to fp32 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for impl in impls:
        m = med[impl]
        w = f"{m['weights_mb']:.1f}" if m["weights_mb"] is not None else "–"
        c = f"{m['min_cosine']:.4f}" if impl.startswith("bulkhead") else "–"
        base = f"{m['base_mb']:.0f}" if m["base_mb"] is not None else "–"
        lines.append(f"| {impl} | {m['runs']} | {m['batch1_per_s']:.1f} | {m['p50_ms']:.2f} | {m['batch32_per_s']:.1f} | "
                     f"{m['rss_mb']:.0f} | {m['hwm_mb']:.0f} | {base} | {w} | {c} |")
    fp, q = med.get("bulkhead-fp32"), med.get("bulkhead-int8")
    if fp and q:
        lines += ["", f"**int8 / fp32 (medians): batch 1 ×{q['batch1_per_s'] / fp['batch1_per_s']:.2f}, "
                      f"batch 32 ×{q['batch32_per_s'] / fp['batch32_per_s']:.2f}.**", "",
                  "| round | fp32 b1 | int8 b1 | ×b1 | fp32 b32 | int8 b32 | ×b32 | load avg (1/5/15 min) before fp32 → after int8 |",
                  "|---:|---:|---:|---:|---:|---:|---:|---|"]
        for rnd in sorted({r["round"] for r in rows if r["impl"] == "bulkhead-fp32"}):
            a = next(r for r in rows if r["impl"] == "bulkhead-fp32" and r["round"] == rnd)
            b = next((r for r in rows if r["impl"] == "bulkhead-int8" and r["round"] == rnd), None)
            if b is None:
                continue
            lines.append(f"| {rnd} | {a['batch1_per_s']:.1f} | {b['batch1_per_s']:.1f} | ×{b['batch1_per_s'] / a['batch1_per_s']:.2f} | "
                         f"{a['batch32_per_s']:.1f} | {b['batch32_per_s']:.1f} | ×{b['batch32_per_s'] / a['batch32_per_s']:.2f} | "
                         f"{a['load_before']} → {b['load_after']} |")
    for r in rows:
        if not r["impl"].startswith("bulkhead"):
            lines += ["", f"PyTorch run: load average {r['load_before']} before → {r['load_after']} after."]
    if kernels:
        lines += ["", "Linear layers alone (`KernelBenchmark`: int8 = activation quantization + VNNI GEMM + dequantization, "
                      "split over 2 threads above 4M multiply-adds; fp32 = OpenBLAS sgemm, 2 threads; µs per call):", "",
                  "| tokens × in → out | sgemm fp32 (µs) | int8 (µs) | speed-up |", "|---|---:|---:|---:|"]
        for k in kernels:
            lines.append(f"| {k['tokens']} × {k['k']} → {k['n']} | {k['sgemm_us']:.0f} | {k['int8_us']:.0f} | ×{k['speedup']:.2f} |")
    lines += ["", "int8 scheme: weights symmetric int8 per output row, packed at load for AVX-512 VNNI `vpdpbusd`; activations "
                  "quantized per token row at run time (symmetric int8, flipped to u8 for `vpdpbusd` with a 128·Σw correction); "
                  "int32 accumulation; dequantized with weight-row scale × activation scale, bias added and GELU fused in the kernel. "
                  "Attention, layer norms and pooling stay fp32; the word-embedding table is stored int8 per row. "
                  "Paths are chosen at run time (VNNI, AVX2, portable C; `BULKHEAD_KERNELS_FEATURES` masks them for testing)."]
    text = "\n".join(lines) + "\n"
    open(out, "w").write(text)
    print(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
