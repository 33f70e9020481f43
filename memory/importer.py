"""`brief memory import PATH`: seed memory with papers a user already knows, before (or between) weekly runs.

PATH may be a BibTeX file, a Zotero CSV export, a list of arXiv ids / DOIs (library.py reads those), or
any snapshot brief can fetch from: a daily-JSONL directory or file, arXiv Atom XML, the Kaggle metadata
file (sources/snapshot.py). Papers are stored with status "imported", so they count as previously seen:
later weeks link to them and never screen them again.

Weeks: a snapshot paper's first-seen week is its announcement week (the file's date; for Kaggle the first
version's date), so themed reviews can build timelines across weeks; its last-seen week is the latest day
it was announced again. A library entry with a full date is filed under that date's week; without one it
gets the import week and is marked undated (links treat it as seen before any week: it is the user's).

Speed: texts go through the cached embedder in batches (a re-import embeds nothing) and Chroma upserts are
batched at Chroma's maximum batch size; papers stream through in chunks, so a multi-million-line Kaggle file
never sits in memory, and a chunk is written on a second thread while the next one is embedded (the
embedder and Chroma's Rust core both release the GIL, so the two cores share the work).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from brief.errors import UserError
from brief.memory.library import ReadResult, read_bibtex, read_csv, read_id_list
from brief.memory.records import Imported
from brief.memory.store import Memory
from brief.models import Paper
from brief.progress import QuietReporter, Reporter
from brief.sources.window import Window, week_of

CHUNK = 5000  # papers per store round when the client doesn't say its max batch size
EMBED_BATCH = 256  # texts per embedder call: the progress bar moves at least this often
_SNAPSHOT_SUFFIXES = (".jsonl", ".xml", ".json")
STREAM_ABOVE = 64 << 20  # bytes of snapshot read whole (and merged across days) before importing


class LibraryImportError(UserError, ValueError):
    """The path can't be imported (missing, unknown format, nothing readable): a user error, exit 2."""


class ImportResult(BaseModel):
    path: str
    kind: str = Field(description="bibtex | csv | ids | snapshot")
    week: str = Field(description="the import week: the history entry's week, and undated entries' first-seen week")
    read: int = 0
    new: int = Field(0, description="papers memory did not hold before")
    stubs: int = Field(0, description="entries with only an id (no title): kept, never linked; --online fills arXiv ones")
    undated: int = 0
    skipped: int = 0
    problems: list[str] = Field(default_factory=list)
    by_first_seen_week: dict[str, int] = Field(default_factory=dict)
    embedded: int = 0
    cache_hits: int = 0
    looked_up: int = Field(0, description="arXiv ids whose metadata came from the arXiv API (--online)")
    not_found_online: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    ids: list[str] = Field(default_factory=list, description="the imported ids (first 1,000)")


def detect_kind(path: Path) -> str:
    if not path.exists():
        raise LibraryImportError(f"{path} does not exist: give a .bib, a Zotero .csv, a list of ids, or a snapshot")
    if path.is_dir():
        return "snapshot"
    suffix = path.suffix.lower()
    if suffix in (".bib", ".bibtex"):
        return "bibtex"
    if suffix == ".csv":
        return "csv"
    if suffix in _SNAPSHOT_SUFFIXES:
        return "snapshot"
    with path.open("rb") as fh:
        head = fh.read(4096).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    return "bibtex" if head.startswith(("@", "%")) and "@" in head else "ids"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return path.read_text(encoding="latin-1")  # older BibTeX files are often Latin-1
    except OSError as exc:
        raise LibraryImportError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_library(path: Path, kind: str, week: str) -> tuple[list[Imported], list[str]]:
    """A .bib / .csv / id list as items: full dates give the week, else the import week (undated)."""
    text = _read_text(path)
    try:
        result: ReadResult = {"bibtex": read_bibtex, "csv": read_csv, "ids": read_id_list}[kind](text)
    except csv.Error as exc:  # a field over the csv module's 131,072 characters, a NUL byte: the reader can't go on
        raise LibraryImportError(f"cannot read {path} as CSV ({exc}): export it again, or shorten or remove "
                                 "that field") from None
    items: dict[str, Imported] = {}
    for entry in result.entries:
        first = entry.week or (week_of(entry.day) if entry.day else week)
        dated = entry.day is not None or (entry.week is not None and not entry.undated)
        item = Imported(paper=entry.paper, first_week=first, last_week=first, dated=dated, stub=entry.stub)
        if entry.paper.id not in items or items[entry.paper.id].stub:
            items[entry.paper.id] = item
    return list(items.values()), result.problems


