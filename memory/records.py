"""What memory holds about a paper, and how that record is kept in Chroma's flat metadata.

A record says who the paper is (canonical id, title, authors, categories, DOI), when memory met it
(first-seen and last-seen ISO week, every arXiv version seen), what happened to it (the decision history:
accepted / rejected / cut / imported, by which run, under which topic) and the reviewer's summary.

Chroma metadata values are scalars, so lists are joined strings and the history is a JSON string. The
merge rules live here, in one place: the first-seen week only ever moves earlier, the last-seen week only
later; versions accumulate; a decision is recorded once per run (a redone node replaces its own entry).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from brief.ids import is_arxiv_id
from brief.models import Paper
from brief.sources.window import week_ordinal

MAX_HISTORY = 40  # decisions kept per paper: a weekly paper gets one or two, this is a safety cap
# The abstract lives in the metadata, not in Chroma's document: Chroma full-text indexes every document, which
# brief never searches, and that index made writes twice as slow (bench/bootstrap.py). Memories written before
# keep theirs as documents; `abstract_of` reads either.
ABSTRACT = "abstract"
MAX_ABSTRACT = 4000  # characters stored: arXiv caps abstracts at 1,920; other sources run longer


def abstract_of(meta: dict[str, Any] | None, document: str | None) -> str:
    """A remembered paper's abstract: from its metadata, or from the document of a memory written before."""
    return str((meta or {}).get(ABSTRACT) or document or "")
MAX_AUTHORS = 50
PAPERS_STATUSES = ("accepted", "imported")  # these live in the `papers` collection; the rest in `seen`


class Decided(BaseModel):
    """One entry of a paper's decision history."""

    week: str
    status: str = Field(description="accepted | rejected | cut | imported")
    run: str = Field("", description="the run that decided: `weekly:2026-W24:<hash>` or `import:<file>`")
    topic: str = ""


class Record(BaseModel):
    id: str
    title: str
    authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    first_seen: str
    last_seen: str
    status: str = "accepted"
    version: int = 0
    versions: list[int] = Field(default_factory=list)
    topic: str = ""
    tldr: str = ""
    abstract: str = ""
    url: str = ""
    doi: str = ""
    published: str = ""
    journal_ref: str = ""
    dated: bool = Field(True, description="first_seen is the paper's own date (False: the week it was imported)")
    stub: bool = Field(False, description="only an id is known (imported offline without metadata)")
    history: list[Decided] = Field(default_factory=list)
    feedback: str = ""
    similarity: float | None = None

    @property
    def primary_archive(self) -> str:
        return (self.categories[0] if self.categories else "unknown").split(".")[0]

    @property
    def is_arxiv(self) -> bool:
        return is_arxiv_id(self.id)


def _earliest(a: str, b: str) -> str:
    return min((w for w in (a, b) if week_ordinal(w)), key=week_ordinal, default=a or b)


def _latest(a: str, b: str) -> str:
    return max((w for w in (a, b) if week_ordinal(w)), key=week_ordinal, default=a or b)


def merged_status(old: str | None, new: str) -> str:
    """The status after a new decision. The latest decision wins, except that an imported paper (the user's
    own library) stays imported when a run rejects it, and importing never downgrades an accepted paper."""
    if old is None:
        return new
    if new == "imported":
        return old if old in PAPERS_STATUSES else "imported"
    if old == "imported" and new not in PAPERS_STATUSES:
        return "imported"
    return new


def judged_relevant(meta: dict[str, Any]) -> bool:
    """A judge's decision read as relevant: accepted, or accepted and then left out by the week's cap (a reject
    marked `capped`). Stage 1's labels and the audit history both read decisions through this one rule."""
    status = meta.get("status")
    return status == "accepted" or (status == "rejected" and meta.get("capped") is True)


def history_of(meta: dict[str, Any]) -> list[Decided]:
    try:
        return [Decided.model_validate(h) for h in json.loads(meta.get("history") or "[]")]
    except (ValueError, TypeError):
        return []


