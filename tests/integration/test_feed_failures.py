"""`brief weekly` and `brief fetch` against feeds that fail: a 404, an HTML page where a feed should be, a feed cut
off mid-item, and a week in which every feed failed. Each run writes what it has, says which source failed and
why, and exits 3; none crashes. Real CLI subprocesses against a feed server on 127.0.0.1."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from brief.sources.window import week_of
from tests.arxiv_fixture import serve
from tests.integration.cli_helpers import REPO, brief, brief_env, write_config

FEED = (REPO / "tests" / "fixtures" / "feeds" / "arxiv_cs_cv.rss").read_bytes()
WEEK = "2026-W25"  # the fixture's items are announced on 2026-06-16


def answer(path: str) -> tuple[int, bytes]:
    if path == "/missing":
        return 404, b""
    if path == "/page":  # a login wall or an error page served with 200
        return 200, b"<!doctype html><html><head><title>Sign in</title></head><body><p>Please sign in</p></body></html>"
    if path == "/cut":  # the download stopped in the middle of the third item
        return 200, FEED[:FEED.index(b"<item>", FEED.index(b"<item>", FEED.index(b"<item>") + 1) + 1) + 40]
    if path == "/undated":  # a journal TOC whose items carry no date: every week's window holds them
        return 200, re.sub(rb"<pubDate>[^<]*</pubDate>", b"", FEED)
    return 200, FEED


@pytest.fixture()
def feeds(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with serve(answer, content_type="application/rss+xml") as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


def config_with(tmp_path, cache_dir, feeds, *paths: str):
    sources = "\n".join(f'[[sources]]\nname = "{p.strip("/") or "ok"}"\nkind = "rss"\nurl = "{feeds}{p}"\n' for p in paths)
    return write_config(tmp_path / "brief.toml", cache_dir, sources)


def weekly(tmp_path, config, *names: str):
    sources = [a for n in names for a in ("--source", n)]
    return brief("weekly", "--week", WEEK, *sources, "--config", config, "--offline", "-q",
                 "--memory-dir", tmp_path / "memory", "--out", tmp_path / "out", env=brief_env(NO_PROXY="127.0.0.1"))


@pytest.mark.parametrize("path, why", [
    ("/missing", "HTTP 404"),
    ("/page", "not an RSS/Atom feed"),
    ("/cut", "malformed XML"),
])
def test_a_failed_feed_is_named_and_the_run_is_partial(tmp_path, cache_dir, feeds, path, why):
    config = config_with(tmp_path, cache_dir, feeds, "/rss", path)
    done = weekly(tmp_path, config, "rss", path.strip("/"))
    assert done.returncode == 3, done.stderr
    report = json.loads((tmp_path / "out" / f"{WEEK}.json").read_text())
    [reason] = [r for r in report["partial"] if r.startswith(f"the source {path.strip('/')} failed")]
    assert why in reason, reason
    assert report["counts"]["fetched"] == 5, "the good feed's five papers are briefed (the cut copy's merge into them)"
    assert "Partial run (exit 3)" in (tmp_path / "out" / f"{WEEK}.md").read_text()


def test_a_week_whose_only_feed_failed_is_written_empty_and_partial(tmp_path, cache_dir, feeds):
    config = config_with(tmp_path, cache_dir, feeds, "/missing")
    done = weekly(tmp_path, config, "missing")
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "AttributeError" not in done.stderr
    report = json.loads((tmp_path / "out" / f"{WEEK}.json").read_text())
    assert report["counts"]["fetched"] == 0 and report["accepted"] == []
    assert any("the source missing failed" in r for r in report["partial"])
    fetched = brief("fetch", "--week", WEEK, "--source", "missing", "--config", config, "--json",
                    env=brief_env(NO_PROXY="127.0.0.1"))
    assert fetched.returncode == 3 and json.loads(fetched.stdout)["failed"], fetched.stderr


def test_a_week_with_nothing_new_is_briefed_not_crashed(tmp_path, cache_dir, feeds):
    """Undated items are new as of the fetch: last week's run briefs them, this week's finds nothing new (it
    crashed), and an older week asked for again leaves them out (helper-108's W45 briefed them)."""
    config = config_with(tmp_path, cache_dir, feeds, "/undated")
    today = date.today()
    last, this, old = (week_of(today - timedelta(days=7)), week_of(today), week_of(today - timedelta(days=60)))

    def run(week: str):
        done = brief("weekly", "--week", week, "--source", "undated", "--config", config, "--offline", "-q",
                     "--memory-dir", tmp_path / "memory", "--out", tmp_path / "out", env=brief_env(NO_PROXY="127.0.0.1"))
        assert done.returncode == 0, done.stderr
        return json.loads((tmp_path / "out" / f"{week}.json").read_text())

    assert run(last)["counts"]["fetched"] == 5
    again = run(this)
    assert again["accepted"] == [] and again["counts"]["screened"] == 0 and again["counts"]["seen_before"] == 5
    assert run(old)["counts"]["fetched"] == 0, "an older week is not where undated items belong"


def test_a_feed_paper_takes_feedback_by_its_bare_doi(tmp_path, cache_dir, monkeypatch):
    """bioRxiv papers are kept under `doi:…`; a user copies the DOI as the feed shows it (helper-108 was told
    the paper was not in memory)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    rdf = (REPO / "tests" / "fixtures" / "feeds" / "biorxiv_bioinformatics.rdf").read_bytes()
    config = tmp_path / "brief.toml"
    with serve(lambda path: (200, rdf), content_type="application/rdf+xml") as server:
        config.write_text(f"""[criteria]
[[criteria.topics]]
name = "Protein language models"
description = "Language models of protein sequences: enzyme function, structure and design."

[memory]
cache_dir = {json.dumps(str(cache_dir))}

[[sources]]
name = "biorxiv"
kind = "rss"
url = "http://127.0.0.1:{server.server_address[1]}/b"
""")
        done = brief("weekly", "--week", "2026-W25", "--source", "biorxiv", "--config", config, "--offline", "-q",
                     "--memory-dir", tmp_path / "memory", "--out", tmp_path / "out", env=brief_env(NO_PROXY="127.0.0.1"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "2026-W25.json").read_text())
    assert [p["id"] for p in report["accepted"]] == ["doi:10.1101/2026.06.14.599001"]
    assert not any("cross-list" in note for note in report["notes"]), "bioRxiv has no arXiv cross-lists to infer"
    for given in ("10.1101/2026.06.14.599001", "https://doi.org/10.1101/2026.06.14.599001"):
        marked = brief("feedback", given, "good", "--config", config, "--memory-dir", tmp_path / "memory")
        assert marked.returncode == 0, marked.stderr
        assert "doi:10.1101/2026.06.14.599001" in marked.stdout
