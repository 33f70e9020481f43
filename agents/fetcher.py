"""Fetcher: gathers a window's papers from every source, merges duplicates, and accounts for each one."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from brief.config import Settings, SourceConfig
from brief.errors import UserError
from brief.ids import is_arxiv_id, work_title
from brief.models import FetchCounts, Paper
from brief.report.latex import latex_to_text
from brief.sources.snapshot import SnapshotSource, available_days, sample_path
from brief.sources.window import Window, week_containing
from brief.text import authors_agree, counted

log = logging.getLogger(__name__)


class Source(Protocol):
    name: str

    def fetch(self, window: Window) -> Iterable[Paper]: ...


_NOTICE_KIND = (r"(?:(?:author|publisher|editorial)s?'?\s+)?(?:correction|erratum|errata|corrigendum|retraction(?: note)?"
                r"|retracted|withdrawal|notice of retraction|expression of concern|addendum)")
NOTICE = re.compile(rf"(?i)^\s*{_NOTICE_KIND}\s*(?::|\s+to\s*[:\"“'])")
# the same notices as a journal feed types them in a category ("Author Correction", "Retraction Note")
NOTICE_TYPE = re.compile(rf"(?i)^\s*{_NOTICE_KIND}\s*$")


def is_notice(paper: Paper) -> bool:
    """A journal's correction or retraction notice, by its title or by the item type its feed gives."""
    return bool(NOTICE.match(paper.title)) or any(NOTICE_TYPE.match(c) for c in paper.categories)


class FetchResult(BaseModel):
    papers: list[Paper]
    counts: FetchCounts
    notes: list[str] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list, description="sources that failed or were read only in part: the run is partial")


class SourceSpecError(UserError, ValueError):
    """A `--source` value that names no known source kind."""


def build_sources(specs: list[str], settings: Settings) -> list[Source]:
    """Turn `--source` values (`arxiv`, `sample`, `snapshot:PATH`, or a configured source's name) into sources.

    With no specs, the configured `[[sources]]` are used, else the bundled sample.
    """
    configured = {s.name: s for s in settings.sources}
    if not specs:
        return [_from_config(s, settings) for s in settings.sources] or [SnapshotSource(sample_path(), "sample")]
    sources: list[Source] = []
    for spec in specs:
        if spec == "sample":
            sources.append(SnapshotSource(sample_path(), "sample"))
        elif spec.startswith("snapshot:"):
            path = Path(spec.removeprefix("snapshot:")).expanduser()
            if not path.exists():
                raise SourceSpecError(f"--source {spec}: {path} does not exist")
            sources.append(SnapshotSource(path))
        elif spec == "arxiv":
            sources.append(_from_config(SourceConfig(name="arxiv", kind="arxiv"), settings))
        elif spec in configured:
            sources.append(_from_config(configured[spec], settings))
        else:
            known = ", ".join(["arxiv", "sample", "snapshot:PATH", *configured]) or "none"
            raise SourceSpecError(f"unknown source {spec!r}: use one of {known}")
    return sources


def _from_config(cfg: SourceConfig, settings: Settings) -> Source:
    if cfg.kind == "sample":
        return SnapshotSource(sample_path(), cfg.name)
    if cfg.kind == "snapshot":
        return SnapshotSource(Path(cfg.path or "").expanduser(), cfg.name)
    if cfg.kind == "arxiv":
        from brief.sources.arxiv_api import ArxivSource

        arxiv_cfg = settings.arxiv
        if cfg.categories:
            arxiv_cfg = arxiv_cfg.model_copy(update={"categories": cfg.categories})
        return ArxivSource.from_config(arxiv_cfg, name=cfg.name)
    from brief.sources.feeds import FeedSource

    return FeedSource(name=cfg.name, url=cfg.url or "")


def latest_window(sources: list[Source], today) -> Window:
    """The week to brief when none is given: the newest week a snapshot covers to its Friday (a week the
    snapshot stops in mid-way only when it holds no earlier one; --week picks it), else the last complete week."""
    days = [d for s in sources if isinstance(s, SnapshotSource) for d in _days(s)]
    if not days:
        return _last_complete(today)
    newest = week_containing(max(days))
    if max(days) < newest.since + timedelta(days=4) and min(days) < newest.since:
        return week_containing(newest.since - timedelta(days=1))
    return newest


def snapshot_days(source: Source) -> list:
    """The announcement days a daily-JSONL snapshot holds; [] for live sources and other snapshot kinds."""
    return _days(source) if isinstance(source, SnapshotSource) else []


def _days(source: SnapshotSource):
    try:
        return available_days(source.root)
    except ValueError:
        return []


def _last_complete(today) -> Window:
    from brief.sources.window import last_complete_week

    return last_complete_week(today)


def merge(existing: Paper, incoming: Paper) -> Paper:
    """Keep the richest record: the newest version's text, every source, the earliest announcement."""
    newer = (incoming.version or 0) > (existing.version or 0)
    richer = len(incoming.abstract) > len(existing.abstract)
    base = incoming if newer or (richer and incoming.version == existing.version) else existing
    other = existing if base is incoming else incoming
    days = [d for d in (existing.announced, incoming.announced) if d]
    return base.model_copy(
        update={
            "sources": sorted(set(existing.sources) | set(incoming.sources)),
            "announced": min(days) if days else None,
            "doi": base.doi or other.doi,
            "journal_ref": base.journal_ref or other.journal_ref,
            "categories": base.categories or other.categories,
            "authors": base.authors or other.authors,
        }
    )


