"""Memory at scale: embedder speed, add time, link-query latency at 10k and 100k papers, disk, peak RSS.

Usage: python bench/memory.py [--corpus DIR] [--sizes 10000,100000] [--queries 300] [--embed-n 1000]
                              [--minilm-n 120] [--out DIR] [--json]

1. Embedders: every provider make_embedder() can build here ("local", "minilm"; "openai" only when
   OPENAI_BASE_URL is set), uncached, on real abstracts ("title. abstract", as memory embeds them) from
   --corpus (default: ../shared/data/corpus/eclipse0922_…, else the bundled sample). Load time is reported
   apart; abstracts/s and seconds per 1k are on warm models.
2. Memory: Chroma (local, in --out or a temp dir) filled through Memory.remember in batches of 4,000
   with realistic metadata and documents (recycled real titles/abstracts/authors, 50 first-seen weeks)
   and random unit vectors (the hardest case for HNSW: no cluster structure to exploit). Reported: add
   time per 1k papers (the upsert alone, and with the default embedder's time), then a top-10 link query
   (Memory.neighbours for one paper, as find_links asks: earlier weeks only), p50/p95 over --queries
   random queries, beside Chroma's `where`-filtered query (the fallback path) for comparison; disk size.
3. Peak RSS of the process (ru_maxrss) after each phase.

Finishes in ~3-6 minutes on 2 cores. It prints figures; it asserts nothing (see tests/ for behaviour).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "corpus" / "eclipse0922_en_csLG-csCV-csAI-csRO"

from brief.memory.embedders import make_embedder  # noqa: E402
from brief.sources.window import week_ordinal  # noqa: E402
from brief.memory.store import Memory  # noqa: E402
from brief.models import Paper  # noqa: E402
from brief.sources.snapshot import SnapshotSource, sample_path  # noqa: E402
from brief.sources.window import Window  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def real_papers(corpus: Path, limit: int) -> list[Paper]:
    from datetime import date

    root = corpus if corpus.exists() else sample_path()
    papers, seen = [], set()
    for paper in SnapshotSource(root).fetch(Window(since=date(1991, 1, 1), until=date.today())):
        if paper.id not in seen and paper.abstract:
            seen.add(paper.id)
            papers.append(paper)
        if len(papers) >= limit:
            break
    return papers


def bench_embedders(texts: list[str], n_local: int, n_slow: int, cache: Path) -> list[dict]:
    providers = ["local", "minilm"] + (["openai"] if os.environ.get("OPENAI_BASE_URL") else [])
    rows = []
    for provider in providers:
        n = n_local if provider == "local" else n_slow
        try:
            kwargs = {"model": os.environ.get("BRIEF_EMBEDDING_MODEL", "text-embedding-3-small"),
                      "base_url": os.environ["OPENAI_BASE_URL"]} if provider == "openai" else {}
            embedder = make_embedder(provider, cache, **kwargs)
            t0 = time.perf_counter()
            embedder.embed(texts[:16])  # load (and, the first time, build) the model
            load = time.perf_counter() - t0
            batch = texts[16:16 + n]
            t0 = time.perf_counter()
            vectors = embedder.embed(batch)
            took = time.perf_counter() - t0
        except Exception as exc:  # a provider that can't run here is reported, not fatal
            rows.append({"provider": provider, "error": f"{type(exc).__name__}: {exc}"[:200]})
            continue
        rows.append({"provider": provider, "name": embedder.name, "n": len(batch), "dim": int(vectors.shape[1]),
                     "load_s": round(load, 2), "per_s": round(len(batch) / took, 1),
                     "s_per_1k": round(1000 * took / len(batch), 2), "rss_mb": round(rss_mb())})
        print(f"  embedder {provider:<7} {embedder.name}: {len(batch) / took:7.1f} abstracts/s "
              f"({1000 * took / len(batch):.1f} s per 1k; load {load:.1f} s; peak RSS {rss_mb():.0f} MB)", flush=True)
    return rows


def fill(memory: Memory, corpus: list[Paper], n: int, start: int, rng: np.random.Generator, dim: int = 384) -> float:
    """Add papers start..n (recycled real metadata, random unit vectors) over 50 weeks; returns seconds."""
    took = 0.0
    for lo in range(start, n, 4000):
        hi = min(n, lo + 4000)
        batch = []
        for i in range(lo, hi):
            src = corpus[i % len(corpus)]
            batch.append(src.model_copy(update={"id": f"{2601 + (i // 100000):04d}.{i % 100000:05d}", "version": 1}))
        vectors = rng.normal(size=(hi - lo, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        by_week: dict[str, list[int]] = {}
        for j in range(hi - lo):
            by_week.setdefault(f"2025-W{1 + ((lo + j) * 50) // max(n, 1):02d}", []).append(j)
        t0 = time.perf_counter()
        for week, rows in by_week.items():
            memory.remember([batch[j] for j in rows], vectors[rows], week, status="accepted", run_id="bench")
        took += time.perf_counter() - t0
    return took


def percentiles(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def bench_memory(corpus: list[Paper], sizes: list[int], queries: int, out: Path, embed_s_per_1k: float | None) -> list[dict]:
    rng = np.random.default_rng(0)
    memory = Memory(out / "chroma", "bench-random-384")
    rows, have = [], 0
    for n in sizes:
        took = fill(memory, corpus, n, have, rng)
        added = n - have
        have = n
        probe = rng.normal(size=(queries, 384)).astype(np.float32)
        probe /= np.linalg.norm(probe, axis=1, keepdims=True)
        before = "2026-W01"  # every paper is earlier: the link path as find_links uses it
        memory.neighbours(probe[:1], before, 10)  # warm the index
        fast, filtered = [], []
        for q in probe:
            t0 = time.perf_counter()
            got = memory.neighbours(q[None, :], before, 10)
            fast.append(1000 * (time.perf_counter() - t0))
            assert len(got[0]) == 10
        where = {"first_seen_ord": {"$lt": week_ordinal(before)}}
        for q in probe[: max(20, queries // 5)]:
            t0 = time.perf_counter()
            memory.papers.query(query_embeddings=[q.tolist()], n_results=10, where=where,
                                include=["metadatas", "distances", "documents"])
            filtered.append(1000 * (time.perf_counter() - t0))
        p50, p95 = percentiles(fast)
        f50, f95 = percentiles(filtered)
        disk = memory.disk_bytes() or 0
        row = {"papers": n, "add_s_per_1k": round(1000 * took / added, 2),
               "add_with_embed_s_per_1k": round(1000 * took / added + embed_s_per_1k, 2) if embed_s_per_1k else None,
               "link_p50_ms": round(p50, 2), "link_p95_ms": round(p95, 2),
               "where_filtered_p50_ms": round(f50, 2), "where_filtered_p95_ms": round(f95, 2),
               "disk_mb": round(disk / 1e6, 1), "rss_mb": round(rss_mb())}
        rows.append(row)
        print(f"  {n:>7,} papers: add {row['add_s_per_1k']:.2f} s per 1k"
              + (f" ({row['add_with_embed_s_per_1k']:.2f} s with embedding)" if embed_s_per_1k else "")
              + f"; top-10 link query p50 {p50:.2f} ms, p95 {p95:.2f} ms (Chroma where-filter: p50 {f50:.1f} ms, "
              f"p95 {f95:.1f} ms); disk {disk / 1e6:.0f} MB; peak RSS {rss_mb():.0f} MB", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--embed-n", type=int, default=1000, help="abstracts for the local embedder")
    ap.add_argument("--minilm-n", type=int, default=120, help="abstracts for the slow embedders")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "brief-bench", help="built model artifacts")
    ap.add_argument("--out", type=Path, default=None, help="keep the Chroma dir here (default: a temp dir, removed)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    started = time.perf_counter()
    sizes = [int(s) for s in args.sizes.split(",")]
    corpus = real_papers(args.corpus, max(args.embed_n, args.minilm_n) + 16)
    print(f"brief memory bench: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at start), {len(corpus)} real abstracts from "
          f"{args.corpus if args.corpus.exists() else 'the bundled sample'}", flush=True)
    embedders = bench_embedders([p.text_for_embedding() for p in corpus], args.embed_n, args.minilm_n, args.cache)
    local = next((r for r in embedders if r.get("provider") == "local" and "s_per_1k" in r), None)
    out = args.out or Path(tempfile.mkdtemp(prefix="brief-bench-memory-"))
    try:
        scale = bench_memory(corpus, sizes, args.queries, out, local["s_per_1k"] if local else None)
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    total = time.perf_counter() - started
    print(f"done in {total:.0f} s; peak RSS {rss_mb():.0f} MB; load average {os.getloadavg()[0]:.1f} at the end", flush=True)
    if args.json:
        json.dump({"embedders": embedders, "memory": scale, "seconds": round(total, 1), "peak_rss_mb": round(rss_mb())},
                  sys.stdout, indent=2)
        print()


if __name__ == "__main__":
    main()
