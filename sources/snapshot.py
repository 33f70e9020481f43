"""Snapshot sources: directories or files of papers already on disk.

Formats, told apart by name and content:
- daily JSONL (`YYYY-MM-DD_*.jsonl`, one paper a line, the format of daily arXiv announcement dumps): the
  announcement date comes from the file name;
- arXiv API Atom XML (`*.xml`);
- the Kaggle arXiv metadata snapshot (JSON lines with `versions` and `update_date`), streamed.
The bundled sample is a daily-JSONL snapshot shipped inside the package.

Snapshots are untrusted input. A bad record inside a good file (truncated or invalid JSON, bytes that
are not UTF-8, no id, an empty title, an id repeated within the file, a date in the future) is skipped
with a warning and counted; oversized text is truncated with a warning; XML that is not well formed is
read up to the damage, with a warning. A source none of whose records can be read is an error
(SnapshotError, exit 2): a run would otherwise brief an empty week and look fine.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import IO
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from xml.parsers import expat

from brief.errors import UserError
from brief.models import Paper
from brief.ids import canonical_arxiv_id
from brief.sources.window import Window

log = logging.getLogger(__name__)
_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ABSTRACT = 10_000  # arXiv caps abstracts at 1,920 characters; journals' run to ~5k
MAX_TITLE = 1_000
_MAX_WARNINGS = 10  # per file: a damaged file can have thousands of bad lines


class SnapshotError(UserError, ValueError):
    """The snapshot path can't be used at all (missing, unreadable, no known files, no readable record)."""


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
    try:
        files = sorted(p for p in root.iterdir() if p.suffix in (".jsonl", ".xml", ".json") and p.is_file())
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot directory {root}: {exc.strerror or exc}") from None
    if not files:
        raise SnapshotError(f"snapshot directory {root} has no .jsonl, .xml or .json files")
    return files


def available_days(root: Path) -> list[date]:
    """Announcement days a daily-JSONL snapshot covers (for choosing the latest week)."""
    return sorted({d for p in snapshot_files(root) if (d := day_of(p)) is not None})


def _clean(text: object) -> str:
    """One line of text: whitespace collapsed, control characters (NUL, escape codes) dropped."""
    return " ".join(_CONTROL.sub("", str(text or "")).split())


def paper_from_daily(record: dict, day: date | None, source: str) -> Paper:
    """One line of a daily announcement dump → Paper. Raises ValueError/KeyError for a bad record."""
    if not isinstance(record, dict):
        raise ValueError(f"not a JSON object but {type(record).__name__}")
    if not record.get("id"):
        raise ValueError("no id")
    arxiv_id, version = canonical_arxiv_id(str(record["id"]))
    title = _clean(record.get("title"))
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
        abstract=_clean(record.get("summary") or record.get("abstract")),
        authors=[a for a in (_clean(a) for a in authors) if a],
        categories=[_clean(c) for c in categories if _clean(c)],
        announced=day,
        source=source,
        sources=[source],
        url=record.get("abs") or f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=record.get("pdf"),
        comment=record.get("comment"),
        announce_type=record.get("announce_type"),
    )


def bounded(paper: Paper) -> tuple[Paper, list[str]]:
    """Oversized title or abstract truncated (a 1 MB abstract would swamp prompts, embeddings and reports)."""
    problems, update = [], {}
    if len(paper.abstract) > MAX_ABSTRACT:
        problems.append(f"abstract of {len(paper.abstract):,} characters truncated to {MAX_ABSTRACT:,}")
        update["abstract"] = paper.abstract[:MAX_ABSTRACT].rsplit(" ", 1)[0] + " …"
    if len(paper.title) > MAX_TITLE:
        problems.append(f"title of {len(paper.title):,} characters truncated to {MAX_TITLE:,}")
        update["title"] = paper.title[:MAX_TITLE] + " …"
    return (paper.model_copy(update=update) if update else paper), problems


def jsonl_lines(fh: IO[bytes]) -> Iterator[bytes]:
    """A JSONL file's lines, ended by \\n, \\r\\n or a bare \\r (old Mac editors, some exporters): a bare-CR
    file must not read as one record. JSON escapes CR inside strings, so a raw CR always ends a line."""
    for raw in fh:
        yield from raw.removesuffix(b"\n").removesuffix(b"\r").split(b"\r")


def _is_kaggle(path: Path) -> bool:
    with path.open("rb") as fh:
        first = next((line for line in jsonl_lines(fh) if line.strip()), b"")
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and "versions" in record and "update_date" in record


class _FileLog:
    """Warnings about one file: the first few in full, then a count, so a damaged file can't flood stderr."""

    def __init__(self, path: Path):
        self.name, self.count = path.name, 0

    def warn(self, where: str, problem: str) -> None:
        self.count += 1
        if self.count <= _MAX_WARNINGS:
            log.warning("%s: %s", f"{self.name} {where}".strip(), _short(problem))

    def close(self) -> None:
        if self.count > _MAX_WARNINGS:
            log.warning("%s: %d problems in all (only the first %d shown)", self.name, self.count, _MAX_WARNINGS)