def merge_versions(papers: list[Paper]) -> tuple[list[Paper], list[str]]:
    """One record for a paper that arrived under two ids in one window (an arXiv preprint and its journal or
    bioRxiv version, from two sources), told by the same title (`ids.work_title`: case, TeX and punctuation
    aside, five words or more) and authors that agree (`text.authors_agree`). The arXiv id stays (this and earlier
    briefings cite it), else the first one's; the other's DOI and journal reference join it (`merge`).
    Returns the papers, in order, and the titles merged."""
    kept: dict[str, int] = {}
    out: list[Paper] = []
    merged: list[str] = []
    for paper in papers:
        key = work_title(latex_to_text(paper.title))
        at = kept.get(key, -1) if key else -1
        earlier = out[at] if at >= 0 else None
        if earlier is None or not authors_agree(earlier.authors, paper.authors):
            if key:
                kept.setdefault(key, len(out))
            out.append(paper)
            continue
        keep_id = next((p.id for p in (earlier, paper) if is_arxiv_id(p.id)), earlier.id)
        both = merge(earlier, paper)
        doi = both.doi or next((p.id.removeprefix("doi:") for p in (earlier, paper) if p.id.startswith("doi:")), None)
        out[at] = both.model_copy(update={"id": keep_id, "doi": doi})
        merged.append(latex_to_text(earlier.title))
    return out, merged


def fetch(sources: list[Source], window: Window) -> FetchResult:
    """Fetch every source for the window; duplicates (same canonical id, or a preprint and its published version:
    `merge_versions`) merge into one record."""
    by_id: dict[str, Paper] = {}
    counts = FetchCounts()
    announced_total, notes, failed = 0, [], []
    for source in sources:
        arrived = 0
        for paper in source.fetch(window):
            arrived += 1
            if paper.announced is None:
                paper.announced = paper.published
            # arXiv's listings and metadata dumps write accents in TeX (`Ren\'e`, `Mu\~noz`): one spelling
            # lets the watch-list, shared-author links and every report see the same name
            paper.authors = [latex_to_text(a) for a in paper.authors]
            by_id[paper.id] = merge(by_id[paper.id], paper) if paper.id in by_id else paper
        counts.by_source[source.name] = arrived
        counts.arrived += arrived
        counts.skipped_records += getattr(source, "skipped", 0)
        stats = getattr(source, "stats", None) or {}
        if stats.get("error"):
            failed.append(f"the source {source.name} failed ({stats['error']}): its papers may be missing from this briefing")
        if stats.get("announced") is not None:
            announced_total += stats["announced"]
            got = stats.get("arrived", arrived)
            if stats["announced"] != got:
                notes.append(f"{source.name}: the API announced {stats['announced']} results, {got} arrived")
    papers = sorted(by_id.values(), key=lambda p: (p.announced or window.since, p.id))
    if notices := [p for p in papers if is_notice(p)]:
        # a journal's correction or retraction notice is news about a paper, not research to screen
        notice_ids = {p.id for p in notices}
        papers = [p for p in papers if p.id not in notice_ids]
        notes.append(f"{counted(len(notices), 'notice')} (corrections, retractions) not screened as papers: "
                     + "; ".join(f"“{p.title}”" for p in notices[:5]) + (" …" if len(notices) > 5 else ""))
    papers, versions = merge_versions(papers)
    if versions:
        notes.append(f"{counted(len(versions), 'paper')} arrived under two ids (a preprint and its published version) "
                     "and {} shown once: ".format("is" if len(versions) == 1 else "are")
                     + "; ".join(f"“{t}”" for t in versions[:5]) + (" …" if len(versions) > 5 else ""))
    counts.unique = len(papers)
    counts.duplicates_merged = counts.arrived - counts.unique
    counts.announced = announced_total or None
    counts.by_category = dict(Counter(p.primary_category for p in papers).most_common())
    counts.by_announce_type = dict(Counter(p.announce_type or "unknown" for p in papers))
    per_day = Counter(p.announced.isoformat() for p in papers if p.announced)
    counts.by_day = {d.isoformat(): per_day.get(d.isoformat(), 0) for d in window.days()}
    counts.empty_days = [d for d, n in counts.by_day.items() if n == 0]
    if not papers:
        notes.append(f"no papers were announced from {window.since} to {window.until}: "
                     f"{len(counts.empty_days)} days had no announcements")
    elif quiet_weekdays := [d for d in counts.empty_days if date.fromisoformat(d).weekday() < 5]:
        # arXiv announces nothing on Saturdays and Sundays: only a silent weekday says data may be missing; a day
        # after the end of every snapshot read is not silent but not there yet
        spans = [snapshot_days(source) for source in sources]
        ends = max(d for span in spans for d in span).isoformat() if spans and all(spans) else None
        after = [d for d in quiet_weekdays if ends and d > ends]
        if quiet := [d for d in quiet_weekdays if d not in after]:
            notes.append(f"{counted(len(quiet), 'weekday')} had no announcements: {', '.join(quiet)}")
        if after:
            notes.append(f"the snapshot ends on {ends}: {counted(len(after), 'weekday')} of this week "
                         f"({', '.join(after)}) {'is' if len(after) == 1 else 'are'} not in it, so this briefing covers part of the week")
    if counts.skipped_records:
        notes.append(f"{counts.skipped_records} malformed records were skipped (see warnings)")
    return FetchResult(papers=papers, counts=counts, notes=notes, failed=failed)
