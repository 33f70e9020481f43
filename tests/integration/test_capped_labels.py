"""A paper the week's cap left out was judged relevant: memory keeps it as a reject (it was not shown) marked
`capped`, and stage 1 learns it as a positive, not as one of the judge's rejects."""

from __future__ import annotations

import numpy as np

from brief.agents.remember import sort_for_memory, writes
from brief.memory.labels import judged_labels
from brief.memory.store import Memory
from brief.models import Decision, Paper, Review, Summary
from tests.handlers import brief_handlers
from tests.integration.cli_helpers import TOPIC, brief, brief_env, labels_for, week_snapshot, write_config
from tests.scripted_llm import ScriptedLLMServer

DIM = 16


def week(capped_b: bool) -> tuple[list[Paper], dict[str, Decision], dict[str, Review]]:
    papers = [Paper(id=f"2606.0000{i}", version=1, title=f"Paper {i}", abstract=f"About paper {i}.", categories=["cs.RO"])
              for i in range(1, 5)]
    a, b, c, d = (p.id for p in papers)
    decisions = {
        a: Decision(paper_id=a, accepted=True, stage="llm", relevance=9, novelty=6, topic="T", reason="on topic"),
        b: Decision(paper_id=b, accepted=False, stage="llm", relevance=8, novelty=6, topic="T", capped=capped_b,
                    reason="on topic; cut by the week's cap (1, shared across topics)" if capped_b else "off topic"),
        c: Decision(paper_id=c, accepted=False, stage="llm", relevance=2, novelty=3, reason="off topic"),
        d: Decision(paper_id=d, accepted=False, stage="prefilter", relevance=1, novelty=0, reason="below stage-1 cut"),
    }
    reviews = {a: Review(paper_id=a, confirmed=True, reason="ok", summary=Summary(tldr="A."))}
    return papers, decisions, reviews


def remember(memory: Memory, capped_b: bool, run: str) -> None:
    papers, decisions, reviews = week(capped_b)
    vectors = dict(zip((p.id for p in papers), np.eye(DIM, dtype=np.float32)))
    for write in writes(sort_for_memory(papers, decisions, reviews), decisions, reviews, run_id=run):
        memory.remember(write.papers, np.asarray([vectors[p.id] for p in write.papers]).reshape(-1, DIM), "2026-W24",
                        status=write.status, **write.fields)


def labels(memory: Memory) -> dict[str, tuple[int, float]]:
    ids, _vectors, y, w, _texts = memory.labelled_history(before_week="2026-W25")
    return {pid: (int(label), float(weight)) for pid, label, weight in zip(ids, y, w)}


def test_a_paper_the_cap_left_out_is_remembered_as_a_reject_and_learned_as_relevant(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    remember(memory, capped_b=True, run="r1")
    assert memory.known(["2606.00001", "2606.00002", "2606.00003", "2606.00004"]) == {
        "2606.00001": "accepted", "2606.00002": "rejected", "2606.00003": "rejected", "2606.00004": "cut"}
    assert labels(memory) == {"2606.00001": (1, 1.0), "2606.00002": (1, 1.0), "2606.00003": (0, 1.0), "2606.00004": (0, 0.05)}
    offline = judged_labels(memory, "2026-W25")
    assert offline.counts["llm"] == 3 and len(offline.positives) == 2 and len(offline.negatives) == 1


def test_a_rerun_that_rejects_the_paper_outright_clears_the_mark(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    remember(memory, capped_b=True, run="r1")
    remember(memory, capped_b=False, run="r2")
    assert labels(memory)["2606.00002"] == (0, 1.0)
    assert len(judged_labels(memory, "2026-W25").positives) == 1


def test_a_weekly_run_marks_what_its_cap_left_out(tmp_path, cache_dir):
    """Through `brief weekly` and the scripted judge: the cap of 3 leaves relevant papers out; memory holds each
    as a capped reject that stage 1 learns as relevant, and no paper the judge rejected is marked."""
    snapshot = week_snapshot(tmp_path / "snapshot", 120)
    config = write_config(tmp_path / "brief.toml", cache_dir)
    config.write_text(config.read_text(encoding="utf-8").replace("max_accepted = 30", "max_accepted = 3"), encoding="utf-8")
    judge = labels_for(snapshot)
    with ScriptedLLMServer(handlers=brief_handlers(judge, TOPIC)) as srv:
        out = brief("weekly", "--week", "2026-W24", "--source", f"snapshot:{snapshot}", "--config", str(config),
                    "--memory-dir", str(tmp_path / "memory"), "--out", str(tmp_path / "out"), "-q",
                    env=brief_env(OPENAI_BASE_URL=srv.base_url, BRIEF_MODEL="scripted"))
    assert out.returncode == 0, out.stdout + out.stderr
    name = Memory(tmp_path / "memory" / "chroma", "any", read_only=True).embedder_name
    memory = Memory(tmp_path / "memory" / "chroma", name)
    got = memory.seen.get(include=["metadatas"])
    metas = dict(zip(got["ids"], got["metadatas"]))
    capped = {pid for pid, m in metas.items() if m.get("capped") is True}
    accepted = {pid for pid, status in memory.known(list(judge)).items() if status == "accepted"}
    assert len(accepted) >= 3 and capped, "the cap left relevant papers out (watch-list authors come on top)"
    assert all(judge[pid] == 8 for pid in capped), "only papers the judge found relevant are marked"
    assert not any(m.get("capped") for pid, m in metas.items() if judge[pid] != 8)
    learned = labels(memory)
    assert all(learned[pid] == (1, 1.0) for pid in capped | accepted)
    assert all(label == 0 for pid, (label, _w) in learned.items() if judge[pid] != 8 and pid not in accepted)
