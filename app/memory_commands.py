"""What `brief memory …` does: cli.py parses the arguments and calls these; they return data and text.

stats, search, show and export only read memory; import and forget write it, under the data dir's run
lock (a weekly run and an import must not interleave their writes). stats, show and export read records
only, never vectors: they open memory read-only, so they also work on a memory another embedder built,
which is the way out of a changed embedding recipe (export, then import into a new memory).
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brief.config import Settings
from brief.errors import UserError
from brief.memory.records import Record
from brief.ids import canonical_arxiv_id
from brief.progress import Reporter
from brief.report.escape import term
from brief.sources.window import parse_week

if TYPE_CHECKING:
    from brief.protocols import Embedder
    from brief.memory.importer import ImportResult
    from brief.memory.store import Memory


class MemoryCommandError(UserError, ValueError):
    """A user error in a `brief memory` command (unknown id, bad week): one line, exit 2."""


def open_all(settings: Settings, read_only: bool = False, create: bool = False) -> tuple[Embedder, Memory]:
    """(embedder, memory) as a weekly run opens them, so the collections' embedder check applies;
    `read_only` for commands that read records only: they open a memory another embedder built.
    Only `create` (import) makes a new memory; the others refuse a missing one before touching the dir."""
    from brief.graphs.context import open_context
    from brief.memory.presence import require_memory

    if not create:
        require_memory(settings)
    from brief.memory.store import Memory

    ctx = open_context(settings, read_only=read_only, create=create, with_llm=False)
    assert isinstance(ctx.memory, Memory)  # the store itself: these commands read its records and stats
    return ctx.embedder, ctx.memory


def canonical(raw: str) -> str:
    """Any arXiv id form, a DOI (`10.…` or a doi.org URL) or a memory id (`doi:…`, `title:…`) → memory's id."""
    text = raw.strip()
    if not text:
        raise MemoryCommandError("the paper id is empty: give an arXiv id (2606.12345), a DOI or a memory id")
    try:
        return canonical_arxiv_id(text)[0]
    except ValueError:
        pass
    lowered = text.lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
        if lowered.startswith(prefix):
            return "doi:" + lowered[len(prefix):]
    if lowered.startswith("10.") and "/" in lowered:
        return "doi:" + lowered
    return text


def _week(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    try:
        return parse_week(text, today=date.today()).label
    except ValueError as exc:
        raise MemoryCommandError(f"{option}: {exc}") from None


# -- reading -----------------------------------------------------------------------------------------------

def stats(settings: Settings) -> dict:
    embedder, memory = open_all(settings, read_only=True)
    found = memory.stats()
    if memory.embedder_name != embedder.name:  # readable, but search, import and weekly runs refuse it
        from brief.memory.chroma import embedder_mismatch

        found["mismatch"] = embedder_mismatch(memory.location, memory.embedder_name, embedder.name)
    return found


def stats_text(s: dict) -> str:
    size = f", {s['disk_bytes'] / 1e6:.1f} MB on disk" if s.get("disk_bytes") is not None else ""
    lines = [f"memory at {s['location']} (embedder {s['embedder']}{size})",
             f"  {s['papers']} papers (accepted or imported), {s['seen_rejected']} seen and not kept (rejected or cut)"]
    if s.get("mismatch"):
        lines.append(f"  search, import and weekly runs refuse it: {s['mismatch']}")
    if s.get("by_status"):
        lines.append("  by status: " + ", ".join(f"{k or '?'} {v}" for k, v in s["by_status"].items()))
    if s.get("undated_imports") or s.get("stubs"):
        lines.append(f"  {s.get('undated_imports', 0)} undated imports (seen before any week), "
                     f"{s.get('stubs', 0)} id-only stubs (`brief memory import --online` fills arXiv ones)")
    weeks = s.get("by_first_seen_week", {})
    if weeks:
        lines.append("  papers by first-seen week:")
        lines += [f"    {week}: {n}" for week, n in weeks.items()]
    return "\n".join(lines)


def search(settings: Settings, query: str, since: str | None = None, limit: int = 10,
           include_seen: bool = False) -> list[Record]:
    if not query.strip():
        raise MemoryCommandError("search needs a query, e.g. brief memory search \"event cameras\"")
    since_week = _week(since, "--since")
    embedder, memory = open_all(settings)
    hits = []
    exact = memory.get(canonical(query))  # an id finds its own record first
    if exact is not None:
        hits.append(exact.model_copy(update={"similarity": 1.0}))
    vector = embedder.embed([query.strip()])[0]
    hits += [r for r in memory.search(vector, limit, since_week, include_seen) if exact is None or r.id != exact.id]
    return hits[:limit]


def hits_text(hits: list[Record]) -> str:
    if not hits:
        return "nothing in memory matches"
    lines = []
    for rec in hits:
        who = ", ".join(rec.authors[:3]) + (" et al." if len(rec.authors) > 3 else "")
        lines.append(f"{rec.similarity or 0:.2f}  {rec.id}  {rec.title}")
        lines.append(f"      {who or 'unknown authors'} · {rec.status} · first seen {rec.first_seen}"
                     + (f" · {rec.topic}" if rec.topic else ""))
    return "\n".join(map(term, lines))  # titles and authors come from imported files: no terminal controls


def show(settings: Settings, raw_id: str) -> Record:
    pid = canonical(raw_id)  # a malformed id fails before memory is opened
    _, memory = open_all(settings, read_only=True)
    rec = memory.get(pid)
    if rec is None:
        raise MemoryCommandError(f"{raw_id} is not in memory at {memory.location}: try `brief memory search`")
    return rec


def record_text(rec: Record) -> str:
    lines = [f"{rec.id}  {rec.title}",
             f"  authors:    {', '.join(rec.authors) or 'unknown'}",
             f"  categories: {' '.join(rec.categories) or 'unknown'}",
             f"  status:     {rec.status}" + (f" (feedback: {rec.feedback})" if rec.feedback else ""),
             f"  first seen: {rec.first_seen}" + ("" if rec.dated else " (undated import: counts as seen before any week)")
             + f"; last seen {rec.last_seen}"]
    if rec.versions:
        lines.append(f"  versions:   {', '.join(f'v{v}' for v in rec.versions)}")
    for label, value in (("topic", rec.topic), ("summary", rec.tldr), ("doi", rec.doi), ("url", rec.url)):
        if value:
            lines.append(f"  {label + ':':<11} {value}")
    if rec.history:
        lines.append("  decisions:")
        lines += [f"    {h.week}  {h.status:<9} {h.run or '-'}" + (f"  ({h.topic})" if h.topic else "") for h in rec.history]
    if rec.abstract:
        lines.append(f"  abstract:   {rec.abstract[:600]}{'…' if len(rec.abstract) > 600 else ''}")
    return "\n".join(map(term, lines))


def export_bibtex(settings: Settings, path: Path, include_seen: bool = False) -> tuple[int, int]:
    """Write memory's papers (and with `include_seen` the rejected ones) to `path`: (written, stubs left out)."""
    from brief.app.memory_export import render
    from brief.report import atomic_write

    if path.is_dir():
        raise MemoryCommandError(f"--bibtex {path} is a directory: give a file name, e.g. {path / 'library.bib'}")
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK | os.X_OK):
        raise MemoryCommandError(f"--bibtex {path}: {path.parent} is not a directory you can write: choose another path")
    _, memory = open_all(settings, read_only=True)
    text, written, stubs = render((rec for rec, _ in memory.records(include_seen=include_seen)), memory.location)
    atomic_write(path, text)
    return written, stubs