def snapshot_items(path: Path, today: date) -> tuple[Iterator[Imported], int | None, Any]:
    """A snapshot's papers (all days) as items, with their count when known, and the source (its
    `skipped` counts bad records once iterated). Up to STREAM_ABOVE bytes the papers are read first and
    merged across days: first-seen is the earliest announcement week, last-seen the latest, the text the
    latest version's. Bigger snapshots (the Kaggle file) stream, and memory merges repeated ids itself."""
    from brief.sources.snapshot import SnapshotError, SnapshotSource, snapshot_files

    try:
        size = sum(f.stat().st_size for f in snapshot_files(path))
        source = SnapshotSource(path, today=today)
        source.check()
    except SnapshotError as exc:
        raise LibraryImportError(str(exc)) from None
    papers = source.fetch(Window(since=date(1991, 1, 1), until=today))
    if size > STREAM_ABOVE:
        return (_item(p, today) for p in papers), None, source
    merged: dict[str, Imported] = {}
    try:
        for paper in papers:
            item, old = _item(paper, today), merged.get(paper.id)
            if old is not None:
                newer = (paper.version or 0) >= (old.paper.version or 0)
                item = Imported(paper=paper if newer else old.paper, first_week=min(old.first_week, item.first_week),
                                last_week=max(old.last_week, item.last_week), dated=old.dated or item.dated)
            merged[paper.id] = item
    except SnapshotError as exc:
        raise LibraryImportError(str(exc)) from None
    return iter(merged.values()), len(merged), source


def _item(paper: Paper, today: date) -> Imported:
    day = paper.announced or paper.published
    week = week_of(day) if day else week_of(today)
    return Imported(paper=paper, first_week=week, last_week=week, dated=day is not None)


def lookup_online(items: list[Imported], arxiv: Any) -> tuple[list[Imported], int, list[str]]:
    """Fill arXiv entries that lack text (stubs, or no abstract) from the arXiv API (`arxiv.fetch_ids`).
    The paper's own date then dates it: first seen in its first version's week."""
    wanted = [i.paper.id for i in items if i.paper.is_arxiv and (i.stub or not i.paper.abstract)]
    if not wanted:
        return items, 0, []
    found: dict[str, Paper] = {}
    for start in range(0, len(wanted), 100):
        found.update((p.id, p) for p in arxiv.fetch_ids(wanted[start:start + 100]))
    out = []
    for item in items:
        got = found.get(item.paper.id)
        if got is None or item.paper.id not in wanted:
            out.append(item)
            continue
        own = item.paper
        paper = got.model_copy(update={"doi": own.doi or got.doi, "journal_ref": own.journal_ref or got.journal_ref})
        week = week_of(got.published) if got.published else item.first_week
        out.append(Imported(paper=paper, first_week=week if not item.dated else item.first_week,
                            last_week=max(week, item.last_week), dated=item.dated or got.published is not None))
    return out, len(found), [pid for pid in wanted if pid not in found]


@dataclass
class Library:
    """A library read and checked, before any memory is opened: an input with nothing in it fails here."""

    path: Path
    kind: str
    week: str
    items: Iterator[Imported]
    total: int | None
    source: Any = None  # a snapshot's source: counts its bad records as they are read
    problems: list[str] = field(default_factory=list)
    looked_up: int = 0
    not_found_online: list[str] = field(default_factory=list)


