"""`brief memory export --bibtex FILE`: memory's papers as BibTeX, for a reference manager.

Entries are formatted by report/bibtex.py (the weekly `--bibtex` output), so both read the same: arXiv
papers as `@misc` with eprint/archivePrefix/primaryClass, others as `@article` with their DOI. Memory adds
the abstract and a note saying what brief knows (status, first-seen week, topic). `brief memory import`
reads the file back to the same ids, titles and authors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from brief.memory.records import Record
from brief.models import Summary
from brief.report.bibtex import base_key, entry, tex
from brief.report.briefing import AcceptedPaper

_NOTE = re.compile(r"^(  note\s*)= \{.*\}$", re.MULTILINE)


def as_accepted(rec: Record) -> AcceptedPaper:
    """The shape report/bibtex.py formats (relevance is not memory's to know; the note replaces it)."""
    return AcceptedPaper(
        id=rec.id, title=rec.title, authors=rec.authors, categories=rec.categories, url=rec.url or None,
        relevance=0, novelty=0, topic=rec.topic or None, reason="", review="", summary=Summary(tldr=rec.tldr or ""),
        links=[], published=rec.published or None, doi=rec.doi or None, journal_ref=rec.journal_ref or None,
    )


def record_entry(rec: Record, key: str) -> str:
    text = entry(as_accepted(rec), key, rec.first_seen)
    match = _NOTE.search(text)
    if match is None:  # report/bibtex.py changed its layout: keep its entry as it is
        return text
    pad = match.group(1)
    note = (f"brief memory: {rec.status}, first seen {rec.first_seen}" + ("" if rec.dated else ", undated")
            + (f"; {rec.topic}" if rec.topic else ""))  # `brief memory import` reads the week back
    lines = []
    if rec.abstract:
        lines.append(f"  {'abstract'.ljust(len(pad) - 3)} = {{{tex(rec.abstract)}}},")
    lines.append(f"{pad}= {{{tex(note)}}}")
    return text[:match.start()] + "\n".join(lines) + text[match.end():]


def render(records: Iterable[Record], label: str) -> tuple[str, int, int]:
    """(BibTeX text, entries written, id-only stubs left out: a bare id is no reference)."""
    taken: set[str] = set()
    entries, stubs = [], 0
    for rec in records:
        if rec.stub:
            stubs += 1
            continue
        base = key = base_key(as_accepted(rec))
        n = 0
        while key in taken:
            n += 1
            key = f"{base}{chr(ord('a') + (n - 1) % 26)}{(n - 1) // 26 or ''}"
        taken.add(key)
        entries.append(record_entry(rec, key))
    head = f"% {len(entries)} papers from brief's memory ({label}).\n\n"
    return head + "\n".join(entries), len(entries), stubs
