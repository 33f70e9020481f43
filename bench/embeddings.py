"""Benchmark the product's fast local embedder against full MiniLM: speed, build/load time, ranking AUC.

Speed: abstracts/s on real abstracts (title + ". " + abstract) from the eclipse cs corpus. Besides wall
time it prints a CPU-time figure (texts / (CPU seconds / threads)): on a shared machine other processes
steal cores, and the CPU figure is what the embedder would do with the cores to itself.

Quality: criterion-vs-paper similarity, score = max cosine over the numbered topics of the criteria file,
AUC against the screener's labels, on the jackyfl silver set (cs.AI/cs.CV) and cgarling astro-ph Jan-Feb
(positive = RELEVANCE >= 7, unscored papers skipped).

    HF_HUB_OFFLINE=1 python bench/embeddings.py [--shared ../shared/data] [--n-fast 1000] [--n-minilm 200]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def corpus_texts(shared: Path, n: int) -> list[str]:
    seen, out = set(), []
    for f in sorted(glob.glob(str(shared / "corpus/eclipse0922_en_csLG-csCV-csAI-csRO/*.jsonl"))):
        for line in open(f, encoding="utf-8"):
            r = json.loads(line)
            if r["id"] not in seen:
                seen.add(r["id"])
                out.append(f"{r['title']}. {r['summary']}")
    return out[:n]


def parse_topics(path: Path) -> list[str]:
    """Numbered topics; a topic's indented "- Relevant:" lines join its text, "- Irrelevant:" ones don't
    (similarity can't express a negation)."""
    topics: list[list[str]] = []
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\s*(\d+)\.\s+(.*)", line)
        if m:
            current = [m.group(2).strip()]
            topics.append(current)
        elif current is not None:
            s = line.strip()
            if not s or s.startswith(("**", "#")):
                current = None
            elif not s.startswith("- Irrelevant"):
                current.append(re.sub(r"^-\s*Relevant:\s*", "", s))
    return [". ".join(t) for t in topics]


def silver(shared: Path):
    d = shared / "screening/jackyfl_x_eclipse_silver"
    rows = [json.loads(x) for x in open(d / "silver_2026-05.jsonl", encoding="utf-8")]
    return ([f"{r['title']}. {r['abstract']}" for r in rows], np.array([int(r["label"]) for r in rows]),
            parse_topics(d / "criteria_configs/paper_topics.txt"))


def cgarling(shared: Path):
    d = shared / "screening/cgarling_astro-ph"
    texts, labels = [], []
    for f in sorted(glob.glob(str(d / "daily_output_json/2026-0[12]-*-output.json"))):
        for paper in json.load(open(f, encoding="utf-8")).values():
            if paper.get("RELEVANCE") is None:
                continue
            texts.append(f"{paper['title']}. {paper['abstract']}")
            labels.append(int(paper["RELEVANCE"] >= 7))
    return texts, np.array(labels), parse_topics(d / "configs_and_prompts/paper_topics.txt")


def auc(embedder, texts, labels, topics) -> float:
    from sklearn.metrics import roc_auc_score

    papers, crit = embedder.embed(texts), embedder.embed(topics)
    return float(roc_auc_score(labels, (papers @ crit.T).max(1)))


def speed(embedder, texts: list[str], threads: int) -> tuple[float, float]:
    embedder.embed(texts[:8])  # warm-up: load, first-run allocations
    w0, c0 = time.perf_counter(), time.process_time()
    embedder.embed(texts)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return len(texts) / wall, len(texts) / (cpu / threads)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--n-fast", type=int, default=1000)
    ap.add_argument("--n-minilm", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=None, help="FastLocalEmbedder budget (default: its own)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=None, help="artifact cache dir (default: a fresh temp dir)")
    ap.add_argument("--ref-cache", type=Path,
                    default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "brief-bench")
    ap.add_argument("--skip-minilm", action="store_true", help="fast embedder only (AUC diff not printed)")
    args = ap.parse_args(argv)
    if not (args.shared / "corpus").exists():
        sys.exit(f"no shared data at {args.shared}")

    import torch

    torch.set_num_threads(args.threads)  # the reference gets the same cores
    from brief.memory.embedders import FastLocalEmbedder, MiniLMEmbedder

    tmp = None
    if args.cache is None:
        tmp = tempfile.TemporaryDirectory(prefix="brief-bench-emb-")
        args.cache = Path(tmp.name)
    kw = {"max_tokens": args.max_tokens} if args.max_tokens else {}
    fast = FastLocalEmbedder(args.cache, threads=args.threads, **kw)
    fast.embed(["warm"])
    art = fast.artifact_path()
    print(f"fast embedder: {fast.name}")
    print(f"  build: {fast.build_seconds:.1f} s" if fast.build_seconds else "  build: cached (not rebuilt)")
    loader = FastLocalEmbedder(args.cache, threads=args.threads, **kw)  # a fresh instance: load only
    loader.embed(["warm"])
    print(f"  load:  {loader.load_seconds:.2f} s   artifact {art.stat().st_size / 1e6:.1f} MB at {art}")
    probe = ("import time; t=time.perf_counter(); from pathlib import Path; "
             "from brief.memory.embedders import FastLocalEmbedder as F; "
             f"F(Path({str(args.cache)!r}), threads={args.threads}, **{kw!r}).embed(['x']); "
             "print(f'{time.perf_counter()-t:.2f}')")
    fresh = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    print(f"  fresh process, import + load + first embed: {fresh} s")

    texts = corpus_texts(args.shared, max(args.n_fast, args.n_minilm))
    wall, cpu = speed(fast, texts[:args.n_fast], args.threads)
    print(f"  speed: {wall:.0f} abstracts/s wall, {cpu:.0f}/s on {args.threads} free cores "
          f"(n={args.n_fast}, load avg {os.getloadavg()[0]:.1f})")
    ref = None
    if not args.skip_minilm:
        ref = MiniLMEmbedder()
        ref.embed(["warm"])
        rwall, rcpu = speed(ref, texts[:args.n_minilm], args.threads)
        print(f"minilm reference: {ref.name}")
        print(f"  speed: {rwall:.1f} abstracts/s wall, {rcpu:.1f}/s on {args.threads} free cores "
              f"(n={args.n_minilm}, load avg {os.getloadavg()[0]:.1f})")
        a, b = fast.embed(texts[:200]), ref.embed(texts[:200])
        print(f"  mean cosine fast vs reference, same abstract: {float((a * b).sum(1).mean()):.3f}")
        print(f"  speed-up: {wall / rwall:.1f}x wall, {cpu / rcpu:.1f}x CPU")

    ref_cached = None
    if ref is not None:  # the reference's vectors are cached across runs: ~4 min of CPU the first time
        from brief.memory.embedders import CachedEmbedder

        ref_cached = CachedEmbedder(ref, args.ref_cache / "embeddings-reference.sqlite")
    for set_name, loader_fn in (("silver (cs.AI/cs.CV)", silver), ("cgarling astro-ph Jan-Feb", cgarling)):
        texts_, labels, topics = loader_fn(args.shared)
        fa = auc(fast, texts_, labels, topics)
        line = f"AUC {set_name:26s} n={len(texts_)} pos={int(labels.sum())}: fast {fa:.4f}"
        if ref_cached is not None:
            ra = auc(ref_cached, texts_, labels, topics)
            line += f"  minilm {ra:.4f}  diff {fa - ra:+.4f}"
        print(line, flush=True)
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
