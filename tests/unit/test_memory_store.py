"""Memory's records in a real Chroma (tmp_path): what a record holds, how decisions merge, which papers
count as previously seen for links, search and stats."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from brief.memory.records import Imported
from brief.memory.store import Memory, MemoryStoreError
from brief.models import Paper

DIM = 16


def unit(rng: np.random.Generator, n: int = 1) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def near(v: np.ndarray, rng: np.random.Generator, n: int, noise: float = 0.05) -> np.ndarray:
    out = v + rng.normal(scale=noise, size=(n, DIM)).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def paper(pid: str, version: int | None = 1, **kw) -> Paper:
    return Paper(id=pid, version=version, title=kw.pop("title", f"Paper {pid}"), abstract=kw.pop("abstract", f"About {pid}."),
                 authors=kw.pop("authors", ["Ada Lovelace"]), categories=kw.pop("categories", ["cs.LG"]), **kw)


def test_a_record_holds_weeks_versions_and_the_decision_history(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    rng = np.random.default_rng(0)
    v = unit(rng)
    memory.remember([paper("2606.00001", 1, doi="10.1/x")], v, "2026-W23", status="rejected", run_id="weekly:2026-W23:a",
                    topics={"2606.00001": "Robots"})
    memory.remember([paper("2606.00001", 2)], v, "2026-W25", status="accepted", run_id="weekly:2026-W25:b",
                    topics={"2606.00001": "Robots"}, tldrs={"2606.00001": "It grasps."})
    memory.remember([paper("2606.00001", 2)], v, "2026-W25", status="accepted", run_id="weekly:2026-W25:b")  # a redone node
    rec = memory.get("2606.00001")
    assert (rec.first_seen, rec.last_seen, rec.status) == ("2026-W23", "2026-W25", "accepted")
    assert rec.versions == [1, 2] and rec.version == 2
    assert rec.doi == "10.1/x", "a later record without a DOI keeps the one memory had"
    assert [(h.week, h.status, h.run, h.topic) for h in rec.history] == [
        ("2026-W23", "rejected", "weekly:2026-W23:a", "Robots"), ("2026-W25", "accepted", "weekly:2026-W25:b", "Robots")]
    assert rec.tldr == "It grasps." and rec.topic == "Robots"
    assert memory.seen.count() == 0 and memory.papers.count() == 1, "accepted now: moved out of `seen`, one home"


def test_rejected_papers_live_in_seen_and_an_imported_paper_stays_imported(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    rng = np.random.default_rng(1)
    memory.remember([paper("2606.00002")], unit(rng), "2026-W23", status="rejected")
    assert memory.known(["2606.00002"]) == {"2606.00002": "rejected"} and memory.count() == 0
    item = Imported(paper=paper("2606.00003"), first_week="2026-W20", last_week="2026-W20")
    memory.import_papers([item], unit(rng), "2026-W30", run_id="import:lib.bib")
    memory.remember([paper("2606.00003")], unit(rng), "2026-W24", status="rejected", run_id="weekly:2026-W24:c")
    rec = memory.get("2606.00003")
    assert rec.status == "imported" and memory.count() == 1, "a run's reject does not evict the user's own library"
    assert [h.status for h in rec.history] == ["imported", "rejected"]


def test_many_records_are_read_at_once_from_either_collection(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    rng = np.random.default_rng(7)
    memory.remember([paper("2606.00010"), paper("2606.00011")], unit(rng, 2), "2026-W23", status="accepted")
    memory.remember([paper("2606.00012", title="Cut early")], unit(rng), "2026-W23", status="rejected")
    got = memory.get_many(["2606.00012", "2606.00010", "2606.09999", "2606.00010"])
    assert sorted(got) == ["2606.00010", "2606.00012"], "ids memory doesn't hold are left out, each id once"
    assert got["2606.00012"].title == "Cut early" and got["2606.00012"].status == "rejected"
    assert got["2606.00010"] == memory.get("2606.00010") and memory.get("2606.09999") is None


def test_feedback_and_unknown_keys_survive_a_new_decision(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    v = unit(np.random.default_rng(2))
    memory.remember([paper("2606.00004")], v, "2026-W23", status="rejected")
    assert memory.set_feedback("2606.00004", "good")
    memory.remember([paper("2606.00004")], v, "2026-W23", status="rejected")
    assert memory.get("2606.00004").feedback == "good"


def test_importing_a_known_paper_fills_gaps_but_keeps_the_runs_record(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    v = unit(np.random.default_rng(3))
    memory.remember([paper("2606.00005", title="Run title", abstract="A long abstract from the run.")], v, "2026-W23",
                    tldrs={"2606.00005": "tl;dr"})
    bib = paper("2606.00005", None, title="bib title", abstract="", categories=[], journal_ref="Proc. X 2026")
    new = memory.import_papers([Imported(paper=bib, first_week="2026-W30", last_week="2026-W30", dated=False)],
                               unit(np.random.default_rng(4)), "2026-W30", run_id="import:x.bib")
    rec = memory.get("2606.00005")
    assert new == 0 and rec.status == "accepted" and rec.title == "Run title"
    assert rec.abstract == "A long abstract from the run." and rec.categories == ["cs.LG"]
    assert rec.journal_ref == "Proc. X 2026" and rec.first_seen == "2026-W23" and rec.dated
    stored = memory.papers.get(ids=["2606.00005"], include=["embeddings"])["embeddings"][0]
    assert np.allclose(stored, v[0], atol=1e-5), "a poorer text does not replace the vector"


def test_stubs_never_overwrite_and_are_never_linked(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    rng = np.random.default_rng(5)
    v = unit(rng)
    memory.remember([paper("2606.00006")], v, "2026-W20")
    stubs = [Imported(paper=Paper(id=pid, title=pid), first_week="2026-W30", last_week="2026-W30", dated=False, stub=True)
             for pid in ("2606.00006", "2606.00007")]
    assert memory.import_papers(stubs, np.vstack([v, v]), "2026-W30", run_id="import:ids.txt") == 1
    assert memory.get("2606.00006").title == "Paper 2606.00006"
    assert memory.get("2606.00007").stub
    linked = memory.neighbours(v, "2026-W40", k=5)[0]
    assert [r.id for r in linked] == ["2606.00006"], "the stub shares the vector but says nothing: never a link"


def test_neighbours_are_earlier_papers_and_undated_imports(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    rng = np.random.default_rng(6)
    topic = unit(rng)
    memory.remember([paper(f"2605.{i:05d}") for i in range(3)], near(topic, rng, 3), "2026-W20")
    memory.remember([paper(f"2606.{i:05d}") for i in range(40)], near(topic, rng, 40, 0.01), "2026-W24")  # this week
    memory.remember([paper(f"2607.{i:05d}") for i in range(2)], near(topic, rng, 2), "2026-W30")  # later
    library = [Imported(paper=paper("1706.03762"), first_week="2026-W47", last_week="2026-W47", dated=False),
               Imported(paper=paper("2608.00001"), first_week="2026-W31", last_week="2026-W31", dated=True)]
    memory.import_papers(library, near(topic, rng, 2), "2026-W47", run_id="import:lib.bib")
    got = memory.neighbours(topic, "2026-W24", k=10)[0]
    assert {r.id for r in got} == {"2605.00000", "2605.00001", "2605.00002", "1706.03762"}, \
        "40 same-week papers crowd the fast path out: the filtered fallback still finds every earlier one"
    assert memory.neighbours(topic, None, k=50)[0], "no week: everything counts"
    assert memory.neighbours(np.zeros((0, DIM), np.float32), "2026-W24", 3) == []


def test_search_since_a_week_and_including_rejected(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    rng = np.random.default_rng(7)
    topic = unit(rng)
    memory.remember([paper("2605.00001")], near(topic, rng, 1), "2026-W20")
    memory.remember([paper("2606.00001")], near(topic, rng, 1), "2026-W24")
    memory.remember([paper("2606.00002")], near(topic, rng, 1), "2026-W24", status="rejected")
    assert [r.id for r in memory.search(topic[0], 5, since_week="2026-W22")] == ["2606.00001"]
    assert {r.id for r in memory.search(topic[0], 5, include_seen=True)} == {"2605.00001", "2606.00001", "2606.00002"}
    hits = memory.search(topic[0], 5)
    assert all(a.similarity >= b.similarity for a, b in zip(hits, hits[1:]))


def test_stats_and_records(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    rng = np.random.default_rng(8)
    memory.remember([paper("2605.00001"), paper("2605.00002")], unit(rng, 2), "2026-W20")
    memory.remember([paper("2605.00003")], unit(rng), "2026-W20", status="cut")
    memory.import_papers([Imported(paper=paper("2605.00004", published=date(2026, 5, 1)), first_week="2026-W18",
                                   last_week="2026-W18")], unit(rng), "2026-W47", run_id="import:x")
    stats = memory.stats()
    assert stats["papers"] == 3 and stats["seen_rejected"] == 1
    assert stats["by_status"] == {"accepted": 2, "cut": 1, "imported": 1}
    assert stats["by_first_seen_week"] == {"2026-W18": 1, "2026-W20": 2}
    assert stats["disk_bytes"] > 0
    assert {r.id for r, _ in memory.records()} == {"2605.00001", "2605.00002", "2605.00004"}
    assert len(list(memory.records(include_seen=True))) == 4
    assert memory.get("2605.00004").published == "2026-05-01"
    assert memory.forget("2605.00003") and memory.get("2605.00003") is None and not memory.forget("2605.00003")


def test_importing_a_rejected_paper_moves_it_with_its_own_vector(tmp_path):
    memory = Memory(tmp_path / "chroma", "test")
    v = unit(np.random.default_rng(9))
    memory.remember([paper("2606.00010", abstract="The full abstract.")], v, "2026-W23", status="rejected")
    bib = Imported(paper=paper("2606.00010", None, abstract=""), first_week="2026-W47", last_week="2026-W47", dated=False)
    memory.import_papers([bib], unit(np.random.default_rng(10)), "2026-W47", run_id="import:x.bib")
    assert memory.seen.count() == 0 and memory.known(["2606.00010"]) == {"2606.00010": "imported"}
    got = memory.papers.get(ids=["2606.00010"], include=["embeddings"])
    assert memory.get("2606.00010").abstract == "The full abstract." and np.allclose(got["embeddings"][0], v[0], atol=1e-5)


def test_another_embedder_is_refused_and_a_new_recipe_says_to_re_embed(tmp_path):
    Memory(tmp_path / "chroma", "minilm-l6-int8-onnx-t64-r4")
    with pytest.raises(MemoryStoreError) as upgraded:
        Memory(tmp_path / "chroma", "minilm-l6-int8-onnx-t64-r5")
    says = str(upgraded.value)
    assert "r4 → r5" in says and "not your config" in says, says
    assert "brief memory export --bibtex" in says and "brief memory import" in says and "--memory-dir" in says, says
    assert "embedder back" not in says, "no config brings an old recipe back"
    with pytest.raises(MemoryStoreError, match=r"not 'all-MiniLM-L6-v2@st-256': set \[memory\] embedder back"):
        Memory(tmp_path / "chroma", "all-MiniLM-L6-v2@st-256")
    with pytest.raises(MemoryStoreError, match="embedder back"):  # another token budget: another embedder
        Memory(tmp_path / "chroma", "minilm-l6-int8-onnx-t128-r4")
    assert Memory(tmp_path / "chroma", "minilm-l6-int8-onnx-t64-r4").count() == 0, "its own embedder still opens it"


def test_read_only_opens_an_old_recipe_memory_for_its_records_but_never_its_vectors(tmp_path):
    old, new = "minilm-l6-int8-onnx-t64-r4", "minilm-l6-int8-onnx-t64-r5"
    rng = np.random.default_rng(11)
    built = Memory(tmp_path / "chroma", old)
    built.remember([paper("2605.00001"), paper("2605.00002")], unit(rng, 2), "2026-W20", tldrs={"2605.00001": "Short."})
    built.remember([paper("2605.00003")], unit(rng), "2026-W20", status="rejected")
    reader = Memory(tmp_path / "chroma", new, read_only=True)
    assert reader.embedder_name == old, "it says which embedder built it"
    assert {r.id for r, _ in reader.records(include_seen=True)} == {"2605.00001", "2605.00002", "2605.00003"}
    assert reader.get("2605.00001").tldr == "Short." and reader.known(["2605.00003"]) == {"2605.00003": "rejected"}
    assert reader.stats()["papers"] == 2 and reader.stats()["embedder"] == old
    refusals = {
        "search": lambda: reader.search(unit(rng)[0]),
        "neighbours": lambda: reader.neighbours(unit(rng), "2026-W30", 3),
        "remember": lambda: reader.remember([paper("2605.00009")], unit(rng), "2026-W21"),
        "forget": lambda: reader.forget("2605.00001"),
        "feedback": lambda: reader.set_feedback("2605.00001", "good"),
        "vectors": lambda: list(reader.records(embeddings=True)),
        "history": lambda: reader.labelled_history(),
    }
    for what, call in refusals.items():
        with pytest.raises(MemoryStoreError, match="r4 → r5") as refused:
            call()
        assert "brief memory export --bibtex" in str(refused.value), what
    assert built.get("2605.00001") is not None and built.get("2605.00001").feedback == "", "nothing was written"
    with pytest.raises(MemoryStoreError, match="r4 → r5"):
        Memory(tmp_path / "chroma", new)  # reading it did not restamp it
    own = Memory(tmp_path / "chroma", old, read_only=True)
    with pytest.raises(MemoryStoreError, match="opened read-only"):
        own.remember([paper("2605.00009")], unit(rng), "2026-W21")
    fresh = Memory(tmp_path / "fresh", new, read_only=True)
    assert fresh.embedder_name == new and fresh.stats()["papers"] == 0


def test_abstracts_of_a_memory_written_before_they_moved_to_metadata_still_read(tmp_path):
    """Memories written before abstracts moved out of Chroma's documents keep them there: reads fall back."""
    memory = Memory(tmp_path / "chroma", "test")
    v = unit(np.random.default_rng(11))
    old_style = {"title": "Old record", "first_seen": "2026-W20", "first_seen_ord": 202620, "status": "accepted"}
    memory.papers.upsert(ids=["2605.00001"], embeddings=v.tolist(), documents=["Stored as a document."],
                         metadatas=[old_style])
    assert memory.get("2605.00001").abstract == "Stored as a document."
    assert memory.neighbours(v, before_week="2026-W30", k=1)[0][0].abstract == "Stored as a document."
    # rewritten by a later week (a metadata-only decision keeps it; the new record carries it in metadata)
    memory.remember([paper("2605.00001", abstract="")], v, "2026-W21", status="accepted", abstracts=False)
    assert memory.get("2605.00001").abstract == "Stored as a document."
    memory.remember([paper("2605.00001", abstract="A newer abstract.")], v, "2026-W22", status="accepted")
    assert memory.get("2605.00001").abstract == "A newer abstract."