def metadata(
    paper: Paper,
    old: dict[str, Any] | None,
    week: str,
    status: str,
    first_week: str | None = None,
    last_week: str | None = None,
    run_id: str = "",
    topic: str | None = None,
    tldr: str | None = None,
    dated: bool = True,
    stub: bool = False,
    fill_only: bool = False,
) -> dict[str, Any]:
    """The Chroma metadata after `status` was decided for `paper` in `week`, merged with what memory held
    (`old`). `first_week`/`last_week` default to `week`; an import gives the paper's own announcement weeks.

    Keys memory doesn't know (e.g. the user's `feedback`) are carried over untouched. `fill_only` (imports
    over a known paper) keeps what memory held and only fills its gaps: a run's record beats a .bib line."""
    old = dict(old or {})
    first_week, last_week = first_week or week, last_week or first_week or week
    first = _earliest(old.get("first_seen", ""), first_week) if old else first_week
    last = _latest(old.get("last_seen", ""), last_week) if old else last_week
    history = history_of(old)
    same = [h for h in history if h.run == run_id and h.week == week]  # a decision is recorded once per run
    topic = topic or (same[-1].topic if same else "")
    history = [h for h in history if h not in same] + [Decided(week=week, status=status, run=run_id, topic=topic)]
    versions = {int(v) for v in str(old.get("versions", "")).split() if v.isdigit()}
    if paper.version:
        versions.add(int(paper.version))
    meta = {
        **old,
        "first_seen": first,
        "first_seen_ord": week_ordinal(first),
        "last_seen": last,
        "last_seen_ord": week_ordinal(last),
        "status": merged_status(old.get("status") if old else None, status),
        "version": max(versions, default=int(old.get("version", 0) or 0)),
        "versions": " ".join(str(v) for v in sorted(versions)),
        "history": json.dumps([h.model_dump() for h in history[-MAX_HISTORY:]], ensure_ascii=False),
        # an undated import stays undated only while nothing dated it: a run or a dated source settles it
        "dated": bool(dated or old.get("dated", True)) if old else bool(dated),
        "stub": bool(stub and (not old or old.get("stub", False))),
    }
    new = {
        "title": paper.title,
        "authors": "; ".join(paper.authors[:MAX_AUTHORS]),
        "categories": " ".join(paper.categories),
        "primary": paper.primary_archive if paper.categories else "unknown",
        "url": paper.url or "",
        "doi": paper.doi or "",
        "published": _iso(paper.published),
        "journal_ref": paper.journal_ref or "",
    }
    for key, value in new.items():
        if not (fill_only and old.get(key)) and (value or not old.get(key)):
            meta[key] = value
    if topic:
        meta["topic"] = topic
    meta.setdefault("topic", "")
    if tldr:
        meta["tldr"] = tldr[:1000]
    meta.setdefault("tldr", "")
    return meta


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def record(pid: str, meta: dict[str, Any], doc: str | None, similarity: float | None = None) -> Record:
    meta = meta or {}
    versions = [int(v) for v in str(meta.get("versions", "")).split() if v.isdigit()]
    return Record(
        id=pid,
        title=meta.get("title", ""),
        authors=[a for a in meta.get("authors", "").split("; ") if a],
        categories=meta.get("categories", "").split(),
        first_seen=meta.get("first_seen", ""),
        last_seen=meta.get("last_seen", ""),
        status=meta.get("status", ""),
        version=int(meta.get("version", 0) or 0),
        versions=versions,
        topic=meta.get("topic", ""),
        tldr=meta.get("tldr", ""),
        abstract=abstract_of(meta, doc),
        url=meta.get("url", ""),
        doi=meta.get("doi", ""),
        published=meta.get("published", ""),
        journal_ref=meta.get("journal_ref", ""),
        dated=bool(meta.get("dated", True)),
        stub=bool(meta.get("stub", False)),
        history=history_of(meta),
        feedback=meta.get("feedback", ""),
        similarity=None if similarity is None else round(float(similarity), 4),
    )


def previously_seen(meta: dict[str, Any], before_ord: int | None) -> bool:
    """Does a remembered paper count as seen before the week `before_ord`? Papers first seen in an earlier
    week do; so do undated imports (the user's own library, whatever week it was imported in). Stubs (a
    bare id, no text) never do: their vector says nothing."""
    if meta.get("stub"):
        return False
    if before_ord is None:
        return True
    if int(meta.get("first_seen_ord", 0) or 0) < before_ord:
        return True
    return meta.get("status") == "imported" and meta.get("dated") is False


class Imported(BaseModel):
    """A paper to import, with the weeks it belongs to (its own announcement weeks when the source dates it)."""

    paper: Paper
    first_week: str
    last_week: str
    dated: bool = True
    stub: bool = False
