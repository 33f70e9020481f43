"""The themed review's report: paper text reaches it readable, as in the weekly briefing."""

import re

from brief.agents.review_writer import offline_overview as review_overview, span_text
from brief.agents.synthesiser import offline_overview as weekly_overview
from brief.graphs.review_state import ReviewRequest, ReviewState
from brief.models import Bridge, Claim, Decision, Findings, Paper, QueryPlan, Review, Summary, ThemeBrief
from brief.report.review import build_review, render_review_markdown
from brief.report.review_html import render_review_html

RAW_LATEX = re.compile(r"\\(textbf|textsc|mathrm|emph)\b|\$[^$\n]+\$")


def test_the_review_report_resolves_latex_like_the_briefing(settings):
    paper = Paper(id="2606.17937", title=r"\textsc{ThinkingVLA}: Reasoning for $\mathrm{SO}(2)$ Manipulation",
                  abstract="a", authors=["A. Author"], categories=["cs.RO"])
    summary = Summary(tldr=r"We propose \textbf{ThinkingVLA}, a generative policy.", problem=r"Policies lack \emph{inverse} reasoning.",
                      results=r"It beats baselines by 12\% on $\mathrm{SO}(2)$ tasks.")
    state = ReviewState(
        request=ReviewRequest(theme="VLA reasoning"), plan=QueryPlan(theme="VLA reasoning", description="VLA reasoning", queries=["VLA reasoning"]), papers=[paper],
        decisions={paper.id: Decision(paper_id=paper.id, accepted=True, stage="offline", relevance=8, novelty=0, reason="r")},
        reviews={paper.id: Review(paper_id=paper.id, confirmed=True, reason="ok", summary=summary)},
        similarity={paper.id: 0.7}, first_seen={paper.id: "2026-W24"},
        themes=[ThemeBrief(name="Reasoning", paper_ids=[paper.id], categories=["cs.RO"],
                           prose=r"Led by [arXiv:2606.17937]: We propose \textbf{ThinkingVLA}.")],
        overview=r"One paper, \textbf{ThinkingVLA} [arXiv:2606.17937].",
        findings=Findings(open_questions=[Claim(text=r"Whether \emph{inverse} reasoning scales [arXiv:2606.17937].",
                                                papers=[paper.id])]))
    report = build_review(state, settings, None)
    assert "*1 paper · " in render_review_markdown(report) and "1 papers" not in render_review_markdown(report)
    assert "*1 paper · cs.RO · first seen 2026-W24*" in render_review_markdown(report), "one week, not 'W24 to W24'"
    assert ">1 paper · cs.RO<" in render_review_html(report) and "1 papers" not in render_review_html(report)
    assert report.accepted[0].title == "ThinkingVLA: Reasoning for SO(2) Manipulation"
    assert report.accepted[0].summary.tldr == "We propose ThinkingVLA, a generative policy."
    assert report.citations[0].citations == ["arXiv:2606.17937"] and report.unresolved_citations == []
    for text in (render_review_markdown(report), render_review_html(report), report.model_dump_json()):
        assert not RAW_LATEX.search(text.replace("\\\\", "\\")), RAW_LATEX.search(text.replace("\\\\", "\\"))
        assert "ThinkingVLA" in text and "12%" in text


def test_a_paper_without_categories_and_with_many_authors_reads_cleanly(settings):
    """An astro-ph listing without categories printed "et al. ·  · first seen", and references "et al.."."""
    paper = Paper(id="2601.08027", title="Quenching in ellipticals", abstract="a", authors=["A. One", "B. Two", "C. Three", "D. Four"])
    state = ReviewState(
        request=ReviewRequest(theme="quenching"), plan=QueryPlan(theme="quenching", description="quenching", queries=["quenching"]),
        papers=[paper],
        decisions={paper.id: Decision(paper_id=paper.id, accepted=True, stage="offline", relevance=8, novelty=0, reason="r")},
        reviews={paper.id: Review(paper_id=paper.id, confirmed=True, reason="ok", summary=Summary(tldr="We study it."))},
        similarity={paper.id: 0.7}, first_seen={paper.id: "2026-W03"}, overview="One paper [arXiv:2601.08027].")
    report = build_review(state, settings, None)
    for text in (render_review_markdown(report), render_review_html(report)):
        assert "A. One, B. Two, C. Three et al." in text and "et al.." not in text and "·  ·" not in text, text
    assert "A. One, B. Two, C. Three et al. · first seen 2026-W03 · similarity 0.70" in render_review_markdown(report)


