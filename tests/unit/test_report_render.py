"""Rendering: hostile paper and LLM text stays inert in HTML and Markdown; the HTML is self-contained;
the chart is valid SVG; BibTeX escapes LaTeX and keeps keys unique."""

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from brief.graphs.state import WeeklyState
from brief.models import (
    Bridge,
    Decision,
    EarlierPaper,
    Link,
    Paper,
    Review,
    StageUsage,
    Summary,
    ThemeBrief,
    Trend,
    Usage,
)
from brief.report import build_briefing, render
from brief.report.chart import themes_svg
from brief.sources.window import parse_week

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)> [click](javascript:alert(1)) & 50% of $x_1$'


def make_state(tmp_out) -> WeeklyState:
    papers = [
        Paper(id="2606.00001", title=f"Grasping {EVIL}", abstract="a", authors=["Ana María Pérez", "B. Lee"],
              categories=["cs.RO"], url="javascript:alert(1)", published=date(2026, 6, 9)),
        Paper(id="2606.00002", title="Grasping everything", abstract="b", authors=["Ana Pérez"], categories=["eess.SY"],
              published=date(2026, 6, 9)),
        Paper(id="doi:10.1000/x_y", title="A journal paper on grasping", abstract="c", authors=["C. Doe"],
              categories=["q-bio.NC"], doi="10.1000/x_y", url="https://example.org/paper"),
    ]
    decisions = {p.id: Decision(paper_id=p.id, accepted=True, stage="llm", relevance=8, novelty=6, topic="Grasping",
                                reason=f"because {EVIL}") for p in papers}
    reviews = {p.id: Review(paper_id=p.id, confirmed=True, reason="ok", summary=Summary(tldr=f"tldr {EVIL}")) for p in papers}
    link = Link(id="2605.00009", title=f"Earlier {EVIL}", week="2026-W23", similarity=0.71, shared_terms=["grasping"])
    theme = ThemeBrief(
        name=f"Theme {EVIL}", paper_ids=[p.id for p in papers], terms=["grasping"], categories=["cs.RO", "eess.SY", "q-bio.NC"],
        prose=f"Para one cites [arXiv:2606.00001] and {EVIL}.\n\nPara two cites [arXiv:2605.00009] and [doi:10.1000/x_y].",
        citations=["arXiv:2606.00001", "arXiv:2605.00009", "doi:10.1000/x_y"],
        earlier=[EarlierPaper(id="2605.00009", title=f"Earlier {EVIL}", week="2026-W23", similarity=0.71,
                              categories=["cs.RO"], linked_from=["2606.00001"])],
        new_ids=["2606.00002", "doi:10.1000/x_y"],
        bridges=[Bridge(a_id="2606.00001", a_title=f"Grasping {EVIL}", a_category="cs.RO", b_id="2606.00002",
                        b_title="Grasping everything", b_category="eess.SY", shared_terms=["grasping"], similarity=0.8,
                        across="archives")],
        trend=Trend(weeks=["2026-W20", "2026-W21", "2026-W22", "2026-W23", "2026-W24"], counts=[0, 1, 2, 3, 9],
                    totals=[0, 100, 120, 110, 130], direction="growing", threshold=0.5),
    )
    (tmp_out / "2026-W23.html").parent.mkdir(parents=True, exist_ok=True)
    (tmp_out / "2026-W23.html").write_text("<html></html>")
    return WeeklyState(window=parse_week("2026-W24"), papers=papers, decisions=decisions, reviews=reviews,
                       links={"2606.00001": [link]}, themes=[theme], overview=f"Overview {EVIL} [arXiv:2606.00002].",
                       notes=[f"note {EVIL}"],
                       usage=Usage(stages={"synthesise": StageUsage(calls=3, input_tokens=1000, output_tokens=200, cost_usd=0.01)}))


@pytest.fixture
def briefing(settings):
    return build_briefing(make_state(settings.out_dir), settings, "gpt-test")


