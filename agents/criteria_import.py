"""Import criteria written for other screeners: `brief init --from-topics FILE`.

Many arXiv screeners (gpt_paper_assistant and its forks) keep criteria as a numbered text file:

     1. Short title or one-sentence description
        - Relevant: what counts
        - Not relevant: what doesn't          (also "Irrelevant:")
     In suggesting papers to your friend, remember that he enjoys ...   (free text: general interests)
     **Keywords:**
     - Relevant: a, b, c
     - Irrelevant: d, e

plus an `authors.txt` ("Name, SemanticScholarId" a line, `#` comments) and a `config.ini` whose
`arxiv_category` names the feed. People already tuned these files; re-typing them into TOML loses
detail, so this module turns them into a `brief.toml` with one `[[criteria.topics]]` per numbered topic.
Parsing is line-based and forgiving (markdown headers, comments, wrapped lines, "5.Title" without a
space, unnumbered "Name - Relevant: ... - Irrelevant: ..." lines), because these files are hand-written.
"""

from __future__ import annotations

import configparser
import json
import re
from pathlib import Path

from pydantic import BaseModel, Field

from brief.config import Criteria, Topic
from brief.config_file import read_user_file

_NUMBERED = re.compile(r"^\s*(\d{1,2})\s*[.)]\s*(\S.*)$")
_NOTE = re.compile(r"^\s*[-*•]\s*(relevant|not relevant|irrelevant|keywords?|application)\s*:\s*(.*)$", re.I)
_INLINE = re.compile(r"\s+-\s+(Relevant|Not relevant|Irrelevant)\s*:\s*", re.I)
_KEYWORDS_HEADER = re.compile(r"^\W*keywords\W*$", re.I)
_LEADING_VERB = re.compile(r"^(shows|describes|conducts|studies|presents|proposes|introduces|papers (on|about))\s+(an?\s+|the\s+)?", re.I)
_STOP_TAIL = {"a", "an", "and", "or", "of", "for", "to", "the", "in", "on", "with", "by", "at", "its", "their"}
MAX_NAME_WORDS = 12


class ImportedCriteria(BaseModel):
    """What a topics file (and its neighbours) say, before it becomes a `Criteria`."""

    topics: list[Topic]
    interests: str = ""
    include_keywords: list[str] = Field(default_factory=list, description="the file's 'Relevant' keywords")
    avoid_keywords: list[str] = Field(default_factory=list, description="the file's 'Irrelevant' keywords")
    authors: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list, description="arXiv categories from config.ini")
    primary_only: bool | None = None

    def criteria(self) -> Criteria:
        interests = self.interests
        if self.avoid_keywords:
            interests = (interests + " " if interests else "") + "Not interested in: " + ", ".join(self.avoid_keywords) + "."
        return Criteria(topics=self.topics, authors=self.authors, include_keywords=self.include_keywords,
                        interests=interests)


class _Draft:
    def __init__(self, header: str):
        self.header = header.strip()
        self.relevant: list[str] = []
        self.not_relevant: list[str] = []
        self.keywords: list[str] = []
        self.last = "header"

    def add(self, field: str, text: str) -> None:
        text = text.strip()
        if field == "header":
            self.header = f"{self.header} {text}".strip()
        elif text:
            getattr(self, field).append(text)
        self.last = field


def topic_name(header: str) -> str:
    """A short topic name from a numbered line, which is often a whole sentence.

    "Shows new VLLMs (visual large language models) or MLLMs (...)" → "New VLLMs or MLLMs";
    "Spatial Intelligence and Embodied Agents Papers presenting ..." → "Spatial Intelligence and Embodied Agents".
    """
    text = re.sub(r"\s*\([^)]*\)", "", header).strip()
    words = text.split()
    if " Papers " in f" {' '.join(words[:12])} " and not text.startswith("Papers "):
        text = text[: text.index(" Papers")] if " Papers" in text else text
    text = re.split(r"[.;:!?](?:\s|$)|\s+(?:which|that|where|who)\s+|\s+[—–-]\s+", text, maxsplit=1)[0]
    text = _LEADING_VERB.sub("", text).strip(" ,;:.")
    words = text.split()[:MAX_NAME_WORDS]
    while len(words) > 2 and words[-1].lower().strip(",") in _STOP_TAIL:
        words.pop()
    name = " ".join(words).strip(" ,") or header.strip()[:60]
    for i, ch in enumerate(name):
        if ch.isalpha():
            return name[:i] + ch.upper() + name[i + 1 :]
    return name


