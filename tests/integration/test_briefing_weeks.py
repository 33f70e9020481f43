"""Two sample weeks through the compiled weekly graph (offline): the second week's briefing links to the
first week's papers and briefing, shows bridges, trends and the chart, every citation resolves, and the
feed and BibTeX come along."""

from __future__ import annotations

import json
import re

import feedparser

from brief.ids import cite_key
from brief.sources.window import parse_week
from brief.fields import cross_field
from tests.briefing_helpers import hash_settings, make_context, run_week


def test_second_week_links_to_the_first(settings):
    s = hash_settings(settings)
    # 0.22 + links.EVIDENCE_MARGIN (0.08): the 0.3 cut hashed vectors need
    s = s.model_copy(update={"memory": s.memory.model_copy(update={"link_threshold": 0.22}),
                             "report": s.report.model_copy(update={"bibtex": True})})
    ctx = make_context(s)
    w23 = run_week(ctx, parse_week("2026-W23"), ["sample"])
    w24 = run_week(ctx, parse_week("2026-W24"), ["sample"])
    out = s.out_dir
    report = json.loads((out / "2026-W24.json").read_text())
    page = (out / "2026-W24.html").read_text()

    assert len(report["themes"]) >= 2 and report["mode"] == "offline: no LLM"
    rests = [t for t in report["themes"] if t["name"].endswith(": assorted")]
    named = [t for t in report["themes"] if t not in rests]
    assert report["themes"] == named + rests, "a topic's assorted rest comes after every named theme"
    assert all(not t["terms"] for t in rests) and len({t["name"] for t in rests}) == len(rests), "one rest a topic"
    weights = [t["weight"] for t in named]
    assert named and weights == sorted(weights, reverse=True), "heaviest named theme first"
    earlier = [e for t in report["themes"] for e in t["earlier"]]
    w23_accepted = {p.id for p in w23.accepted}
    assert earlier and {e["week"] for e in earlier} == {"2026-W23"}
    assert {e["id"] for e in earlier} <= w23_accepted, "links point at papers the first week accepted"
    assert report["earlier_reports"] == {"2026-W23": "2026-W23.html"}
    first = earlier[0]["id"]
    assert f'href="2026-W23.html#{first}"' in page, "a link into the first week's briefing"
    assert f'id="{first}"' in (out / "2026-W23.html").read_text(), "and the anchor exists there"

    trended = [t for t in report["themes"] if len(t["paper_ids"]) >= 3]
    assert trended and all(t["trend"] is None for t in report["themes"] if t not in trended), "1-2 papers: no trend"
    for theme in trended:
        assert theme["trend"]["weeks"][-2:] == ["2026-W23", "2026-W24"]
        assert theme["trend"]["totals"][-2] == len(w23.decisions), "W23's papers are the earlier week's volume"
    bridges = [b for t in report["themes"] for b in t["bridges"]]
    assert all(cross_field(b["a_category"], b["b_category"]) for b in bridges), "a bridge joins two fields"
    assert 'id="cross-field"' in page and ('class="bridge"' in page) == bool(bridges)
    assert "<svg" in page and "share of each week near the theme" in page

    known = {cite_key(p.id) for p in w24.accepted} | {cite_key(e["id"]) for e in earlier}
    cited = [c for section in report["citations"] for c in section["citations"]]
    assert cited and set(cited) <= known and report["unresolved_citations"] == []
    assert [s["section"] for s in report["citations"]] == ["overview"] + [t["name"] for t in report["themes"]]
    for theme in report["themes"]:
        assert set(theme["citations"]) == set(re.findall(r"\[(arXiv:[^\]\s]+)\]", theme["prose"]))

    feed = feedparser.parse(str(out / "feed.atom"))
    assert not feed.bozo and len(feed.entries) == 2
    bib = (out / "2026-W24.bib").read_text()
    assert bib.count("@misc{") + bib.count("@article{") == len(w24.accepted)
    assert set(w24.outputs) >= {str(out / f"2026-W24.{ext}") for ext in ("md", "json", "html", "bib")}
