"""Snapshot sources: directories or files of papers already on disk.

Formats, told apart by name and content:
- daily JSONL (`YYYY-MM-DD_*.jsonl`, one paper a line, the format of daily arXiv announcement dumps): the
  announcement date comes from the file name;
- arXiv API Atom XML (`*.xml`);
- the Kaggle arXiv metadata snapshot (JSON lines with `versions` and `update_date`), streamed.
The bundled sample is a daily-JSONL snapshot shipped inside the package.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import date
from importlib import resources
from pathlib import Path

from brief.models import Paper, canonical_arxiv_id
from brief.sources.window import Window

log = logging.getLogger(__name__)
_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})")


class SnapshotError(ValueError):
    """The snapshot path can't be used at all (missing, unreadable, no known files)."""


def sample_path() -> Path:
    return Path(str(resources.files("brief").joinpath("data/sample")))


def day_of(path: Path) -> date | None:
    match = _DAY.search(path.name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def snapshot_files(root: Path) -> list[Path]:
    if not root.exists():
        raise SnapshotError(f"snapshot path {root} does not exist: give a file or a directory of .jsonl/.xml/.json")
    if root.is_file():
        return [root]
    files = sorted(p for p in root.iterdir() if p.suffix in (".jsonl", ".xml", ".json") and p.is_file())
    if not files:
        raise SnapshotError(f"snapshot directory {root} has no .jsonl, .xml or .json files")
    return files


def available_days(root: Path) -> list[date]:
    """Announcement days a daily-JSONL snapshot covers (for choosing the latest week)."""
    return sorted({d for p in snapshot_files(root) if (d := day_of(p)) is not None})


def paper_from_daily(record: dict, day: date | None, source: str) -> Paper:
    """One line of a daily announcement dump → Paper. Raises ValueError/KeyError for a bad record."""
    arxiv_id, version = canonical_arxiv_id(str(record["id"]))
    title = " ".join(str(record.get("title") or "").split())
    if not title:
        raise ValueError("empty title")
    categories = record.get("categories") or []
    if isinstance(categories, str):
        categories = categories.split()
    authors = record.get("authors") or []
    if isinstance(authors, str):
        authors = [a.strip() for a in re.split(r",| and ", authors) if a.strip()]
    return Paper(
        id=arxiv_id,
        version=version,
        title=title,
        abstract=" ".join(str(record.get("summary") or record.get("abstract") or "").split()),
        authors=[str(a) for a in authors],
        categories=[str(c) for c in categories],
        announced=day,
        source=source,
        sources=[source],
        url=record.get("abs") or f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=record.get("pdf"),
        comment=record.get("comment"),
        announce_type=record.get("announce_type"),
    )


def _is_kaggle(path: Path) -> bool:
    with path.open("rb") as fh:
        first = fh.readline(1 << 20)
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and "versions" in record and "update_date" in record


class SnapshotSource:
    """Papers from files on disk, filtered to a window (files outside the window are not opened)."""

    def __init__(self, root: Path, name: str | None = None):
        self.root = Path(root)
        self.name = name or f"snapshot:{self.root}"
        self.skipped = 0

    def fetch(self, window: Window) -> Iterator[Paper]:
        for path in snapshot_files(self.root):
            day = day_of(path)
            if path.suffix == ".xml":
                yield from self._atom(path, window)
            elif _is_kaggle(path):
                yield from self._kaggle(path, window)
            elif day is None or window.contains(day):
                yield from self._daily(path, day)

    def _daily(self, path: Path, day: date | None) -> Iterator[Paper]:
        with path.open("rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    yield paper_from_daily(json.loads(raw.decode("utf-8")), day, self.name)
                except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                    self.skipped += 1
                    log.warning("skipped %s line %d: %s", path.name, lineno, _short(exc))

    def _atom(self, path: Path, window: Window) -> Iterator[Paper]:
        from brief.sources.arxiv_api import parse_atom

        try:
            papers = parse_atom(path.read_text(encoding="utf-8"), source=self.name)
        except (ValueError, UnicodeDecodeError) as exc:
            self.skipped += 1
            log.warning("skipped %s: %s", path.name, _short(exc))
            return
        for paper in papers:
            if paper.announced is None:
                paper.announced = paper.published
            if window.contains(paper.announced):
                yield paper

    def _kaggle(self, path: Path, window: Window) -> Iterator[Paper]:
        from brief.sources.kaggle import iter_kaggle_snapshot

        for paper in iter_kaggle_snapshot(path, since=window.since, until=window.until):
            paper.source, paper.sources = self.name, [self.name]
            yield paper


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 160 else text[:157] + "..."
