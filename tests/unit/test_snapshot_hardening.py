"""Snapshot files are untrusted: what the bad-input table does not reach through the CLI."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta

import pytest

from brief.sources.snapshot import MAX_ABSTRACT, SnapshotError, SnapshotSource, bounded
from brief.sources.window import parse_week
from brief.models import Paper
from brief.text import shared_authors

WEEK = parse_week("2026-W24")
TODAY = date(2026, 6, 10)


def line(pid: str, **fields) -> str:
    return json.dumps({"id": pid, "title": "A title", "summary": "An abstract.", **fields})


def test_a_daily_file_named_for_a_future_day_is_skipped(tmp_path, caplog):
    (tmp_path / "2026-06-09_a.jsonl").write_text(line("2606.00001"))
    (tmp_path / "2026-06-13_a.jsonl").write_text(line("2606.00002"))
    source = SnapshotSource(tmp_path, today=TODAY)
    with caplog.at_level(logging.WARNING):
        ids = [p.id for p in source.fetch(WEEK)]
    assert ids == ["2606.00001"] and source.skipped == 1
    assert any("2026-06-13" in r.getMessage() and "future" in r.getMessage() for r in caplog.records)


def test_control_characters_are_dropped_and_whitespace_collapsed(tmp_path):
    (tmp_path / "2026-06-09_a.jsonl").write_text(line("2606.00001", title="Bell\u0007 and\u0000 NUL\n\ttitle",
                                                      summary="Escape \u001b[31mred\u001b[0m text"))
    paper = next(SnapshotSource(tmp_path, today=TODAY).fetch(WEEK))
    assert paper.title == "Bell and NUL title"
    assert paper.abstract == "Escape [31mred[0m text"


def test_a_file_with_thousands_of_bad_lines_warns_a_few_times_and_counts_them(tmp_path, caplog):
    (tmp_path / "2026-06-09_a.jsonl").write_text("\n".join(["{broken"] * 5000 + [line("2606.00001")]))
    source = SnapshotSource(tmp_path, today=TODAY)
    with caplog.at_level(logging.WARNING):
        assert [p.id for p in source.fetch(WEEK)] == ["2606.00001"]
    assert source.skipped == 5000
    assert len(caplog.records) <= 12 and "5000 problems in all" in caplog.records[-1].getMessage()


def test_nothing_readable_is_an_error_but_an_empty_window_is_not(tmp_path):
    (tmp_path / "2026-06-09_a.jsonl").write_text("not json\n")
    with pytest.raises(SnapshotError, match="nothing in it could be read"):
        list(SnapshotSource(tmp_path, today=TODAY).fetch(WEEK))
    assert list(SnapshotSource(tmp_path, today=TODAY).fetch(parse_week("2026-W20"))) == [], "file not in the window"


def test_bounded_truncates_at_a_word_and_says_so():
    paper = Paper(id="2606.00001", title="t" * 1500, abstract="word " * 5000)
    short, problems = bounded(paper)
    assert len(short.abstract) <= MAX_ABSTRACT + 2 and short.abstract.endswith(" …")
    assert len(short.title) <= 1002 and len(problems) == 2
    assert bounded(Paper(id="2606.00002", title="fine", abstract="fine"))[1] == []


def test_check_names_an_unusable_path(tmp_path):
    with pytest.raises(SnapshotError, match="does not exist"):
        SnapshotSource(tmp_path / "missing").check()
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SnapshotError, match="no .jsonl"):
        SnapshotSource(tmp_path).check()


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_every_line_ending_reads_every_paper(tmp_path, ending):
    """Issue 18, finding 13: a snapshot saved with bare-CR (or CRLF) line endings loses no paper."""
    from brief.sources.snapshot import sample_path

    expected = []
    for path in sorted(sample_path().glob("2026-06-1*_sample.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        expected += [json.loads(x)["id"] for x in lines if x.strip()]
        (tmp_path / path.name).write_bytes((ending.join(lines) + ending).encode("utf-8"))
    source = SnapshotSource(tmp_path, today=date(2026, 6, 30))
    ids = [p.id for p in source.fetch(WEEK)]
    assert len(expected) > 50 and sorted(ids) == sorted(expected), f"{len(expected) - len(ids)} papers lost"
    assert source.skipped == 0, "no record reads as malformed"


def test_a_bare_cr_kaggle_file_is_still_a_kaggle_file(tmp_path):
    from tests.unit.test_sources_kaggle import record

    records = [record(i) for i in range(1, 40)]
    (tmp_path / "arxiv-metadata.json").write_bytes("\r".join(json.dumps(r) for r in records).encode("utf-8"))
    window = parse_week("2026-W23")
    source = SnapshotSource(tmp_path, today=date(2026, 7, 30))
    ids = {p.id for p in source.fetch(window)}
    wanted = {r["id"] for r in records if window.contains(date(2026, 6, 1) + timedelta(days=int(r["id"][-5:]) % 30))}
    assert wanted and ids == wanted and source.skipped == 0


def test_authors_split_inside_their_affiliations_are_names_again(tmp_path):
    """A dump that split "Name (University, City)" at every comma (the astro-ph snapshot of bench/astro_weeks.py)
    gave entries "Los Angeles)" and "USA)", which made papers "same authors" on a country."""
    (tmp_path / "2026-06-09_a.jsonl").write_text("\n".join([
        line("2606.00001", authors=["Vikram Seenivasan (University of California", "Los Angeles)",
                                    "Bernie Boscoe (Southern Oregon University)", "Ada Byron (Georgia State University",
                                    "USA)"]),
        line("2606.00002", authors="Tuan Do (University of California, Los Angeles), Kim Lee (Georgia State University, USA)"),
    ]))
    first, second = SnapshotSource(tmp_path, today=TODAY).fetch(WEEK)
    assert first.authors == ["Vikram Seenivasan", "Bernie Boscoe", "Ada Byron"]
    assert second.authors == ["Tuan Do", "Kim Lee"]
    assert shared_authors(first.authors, second.authors) == [], "an affiliation is nobody"
    assert Paper(id="x", title="t", authors=["USA)", "The LHAASO Collaboration", "()"]).authors == ["The LHAASO Collaboration"]
    # names as arXiv listings write them in TeX read (and match a watch-list) as letters
    assert Paper(id="x", title="t", authors=["L\\'aszl\\'o Moln\\'ar", 'J{\\"u}rgen Schmidt']).authors == [
        "László Molnár", "Jürgen Schmidt"]
    # bioRxiv, medRxiv, journal feeds and BibTeX write the surname first: given names first, like every other source
    # (so citation keys, shared-author links and the watch-list read "Kowalczyk" as the surname)
    assert Paper(id="x", title="t", authors=["Kowalczyk, M.", "Smith, John A.", "de la Cruz, M.-P.", "Li, Wei",
                                             "Smith, Jr.", "A Smith, B Jones"]).authors == [
        "M. Kowalczyk", "John A. Smith", "M.-P. de la Cruz", "Wei Li", "Smith, Jr.", "A Smith, B Jones"]