def test_html_is_self_contained_and_inert(briefing):
    page = render(briefing, "html")
    assert "<script" not in page and "<img" not in page and "&lt;script&gt;" in page, "escaped, shown as text"
    assert "javascript:" not in re.sub(r"&[a-z]+;", "", " ".join(re.findall(r'href="([^"]*)"', page)))
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'' in page
    assert not re.search(r'(src|href)="(https?:)?//[^"]*\.(css|js|png|svg)', page), "no external resources"
    assert "<svg" in page and page.count("<svg") == 1, "the chart is inline"
    assert "written by: llm: gpt-test" in page and f"criteria {briefing.criteria_version}" in page
    assert "<td>synthesise</td>" in page, "usage table in the header"
    # citations: this week's papers link in-page, the earlier one to the earlier week's briefing
    assert 'href="#2606.00001"' in page and 'href="2026-W23.html#2605.00009"' in page
    assert "in your 2026-W23 briefing" in page
    assert 'id="cross-field"' in page and "across fields" in page
    assert "growing" in page


def test_markdown_escapes_and_links(briefing):
    text = render(briefing, "md")
    assert "<script>" not in text and not re.search(r"(?<!\\)\]\(javascript", text), "an escaped ] can't open a link"
    assert "[arXiv:2606.00001](https://arxiv.org/abs/2606.00001)" in text
    assert "(2026-W23.html#2605.00009)" in text
    assert "## Cross-field" in text and "## Themes at a glance" in text and "| synthesise |" in text
    assert "growing (W21 1 · W22 2 · W23 3 · W24 9 nearby papers)" in text, "weeks without data are left out"
    assert "*New ground:* 2 of 3 papers have nothing close in memory." in text


def test_new_ground_counts_agree_with_their_verb():
    from brief.report.paper_view import new_ground

    assert new_ground(1, 3) == "1 of 3 papers has nothing close in memory"
    assert new_ground(1, 1) == "1 of 1 paper has nothing close in memory"
    assert new_ground(0, 2) == "All 2 papers have something close in memory", "not '0 of 2 ... nothing'"
    assert new_ground(0, 1) == "Its paper has something close in memory"


def test_no_bridge_says_why_when_the_source_gave_no_categories(settings):
    """An astro-ph listing without categories: "no two papers from different fields shared a method" could not
    have been checked, so it is not claimed."""
    state = make_state(settings.out_dir)
    state.themes = [state.themes[0].model_copy(update={"bridges": []})]
    for categories, says in ((["cs.RO"], "no two papers from different fields shared"), ([], "gave no arXiv categories")):
        state.papers = [p.model_copy(update={"categories": categories}) for p in state.papers]
        b = build_briefing(state, settings, "gpt-test")
        for page in (render(b, "md"), render(b, "html")):
            assert says in page, categories


def test_papers_left_unscreened_are_named_with_why_and_not_counted_as_screened(settings):
    """A partial run's note sends the reader to them: Markdown and HTML list each (the JSON did before)."""
    state = make_state(settings.out_dir)
    left = Paper(id="2606.00099", title="A paper the server never answered for", abstract="x", categories=["cs.RO"])
    state.papers = [*state.papers, left]
    state.decisions[left.id] = Decision(paper_id=left.id, accepted=False, stage="unscreened", relevance=0, novelty=0,
                                        reason="unscreened: screen: OpenAIConnectionError: Connection error.")
    b = build_briefing(state, settings, "gpt-test")
    assert b.counts.unscreened == 1 and b.counts.screened == len(state.decisions) - 1
    text, page = render(b, "md"), render(b, "html")
    section = text.split("## Unscreened")[1].split("## Citations")[0]
    assert "A paper the server never answered for" in section and "arXiv:2606.00099" in section
    assert "Connection error" in section
    assert 'id="unscreened"' in page and "A paper the server never answered for" in page
    assert "## Unscreened" not in render(build_briefing(make_state(settings.out_dir), settings, "gpt-test"), "md")


