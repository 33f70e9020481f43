"""The Atom feed parses with feedparser: one entry per briefing in the directory, reruns don't duplicate."""

import json

import feedparser

from brief.report import atomic_write, build_briefing, render
from brief.report.feed import FEED_NAME, build_feed
from brief.sources.window import parse_week
from tests.unit.test_report_render import make_state


def write_briefing(settings, week: str):
    state = make_state(settings.out_dir).model_copy(update={"window": parse_week(week)})
    briefing = build_briefing(state, settings, None)
    atomic_write(settings.out_dir / f"{week}.json", render(briefing, "json"))
    atomic_write(settings.out_dir / f"{week}.html", render(briefing, "html"))
    return briefing


def test_feed_has_one_entry_per_briefing(settings):
    out = settings.out_dir
    for week in ("2026-W22", "2026-W23"):
        write_briefing(settings, week)
    (out / "notes.json").write_text(json.dumps({"not": "a briefing"}))
    (out / "broken.json").write_text("{")
    current = write_briefing(settings, "2026-W24")
    atomic_write(out / FEED_NAME, build_feed(out, current))  # current is also on disk: still one entry

    parsed = feedparser.parse(str(out / FEED_NAME))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    weeks = [e.title.split()[2].rstrip(":") for e in parsed.entries]
    assert weeks == ["2026-W24", "2026-W23", "2026-W22"], "newest first"
    assert len({e.id for e in parsed.entries}) == 3
    entry = next(e for e in parsed.entries if "2026-W24" in e.title)
    assert entry.link.endswith("2026-W24.html")
    assert "3 papers in 1 theme" in entry.title
    assert "<script>" not in entry.content[0].value and "&lt;script&gt;" in entry.content[0].value, "escaped in the entry"
    assert entry.summary.startswith("Overview")
    assert parsed.feed.updated_parsed is not None


def test_feed_of_only_the_current_briefing_when_no_json_was_written(settings):
    briefing = build_briefing(make_state(settings.out_dir), settings, None)
    parsed = feedparser.parse(build_feed(settings.out_dir, briefing))
    assert not parsed.bozo and len(parsed.entries) == 1
    assert parsed.entries[0].link.endswith("2026-W24.md"), "no HTML on disk: link the Markdown"
