"""Read a user's own library: BibTeX (.bib), a Zotero CSV export, or a plain list of arXiv ids / DOIs.

Each reader turns entries into `Entry` (a Paper, its date when the file gives a full one, and whether only
an id is known) and lists what it could not read. The paper id is canonical, as everywhere in brief: the
arXiv id (from `eprint`, an arXiv URL, an arXiv DOI `10.48550/arXiv.*`, or `arXiv:` in a note), else
`doi:<doi>`, else a hash of the title. No network: metadata comes from the file itself.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from datetime import date

from pydantic import BaseModel

from brief.models import Paper
from brief.ids import canonical_arxiv_id, title_key


class Entry(BaseModel):
    paper: Paper
    day: date | None = None  # a full date from the file (not a bare year)
    week: str | None = None  # the first-seen week a `brief memory export` note recorded
    undated: bool = False  # ... and that week was an import week, not the paper's own
    stub: bool = False  # only an id: no title, no text


class ReadResult(BaseModel):
    entries: list[Entry]
    problems: list[str]


_ARXIV_IN_TEXT = re.compile(r"(?:arxiv[:/.\s]*(?:abs/|pdf/)?|10\.48550/arxiv\.)(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?)", re.IGNORECASE)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>{}]+)", re.IGNORECASE)
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


def _arxiv_from(*texts: str) -> tuple[str, int | None] | None:
    """The first arXiv id any of `texts` holds (a bare id, a URL, `arXiv:` in a note, arXiv's DOI), with
    the version any of them gives for that id (Zotero: the id in Extra, the version in Url)."""
    found: list[tuple[str, int | None]] = []
    for text in texts:
        if not text:
            continue
        try:
            found.append(canonical_arxiv_id(text.strip()))
            continue
        except ValueError:
            pass
        match = _ARXIV_IN_TEXT.search(text)
        if match:
            try:
                found.append(canonical_arxiv_id(match.group(1)))
            except ValueError:
                pass
    if not found:
        return None
    pid = found[0][0]
    return pid, max((v for i, v in found if i == pid and v), default=None)


def doi_of(text: str) -> str | None:
    match = _DOI.search(text or "")
    return match.group(1).rstrip(".,;)").lower() if match else None


def paper_id(title: str, arxiv: tuple[str, int | None] | None, doi: str | None) -> tuple[str, int | None]:
    if arxiv:
        return arxiv
    if doi:
        return f"doi:{doi}", None
    return title_key(title), None


def full_date(text: str) -> date | None:
    """`2024-03-15` (or its prefix of a longer timestamp) → date; a bare year or month is not a date."""
    match = re.search(r"(\d{4})-(\d{1,2})-(\d{1,2})", text or "")
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


# -- BibTeX --------------------------------------------------------------------------------------------

_ACCENTS = {'"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304", ".": "\u0307",
            "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a"}
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł",
            "aa": "å", "AA": "Å", "i": "ı", "textbackslash": "\\", "textasciitilde": "~", "textasciicircum": "^",
            "textendash": "–", "textemdash": "—", "textquoteright": "’", "textquoteleft": "‘", "textunderscore": "_"}


def detex(text: str) -> str:
    """BibTeX field text → plain Unicode: accents, escaped specials and protective braces resolved
    (the inverse of report.bibtex.tex for what it escapes). Unknown commands (\\emph) keep their argument."""
    keep = {"\\": "\x03", "~": "\x04", "{": "\x01", "}": "\x02"}  # literal characters, restored at the end
    text = re.sub(r"\\([\"'`^~=.])\s*\{?\s*\\?([A-Za-z])\}?",
                  lambda m: unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)]), text)
    text = re.sub(r"\\([uvHckr])(?:\s+|\{)\\?([A-Za-z])\}?",
                  lambda m: unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)]), text)
    text = re.sub(r"\\([A-Za-z]+)(?:\{\}|(?![A-Za-z])\s?)",
                  lambda m: "".join(keep.get(ch, ch) for ch in _LETTERS.get(m.group(1), "")), text)
    text = re.sub(r"\\([&%$#_{}])", lambda m: keep.get(m.group(1), m.group(1)), text)
    text = re.sub(r"(?<!\\)~", " ", text.replace("{", "").replace("}", ""))
    for literal, mark in keep.items():
        text = text.replace(mark, literal)
    return " ".join(text.split())


def _split_top(text: str, sep: re.Pattern[str]) -> list[str]:
    """Split on `sep` outside braces."""
    parts, depth, start = [], 0, 0
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            match = sep.match(text, pos)
            if match:
                parts.append(text[start:pos])
                start = pos = match.end()
                continue
        pos += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA = re.compile(r",")


def bib_names(raw: str) -> list[str]:
    """`Smith, John and Jane Doe` → ["John Smith", "Jane Doe"]; `others` dropped."""
    names = []
    for part in _split_top(raw, _AND):
        if part.lower() == "others":
            continue
        pieces = _split_top(part, _COMMA)
        if len(pieces) == 2 and pieces[1].lower() not in _SUFFIXES:
            part = f"{pieces[1]} {pieces[0]}"
        elif len(pieces) == 3:  # von Last, Jr, First
            part = f"{pieces[2]} {pieces[0]} {pieces[1]}"
        elif len(pieces) == 2:
            part = f"{pieces[0]}, {pieces[1]}"
        name = detex(part)
        if name:
            names.append(name)
    return names


def parse_bibtex(text: str) -> tuple[list[tuple[str, str, dict[str, str]]], list[str]]:
    """Entries as (type, key, {field: raw value}), lower-case field names; @string macros expanded,
    @comment and @preamble skipped. Values are raw (braces kept) for the caller to detex."""
    entries: list[tuple[str, str, dict[str, str]]] = []
    problems: list[str] = []
    macros: dict[str, str] = {}
    pos = 0
    while (at := text.find("@", pos)) != -1:
        match = re.compile(r"@\s*([A-Za-z]+)\s*([{(])").match(text, at)
        if not match:
            pos = at + 1
            continue
        kind = match.group(1).lower()
        close = "}" if match.group(2) == "{" else ")"
        body_start = match.end()
        end = _matching(text, body_start - 1, close)
        if end is None:
            problems.append(f"@{kind} at character {at}: no closing {close!r} (truncated file?): skipped the rest")
            break
        body = text[body_start:end]
        pos = end + 1
        if kind in ("comment", "preamble"):
            continue
        if kind == "string":
            for name, value in _fields(body, macros):
                macros[name] = value
            continue
        key, _, rest = body.partition(",")
        fields = dict(_fields(rest, macros))
        entries.append((kind, key.strip(), fields))
    return entries, problems


def _matching(text: str, open_at: int, closer: str) -> int | None:
    """Where the entry opened at `open_at` closes: its `}` (or `)`) outside any braces."""
    depth = 0
    for pos in range(open_at + 1, len(text)):
        ch = text[pos]
        if ch in "{}" and text[pos - 1] == "\\":
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0 and closer == "}":
                return pos
            depth -= 1
        elif ch == ")" and closer == ")" and depth == 0:
            return pos
    return None


def _fields(body: str, macros: dict[str, str]) -> Iterator[tuple[str, str]]:
    """name = {value} | "value" | number | macro, joined by #."""
    pos, n = 0, len(body)
    while pos < n:
        match = re.compile(r"\s*,?\s*([A-Za-z][\w\-:.+]*)\s*=\s*").match(body, pos)
        if not match:
            break
        name, pos = match.group(1).lower(), match.end()
        value = []
        while pos < n:
            ch = body[pos]
            if ch == "{":
                end = _braced_end(body, pos)
                value.append(body[pos + 1:end])
                pos = end + 1
            elif ch == '"':
                end = pos + 1
                depth = 0
                while end < n and (body[end] != '"' or depth > 0):
                    depth += {"{": 1, "}": -1}.get(body[end], 0)
                    end += 1
                value.append(body[pos + 1:end])
                pos = end + 1
            else:
                word = re.compile(r"[^\s,#}]+").match(body, pos)
                if not word:
                    break
                value.append(macros.get(word.group(0).lower(), word.group(0)))
                pos = word.end()
            hash_ = re.compile(r"\s*#\s*").match(body, pos)
            if not hash_:
                break
            pos = hash_.end()
        yield name, "".join(value)


def _braced_end(text: str, start: int) -> int:
    depth = 0
    for pos in range(start, len(text)):
        if text[pos] == "\\":
            continue
        if text[pos] == "{" and (pos == 0 or text[pos - 1] != "\\"):
            depth += 1
        elif text[pos] == "}" and (pos == 0 or text[pos - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return pos
    return len(text)


def read_bibtex(text: str) -> ReadResult:
    raw_entries, problems = parse_bibtex(text)
    entries = []
    for kind, key, f in raw_entries:
        title = detex(f.get("title", ""))
        arxiv = None
        prefix = f.get("archiveprefix", f.get("eprinttype", "")).lower()
        if f.get("eprint") and (prefix in ("", "arxiv")):
            arxiv = _arxiv_from(f["eprint"])
        arxiv = arxiv or _arxiv_from(f.get("arxiv", ""), f.get("url", ""), f.get("doi", ""), f.get("journal", ""),
                                     f.get("note", ""), f.get("howpublished", ""), f.get("eprint", ""))
        doi = doi_of(detex(f.get("doi", "")))
        if not title and not arxiv and not doi:
            problems.append(f"@{kind}{{{key}}}: no title, arXiv id or DOI: skipped")
            continue
        pid, version = paper_id(title, arxiv, doi)
        classes = detex(f.get("primaryclass", ""))
        day = full_date(detex(f.get("date", ""))) or _ymd(f)
        paper = Paper(
            id=pid, version=version, title=title or pid, abstract=detex(f.get("abstract", "")),
            authors=[a for a in bib_names(f.get("author", "")) if a != "Unknown"],  # report/bibtex.py's placeholder
            categories=[classes] if classes else [],
            published=day, source="bibtex", sources=["bibtex"],
            url=detex(f.get("url", "")) or (f"https://arxiv.org/abs/{pid}" if arxiv else None),
            doi=doi if doi and not doi.startswith("10.48550/") else None,
            journal_ref=detex(f.get("journal", "") or f.get("booktitle", "")) or None,
        )
        noted = _BRIEF_NOTE.search(detex(f.get("note", "")))
        entries.append(Entry(paper=paper, day=day, stub=not title, week=noted.group(1) if noted else None,
                             undated=bool(noted and noted.group(2))))
    return ReadResult(entries=entries, problems=problems)


_BRIEF_NOTE = re.compile(r"brief memory: \w+, first seen (\d{4}-W\d{2})(, undated)?")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def _ymd(f: dict[str, str]) -> date | None:
    """year + month + day fields → a date; without a day it is not a date (first-seen is then the import week)."""
    try:
        year, day = int(detex(f.get("year", ""))), int(detex(f.get("day", "")))
        month_text = detex(f.get("month", "")).lower()[:3]
        month = _MONTHS.get(month_text) or int(month_text)
        return date(year, month, day)
    except ValueError:
        return None


# -- Zotero CSV and other spreadsheets ----------------------------------------------------------------

_COLUMNS = {
    "title": ("title", "document title"),
    "authors": ("author", "authors", "creators"),
    "abstract": ("abstract note", "abstract"),
    "doi": ("doi",),
    "url": ("url", "link", "pdf link", "abs"),
    "date": ("date", "publication date", "date published"),
    "extra": ("extra", "archive id", "archive location", "report number", "notes"),
    "journal": ("publication title", "journal", "source"),
}


def read_csv(text: str) -> ReadResult:
    """A Zotero CSV export (Title, Author "Last, First; …", Abstract Note, DOI, Url, Date, Extra "arXiv:…
    [cs]"), or any spreadsheet with similar column names."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {(h or "").strip().lower(): h for h in (reader.fieldnames or [])}
    col = {k: next((header[c] for c in names if c in header), None) for k, names in _COLUMNS.items()}
    if col["title"] is None:
        return ReadResult(entries=[], problems=[f"no Title column (columns: {', '.join(header.values()) or 'none'})"])
    entries, problems = [], []
    for line, row in enumerate(reader, 2):
        def get(key: str) -> str:  # called only within this iteration: `row` is the current one
            return " ".join(str(row.get(col[key]) or "").split()) if col[key] else ""  # noqa: B023

        title, extra, url, doi_text = get("title"), get("extra"), get("url"), get("doi")
        arxiv = _arxiv_from(extra, url, doi_text)
        doi = doi_of(doi_text)
        if not title and not arxiv and not doi:
            problems.append(f"row {line}: no title, arXiv id or DOI: skipped")
            continue
        authors = [a.strip() for a in re.split(r";", get("authors")) if a.strip()]
        authors = [f"{a.split(',', 1)[1].strip()} {a.split(',', 1)[0].strip()}" if a.count(",") == 1 else a for a in authors]
        pid, version = paper_id(title, arxiv, doi)
        archive = re.search(r"\[([a-z\-]+(?:\.[A-Za-z\-]+)?)\]", extra)
        day = full_date(get("date"))
        paper = Paper(
            id=pid, version=version, title=title or pid, abstract=get("abstract"), authors=authors,
            categories=[archive.group(1)] if archive else [], published=day, source="csv", sources=["csv"],
            url=url or (f"https://arxiv.org/abs/{pid}" if arxiv else None),
            doi=doi if doi and not doi.startswith("10.48550/") else None, journal_ref=get("journal") or None,
        )
        entries.append(Entry(paper=paper, day=day, stub=not title))
    return ReadResult(entries=entries, problems=problems)


# -- a list of ids ---------------------------------------------------------------------------------------

def read_id_list(text: str) -> ReadResult:
    """One arXiv id, arXiv URL, DOI or doi.org URL per line; text after the id (tab, ` - ` or spaces) is
    taken as the title. `#` starts a comment. Lines with only an id become stubs."""
    entries, problems = [], []
    for line_no, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        head, *more = line.split(None, 1)
        rest = more[0] if more else ""
        title = re.sub(r"^[\-–—:|,;\s]+", "", rest).strip()
        arxiv = _arxiv_from(head)
        doi = None if arxiv else doi_of(head)
        if not arxiv and not doi:
            problems.append(f"line {line_no}: {head[:60]!r} is neither an arXiv id nor a DOI: skipped")
            continue
        pid, version = paper_id(title, arxiv, doi)
        paper = Paper(id=pid, version=version, title=title or pid, source="ids", sources=["ids"],
                      url=f"https://arxiv.org/abs/{pid}" if arxiv else f"https://doi.org/{doi}", doi=doi)
        entries.append(Entry(paper=paper, stub=not title))
    return ReadResult(entries=entries, problems=problems)
