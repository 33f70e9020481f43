"""Stage 2's dependent rounds: the audit goes out first, and the band below the cut it calls for joins the pool as
soon as the verdicts in hand settle it, not after the whole screen. One call at a time (concurrency 1), the
order of the calls shows what waited on what, without timing anything."""

from __future__ import annotations

from brief.agents.audit_bands import AuditBands
from brief.agents.screener import Screener
from brief.config import ScreeningConfig
from brief.models import Decision, Score
from tests.scripted_llm import ScriptedLLMServer, labels_screen_handler
from tests.unit.test_screener import CRITERIA, TOPIC, TOPICS, llm_client, make_papers, vectors_of

PLAIN = CRITERIA.model_copy(update={"authors": [], "include_keywords": [], "exclude_keywords": []})


def _screen(papers, labels, cfg, tmp_path, **llm):
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler(labels, topic=TOPIC)}) as srv:
        client = llm_client(srv, tmp_path, concurrency=1, **llm)
        result = Screener(PLAIN, cfg, TOPICS, client).run(papers, vectors_of(papers), seed="w")
        return result, [r.paper_ids for r in srv.requests]


def _band_and_full_reads(tmp_path, **llm):
    """Where the audit, the band below the cut and the full reads of the papers above it went in the order of
    the calls (200 papers, all relevant: the audit finds accepts, so a band is needed)."""
    papers = make_papers(200)
    cfg = ScreeningConfig(llm_share=0.3, audit_sample=3, extend_rounds=1, brief_chars=400)
    result, calls = _screen(papers, {p.id: 9 for p in papers}, cfg, tmp_path, **llm)
    audit = {d.paper_id for d in result.decisions if d.reason.startswith("[audit sample]")}
    ranked = [s.paper_id for s in sorted(result.scores, key=lambda s: (-s.score, s.paper_id))]
    top = set(ranked[:18])  # read in full at once; the other 42 of the 60 above the cut get a first look
    band = {d.paper_id for d in result.decisions if d.stage == "llm"} - set(ranked[:60]) - audit
    stats = result.stats
    assert len(audit) == 3 and len(band) == stats.extended == 10 and stats.sent == 60 + 3 + 10
    assert audit <= set(calls[0]), "the first call holds the audit sample (a band waits on it)"
    full_reads = [i for i, ids in enumerate(calls) if set(ids) & top]
    assert len(full_reads) == 5  # 18 papers, 4 a call
    return [i for i, ids in enumerate(calls) if set(ids) & band], full_reads


def test_the_audit_goes_first_and_its_band_ahead_of_the_screens_full_reads(tmp_path):
    band, full_reads = _band_and_full_reads(tmp_path)
    assert band[0] < full_reads[0], "the band goes out once the audit settles it, ahead of the full reads still queued"


def test_with_a_cost_cap_the_band_waits_behind_the_full_reads(tmp_path):
    band, full_reads = _band_and_full_reads(tmp_path, max_cost_usd=100.0)
    assert band[0] > full_reads[-1], "the papers above the cut are read before a band that might use up the budget"


def _decision(pid: str, accepted: bool) -> Decision:
    return Decision(paper_id=pid, accepted=accepted, stage="llm", relevance=9 if accepted else 2, novelty=5, reason="-")


def _bands(above: int, below: int, audit: int) -> AuditBands:
    ids = [f"a{i}" for i in range(above)], [f"b{i}" for i in range(below)], [f"u{i}" for i in range(audit)]
    scores = {pid: Score(paper_id=pid, score=-i, similarity=0.0, topic=TOPIC)
              for group in ids for i, pid in enumerate(group)}
    return AuditBands(*ids, scores, rounds=1, target=0.95, week_size=100)


def test_a_band_is_sent_while_papers_are_in_flight_only_when_their_verdicts_cannot_change_the_answer():
    # one audited accept among 4 stands for ~25 accepts below the cut: even if all 20 papers above, still in
    # flight, are accepts, the estimate stays under the target, so the band goes now
    bands = _bands(above=20, below=100, audit=4)
    assert bands.next_band({"u0": _decision("u0", True)}) == [f"b{i}" for i in range(10)]
    assert bands.next_band({}) == [], "one band at most (rounds=1)"
    # 200 papers above still in flight: as accepts they would put the estimate over the target, as rejects
    # under it: wait
    bands = _bands(above=200, below=10, audit=4)
    assert bands.next_band({"u0": _decision("u0", True)}) == []
    # nothing below the cut to extend into, or an audit with no accepts among 4 screened: no band, ever
    assert _bands(above=20, below=0, audit=4).next_band({}) == []
    settled = {f"u{i}": _decision(f"u{i}", False) for i in range(4)}
    bands = _bands(above=20, below=100, audit=4)
    assert bands.next_band(settled) == [] and bands.rounds_left == 0
