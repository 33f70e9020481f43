"""Labelled screening sets: the small one shipped with brief, and external ones in the common formats.

Formats read (a PATH is a file, a directory or a glob):
- JSONL, one paper a line, with a `label` (1/0, yes/no, true/false) or a graded `RELEVANCE` that
  `--positive-threshold` turns into a label (the silver and cgarling sets, brief's own shipped files);
- JSON: a daily `output.json` dict keyed by arXiv id (gpt_paper_assistant forks), or a list of records;
- CSV with a column mapping (Kitchenham.csv: `title=Document Title,abstract=Abstract,label=abs`).
A record's date (field `date`, `announced`, `source_file_date`, `jack_run_date`, or a YYYY-MM-DD in its
file name) puts it in an ISO week, so a set can be replayed week by week.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import logging
import re
from datetime import date
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field

from brief.config import ConfigError, Criteria, ScreeningConfig
from brief.evals.criteria import gold_topic, load_criteria
from brief.models import Paper
from brief.ids import canonical_arxiv_id, title_key
from brief.sources.window import week_of

log = logging.getLogger(__name__)
UNDATED = "undated"
_DAY = re.compile(r"(20\d\d-\d\d-\d\d)")
_ANNOUNCE = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s+Abstract:\s*", re.IGNORECASE)
_CSV_DEFAULTS = {
    "id": ["id", "arxiv_id", "doi", "DOI"],
    "title": ["title", "Title", "Document Title"],
    "abstract": ["abstract", "Abstract", "summary"],
    "authors": ["authors", "Authors"],
    "date": ["date", "Date", "announced"],
    "label": ["label", "Label", "included"],
    "relevance": ["relevance", "RELEVANCE"],
}
SHIPPED = ("astro", "cs")


class DatasetError(ConfigError):
    """A dataset can't be read or has no labels; a user error (exit 2)."""


class Item(BaseModel):
    """One labelled paper. `relevance` is the labeller's graded score when the set has one."""

    paper: Paper
    label: int = Field(ge=0, le=1)
    relevance: float | None = None
    topic: str | None = Field(None, description="the topic the labeller matched, when known")
    week: str = UNDATED


class Dataset(BaseModel):
    name: str
    items: list[Item]
    criteria: Criteria
    screening: ScreeningConfig | None = Field(None, description="the criteria file's own [screening], if any")
    source: str = ""

    @property
    def weeks(self) -> list[str]:
        return sorted({i.week for i in self.items})

    @property
    def positives(self) -> int:
        return sum(i.label for i in self.items)

    def fingerprint(self) -> str:
        """Identifies the labelled content, so a baseline is only compared with a run on the same set."""
        blob = "\n".join(f"{i.paper.id}\t{i.label}\t{i.week}" for i in sorted(self.items, key=lambda i: i.paper.id))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def describe(self) -> dict:
        return {"name": self.name, "source": self.source, "papers": len(self.items), "positives": self.positives,
                "weeks": self.weeks, "fingerprint": self.fingerprint(), "topics": [t.name for t in self.criteria.topics]}


class Columns(BaseModel):
    """CSV column names for each field; None = look for the usual names."""

    id: str | None = None
    title: str | None = None
    abstract: str | None = None
    authors: str | None = None
    date: str | None = None
    label: str | None = None
    relevance: str | None = None

    @classmethod
    def parse(cls, specs: list[str] | None) -> Columns:
        """`title=Document Title,label=abs` (repeatable) → Columns; unknown keys are a user error."""
        values: dict[str, str] = {}
        for spec in specs or []:
            for part in filter(None, (p.strip() for p in spec.split(","))):
                key, sep, column = part.partition("=")
                if not sep or key.strip() not in cls.model_fields:
                    raise DatasetError(f"bad --columns entry {part!r}: use FIELD=COLUMN with FIELD one of "
                                       f"{', '.join(cls.model_fields)}")
                values[key.strip()] = column.strip()
        return cls(**values)