def _split_keywords(text: str) -> list[str]:
    """"tidal disruption event (TDE), SMBH, etc." → ["tidal disruption event", "TDE", "SMBH"]."""
    out: list[str] = []
    for part in re.split(r"[,;]", text):
        part = part.strip().strip(".").strip()
        if not part or part.lower() in ("etc", "etc."):
            continue
        inner = re.findall(r"\(([^)]+)\)", part)
        base = re.sub(r"\s*\([^)]*\)", "", part).strip()
        for kw in [base, *inner]:
            for piece in kw.split("/") if len(kw) < 40 and kw.count("/") == 1 and " " not in kw else [kw]:
                piece = piece.strip()
                if piece and piece.lower() not in {k.lower() for k in out}:
                    out.append(piece)
    return out


def parse_topics(text: str) -> ImportedCriteria:
    """Parse a numbered-topics text file. Raises ValueError when it holds no topic."""
    drafts: list[_Draft] = []
    interests: list[str] = []
    include: list[str] = []
    avoid: list[str] = []
    in_keywords = False
    blank_since_topic = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            blank_since_topic = True
            continue
        if line.startswith("#") and not _NUMBERED.match(line):
            continue  # comments and markdown headers
        if _KEYWORDS_HEADER.match(line):
            in_keywords = True
            continue
        note = _NOTE.match(line)
        if in_keywords and note:
            kind = note.group(1).lower()
            if kind == "relevant":
                include += _split_keywords(note.group(2))
            elif kind in ("irrelevant", "not relevant"):
                avoid += _split_keywords(note.group(2))
            continue
        numbered = _NUMBERED.match(line)
        if numbered or (not note and _INLINE.search(line) and not in_keywords):
            in_keywords = False
            body = numbered.group(2) if numbered else line
            parts = _INLINE.split(body)
            draft = _Draft(parts[0])
            for label, value in zip(parts[1::2], parts[2::2]):
                draft.add("relevant" if label.lower() == "relevant" else "not_relevant", value)
            drafts.append(draft)
            blank_since_topic = False
            continue
        if note and drafts:
            kind = note.group(1).lower()
            if kind in ("keyword", "keywords"):
                drafts[-1].keywords += _split_keywords(note.group(2))
            elif kind != "application":
                drafts[-1].add("relevant" if kind == "relevant" else "not_relevant", note.group(2))
            blank_since_topic = False
            continue
        if drafts and not blank_since_topic:
            drafts[-1].add(drafts[-1].last, line)  # a wrapped line continues what came before it
        elif drafts:
            interests.append(line)  # free text after the topics: the general interests paragraph
    if not drafts:
        raise ValueError("no numbered topics found (expected lines like '1. Topic' with '- Relevant:' notes)")
    topics: list[Topic] = []
    used: set[str] = set()
    for draft in drafts:
        name = topic_name(draft.header)
        base, n = name, 2
        while name.lower() in used:
            name, n = f"{base} ({n})", n + 1
        used.add(name.lower())
        topics.append(Topic(name=name, description=draft.header, relevant=" ".join(draft.relevant),
                            not_relevant=" ".join(draft.not_relevant), keywords=draft.keywords))
    return ImportedCriteria(topics=topics, interests=" ".join(interests), include_keywords=include, avoid_keywords=avoid)


def parse_authors(text: str) -> list[str]:
    """`authors.txt`: "Name, SemanticScholarId" (the id is optional), `#` comments, blank lines."""
    names: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name = re.sub(r"\s*,\s*\d+\s*$", "", line).strip().strip(",").strip()
        if name and name not in names:
            names.append(name)
    return names