def test_markdown_and_html_say_why_each_link_was_made_each_thing_once(settings):
    state = make_state(settings.out_dir)
    (link,) = state.links["2606.00001"]
    reasons = {"same method: both fine-tune <b>GraspNet</b>": "shared: grasping",  # a model's reason (escaped)
               "both on grasping": None}  # the offline reason names the shared term: not said twice
    for reason, shared in reasons.items():
        state.links["2606.00001"] = [link.model_copy(update={"reason": reason, "cross_field": True})]
        b = build_briefing(state, settings, "gpt-test")
        text, page = render(b, "md"), render(b, "html")
        line = next(x for x in text.splitlines() if "↩ earlier" in x)
        div = page.split('<div class="link">')[1].split("</div>")[0] + "</div>"
        assert "similarity 0.71; " + reason.replace("<b>", "&lt;b&gt;").replace("</b>", "&lt;/b&gt;") in line
        assert "similarity 0.71; " + reason.replace("<", "&lt;").replace(">", "&gt;") in div
        for shown in (line, div):
            assert shown.count("grasping") == 1 and shown.endswith(("cross-field)", "cross-field)</div>"))
            assert (shared in shown) if shared else "shared:" not in shown


def test_json_lists_citations_per_section(briefing):
    assert briefing.citations[0].section == "overview" and briefing.citations[0].citations == ["arXiv:2606.00002"]
    assert briefing.citations[1].citations == ["arXiv:2606.00001", "arXiv:2605.00009", "doi:10.1000/x_y"]
    assert briefing.unresolved_citations == []
    assert briefing.earlier_reports == {"2026-W23": "2026-W23.html"}


def test_chart_is_well_formed_svg_with_escaped_text(briefing):
    svg = themes_svg(briefing.themes, briefing.week)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "▲ growing" in texts and "<script>" not in svg
    circles = [c for c in root.iter() if c.tag.endswith("circle")]
    assert len(circles) == 4, "W20 has no data: no point for it"
    assert "2026-W20 … 2026-W24 · memory starts 2026-W21" in texts, "the caption says where the points begin"
    assert themes_svg([], "2026-W24") == ""
    pair = ThemeBrief(name="Pair", paper_ids=["2606.00001", "2606.00002"])  # too small for a trend: None
    assert "no trend measured" in themes_svg([pair], "2026-W24") and "no earlier weeks" not in themes_svg([pair], "2026-W24")


def test_bibtex_escapes_latex_and_keeps_keys_unique(briefing):
    bib = render(briefing, "bib")
    keys = re.findall(r"^@\w+\{([^,]+),", bib, re.M)
    assert len(keys) == 3 and len(set(keys)) == 3
    assert keys[0] == "perez2026grasping" and keys[1] == "perez2026graspinga"
    assert r"50\% of x\_1" in bib and r"\&" in bib  # titles reach every format LaTeX-resolved, then re-escaped
    assert "eprint        = {2606.00001}" in bib and "archivePrefix = {arXiv}" in bib and "primaryClass  = {cs.RO}" in bib
    assert "@article{doe" in bib and re.search(r"doi +\= \{10\.1000/x\\_y\}", bib)
    assert bib.count("{") == bib.count("}"), "braces balance"


def test_fields_the_abstract_does_not_state_share_one_line(settings):
    state = make_state(settings.out_dir)
    state.reviews["2606.00002"] = Review(paper_id="2606.00002", confirmed=True, reason="ok", summary=Summary(
        tldr="We grasp everything.", problem="not stated in the abstract", method="We grasp everything.",
        results="Success rises from 41% to 77%.", limitations="Not mentioned."))  # a model's own wording
    briefing = build_briefing(state, settings, "gpt-test")
    text = render(briefing, "md")
    card = text[text.index("**Grasping everything**"):]
    card = card[:card.index("\n- **")] if "\n- **" in card else card
    assert "  - *Results:* Success rises from 41% to 77%." in card
    assert "  - *Not in the abstract:* problem, limitations" in card
    assert "*Problem:*" not in card and "*Limitations:*" not in card and "Not mentioned" not in card
    assert "*Method:*" not in card, "a field repeating the TL;DR is left out, not called unstated"
    page = render(briefing, "html")
    assert "<li><b>Not in the abstract:</b> problem, limitations</li>" in page
    assert "<b>Problem:</b>" not in page and "<b>Results:</b> Success rises" in page
    paper = next(p for p in briefing.accepted if p.id == "2606.00002")
    assert paper.summary.limitations == "Not mentioned.", "the JSON keeps every field as written"
