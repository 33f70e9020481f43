"""Benchmark the product's local embedders against full MiniLM: speed, build/load time, ranking AUC.

Embedders: `static` (the distilled token table, stage 1's with `[screening] embedder = "static"`:
memory/static_minilm.py), `onnx` (int8 ONNX MiniLM at 64 tokens, the default of memory and so of stage 1:
FastLocalEmbedder) and the reference, full all-MiniLM-L6-v2 at 256
tokens: sentence-transformers when torch is installed, else the same network in full precision through
ONNX (the graph onnx_minilm.py writes from the safetensors weights; checked against sentence-transformers in
tests/unit/test_embedders.py).

Speed: abstracts/s on real abstracts (title + ". " + abstract) from the eclipse cs corpus, wall and CPU
(texts / (CPU seconds / threads)): on a shared machine other processes steal cores.

Quality, on the two labelled sets (the same splits as bench/prefilter.py):
- prefilter AUC: stage 1's learned ranker (vectors + TF-IDF, as production fits it) trained on the history
  and scored on the test: cgarling astro-ph February <- January (RELEVANCE >= 7), silver May (first 4 days
  -> the rest);
- topic AUC: criterion-vs-paper similarity alone (the cold start), on the test papers.

    HF_HUB_OFFLINE=1 python bench/embeddings.py [--shared ../shared/data] [--n-fast 3000] [--n-ref 200]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
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
sys.path.insert(0, str(REPO))


def corpus_texts(shared: Path, n: int) -> list[str]:
    seen, out = set(), []
    for f in sorted(glob.glob(str(shared / "corpus/eclipse0922_en_csLG-csCV-csAI-csRO/*.jsonl"))):
        for line in open(f, encoding="utf-8"):
            r = json.loads(line)
            if r["id"] not in seen:
                seen.add(r["id"])
                out.append(f"{r['title']}. {r['summary']}")
    return out[:n]


class OnnxReference:
    """Full-precision MiniLM through ONNX, 256 tokens, nothing dropped: the reference without torch."""

    dim = 384
    name = "all-MiniLM-L6-v2@onnx-fp32-256"

    def __init__(self, cache: Path, threads: int):
        from brief.memory import onnx_minilm

        path = cache / f"minilm-fp32-r{onnx_minilm.RECIPE_VERSION}.onnx"
        if not path.exists():
            import onnx

            cache.mkdir(parents=True, exist_ok=True)
            onnx.save(onnx_minilm._bert_graph(onnx_minilm.bundled_model_dir()), str(path))
        self._runner = onnx_minilm.OnnxMiniLM(path, onnx_minilm.bundled_model_dir() / "tokenizer.json", threads,
                                              max_tokens=256, batch_size=16, drop_stopwords=False)

    def embed(self, texts: list[str]) -> np.ndarray:
        out = self._runner.embed(list(texts))
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def reference_embedder(cache: Path, threads: int):
    try:
        import torch

        torch.set_num_threads(threads)  # the reference gets the same cores
        from brief.memory.embedders import MiniLMEmbedder

        return MiniLMEmbedder()
    except ImportError:
        return OnnxReference(cache, threads)


def speed(embedder, texts: list[str], threads: int) -> tuple[float, float]:
    embedder.embed(texts[:8])  # warm-up: load, first-run allocations
    w0, c0 = time.perf_counter(), time.process_time()
    embedder.embed(texts)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return len(texts) / wall, len(texts) / (cpu / threads)


def quality(name: str, emb, shared: Path) -> dict[str, float]:
    """Prefilter and topic AUC on both sets (see the module doc)."""
    from bench.prefilter import load_cgarling, load_silver
    from brief.agents.criteria_import import import_criteria
    from brief.agents.prefilter import SimilarityRanker, auc, fit_ranker, neutralise

    screening = shared / "screening"
    sets = {"cgarling Feb<-Jan": (*load_cgarling(screening / "cgarling_astro-ph", 7),
                                  screening / "cgarling_astro-ph/configs_and_prompts/paper_topics.txt"),
            "silver May": (*load_silver(screening / "jackyfl_x_eclipse_silver/silver_2026-05.jsonl"),
                           screening / "jackyfl_x_eclipse_silver/criteria_configs/paper_topics.txt")}
    out = {}
    for set_name, (history, test, topics_file) in sets.items():
        topic_texts = [t.text() for t in import_criteria(topics_file).criteria().topics]
        hist, tst = ([neutralise(r["text"])[0] for r in rows] for rows in (history, test))
        T, XH, XE = emb.embed(topic_texts), emb.embed(hist), emb.embed(tst)
        yH, yE = np.array([r["label"] for r in history]), np.array([r["label"] for r in test])
        t0 = time.perf_counter()
        ranker = fit_ranker(T, XH, yH, texts=hist, topic_texts=topic_texts)
        fit = time.perf_counter() - t0
        out[f"{set_name} prefilter"] = auc(ranker.score(XE, tst), yE)
        out[f"{set_name} vectors-only"] = auc(fit_ranker(T, XH, yH).score(XE), yE)
        out[f"{set_name} topic"] = auc(SimilarityRanker(T).score(XE), yE)
        print(f"  {name:9s} {set_name:18s} prefilter AUC {out[f'{set_name} prefilter']:.4f}   "
              f"vectors-only {out[f'{set_name} vectors-only']:.4f}   topic {out[f'{set_name} topic']:.4f}   "
              f"(fit {fit:.1f} s)", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--n-fast", type=int, default=3000, help="abstracts for the static embedder's speed")
    ap.add_argument("--n-onnx", type=int, default=1000)
    ap.add_argument("--n-ref", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=None, help="artifact cache dir (default: a fresh temp dir)")
    ap.add_argument("--ref-cache", type=Path,
                    default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "brief-bench")
    ap.add_argument("--skip-reference", action="store_true", help="no reference (AUC differences not printed)")
    args = ap.parse_args(argv)
    if not (args.shared / "corpus").exists():
        sys.exit(f"no shared data at {args.shared}")

    from brief.memory.embedders import CachedEmbedder, FastLocalEmbedder, StaticMiniLMEmbedder

    tmp = None
    if args.cache is None:
        tmp = tempfile.TemporaryDirectory(prefix="brief-bench-emb-")
        args.cache = Path(tmp.name)
    print(f"load avg at start {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    texts = corpus_texts(args.shared, max(args.n_fast, args.n_onnx, args.n_ref))
    made = {}
    for key, cls, kw, n in (("static", StaticMiniLMEmbedder, {}, args.n_fast),
                            ("onnx", FastLocalEmbedder, {"threads": args.threads}, args.n_onnx)):
        emb = cls(args.cache, **kw)
        emb.embed(["warm"])
        print(f"{key}: {emb.name}")
        print(f"  build: {emb.build_seconds:.1f} s" if emb.build_seconds else "  build: cached (not rebuilt)")
        loader = cls(args.cache, **kw)  # a fresh instance: load only
        loader.embed(["warm"])
        art = emb.artifact_path()
        print(f"  load:  {loader.load_seconds:.2f} s   artifact {art.stat().st_size / 1e6:.1f} MB at {art}")
        probe = ("import time; t=time.perf_counter(); from pathlib import Path; "
                 f"from brief.memory.embedders import {cls.__name__} as F; "
                 f"F(Path({str(args.cache)!r}), **{kw!r}).embed(['x']); print(f'{{time.perf_counter()-t:.2f}}')")
        fresh = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
        print(f"  fresh process, import + load + first embed: {fresh} s")
        wall, cpu = speed(emb, texts[:n], args.threads)
        print(f"  speed: {wall:.0f} abstracts/s wall, {cpu:.0f}/s on {args.threads} free cores "
              f"(n={n}, load avg {os.getloadavg()[0]:.1f})", flush=True)
        made[key] = (emb, wall)
    ref = None
    if not args.skip_reference:
        ref = reference_embedder(args.ref_cache, args.threads)
        ref.embed(["warm"])
        rwall, rcpu = speed(ref, texts[:args.n_ref], args.threads)
        print(f"reference: {ref.name}")
        print(f"  speed: {rwall:.1f} abstracts/s wall, {rcpu:.1f}/s on {args.threads} free cores "
              f"(n={args.n_ref}, load avg {os.getloadavg()[0]:.1f})")
        b = ref.embed(texts[:200])
        for key, (emb, wall) in made.items():
            if emb.dim == b.shape[1]:
                print(f"  mean cosine {key} vs reference, same abstract: {float((emb.embed(texts[:200]) * b).sum(1).mean()):.3f}")
            print(f"  speed-up {key}: {wall / rwall:.1f}x wall")
        ref = CachedEmbedder(ref, args.ref_cache / "embeddings-reference.sqlite")  # ~4 min of CPU the first time
    print("quality (AUC; higher is better):")
    scores = {key: quality(key, emb, args.shared) for key, (emb, _) in made.items()}
    if ref is not None:
        scores["reference"] = quality("reference", ref, args.shared)
        for key in made:
            diffs = "  ".join(f"{k} {scores[key][k] - scores['reference'][k]:+.4f}" for k in scores[key]
                              if k.endswith("prefilter"))
            print(f"  {key} minus reference: {diffs}")
    print(f"load avg at end {os.getloadavg()[0]:.1f}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
