"""The Kaggle arXiv snapshot reader on a synthetic 1k-line file (bench/kaggle_stream.py does 100k)."""

from __future__ import annotations

import gzip
import json
import logging
from datetime import date, timedelta
from pathlib import Path

import pytest

from brief.sources.kaggle import KaggleStats, iter_kaggle_snapshot, paper_from_kaggle

DAY0 = date(2026, 6, 1)
CATS = ["cs.CV cs.RO", "cs.LG stat.ML", "astro-ph.GA", "q-bio.NC cs.LG", "math.PR"]


def record(i: int) -> dict:
    day = DAY0 + timedelta(days=i % 30)
    created = f"{day:%a}, {day.day} {day:%b %Y} 19:18:42 GMT"
    versions = [{"version": f"v{v}", "created": created} for v in range(1, 2 + i % 3)]
    return {
        "id": f"2606.{i:05d}" if i % 10 else f"astro-ph/06{i:05d}",
        "submitter": "Someone",
        "authors": "Ann Lee, Bo Wu and C. Diaz (MIT)",
        "title": f"Paper  number\n {i}",
        "comments": "10 pages" if i % 2 else None,
        "journal-ref": None,
        "doi": f"10.1000/{i}" if i % 7 == 0 else None,
        "categories": CATS[i % len(CATS)] if i % 10 else "astro-ph",
        "abstract": f"  Abstract of paper {i}.\n  Two lines. ",
        "versions": versions,
        "update_date": "2026-07-01",
        "authors_parsed": [["Lee", "Ann", ""], ["Wu", "Bo", ""], ["Diaz", "C.", "Jr"]],
    }


def write_snapshot(path: Path, n: int = 1000) -> dict[str, int]:
    """n good records plus a few broken lines; returns the counts of the broken kinds."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(record(i)) + "\n")
            if i == 100:
                fh.write("{not json\n")
            if i == 200:
                fh.write(json.dumps({**record(i), "id": "not-an-id"}) + "\n")
            if i == 300:
                fh.write("[1, 2, 3]\n\n")
            if i == 400:
                fh.write(json.dumps({k: v for k, v in record(i).items() if k != "id"}) + "\n")
    return {"bad": 4}


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "arxiv-metadata-oai-snapshot.json"
    write_snapshot(path)
    return path


def test_every_good_line_becomes_a_paper_and_bad_lines_are_counted(snapshot, caplog):
    stats = KaggleStats()
    with caplog.at_level(logging.WARNING):
        papers = list(iter_kaggle_snapshot(snapshot, stats=stats))
    assert len(papers) == 1000 == stats.yielded
    assert stats.bad == 4 and stats.lines == 1004 and stats.filtered == 0
    assert caplog.text.count("skipped") == 4
    assert len({p.id for p in papers}) == 1000


def test_fields(snapshot):
    papers = {p.id: p for p in iter_kaggle_snapshot(snapshot)}
    paper = papers["2606.00091"]
    assert paper.title == "Paper number 91" and paper.abstract == "Abstract of paper 91. Two lines."
    assert paper.version == 2 and paper.published == date(2026, 6, 2)  # v1's created, not update_date
    assert paper.categories == ["cs.LG", "stat.ML"] and paper.primary_category == "cs.LG"
    assert paper.authors == ["Ann Lee", "Bo Wu", "C. Diaz Jr"]
    assert paper.doi == "10.1000/91" and paper.comment == "10 pages" and paper.journal_ref is None
    assert paper.url == "https://arxiv.org/abs/2606.00091" and paper.source == "kaggle"
    old = papers["astro-ph/0600010"]
    assert old.categories == ["astro-ph"] and old.is_arxiv


def test_date_window_and_categories(snapshot):
    window = list(iter_kaggle_snapshot(snapshot, since=date(2026, 6, 8), until=date(2026, 6, 14)))
    assert window and all(date(2026, 6, 8) <= p.published <= date(2026, 6, 14) for p in window)
    assert len(window) == sum(1 for i in range(1000) if 7 <= i % 30 <= 13)
    cv = list(iter_kaggle_snapshot(snapshot, categories=["cs.CV"]))
    assert cv and all("cs.CV" in p.categories for p in cv)
    astro = list(iter_kaggle_snapshot(snapshot, categories=["astro-ph"]))  # the archive matches astro-ph.GA too
    assert {p.primary_category for p in astro} == {"astro-ph", "astro-ph.GA"}
    stats = KaggleStats()
    lg = list(iter_kaggle_snapshot(snapshot, categories=["cs.LG"], stats=stats))
    assert stats.yielded == len(lg) and stats.filtered + stats.yielded + stats.bad == stats.lines


def test_gzip_and_lazy_streaming(tmp_path: Path):
    path = tmp_path / "snap.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i in range(1, 50):
            fh.write(json.dumps(record(i)) + "\n")
    iterator = iter_kaggle_snapshot(path)
    assert next(iterator).id == "2606.00001"
    assert sum(1 for _ in iterator) == 48


def test_flat_author_string_when_parsed_authors_are_missing():
    rec = {**record(3), "authors_parsed": None, "authors": "Ann Lee (MIT), Bo Wu and Cy Diaz"}
    assert paper_from_kaggle(rec).authors == ["Ann Lee", "Bo Wu", "Cy Diaz"]
