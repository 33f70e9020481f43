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


def _screen(papers, labels, cfg, tmp_path):
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler(labels, topic=TOPIC)}) as srv:
        result = Screener(PLAIN, cfg, TOPICS, llm_client(srv, tmp_path, concurrency=1)).run(papers, vectors_of(papers), seed="w")
        return result, [(r.paper_ids, "[abstract cut short]" in r.user) for r in srv.requests]


def test_the_audit_goes_first_and_its_band_before_the_screens_full_reads(tmp_path):
    papers = make_papers(200)
    labels = {p.id: 9 for p in papers}  # everything relevant: the audit finds accepts, so a band is needed
    cfg = ScreeningConfig(llm_share=0.3, audit_sample=3, extend_rounds=1, brief_chars=400)
    result, calls = _screen(papers, labels, cfg, tmp_path)
    reasons = {d.paper_id: d.reason for d in result.decisions}
    audit = {pid for pid, reason in reasons.items() if reason.startswith("[audit sample]")}
    stats = result.stats
    assert len(audit) == 3 and stats.extended == 10 and stats.sent == 60 + 3 + 10
    assert audit <= set(calls[0][0]), "the first call holds the audit sample (a band waits on it)"
    ranked = [s.paper_id for s in sorted(result.scores, key=lambda s: (-s.score, s.paper_id))]
    top = set(ranked[:18])  # read in full at once; the other 42 of the 60 above the cut get a first look
    band = {d.paper_id for d in result.decisions if d.stage == "llm"} - set(ranked[:60]) - audit
    assert len(band) == 10
    first_band = next(i for i, (ids, _) in enumerate(calls) if set(ids) & band)
    full_reads = [i for i, (ids, _) in enumerate(calls) if set(ids) & top]  # 18 papers, 4 a call
    assert len(full_reads) == 5 and first_band < min(full_reads), \
        "the band goes out once the audit settles it, ahead of the full reads still queued"


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
