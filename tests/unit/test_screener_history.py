"""What stage 1 learns from: memory's decisions (real Chroma in tmp_path), weighted, and the user's feedback."""

from __future__ import annotations

import numpy as np
import pytest

from brief.agents.prefilter import LearnedRanker, SimilarityRanker
from brief.agents.screener import learn_ranker
from brief.config_file import load_settings
from brief.memory.store import Memory
from brief.models import Paper

DIM = 8


def papers(prefix: str, n: int) -> list[Paper]:
    return [Paper(id=f"{prefix}.{i:05d}", title=f"{prefix} paper {i}", abstract=f"About {prefix} number {i}.") for i in range(n)]


def vecs(n: int, axis: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(scale=0.3, size=(n, DIM))
    v[:, axis] += 1
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def filled(tmp_path) -> Memory:
    memory = Memory(tmp_path / "chroma", "test-embedder")
    memory.remember(papers("2601", 10), vecs(10, 0, 1), "2026-W02", status="accepted")
    memory.remember(papers("2602", 30), vecs(30, 1, 2), "2026-W02", status="rejected")
    memory.remember(papers("2603", 40), vecs(40, 2, 3), "2026-W03", status="cut")
    memory.remember(papers("2604", 5), vecs(5, 0, 4), "2026-W04", status="imported")
    return memory


def test_labelled_history_labels_and_weights_each_kind_of_decision(tmp_path):
    memory = filled(tmp_path)
    ids, vectors, labels, weights, texts = memory.labelled_history()
    assert len(ids) == len(labels) == len(weights) == len(texts) == vectors.shape[0] == 85 and vectors.shape[1] == DIM
    kind = {pid: (int(label), float(w)) for pid, label, w in zip(ids, labels, weights)}
    assert kind["2601.00000"] == (1, 1.0) and kind["2604.00000"] == (1, 1.0), "accepted and imported are positives"
    assert kind["2602.00000"] == (0, 1.0), "the LLM's rejects are negatives"
    assert kind["2603.00000"] == (0, 0.05), "stage-1 cuts were never judged: weak negatives"
    assert texts[ids.index("2601.00003")] == "2601 paper 3. About 2601 number 3."
    assert ids[:5] == sorted(ids[:5]) and ids[0].startswith("2604"), "newest first"
    assert len(memory.labelled_history(limit=20)[0]) == 20


def test_before_week_keeps_only_earlier_decisions(tmp_path):
    memory = filled(tmp_path)
    ids = memory.labelled_history(before_week="2026-W03")[0]
    assert len(ids) == 40 and all(pid.startswith(("2601", "2602")) for pid in ids)


def test_feedback_overrides_the_label_with_the_strongest_weight(tmp_path):
    memory = filled(tmp_path)
    assert memory.set_feedback("2602.00004", "good") and memory.set_feedback("2601.00002", "bad")
    assert not memory.set_feedback("9999.00001", "good")
    ids, _, labels, weights, _ = memory.labelled_history(feedback_weight=5.0)
    at = {pid: (int(label), float(w)) for pid, label, w in zip(ids, labels, weights)}
    assert at["2602.00004"] == (1, 5.0) and at["2601.00002"] == (0, 5.0)
    assert memory.get("2602.00004").title == "2602 paper 4", "the rest of the record is kept"


def test_learn_ranker_from_memory(tmp_path):
    memory = filled(tmp_path)
    settings = load_settings(None, env={})
    topics = vecs(len(settings.criteria.topics), 0, 9)
    ranker = learn_ranker(memory, topics, settings, before_week="2026-W05")
    assert isinstance(ranker, LearnedRanker) and ranker.n_examples == 85 and ranker.name == "learned+text"
    assert (len(ranker.positives), len(ranker.negatives)) == (15, 30), "never-judged cuts are not neighbours"
    probe = np.vstack([vecs(1, 0, 11), vecs(1, 1, 12)])
    near_accepted, near_rejected = ranker.score(probe)
    assert near_accepted > near_rejected
    cold = learn_ranker(memory, topics, settings, before_week="2026-W02")
    assert isinstance(cold, SimilarityRanker), "nothing earlier than the first week: a cold start"
    off = settings.model_copy(update={"screening": settings.screening.model_copy(update={"learn": False})})
    assert isinstance(learn_ranker(memory, topics, off), SimilarityRanker)


def test_stage1_with_its_own_embedder_learns_from_memory_s_texts_not_its_vectors(tmp_path):
    """Stage 1's static table is not memory's embedder: the history's texts are embedded with it (memory's
    8-d vectors are never read, let alone mixed with its own), and the decisions still teach the ranker."""
    memory = filled(tmp_path)
    settings = load_settings(None, env={})
    seen: list[str] = []

    def embed(texts: list[str]) -> np.ndarray:  # 5-d "static" vectors: axis 0 for 2601/2604 papers, 1 for the rest
        seen.extend(texts)
        return np.array([[1.0, 0, 0, 0, 0] if t.startswith(("2601", "2604")) else [0, 1.0, 0, 0, 0] for t in texts],
                        np.float32)

    topics = np.array([[0.9, 0.1, 0, 0, 0]] * len(settings.criteria.topics), np.float32)
    ranker = learn_ranker(memory, topics, settings, before_week="2026-W05", embed=embed)
    assert isinstance(ranker, LearnedRanker) and ranker.positives.shape[1] == 5
    assert len(seen) == ranker.n_examples and all(". About" in t for t in seen), "title. abstract, as remembered"
    near_accepted, near_rejected = ranker.score(embed(["2601 new", "2602 new"]))
    assert near_accepted > near_rejected
    _ids, vectors, *_ = memory.labelled_history(embeddings=False)
    assert vectors.shape == (85, 0), "no vectors read when the caller embeds"


def test_cut_papers_can_be_remembered_without_their_abstracts(tmp_path):
    memory = Memory(tmp_path / "chroma", "test-embedder")
    memory.remember(papers("2605", 3), vecs(3, 0, 5), "2026-W06", status="cut", abstracts=False)
    memory.remember(papers("2606", 2), vecs(2, 0, 6), "2026-W06", status="rejected")
    assert [memory.get(f"2605.{i:05d}").abstract for i in range(3)] == ["", "", ""]
    assert memory.get("2605.00000").title == "2605 paper 0" and memory.known(["2605.00001"]) == {"2605.00001": "cut"}
    assert memory.get("2606.00001").abstract == "About 2606 number 1."


def test_never_judged_cuts_are_thinned_but_keep_their_total_weight():
    from brief.agents.screener import thin_cuts

    weights = np.array([1.0] * 10 + [0.2] * 200 + [5.0])
    keep, thinned = thin_cuts(weights)
    assert len(keep) == 11 + 50 and set(range(10)) | {210} <= set(keep.tolist())
    assert thinned[weights[keep] < 0.5].sum() == pytest.approx(0.2 * 200)
    assert thinned[weights[keep] >= 0.5].tolist() == [1.0] * 10 + [5.0]
    small = np.array([1.0] * 10 + [0.2] * 30)
    assert thin_cuts(small)[0].tolist() == list(range(40)), "few cuts: all kept as they are"