def parse_config_ini(text: str) -> tuple[list[str], bool | None]:
    """The feed's arXiv categories and force_primary from a gpt_paper_assistant `config.ini`."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#",), strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return [], None
    section = parser["FILTERING"] if parser.has_section("FILTERING") else None
    if section is None:
        return [], None
    cats = [c.strip() for c in section.get("arxiv_category", "").split(",") if c.strip()]
    primary = section.get("force_primary")
    return cats, None if primary is None else primary.strip().lower() in ("true", "1", "yes")


def import_criteria(topics_path: Path, authors_path: Path | None = None, config_path: Path | None = None) -> ImportedCriteria:
    """Read a topics file and, when present beside it (or given), its authors.txt and config.ini; a file
    that can't be read is a ConfigError (a ValueError): `PATH not found` or `cannot read PATH: why`."""
    imported = parse_topics(read_user_file(topics_path))
    authors_path = authors_path or _beside(topics_path, "authors.txt")
    if authors_path is not None:
        imported.authors = parse_authors(read_user_file(authors_path))
    config_path = config_path or _beside(topics_path, "config.ini")
    if config_path is not None:
        imported.categories, imported.primary_only = parse_config_ini(read_user_file(config_path))
    return imported


def _beside(path: Path, name: str) -> Path | None:
    for folder in (path.parent, path.parent.parent / "configs"):
        if (folder / name).is_file():
            return folder / name
    return None


def _s(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def _list(items: list[str]) -> str:
    return "[" + ", ".join(_s(i) for i in items) + "]"


def to_toml(imported: ImportedCriteria, source: str, demo_text: str) -> str:
    """A complete brief.toml: the imported criteria, then the demo config's other sections (commented)."""
    lines = [
        f"# brief.toml imported from {source} by `brief init --from-topics`.",
        "# Each numbered topic became a [[criteria.topics]]: check the short names, and add `keywords`",
        "# (scored by stage 1) and per-topic `threshold`s where useful.",
        "",
        "[criteria]",
        "# Papers by these authors are always kept (reason \"author match\").",
        f"authors = {_list(imported.authors)}",
        "# A paper mentioning any of these is always sent to the LLM screener (the file's relevant keywords).",
        f"include_keywords = {_list(imported.include_keywords)}",
    ]
    if imported.avoid_keywords:
        lines += ["# The file's irrelevant keywords are given to the LLM in `interests`; uncomment to drop such",
                  "# papers outright instead (a whole-word match anywhere in the title or abstract):",
                  f"# exclude_keywords = {_list(imported.avoid_keywords)}"]
    lines += ["exclude_keywords = []", f"interests = {_s(imported.criteria().interests)}", ""]
    for topic in imported.topics:
        lines += ["[[criteria.topics]]", f"name = {_s(topic.name)}", f"description = {_s(topic.description)}"]
        lines += [f"relevant = {_s(topic.relevant)}"] if topic.relevant else []
        lines += [f"not_relevant = {_s(topic.not_relevant)}"] if topic.not_relevant else []
        lines += [f"keywords = {_list(topic.keywords)}", ""]
    rest = demo_text[demo_text.index("[screening]"):] if "[screening]" in demo_text else ""
    rest = re.sub(r"(?ms)^\[screening\].*?(?=^\[)", _SCREENING, rest)
    if imported.categories:
        rest = re.sub(r"(?m)^categories = \[.*\]$", f"categories = {_list(imported.categories)}", rest, count=1)
    if imported.primary_only is not None:
        rest = re.sub(r"(?m)^primary_only = \w+$", f"primary_only = {str(imported.primary_only).lower()}", rest, count=1)
    return "\n".join(lines) + rest


_SCREENING = """[screening]
accept_relevance = 6        # LLM relevance (1-10) needed to accept
similarity_threshold = 0.30 # offline: cosine similarity to a topic needed to accept
prefilter = true            # false: every paper goes to the LLM (costs ~3x the tokens)
recall_target = 0.95        # stage 1's cut adapts to keep this share of what the LLM would accept
max_accepted = 40           # cap on accepted papers per week, best first

"""