def shipped() -> list[Dataset]:
    """The labelled sets bundled in brief.evals/data: astro-ph (cgarling) and cs.AI/cs.CV (silver)."""
    root = resources.files("brief.evals").joinpath("data")
    out = []
    for name in SHIPPED:
        with resources.as_file(root.joinpath(f"{name}.criteria.toml")) as criteria_path:
            criteria, screening = load_criteria(criteria_path)
        lines = root.joinpath(f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        records = [(json.loads(line), None) for line in lines if line.strip()]
        items = _items(records, criteria, positive_threshold=None, where=f"shipped {name}")
        out.append(Dataset(name=name, items=items, criteria=criteria, screening=screening, source=f"shipped:{name}"))
    return out


def resolve(spec: str) -> list[Path]:
    """A file, every data file in a directory (recursively), or a glob; sorted. User error when empty."""
    path = Path(spec).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        files = [p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in (".jsonl", ".json", ".csv")]
    else:
        files = [Path(p) for p in sorted(glob.glob(str(path), recursive=True)) if Path(p).is_file()]
    if not files:
        raise DatasetError(f"no dataset files at {spec!r} (give a .jsonl/.json/.csv file, a directory or a glob)")
    return files


def load(spec: str, criteria: Criteria, positive_threshold: float | None = None, columns: Columns | None = None,
         name: str | None = None) -> Dataset:
    """Read every file `spec` names into one labelled set, deduplicated by paper id (first record wins)."""
    files = resolve(spec)
    records: list[tuple[dict, str | None]] = []
    for path in files:
        day = _DAY.search(path.name)
        records.extend((rec, day.group(1) if day else None) for rec in _read(path, columns or Columns()))
    items = _items(records, criteria, positive_threshold, where=spec)
    path = Path(spec).expanduser()
    label = name or (path.stem if path.is_file() else path.name if path.is_dir() else path.parent.name) or "dataset"
    return Dataset(name=label, items=items, criteria=criteria, source=spec)


def _read(path: Path, columns: Columns) -> list[dict]:
    try:
        if path.suffix.lower() == ".csv":
            return _read_csv(path, columns)
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if isinstance(data, list):
        return data
    if isinstance(data, dict):  # {arxiv_id: record}: the daily output.json of gpt_paper_assistant forks
        return [{"id": key, **value} for key, value in data.items() if isinstance(value, dict)]
    raise DatasetError(f"{path}: expected a list of records or a dict keyed by paper id")


def _read_csv(path: Path, columns: Columns) -> list[dict]:
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        mapping = {}
        for field, candidates in _CSV_DEFAULTS.items():
            wanted = getattr(columns, field)
            if wanted is not None and wanted not in header:
                raise DatasetError(f"{path}: no column {wanted!r} (columns: {', '.join(header)})")
            found = wanted or next((c for c in candidates if c in header), None)
            if found:
                mapping[field] = found
        if "title" not in mapping:
            raise DatasetError(f"{path}: no title column: pass --columns title=COLUMN")
        return [{field: row.get(column) for field, column in mapping.items()} for row in reader]


def _items(records: list[tuple[dict, str | None]], criteria: Criteria, positive_threshold: float | None,
           where: str) -> list[Item]:
    items: dict[str, Item] = {}
    graded_only = 0
    unreadable: list[str] = []  # a label that is there but means nothing: said, not silently dropped
    untitled = 0
    for rec, file_day in records:
        paper = _paper(rec, file_day)
        if paper is None:
            untitled += 1
            continue
        relevance = _number(_first(rec, "RELEVANCE", "relevance"))
        given = _first(rec, "label", "included")
        label = _label(given)
        if given is not None and label is None:
            unreadable.append(str(given))
        if positive_threshold is not None:
            label = int((relevance or 0) >= positive_threshold) if relevance is not None or label is not None else None
        if label is None:
            graded_only += relevance is not None
            continue
        topic = rec.get("topic") or (gold_topic(_first(rec, "COMMENT", "comment_label"), criteria) if label else None)
        if label and topic is None and len(criteria.topics) == 1:  # one criterion: every positive matches it
            topic = criteria.topics[0].name
        item = Item(paper=paper, label=label, relevance=relevance, topic=topic if label else None,
                    week=week_of(paper.announced) if paper.announced else UNDATED)
        if paper.id in items:  # the same paper on two days: positive if either says so, first week kept
            if label > items[paper.id].label:
                items[paper.id] = item.model_copy(update={"week": items[paper.id].week})
            continue
        items[paper.id] = item
    if unreadable:
        log.warning("%s: %d records skipped: their label (first: %r) is not 1/0, yes/no or true/false", where,
                    len(unreadable), unreadable[0][:40])
    if untitled:
        log.warning("%s: %d records without a title skipped", where, untitled)
    if graded_only and not items:
        raise DatasetError(f"{where}: records have RELEVANCE but no label: pass --positive-threshold N")
    if not items:
        raise DatasetError(f"{where}: no labelled records (need a `label` field, or RELEVANCE with --positive-threshold)")
    return list(items.values())


def _first(rec: dict, *keys: str):
    return next((rec[k] for k in keys if rec.get(k) not in (None, "")), None)


def _label(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value > 0)
    text = str(value).strip().lower()
    if text in ("1", "yes", "y", "true", "include", "included", "relevant"):
        return 1
    if text in ("0", "no", "n", "false", "exclude", "excluded", "irrelevant"):
        return 0
    return None


def _number(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _paper(rec: dict, file_day: str | None) -> Paper | None:
    title = " ".join(str(rec.get("title") or "").split())
    if not title:
        return None
    raw_id = str(_first(rec, "arxiv_id", "ARXIVID", "id") or "")
    version = None
    try:
        pid, version = canonical_arxiv_id(raw_id)
    except ValueError:
        doi = rec.get("doi")
        pid = f"doi:{doi.lower()}" if doi else (raw_id if raw_id.startswith(("doi:", "title:")) else title_key(title))
    authors = rec.get("authors") or []
    if isinstance(authors, str):
        authors = [a.strip() for a in re.split(r";|,(?![^()]*\))", authors) if a.strip()]
    day = _date(_first(rec, "date", "announced", "source_file_date", "jack_run_date")) or _date(file_day)
    categories = rec.get("categories") or []
    return Paper(id=pid, version=version, title=title, abstract=_ANNOUNCE.sub("", str(rec.get("abstract") or "")).strip(),
                 authors=[str(a) for a in authors], categories=list(categories) if isinstance(categories, list) else
                 str(categories).split(), announced=day, source="eval")


def _date(value) -> date | None:
    if not value:
        return None
    match = _DAY.search(str(value))
    try:
        return date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None