def read_input(path: Path, week: str | None = None, arxiv: Any = None, reporter: Reporter | None = None,
               today: date | None = None) -> Library:
    """Read `path` (any kind `detect_kind` knows); `arxiv` (an ArxivSource) fills stubs from the arXiv API.
    Raises LibraryImportError when nothing in it can be imported (a snapshot too big to read first can only
    tell that once memory reads it)."""
    today = today or date.today()
    week = week or week_of(today)
    path = Path(path).expanduser()
    kind = detect_kind(path)
    if kind == "snapshot":
        items, total, source = snapshot_items(path, today)
        if total == 0:
            raise LibraryImportError(f"{path}: nothing to import ({source.skipped} bad records, no papers found)")
        return Library(path, kind, week, items, total, source)
    listed, problems = read_library(path, kind, week)
    if not listed:
        raise LibraryImportError(f"{path}: nothing to import ({'; '.join(problems[:3]) or 'no entries found'})")
    library = Library(path, kind, week, iter(listed), len(listed), problems=problems)
    if arxiv is not None:
        with (reporter or QuietReporter()).stage("arXiv lookup"):
            listed, library.looked_up, library.not_found_online = lookup_online(listed, arxiv)
        library.items = iter(listed)
    return library


def import_path(memory: Memory, embedder: Any, path: Path | Library, week: str | None = None, arxiv: Any = None,
                reporter: Reporter | None = None, today: date | None = None) -> ImportResult:
    """Import `path` (or a Library `read_input` read) into `memory`; `arxiv` (an ArxivSource) enables online
    lookups. Embeds through `embedder` (the cached one: hits/misses are counted), stores in chunks, shows one
    progress bar."""
    started = time.perf_counter()
    reporter = reporter or QuietReporter()
    library = path if isinstance(path, Library) else read_input(path, week, arxiv, reporter, today)
    path, kind, week, items, source, problems = (library.path, library.kind, library.week, library.items,
                                                 library.source, library.problems)
    total = library.total
    result = ImportResult(path=str(path), kind=kind, week=week, looked_up=library.looked_up,
                          not_found_online=library.not_found_online)
    counter = getattr(embedder, "cached", embedder)  # RunEmbedder wraps the CachedEmbedder that counts
    misses, hits = getattr(counter, "misses", 0), getattr(counter, "hits", 0)
    size = getattr(memory, "batch_size", CHUNK)  # Chroma's max batch: one upsert per chunk
    with reporter.stage("import", total) as advance, ThreadPoolExecutor(1, thread_name_prefix="import-write") as writer:
        pending: Future[int] | None = None  # at most one chunk waits for its write: memory stays bounded
        for chunk in _chunks(items, size):
            texts = [_text(i) for i in chunk]
            parts = []
            for start in range(0, len(texts), EMBED_BATCH):
                parts.append(embedder.embed(texts[start:start + EMBED_BATCH]))
                advance(len(parts[-1]))
            if pending is not None:
                result.new += pending.result()  # a failed write stops the import here, with its error
            pending = writer.submit(memory.import_papers, chunk, np.concatenate(parts), week, f"import:{path.name}")
            _tally(result, chunk)
        if pending is not None:
            result.new += pending.result()
    if source is not None and source.skipped:
        problems.append(f"{source.skipped} bad records skipped (see the warnings above)")
    if not result.read:
        raise LibraryImportError(f"{path}: nothing to import ({'; '.join(problems[:3]) or 'no papers found'})")
    result.problems, result.skipped = problems[:20], len(problems) if kind != "snapshot" else source.skipped
    result.embedded = getattr(counter, "misses", 0) - misses
    result.cache_hits = getattr(counter, "hits", 0) - hits
    result.by_first_seen_week = dict(sorted(result.by_first_seen_week.items()))
    result.seconds = round(time.perf_counter() - started, 2)
    return result


def _text(item: Imported) -> str:
    """What is embedded: the same text a weekly run embeds for memory, so the cache serves both."""
    return item.paper.text_for_embedding() if not item.stub else item.paper.id


def _chunks(items: Iterator[Imported], size: int = CHUNK) -> Iterator[list[Imported]]:
    chunk: list[Imported] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _tally(result: ImportResult, chunk: list[Imported]) -> None:
    result.read += len(chunk)
    result.stubs += sum(i.stub for i in chunk)
    result.undated += sum(not i.dated for i in chunk)
    for item in chunk:
        result.by_first_seen_week[item.first_week] = result.by_first_seen_week.get(item.first_week, 0) + 1
        if len(result.ids) < 1000:
            result.ids.append(item.paper.id)
