"""The labels stage 1 may learn from, with their kind: the user's feedback, an imported library, and the
decisions of a judge (the LLM). Decisions stage 1 made on its own (offline runs, papers it cut unjudged)
are not labels: learning from them would only teach it its own mistakes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np

from brief.memory.chroma import pages
from brief.memory.records import judged_relevant
from brief.models import AuditWeek, Labels
from brief.protocols import RunMemory
from brief.sources.window import week_of, week_ordinal

KINDS = ("feedback", "imported", "llm")
OFFLINE = "offline"  # the `judged_by` metadata of decisions an offline run made
AUDIT_HORIZON_WEEKS = 26  # older audits judged an older cut; and memory is only read this far back


def label_of(meta: dict[str, Any]) -> tuple[str, int] | None:
    """(kind, label) of a remembered paper, or None when nobody judged it."""
    feedback, status = meta.get("feedback", ""), meta.get("status", "")
    if feedback in ("good", "bad"):
        return "feedback", int(feedback == "good")
    if meta.get("stub"):
        return None
    if status == "imported":
        return "imported", 1
    if status in ("accepted", "rejected") and meta.get("judged_by") != OFFLINE:
        return "llm", int(judged_relevant(meta))
    return None


def judged_labels(memory: RunMemory, before_week: str | None = None, limit: int = 8000) -> Labels:
    """Embeddings of the judged papers memory holds (first seen before `before_week`), newest first."""
    where = {"first_seen_ord": {"$lt": week_ordinal(before_week)}} if before_week and week_ordinal(before_week) else None
    rows = []
    for collection in (memory.papers, memory.seen):
        for got in pages(collection, where=where, include=["metadatas", "embeddings"]):
            for meta, emb in zip(got["metadatas"], got["embeddings"]):
                found = label_of(meta or {})
                if found is not None and emb is not None:
                    rows.append((int((meta or {}).get("first_seen_ord", 0)), found, np.asarray(emb, dtype=np.float32)))
    rows.sort(key=lambda r: -r[0])
    rows = rows[:limit]
    dim = len(rows[0][2]) if rows else 0
    pos = [v for _, (_, y), v in rows if y == 1]
    neg = [v for _, (_, y), v in rows if y == 0]
    counts = {k: 0 for k in KINDS}
    for _, (kind, _label), _ in rows:
        counts[kind] += 1
    return Labels(positives=np.vstack(pos) if pos else np.zeros((0, dim), np.float32),
                  negatives=np.vstack(neg) if neg else np.zeros((0, dim), np.float32), counts=counts)


def audit_weeks(memory: RunMemory, before_week: str, weeks: int = 7) -> list[AuditWeek]:
    """The audits of the `weeks` latest weeks before `before_week` that had one (within AUDIT_HORIZON_WEEKS): per
    week, the judge's accepts (shown or left out by the cap) among the papers stage 1 sent, and the audit papers
    with what it found. Weeks written before memory marked audit papers (`audit_p`) have none. Two narrow reads:
    the audit papers, then the accepts of the weeks chosen (not every judged paper of half a year)."""
    end = week_ordinal(before_week)
    if not end or weeks <= 0:
        return []
    start = week_ordinal(week_of(date.fromisocalendar(end // 100, end % 100, 1) - timedelta(weeks=AUDIT_HORIZON_WEEKS)))
    judged: list[dict[str, Any]] = [{"stage": {"$eq": "llm"}}, {"first_seen_ord": {"$lt": end}}]
    found: dict[int, AuditWeek] = {}
    for meta in _metadatas(memory, [*judged, {"first_seen_ord": {"$gte": start}}, {"audit_p": {"$gt": 0}}]):
        row = found.setdefault(int(meta["first_seen_ord"]), AuditWeek(week=str(meta.get("first_seen", ""))))
        row.audited += 1
        row.audit_found += judged_relevant(meta)
        row.inclusion = float(meta["audit_p"])
    chosen = dict(sorted(found.items())[-weeks:])
    if chosen:
        relevant = {"$or": [{"status": {"$eq": "accepted"}}, {"capped": {"$eq": True}}]}  # narrows the read only
        for meta in _metadatas(memory, [*judged, {"first_seen_ord": {"$gte": min(chosen)}}, {"audit_p": {"$eq": 0}}, relevant]):
            if int(meta["first_seen_ord"]) in chosen:
                chosen[int(meta["first_seen_ord"])].found_above += judged_relevant(meta)
    return list(chosen.values())


def _metadatas(memory: RunMemory, conditions: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every remembered paper's metadata that meets all `conditions`, except an offline run's decisions."""
    for collection in (memory.papers, memory.seen):
        for got in pages(collection, where={"$and": conditions}, include=["metadatas"]):
            yield from (m for m in got["metadatas"] if m and m.get("judged_by") != OFFLINE)
