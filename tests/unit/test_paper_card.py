"""Each paper in every format: authors (watch-list marked, et al.), announce type, abs/PDF/code/data links,
matched terms; LaTeX resolved by pylatexenc and never a crash on odd input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from brief.models import ThemeBrief
from brief.graphs.state import WeeklyState
from brief.models import Decision, Paper, Review, Score, Summary
from brief.report import build_briefing, render
from brief.report.feed import build_feed
from brief.report.latex import latex_to_text
from brief.report.paper_view import announce, matched_note
from brief.sources.urls import resource_links
from brief.sources.window import parse_week


@pytest.mark.parametrize("raw, readable", [
    (r"$\texttt{WEAVER}$: Weaving Agents", "WEAVER: Weaving Agents"),
    (r"reaches 36.67\% accuracy", "reaches 36.67% accuracy"),
    (r"a policy $u$ with $\alpha$-divergence", "a policy u with α-divergence"),
    (r"\textbf{Bold} $\mathcal{O}(n^2)$ and 50% more", "Bold 𝒪(n²) and 50% more"),
    (r"an $R^2$ of 0.91 at $10^{-3}$, $x^{1.5}$", "an R² of 0.91 at 10⁻³, x^1.5"),
    (r"TeX's ``quotes'' read as quotes", "TeX's “quotes” read as quotes"),
    (r"as shown before \cite{li2024,wu2025}. See Table~\ref{t:main}, a ( b )", "as shown before. See Table, a ( b )"),
    ("plain 5% of R&D #1 stays", "plain 5% of R&D #1 stays"),
    (r"Sch\"on", "Schön"),
    (r"Code: \href{https://github.com/a/b}{GitHub}; 100\,Hz", "Code: GitHub <https://github.com/a/b>; 100 Hz"),
    # astro-ph: asymmetric and symmetric uncertainties, TeX's tie, a tilde meaning "about" kept as one
    (r"a mass of $26^{+6}_{-5}$ and $9.75_{-0.38}^{+0.29}$, $S_8 = 0.789^{+0.012}_{-0.012}$",
     "a mass of 26 (+6/−5) and 9.75 (+0.29/−0.38), S_8 = 0.789 ± 0.012"),
    ("Stage~IV surveys", "Stage IV surveys"),
    (r"b $\sim$ 0.4 to b ~ 1 over ~0.95 Myr in $x$", "b ∼ 0.4 to b ∼ 1 over ∼0.95 Myr in x"),
])
def test_latex_becomes_readable_text(raw, readable):
    assert latex_to_text(raw) == readable


@pytest.mark.parametrize("odd", [r"\begin{foo", "}{}{\\", "$$$", r"\end{x}", r"$\frac{a}{", "\\" * 50, r"\verb|x", ""])
def test_odd_latex_never_raises_and_keeps_text(odd):
    out = latex_to_text(odd)
    assert isinstance(out, str)
    assert out.strip() or not odd.strip() or odd.strip("$") == "", f"{odd!r} lost all its text"


def test_links_are_extracted_deduplicated_and_trimmed():
    abstract = (r"Code: https://github.com/a/b. Mirror (see github.com/a/b/) and \url{https://huggingface.co/datasets/x/y}, "
                "weights https://huggingface.co/org/model; page https://proj.github.io/site/). "
                "Cites https://arxiv.org/abs/2401.00001 and javascript:alert(1)")
    found = [(r.kind, r.url) for r in resource_links(abstract, "Project: https://x.y.org/p_(a).")]
    assert found == [("code", "https://github.com/a/b"), ("data", "https://huggingface.co/datasets/x/y"),
                     ("model", "https://huggingface.co/org/model"), ("project", "https://proj.github.io/site/"),
                     ("project", "https://x.y.org/p_(a)")]


def test_announce_type_from_source_else_inferred_else_omitted():
    base = dict(title="t", categories=["eess.SY", "cs.RO"])
    assert announce(Paper(id="2606.1", announce_type="replace-cross", **base), ["cs.RO"]).label == "replacement (cross-list)"
    cross = announce(Paper(id="2606.2", **base), ["cs.RO"])
    assert cross.label == "cross-list" and cross.inferred
    assert announce(Paper(id="2606.3", title="t", categories=["cs.RO"]), ["cs.RO"]) is None
    assert announce(Paper(id="2606.4", version=3, title="t", categories=["cs.RO"]), ["cs.RO"]).label == "replacement"


def _state() -> WeeklyState:
    authors = ["Ann One", "Bo Two", "Cy Three", "Di Four", "Ed Five", "Sergey Levine"]
    paper = Paper(id="2606.00042", version=1, title=r"$\texttt{WEAVER}$ grasps 36.67\% more", authors=authors,
                  categories=["cs.LG", "cs.RO"], announce_type=None, comment="Code: https://github.com/lab/weaver.",
                  abstract=r"We propose $\texttt{WEAVER}$. Data at https://huggingface.co/datasets/lab/weave.")
    decision = Decision(paper_id=paper.id, accepted=True, stage="llm", relevance=9, novelty=5, topic="Grasping",
                        reason="grasping policy learning")
    score = Score(paper_id=paper.id, score=0.7, similarity=0.6, topic="Grasping", keyword_hits=["dexterous"],
                  author_hits=["Sergey Levine"])
    review = Review(paper_id=paper.id, confirmed=True, reason="ok",
                    summary=Summary(tldr=r"We propose $\texttt{WEAVER}$.", results=r"It improves success by 36.67\%."))
    theme = ThemeBrief(name="Grasping", paper_ids=[paper.id], prose=r"One paper, $\texttt{WEAVER}$ [arXiv:2606.00042].")
    return WeeklyState(window=parse_week("2026-W24"), papers=[paper], decisions={paper.id: decision},
                       reviews={paper.id: review}, scores=[score], themes=[theme])


def test_every_format_shows_the_paper_card(settings):
    settings = settings.model_copy(update={"arxiv": settings.arxiv.model_copy(update={"categories": ["cs.RO"]})})
    b = build_briefing(_state(), settings, None)
    md, html, data = render(b, "md"), render(b, "html"), json.loads(render(b, "json"))
    feed_root = ET.fromstring(build_feed(settings.out_dir, b).split("\n", 1)[1])
    feed = feed_root.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content").text
    for text in (md, html, feed):
        assert "WEAVER grasps 36.67% more" in text and "texttt" not in text and "$\\" not in text
        assert "Ann One" in text and "et al." in text and "Ed Five" not in text
        assert "Sergey Levine" in text
        assert "https://arxiv.org/pdf/2606.00042" in text and "https://github.com/lab/weaver" in text
        assert "https://huggingface.co/datasets/lab/weave" in text
        assert "cross-list (inferred)" in text and "dexterous" in text and "relevance 9" in text
        assert "It improves success by 36.67%" in text or text is feed
    assert "One paper, WEAVER" in md and "One paper, WEAVER" in html  # prose too
    assert "**Sergey Levine** (watch-list)" in md and '<mark title="on your watch-list">Sergey Levine</mark>' in html
    paper = data["accepted"][0]
    assert paper["title"] == "WEAVER grasps 36.67% more" and paper["watched_authors"] == ["Sergey Levine"]
    assert [r["kind"] for r in paper["resources"]] == ["data", "code"]
    assert paper["announce"] == {"label": "cross-list", "inferred": True} and paper["matched"] == ["dexterous"]


def test_another_topics_keyword_is_named_as_that_topics(settings):
    """A 3D-reconstruction paper that says "manipulation" matched the manipulation topic's keyword, not its own:
    every format names the topic the keyword belongs to instead of listing it as a match."""
    paper = Paper(id="2606.10645", title="ManiSplat: trajectories from monocular video", authors=["A B"],
                  categories=["cs.CV"], abstract="We reconstruct scenes with Gaussian splatting for manipulation.")
    topic = "3D scene understanding and reconstruction"
    decision = Decision(paper_id=paper.id, accepted=True, stage="prefilter", relevance=8, novelty=0, topic=topic,
                        reason=f"'{topic}': calibrated score 4.4; keywords: gaussian splatting")
    score = Score(paper_id=paper.id, score=4.4, similarity=0.59, topic=topic, keyword_hits=["gaussian splatting", "manipulation"])
    state = WeeklyState(window=parse_week("2026-W24"), papers=[paper], decisions={paper.id: decision},
                        reviews={paper.id: Review(paper_id=paper.id, confirmed=True, reason="ok", summary=Summary(tldr="We do."))},
                        scores=[score], themes=[ThemeBrief(name="Splats", paper_ids=[paper.id], prose="One paper.")])
    b = build_briefing(state, settings, None)
    md, html, data = render(b, "md"), render(b, "html"), json.loads(render(b, "json"))
    feed = ET.fromstring(build_feed(settings.out_dir, b).split("\n", 1)[1]).find(
        "{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content").text
    for text in (md, html, feed):
        assert "gaussian splatting (manipulation: a keyword of Robot manipulation learning)" in text.replace("\\", "")
        assert "matched: manipulation" not in text
    assert data["accepted"][0]["matched_elsewhere"] == {"Robot manipulation learning": ["manipulation"]}
    assert data["accepted"][0]["matched"] == ["gaussian splatting", "manipulation"]


def test_a_keyword_two_other_topics_share_is_named_once_with_both():
    elsewhere = {"Robot manipulation learning": ["grasping", "SLAM"], "Legged and mobile robot navigation": ["SLAM"],
                 "World models for embodied agents": ["video prediction"]}
    note = matched_note("keywords: gaussian splatting", ["gaussian splatting", "grasping", "SLAM", "video prediction", "NeRF"],
                        elsewhere)
    assert note == (" (matched: NeRF; grasping: a keyword of Robot manipulation learning; SLAM: a keyword of Robot "
                    "manipulation learning and Legged and mobile robot navigation; video prediction: a keyword of World "
                    "models for embodied agents)")
    assert matched_note("keywords: nerf", ["NeRF"], {}) == ""


def test_an_earlier_version_is_named_as_such(settings):
    from brief.models import Link

    state = _state()
    state.links = {"2606.00042": [Link(id="2603.00001", title="WEAVER grasps more", week="2026-W10", similarity=0.97,
                                       same_work=True, reason="the same paper: an earlier version"),
                                  Link(id="2604.00002", title="A grasp planner", week="2026-W14", similarity=0.7)]}
    b = build_briefing(state, settings, None)
    md, html = render(b, "md"), render(b, "html")
    assert "↩ earlier version: **WEAVER grasps more**" in md and "↩ earlier: **A grasp planner**" in md
    assert "↩ earlier version: " in html and html.count("↩ earlier: ") == 1
