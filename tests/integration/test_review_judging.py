"""An offline themed review judges each candidate against the theme instead of filling --max-papers
(issue 15): a memory with six papers on speculative decoding, thirty on LLM inference efficiency by other
means (the near-misses: close to the theme, sharing its generic words) and sixty from other fields."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from brief.app.runner import run_review
from brief.config_file import load_settings
from brief.graphs.review_state import ReviewRequest
from brief.progress import QuietReporter

ON_THEME = [
    ("Tree-structured drafts for speculative decoding of large language models",
     "We organise draft tokens in a tree so that one verification pass of the target model accepts longer prefixes."),
    ("Self-speculative decoding with early-exit drafting",
     "The target model drafts with its own shallow layers and verifies with all of them, so no second model is needed."),
    ("Adaptive draft length for speculative decoding",
     "A small controller predicts how many draft tokens the target model will accept and stops drafting early."),
    ("Speculative decoding with a retrieval-based drafter",
     "Draft tokens are copied from retrieved text spans instead of a draft model, then verified in parallel."),
    ("Lossless speculative decoding for batched serving",
     "We show how rejection sampling keeps the output distribution exact when many requests share one verification."),
    ("Aligning draft models to targets for speculative decoding",
     "Distilling the target model's distribution into the draft model raises the acceptance rate of drafted tokens."),
]
NEAR_METHODS = ["4-bit weight quantization", "structured pruning of attention heads", "KV cache eviction",
                "continuous batching", "mixture-of-experts routing", "low-rank adapters", "operator fusion on GPUs",
                "activation sparsity", "knowledge distillation into a smaller model", "paged memory management"]
NEAR_ANGLES = [("Faster LLM inference with {m}", "reduces the latency of LLM inference"),
               ("Memory-efficient LLM inference via {m}", "cuts the memory that LLM inference needs"),
               ("Scaling LLM inference throughput with {m}", "raises the throughput of LLM inference servers")]
FIELDS = ["robot grasping with tactile sensors", "medical image segmentation of CT scans", "graph neural networks for molecules",
          "monocular depth estimation", "multi-agent reinforcement learning in traffic", "speech recognition for low-resource languages",
          "3D Gaussian splatting for scene reconstruction", "time series forecasting for energy demand",
          "federated learning with non-iid clients", "legged robot locomotion over rough terrain",
          "video object tracking", "protein structure prediction"]
FIELD_ANGLES = ["A benchmark for {f}", "Self-supervised pretraining for {f}", "Uncertainty estimation in {f}",
                "Efficient transformers for {f}", "Domain adaptation for {f}"]


def papers() -> tuple[list[dict], set[str], set[str]]:
    """The corpus, the ids on the theme and the ids of the near-misses."""
    out, on, near = [], set(), set()

    def add(title: str, abstract: str, kind: set[str]) -> None:
        pid = f"2606.{10000 + len(out):05d}"
        kind.add(pid)
        out.append({"id": pid, "title": title, "summary": abstract, "authors": ["A. Author"], "categories": ["cs.LG"]})

    for title, what in ON_THEME:
        add(title, f"Speculative decoding speeds up LLM inference: a draft proposes tokens and the target model verifies "
                   f"them. {what} Experiments on chat and code benchmarks show 2-3x faster decoding at equal quality.", on)
    for m in NEAR_METHODS:
        for title, effect in NEAR_ANGLES:
            add(title.format(m=m), f"Large language models are costly to serve. We study {m}, which {effect}. On "
                                   f"several open models it keeps accuracy within one point while decoding faster.", near)
    for f in FIELDS:
        for angle in FIELD_ANGLES:
            add(angle.format(f=f), f"We address {f}. Our method improves accuracy and robustness over strong baselines "
                                   f"on public datasets, and we release code.", set())
    random.Random(0).shuffle(out)
    return out, on, near


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, cache_dir):
    from brief.app.memory_commands import import_library

    root = tmp_path_factory.mktemp("judging")
    rows, on, near = papers()
    (root / "snapshot").mkdir()
    (root / "snapshot" / "2026-06-02_test.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    base = load_settings(None, env={})
    settings = base.model_copy(update={"out_dir": root / "out",
                                       "memory": base.memory.model_copy(update={"dir": root / "memory", "cache_dir": cache_dir})})
    import_library(settings, root / "snapshot", None, False, QuietReporter())
    return settings, on, near


def review(settings, theme: str, max_papers: int) -> dict:
    result = run_review(settings, ReviewRequest(theme=theme, max_papers=max_papers))
    return json.loads(Path(next(p for p in result.outputs if p.endswith(".json"))).read_text(encoding="utf-8"))


def test_a_narrow_theme_keeps_only_the_papers_on_it(corpus):
    settings, on, near = corpus
    report = review(settings, "speculative decoding for LLM inference", max_papers=30)
    kept = {p["id"] for p in report["accepted"]}
    assert not kept & near, [p["title"] for p in report["accepted"] if p["id"] in near]
    assert kept <= on and len(kept) >= 4, "the papers on the theme are found, nothing else"
    table = report["screening"]["per_topic"][0]
    assert table["qualifying"] == table["accepted"] == len(kept) < 30 and table["cut"] == 0
    assert any(f"{len(kept)} of the" in n and "qualified" in n and "all within the cap of 30" in n for n in report["notes"])


def test_a_broad_theme_is_capped_and_says_how_many_the_cap_cut(corpus):
    settings, on, near = corpus
    report = review(settings, "efficient LLM inference", max_papers=5)
    kept = {p["id"] for p in report["accepted"]}
    table = report["screening"]["per_topic"][0]
    assert len(kept) == table["accepted"] == 5 and kept <= on | near
    assert table["qualifying"] > 5 and table["cut"] == table["qualifying"] - 5
    assert any(f"the cap of 5 (--max-papers) cut {table['cut']}" in n for n in report["notes"])


def test_every_decision_says_what_evidence_it_weighed(corpus):
    settings, on, near = corpus
    result = run_review(settings, ReviewRequest(theme="speculative decoding for LLM inference", max_papers=30))
    decisions = result.state.decisions
    assert all("SD above the theme's 96 nearest memory papers" in d.reason for d in decisions.values())
    assert all("specific words: speculative, decoding" in decisions[pid].reason for pid in on)
    rejected = [d for pid, d in decisions.items() if pid in near]
    assert rejected and all(not d.accepted and "does not name “speculative”" in d.reason for d in rejected)
    note = next(n for n in result.state.notes if "qualified" in n)
    assert "“speculative”" in note and "a title naming “speculative”" in note, note


def test_a_theme_without_words_still_needs_the_similarity_floor(corpus):
    """A theme in another script has no words to weigh: similarity alone judges it, and the calibrated bar
    alone would let the neighbourhood's top in however far it is from the theme."""
    settings, on, near = corpus
    report = review(settings, "推测解码", max_papers=30)
    assert report["accepted"] == [] and report["screening"]["per_topic"][0]["qualifying"] == 0
