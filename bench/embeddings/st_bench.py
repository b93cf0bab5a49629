#!/usr/bin/env python3
"""The PyTorch half of bench/embeddings/run: sentence-transformers on CPU with 2 threads,
the same sentences, batch 1 and 32. Prints one `BENCH {json}` line."""
import json
import statistics
import sys
import time

import torch
from sentence_transformers import SentenceTransformer


def status(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    model_dir, sentences_file = sys.argv[1], sys.argv[2]
    sentences = json.load(open(sentences_file))
    torch.set_num_threads(2)
    model = SentenceTransformer(model_dir, device="cpu")
    model.encode(sentences[:32], batch_size=32)
    latencies = []
    start = time.perf_counter()
    for s in sentences:
        t = time.perf_counter()
        model.encode([s], batch_size=1)
        latencies.append((time.perf_counter() - t) * 1000)
    batch1 = len(sentences) / (time.perf_counter() - start)
    start = time.perf_counter()
    model.encode(sentences, batch_size=32)
    batch32 = len(sentences) / (time.perf_counter() - start)
    print("BENCH " + json.dumps({
        "impl": f"sentence-transformers (torch {torch.__version__}, 2 threads)", "sentences": len(sentences),
        "batch1_per_s": batch1, "batch32_per_s": batch32, "p50_ms": statistics.median(latencies),
        "rss_mb": status("VmRSS") / 1024, "hwm_mb": status("VmHWM") / 1024,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
