"""The compiled weekly graph, end to end offline on the bundled sample: two weeks in order."""

from __future__ import annotations

import json
import math

from brief.models import NOT_STATED
from brief.app.runner import run_weekly
from brief.sources.window import parse_week


def test_two_sample_weeks_link_second_to_first(settings):
    w23 = run_weekly(settings, parse_week("2026-W23"), ["sample"])
    assert w23.state.memory_added >= 5
    assert list(w23.state.timings) == ["fetch", "screen", "review", "remember", "link", "synthesise", "write"]
    assert all(seconds >= 0 for seconds in w23.state.timings.values())
    assert all(not links for links in w23.state.links.values()), "nothing earlier than the first week"

    w24 = run_weekly(settings, parse_week("2026-W24"), ["sample"])
    report = json.loads((settings.out_dir / "2026-W24.json").read_text())
    assert report["mode"] == "offline: no LLM"
    assert len(report["accepted"]) >= 5
    assert len(report["themes"]) >= 2
    linked = [p for p in report["accepted"] if p["links"]]
    assert linked, "some W24 paper links to a W23 paper"
    assert all(link["week"] == "2026-W23" for p in linked for link in p["links"])
    w23_ids = set(w23.state.decisions)
    assert {link["id"] for p in linked for link in p["links"]} <= w23_ids

    md = (settings.out_dir / "2026-W24.md").read_text()
    assert "offline" in md and "## Themes" in md and "## Cross-field" in md and "| stage | LLM calls" in md
    assert (settings.out_dir / "2026-W24.html").exists()

    total = w24.state.memory_total
    again = run_weekly(settings, parse_week("2026-W24"), ["sample"])
    assert again.state.memory_added == 0
    assert again.state.memory_total == total
    assert again.state.usage.embedded == 0, "a rerun embeds nothing: every vector comes from the cache"
    assert [p.id for p in again.state.accepted] == [p.id for p in w24.state.accepted]


def test_every_accepted_paper_has_a_grounded_summary(settings):
    result = run_weekly(settings, parse_week("2026-W24"), ["sample"])
    papers = {p.id: p for p in result.state.papers}
    for paper in result.state.accepted:
        summary = result.state.reviews[paper.id].summary
        assert summary.tldr
        for field in (summary.problem, summary.method, summary.results):
            # from its second letter: an opening dropped ("To address this, we…") capitalises the first
            assert field in ("", NOT_STATED) or field.rstrip("…")[1:60] in papers[paper.id].abstract, "extracted, not invented"


def test_demo_week_serves_every_topic_and_shows_the_per_topic_table(settings):
    """The cap is shared: a topic with papers past its threshold is never starved by a bigger one."""
    result = run_weekly(settings, parse_week("2026-W24"), ["sample"])
    table = result.state.screen_stats.per_topic
    assert [t.topic for t in table] == [t.name for t in settings.criteria.topics]
    for row in table:
        assert row.qualifying == row.accepted + row.cut
        assert row.qualifying == 0 or row.accepted >= 1, f"{row.topic} starved"
    assert sum(t.accepted for t in table) <= settings.screening.max_accepted
    offline = [d for d in result.state.decisions.values() if d.stage == "offline"]
    assert len({d.relevance for d in offline if d.accepted}) >= 3, "offline relevance spreads with the evidence"
    report = json.loads((settings.out_dir / "2026-W24.json").read_text())
    assert report["screening"]["per_topic"] == [t.model_dump() for t in table]
    md = (settings.out_dir / "2026-W24.md").read_text()
    assert "## Per topic" in md and "| topic | qualifying | accepted | cut by the cap |" in md
    first = table[0]
    assert f"| {first.topic} | {first.qualifying} | {first.accepted} | {first.cut} |" in md
    assert 'id="per-topic"' in (settings.out_dir / "2026-W24.html").read_text()


def test_a_narrow_topic_takes_only_papers_that_stand_out_from_the_week(settings):
    """A topic with a handful of matches does not fill its share of the cap with chance matches."""
    from brief.config import Topic

    tactile = Topic(name="Tactile sensing", description="Touch sensors for robots: tactile skins, vision-based tactile "
                    "sensors (GelSight), and learning from tactile signals.", keywords=["tactile"])
    settings = settings.model_copy(update={"criteria": settings.criteria.model_copy(update={"topics": [tactile],
                                                                                           "authors": []})})
    result = run_weekly(settings, parse_week("2026-W24"), ["sample"])
    offline = [d for d in result.state.decisions.values() if d.stage == "offline"]
    accepted = [d for d in offline if d.accepted]
    assert 1 <= len(accepted) < settings.screening.max_accepted
    chance = len(result.state.papers) * 0.5 * math.erfc(min(d.score for d in accepted) / math.sqrt(2))
    assert chance <= settings.screening.offline_fdr * len(accepted), "expected chance matches within the bound"
    assert any("chance level" in d.reason for d in offline if not d.accepted), "near misses say why they are out"
    row = result.state.screen_stats.per_topic[0]
    assert row.qualifying == len(accepted) and row.cut == 0
    set_aside = [d for d in offline if "chance level" in d.reason]
    assert row.chance == len(set_aside) > 0, "the table counts the near misses the chance cut set aside"
    md = (settings.out_dir / "2026-W24.md").read_text()
    assert ("| topic | qualifying | accepted | cut by the cap | set aside at the chance level |" in md
            and f"| Tactile sensing | {row.qualifying} | {row.accepted} | 0 | {row.chance} |" in md)