class SnapshotSource:
    """Papers from files on disk, filtered to a window (files outside the window are not opened)."""

    def __init__(self, root: Path, name: str | None = None, today: date | None = None):
        self.root = Path(root)
        self.name = name or f"snapshot:{self.root}"
        self.today = today or date.today()
        self.skipped = 0  # bad records skipped with a warning
        self.read = 0  # good records read, in the window or not

    def check(self) -> None:
        """Fail fast, before a run opens anything, when the path can't be read at all."""
        for path in snapshot_files(self.root):
            try:
                with path.open("rb") as fh:
                    fh.read(1)
            except OSError as exc:
                raise SnapshotError(f"cannot read snapshot file {path}: {exc.strerror or exc}") from None

    def fetch(self, window: Window) -> Iterator[Paper]:
        self.skipped = self.read = 0
        for path in snapshot_files(self.root):
            day = day_of(path)
            try:
                if path.suffix == ".xml":
                    yield from self._atom(path, window)
                elif _is_kaggle(path):
                    yield from self._kaggle(path, window)
                elif day is None or window.contains(day):
                    yield from self._daily(path, day)
            except OSError as exc:
                raise SnapshotError(f"cannot read snapshot file {path}: {exc.strerror or exc}") from None
        if self.skipped and not self.read:
            raise SnapshotError(f"snapshot {self.root}: nothing in it could be read ({self.skipped} bad records or "
                                "files, see the warnings above): is it a daily JSONL, arXiv Atom or Kaggle snapshot?")

    def _accept(self, paper: Paper, where: str, file_log: _FileLog, seen: dict[str, str]) -> Paper | None:
        """The paper to yield, or None when it is skipped (a repeated id, a date in the future)."""
        if paper.id in seen:
            file_log.warn(where, f"duplicate id {paper.id} (first at {seen[paper.id]}): skipped")
            self.skipped += 1
            return None
        dated = max((d for d in (paper.published, paper.announced) if d), default=None)
        if dated and dated > self.today + timedelta(days=1):
            file_log.warn(where, f"{paper.id} is dated {dated}, in the future: skipped")
            self.skipped += 1
            return None
        seen[paper.id] = where
        paper, problems = bounded(paper)
        for problem in problems:
            file_log.warn(where, f"{paper.id}: {problem}")
        self.read += 1
        return paper

    def _daily(self, path: Path, day: date | None) -> Iterator[Paper]:
        file_log = _FileLog(path)
        seen: dict[str, str] = {}
        if day and day > self.today + timedelta(days=1):
            file_log.warn("", f"named for {day}, a day in the future: skipped")
            self.skipped += 1
            return
        with path.open("rb") as fh:
            for lineno, raw in enumerate(jsonl_lines(fh), 1):
                if not raw.strip():
                    continue
                where = f"line {lineno}"
                try:
                    paper = paper_from_daily(json.loads(raw.decode("utf-8")), day, self.name)
                except UnicodeDecodeError as exc:
                    file_log.warn(where, f"not UTF-8 ({exc.reason} at byte {exc.start}): skipped")
                    self.skipped += 1
                    continue
                except (ValueError, KeyError, TypeError) as exc:
                    file_log.warn(where, f"{_what(exc)}: skipped")
                    self.skipped += 1
                    continue
                if (accepted := self._accept(paper, where, file_log, seen)) is not None:
                    yield accepted
        file_log.close()

    def _atom(self, path: Path, window: Window) -> Iterator[Paper]:
        from brief.sources.arxiv_api import parse_atom_page

        file_log = _FileLog(path)
        seen: dict[str, str] = {}
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            file_log.warn("", f"not UTF-8 ({exc.reason} at byte {exc.start}): bad bytes replaced")
            data = data.decode("utf-8", "replace").encode("utf-8")
        root, problem = _xml_check(data)
        if root is not None and root.rpartition(" ")[2] != "feed":
            file_log.warn("", f"not an Atom feed (its root element is <{root.rpartition(' ')[2]}>): skipped")
            file_log.close()
            self.skipped += 1
            return
        if problem:
            file_log.warn("", f"not well-formed XML ({problem}): read what comes before the damage")
        try:
            page = parse_atom_page(data, source=self.name)
        except ValueError as exc:
            file_log.warn("", f"{_what(exc)}: skipped")
            file_log.close()
            self.skipped += 1
            return
        self.skipped += page.skipped
        for paper in page.papers:
            if paper.announced is None:
                paper.announced = paper.published
            if (accepted := self._accept(paper, f"entry {paper.id}", file_log, seen)) and window.contains(accepted.announced):
                yield accepted
        file_log.close()

    def _kaggle(self, path: Path, window: Window) -> Iterator[Paper]:
        from brief.sources.kaggle import KaggleStats, iter_kaggle_snapshot

        file_log, stats = _FileLog(path), KaggleStats()
        seen: dict[str, str] = {}
        for paper in iter_kaggle_snapshot(path, since=window.since, until=window.until, stats=stats):
            paper.source, paper.sources = self.name, [self.name]
            if (accepted := self._accept(paper, f"entry {paper.id}", file_log, seen)) is not None:
                yield accepted
        self.skipped += stats.bad
        self.read += stats.filtered  # well-formed lines outside the window still show the file is readable
        file_log.close()


def _xml_check(data: bytes) -> tuple[str | None, str | None]:
    """The root element's name (`NAMESPACE name`) and why `data` is not well-formed XML, or None for each.
    expat: fast, and it never fetches external entities."""
    parser = expat.ParserCreate(namespace_separator=" ")
    roots: list[str] = []
    parser.StartElementHandler = lambda name, _attrs: roots.append(name) if not roots else None
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        return (roots[0] if roots else None), f"line {exc.lineno}: {expat.ErrorString(exc.code)}"
    return (roots[0] if roots else None), None


def _what(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON ({exc.msg} at column {exc.colno}; a truncated line?)"
    if isinstance(exc, KeyError):
        return f"missing field {exc}"
    return str(exc)


def _short(text: str) -> str:
    return text if len(text) < 200 else text[:197] + "..."


__all__ = ["SnapshotError", "SnapshotSource", "available_days", "bounded", "day_of", "paper_from_daily",
           "sample_path", "snapshot_files"]