# -- writing (under the run lock) ------------------------------------------------------------------------

def forget(settings: Settings, raw_id: str) -> str:
    from brief.memory.lock import RunLock

    from brief.memory.presence import ensure_on_disk, require_memory

    pid = canonical(raw_id)
    from brief.memory.diskfull import disk_full_errors

    require_memory(settings)  # before the lock, which would create the dir
    with RunLock(settings.data_dir), disk_full_errors(settings.data_dir):
        _, memory = open_all(settings)
        if not memory.forget(pid):
            raise MemoryCommandError(f"{raw_id} is not in memory at {memory.location}")
        ensure_on_disk(memory)
    return pid


def import_library(settings: Settings, path: Path, week: str | None, online: bool, reporter: Reporter,
                   today: date | None = None) -> ImportResult:
    """Import `path` (see importer.py); `online` looks arXiv ids up through the configured arXiv client."""
    from brief.memory.importer import import_path, read_input
    from brief.memory.lock import RunLock

    import_week = _week(week, "--week")
    arxiv = None
    if online:
        from brief.sources.arxiv_api import ArxivSource

        arxiv = ArxivSource.from_config(settings.arxiv)
    from brief.memory.diskfull import disk_full_errors
    from brief.memory.presence import ensure_on_disk

    library = read_input(path, import_week, arxiv, reporter, today)  # nothing readable: fails before memory is created
    with RunLock(settings.data_dir), disk_full_errors(settings.data_dir):
        embedder, memory = open_all(settings, create=True)
        result = import_path(memory, embedder, library, reporter=reporter)
        ensure_on_disk(memory)
        return result


def import_text(r: ImportResult) -> str:
    lines = [f"imported {r.read} papers from {r.path} ({r.kind}) in {r.seconds:.1f} s: {r.new} new to memory; "
             f"{r.embedded} embedded, {r.cache_hits} from the embedding cache"]
    if r.by_first_seen_week:
        weeks = list(r.by_first_seen_week.items())
        shown = ", ".join(f"{w} {n}" for w, n in weeks[:8]) + (" …" if len(weeks) > 8 else "")
        lines.append(f"  first seen: {shown}")
    if r.undated:
        lines.append(f"  {r.undated} had no full date: filed under the import week {r.week} and count as seen before any week")
    if r.stubs:
        lines.append(f"  {r.stubs} are ids without a title (never linked); `--online` fetches arXiv metadata for them")
    if r.looked_up or r.not_found_online:
        lines.append(f"  arXiv lookups: {r.looked_up} found" + (f", not found: {', '.join(r.not_found_online[:10])}"
                                                                 if r.not_found_online else ""))
    lines += [f"  skipped: {p}" for p in r.problems[:10]]
    return "\n".join(map(term, lines))


def to_json(value: Any) -> str:
    if isinstance(value, list):
        return json.dumps([v.model_dump(mode="json") for v in value], indent=2, ensure_ascii=False)
    return json.dumps(value.model_dump(mode="json") if hasattr(value, "model_dump") else value, indent=2, ensure_ascii=False)
