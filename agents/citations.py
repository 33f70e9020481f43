"""Citations in generated text: one canonical form, normalised, and checked against real papers.

Generated prose may cite a paper only as `[arXiv:ID]` (or `[doi:...]` / `[title:...]` for papers without
an arXiv id), and only if the paper is one this run accepted or one memory holds. Models write citations
loosely (`[2606.01234v2]`, `[arXiv:a, arXiv:b]`, a bare `arXiv:...`), so text is first normalised to the
canonical form; anything that then fails to resolve is an invented or mistyped reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from brief.ids import citations, cite_key

_ARXIV = r"(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})"
_ONE = re.compile(rf"(?i)^(?:arxiv\s*:\s*)?({_ARXIV})(?:v\d+)?$")
_OTHER = re.compile(r"(?i)^(doi:\S+|title:[0-9a-f]+)$")
_GROUP = re.compile(r"\[([^\[\]\n]{1,400})\]")
_SEPARATORS = re.compile(r"\s*(?:[,;]|\band\b)\s*")
_PAREN = re.compile(rf"(?i)\(\s*arxiv\s*:\s*({_ARXIV})(?:v\d+)?\s*\)")
_BARE = re.compile(rf"(?i)(?<![\[\w/.])arxiv\s*:\s*({_ARXIV})(?:v\d+)?")
# a link to a paper's arXiv page, as Markdown or bare: the canonical key (brief renders the link itself)
_URL = rf"<?https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/({_ARXIV})(?:v\d+)?(?:\.pdf)?/?>?"
_LINK = re.compile(rf"(?i)\[[^\[\]\n]{{0,300}}\]\(\s*{_URL}\s*\)|\(\s*{_URL}\s*\)|{_URL}")


def paper_id(key: str) -> str:
    return key.removeprefix("arXiv:")


def _group(match: re.Match) -> str:
    pieces = [p for p in _SEPARATORS.split(match.group(1).strip()) if p]
    keys = []
    for piece in pieces:
        one = _ONE.match(piece)
        other = _OTHER.match(piece)
        if one:
            keys.append(f"[arXiv:{one.group(1)}]")
        elif other:
            keys.append(f"[{other.group(1)}]")
        else:
            return match.group(0)  # not a citation list (e.g. "[1]" or "[see below]"): leave it alone
    return " ".join(keys)


def normalise(text: str) -> str:
    """Rewrite loose citation forms to the canonical `[arXiv:ID]`, one key per bracket, versions dropped; a link to
    a paper's arXiv page becomes its key."""
    text = _LINK.sub(lambda m: f"[arXiv:{next(g for g in m.groups() if g)}]", text)
    text = _GROUP.sub(_group, text)
    text = _PAREN.sub(lambda m: f"[arXiv:{m.group(1)}]", text)
    return _BARE.sub(lambda m: f"[arXiv:{m.group(1)}]", text)


def unique(keys: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(keys))


def strip_invalid(text: str, allowed: set[str]) -> tuple[str, list[str]]:
    """Remove citations not in `allowed`; returns the tidied text and the removed keys (unique, in order)."""
    removed = unique(c for c in citations(text) if c not in allowed)
    for bad in removed:
        text = text.replace(f"[{bad}]", "")
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"\s+([.,;:)])", r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    return text.strip(), removed


class CitationChecker:
    """Knows which keys resolve: this run's papers up front, memory's papers asked lazily (and remembered)."""

    def __init__(self, allowed: Iterable[str], resolve: Callable[[list[str]], Iterable[str]] | None = None):
        self.allowed = set(allowed)
        self._resolve = resolve
        self._unknown: set[str] = set()

    def invalid(self, text: str) -> list[str]:
        """Keys cited in `text` (canonical form) that neither this run nor memory knows."""
        asked = [c for c in unique(citations(text)) if c not in self.allowed and c not in self._unknown]
        if asked and self._resolve is not None:
            found = {cite_key(i) for i in self._resolve([paper_id(c) for c in asked])}
            self.allowed |= found
        self._unknown |= {c for c in asked if c not in self.allowed}
        return [c for c in unique(citations(text)) if c not in self.allowed]

    def clean(self, text: str) -> tuple[str, list[str]]:
        """Strip every citation that does not resolve."""
        self.invalid(text)
        return strip_invalid(text, self.allowed)
