"""The Kaggle arXiv metadata snapshot (`arxiv-metadata-oai-snapshot.json`), streamed line by line.

The file is several GB of JSON lines (~2.7M papers), so it is never loaded whole: each line is parsed,
filtered and turned into a Paper on its own, and memory stays flat whatever the file size. `.gz` files are
read through gzip the same way. A paper's date is the `created` time of its v1 (when it was first
submitted; `update_date` moves with every replacement), and its version is the latest one listed.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any

from brief.models import Paper
from brief.ids import canonical_arxiv_id

log = logging.getLogger(__name__)

_MAX_WARNINGS = 20  # a damaged file can have millions of bad lines: warn about the first few, count the rest


@dataclass
class KaggleStats:
    """What a pass over the snapshot saw; `bad` lines were skipped with a warning."""

    lines: int = 0
    bad: int = 0
    yielded: int = 0
    filtered: int = 0


def iter_kaggle_snapshot(
    path: str | Path,
    since: date | None = None,
    until: date | None = None,
    categories: Iterable[str] | None = None,
    stats: KaggleStats | None = None,
    source: str = "kaggle",
) -> Iterator[Paper]:
    """Yield the snapshot's papers first submitted in [since, until] and listed in any of `categories`.

    A category matches itself and, given as an archive (`cs`, `astro-ph`), all its subject classes. Pass
    a `KaggleStats` to learn how many lines were read, skipped as bad, filtered out and yielded."""
    stats = stats if stats is not None else KaggleStats()
    wanted = tuple(categories) if categories else ()
    path = Path(path)
    with _open(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            stats.lines += 1
            try:
                record = json.loads(raw)
                cats = str(record.get("categories") or "").split()
                published = _published(record)
                if (
                    (wanted and not any(_in_category(c, w) for c in cats for w in wanted))
                    or (since and (published is None or published < since))
                    or (until and (published is None or published > until))
                ):
                    stats.filtered += 1  # filtered before building the Paper: most lines of a big file end here
                    continue
                paper = paper_from_kaggle(record, source)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                stats.bad += 1
                if stats.bad <= _MAX_WARNINGS:
                    log.warning("skipped %s line %d: %s", path.name, lineno, str(exc)[:160])
                continue
            stats.yielded += 1
            yield paper
    if stats.bad > _MAX_WARNINGS:
        log.warning("skipped %d bad lines in %s in all (only the first %d shown)", stats.bad, path.name, _MAX_WARNINGS)


def paper_from_kaggle(record: dict[str, Any], source: str = "kaggle") -> Paper:
    """One snapshot record → Paper. Raises ValueError/KeyError/TypeError for a record that can't be used."""
    arxiv_id, _ = canonical_arxiv_id(str(record["id"]))
    title = _clean(record.get("title"))
    if not title:
        raise ValueError("empty title")
    versions = record.get("versions") or []
    numbers = [int(m.group(1)) for v in versions if (m := re.fullmatch(r"v(\d+)", str(v.get("version", ""))))]
    return Paper(
        id=arxiv_id,
        version=max(numbers) if numbers else None,
        title=title,
        abstract=_clean(record.get("abstract")),
        authors=_authors(record),
        categories=str(record.get("categories") or "").split(),
        published=_published(record),
        source=source,
        sources=[source],
        url=f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=f"https://arxiv.org/pdf/{arxiv_id}",
        doi=_clean(record.get("doi")) or None,
        journal_ref=_clean(record.get("journal-ref")) or None,
        comment=_clean(record.get("comments") or record.get("comment")) or None,
    )


def _authors(record: dict[str, Any]) -> list[str]:
    """`authors_parsed` ([last, first, suffix] triples) when present: the flat string mixes commas, `and`
    and affiliations in parentheses, which no split gets right every time."""
    parsed = record.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            last, first, suffix = (list(parts) + ["", "", ""])[:3]
            name = " ".join(p.strip() for p in (first, last, suffix) if p and p.strip())
            if name:
                names.append(name)
        return names
    text = re.sub(r"\([^)]*\)", "", str(record.get("authors") or ""))
    return [a.strip() for a in re.split(r",|\band\b", _clean(text)) if a.strip()]


def _published(record: dict[str, Any]) -> date | None:
    """The v1 `created` date; `update_date` only when the versions list is missing or unreadable."""
    versions = record.get("versions") or []
    first = next((v for v in versions if v.get("version") == "v1"), versions[0] if versions else None)
    published = _created(first.get("created")) if first else None
    if published is None and record.get("update_date"):
        published = date.fromisoformat(str(record["update_date"])[:10])
    return published


def _created(text: object) -> date | None:
    """`Mon, 2 Apr 2007 19:18:42 GMT` → 2007-04-02 (UTC, as arXiv stamps it)."""
    if not text:
        return None
    try:
        return parsedate_to_datetime(str(text)).date()
    except (TypeError, ValueError, IndexError):
        return None


def _in_category(category: str, wanted: str) -> bool:
    return category == wanted or category.startswith(wanted + ".")


def _clean(text: object) -> str:
    return " ".join(str(text).split()) if text is not None else ""


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open("r", encoding="utf-8", errors="replace")