def test_the_publication_months_say_an_arxiv_id_dated_a_paper_only_when_one_did(settings):
    """A review of feed papers (DOIs, dated) said "the arXiv id's month when the date is unknown" of none."""
    from datetime import date

    dated = Paper(id="doi:10.1101/2026.11.23.610200", title="Perturb-seq atlas", abstract="a", authors=["A. One"],
                  published=date(2026, 11, 23))
    undated = Paper(id="2606.17937", title="ThinkingVLA", abstract="a", authors=["B. Two"])

    def report_of(papers):
        state = ReviewState(
            request=ReviewRequest(theme="t"), plan=QueryPlan(theme="t", description="t", queries=["t"]), papers=papers,
            decisions={p.id: Decision(paper_id=p.id, accepted=True, stage="offline", relevance=8, novelty=0, reason="r")
                       for p in papers},
            reviews={p.id: Review(paper_id=p.id, confirmed=True, reason="ok", summary=Summary(tldr="We study it."))
                     for p in papers},
            similarity={p.id: 0.7 for p in papers}, first_seen={p.id: "2026-W48" for p in papers}, overview="o")
        return build_review(state, settings, None)

    alone = report_of([dated])
    for text in (render_review_markdown(alone), render_review_html(alone)):
        assert "By publication month:" in text and "arXiv id" not in text, text
    both = report_of([dated, undated])
    assert "By publication month (for 1 paper without a date, the month of its arXiv id):" in render_review_markdown(both)
    assert "| 2026-06 | 1 |" in render_review_markdown(both) and "| 2026-11 | 1 |" in render_review_markdown(both)


def test_counts_of_one_read_in_the_singular():
    lead = Paper(id="2606.11767", title="Blind Dexterous Grasping", abstract="a", categories=["cs.RO"])
    one = [ThemeBrief(name="Blind Dexterous Grasping", paper_ids=[lead.id])]
    text = review_overview("dexterous manipulation", one, "1 from memory", lead, 0.66)
    assert text.startswith("“dexterous manipulation”: 1 paper in 1 sub-theme. Coverage"), text
    two = [ThemeBrief(name="Tactile Sensing", paper_ids=["a", "b"]), ThemeBrief(name="Blind Grasping", paper_ids=["c"])]
    assert "3 papers in 2 sub-themes; the largest is “Tactile Sensing” (2 papers)" in review_overview("t", two, "", None, None)
    later = [ThemeBrief(name="Blind Grasping", paper_ids=["c"]), ThemeBrief(name="Grasping: assorted", paper_ids=["d", "e"])]
    assert "the largest is “Grasping: assorted” (2 papers)" in weekly_overview("2026-W24", later), "the largest, not the first"
    named = [ThemeBrief(name="Blind Grasping", paper_ids=["c"], terms=["blind grasping"]), later[1]]
    assert weekly_overview("2026-W24", named).startswith(
        "2026-W24: 3 accepted papers in 2 themes; the largest about one subject is “Blind Grasping” (1 paper), and 2 share "
        "no subject with the others (listed by topic)."), "an assorted rest is not led with"
    week = weekly_overview("2026-W24", [ThemeBrief(name="Blind Dexterous Grasping", paper_ids=[lead.id], new_ids=[])])
    assert week.startswith("2026-W24: 1 accepted paper in 1 theme. 1 paper links to work seen in earlier weeks."), week
    bridge = Bridge(a_id="a", a_title="A", a_category="cs.RO", b_id="b", b_title="B", b_category="cs.CV",
                    shared_terms=["3D Gaussian splatting"], similarity=0.6, across="categories")
    week = weekly_overview("2026-W24", [ThemeBrief(name="Splats", paper_ids=["a", "b"], bridges=[bridge])])
    assert week.endswith(" 1 cross-field bridge, e.g. within “Splats”."), week


def test_a_span_with_empty_weeks_says_so_as_the_timeline_counts_it():
    when = {"a": "first seen 2026-W25", "b": "first seen 2026-W27", "c": "published 2026-06-30"}
    assert span_text(["a", "b", "c"], when) == "2026-W25 to 2026-W27 (papers in 2 of its 3 weeks); 1 from the fresh search"
    assert span_text(["a", "b"], dict(when, b="first seen 2026-W26")) == "2026-W25 to 2026-W26 (2 weeks)"
    assert span_text(["a", "b"], dict(when, b="first seen 2027-W01")) == "2026-W25 to 2027-W01 (papers in 2 of its 30 weeks)", "2026 has 53 ISO weeks"


def test_counts_of_one_read_in_the_singular_in_every_summary_line():
    """A real-model QA run read "1 accepted in 1 themes", "1 citations", "the audit found 1 accepts"."""
    from brief.agents.screen_note import screen_note
    from brief.models import ScreenStats

    stats = ScreenStats(prefilter=True, ranker="topic-similarity", trained_on=0, candidates=30, sent=9, share_sent=0.3,
                        audit_drawn=3, audit_drawn_positives=1, extended=10, extended_positives=2, audit_n=1,
                        audit_positives=1, recall_target=0.95, recall_estimate=0.5, recall_ci=(0.3, 0.9))
    note = screen_note(stats)
    assert "the audit found 1 accept there" in note and "Of the audit's 1 paper still below the final cut, 1 was an accept" in note
