"""Planner: turns a review theme into search queries and a one-topic screening criterion.

The theme a user types ("KV cache compression") is short; the papers that belong to it use many other
words. The planner looks at the papers nearest to the theme in the user's memory first, so both modes
search with the user's own vocabulary:

- offline: the queries are the theme and the distinctive terms of its nearest memory papers (against
  the wider neighbourhood), and the topic is the theme itself;
- with an LLM: a structured plan (scope, out-of-scope notes, 3-6 phrasings, keywords) from the theme and
  those terms and titles. Any failure falls back to the offline plan, with a note.

It also writes the arXiv query for a phrase (`arxiv_query`): fresh search is by words, not by meaning.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date

from pydantic import BaseModel, Field

from brief.agents.llm import LLMError, warn_fallback
from brief.protocols import LLM
from brief.models import QueryPlan
from brief.prompts import load as load_prompt
from brief.text import distinctive_terms, document_frequencies, terms, tokens
from brief.untrusted import flat_for_prompt

log = logging.getLogger(__name__)
MAX_QUERIES = 6
MAX_KEYWORDS = 8


class ReviewPlan(BaseModel):
    """The LLM's answer (see prompts/plan_review.md)."""

    description: str = Field(description="one or two sentences: what a paper must be about to belong")
    relevant: str = Field(description="the kinds of work that count")
    not_relevant: str = Field(description="nearby work that does not count, or empty")
    queries: list[str] = Field(description="3-6 search phrases of 2-6 words; the first is the theme itself")
    keywords: list[str] = Field(description="up to 8 terms a matching abstract would use")


_JOINS = frozenset({"for", "in", "on", "with", "via", "using", "under", "from", "of", "across", "within", "to"})


def theme_facets(theme: str) -> list[str]:
    """The two parts a composite theme joins, which a paper must both be about: "diffusion models for robot
    manipulation" → ["diffusion models", "robot manipulation"]; [] for a single-part theme. Split once, at
    the first relational word ("for", "in", "with", ...; never "and", which may join one idea, "vision and
    language"), so idioms later on stay whole ("tool use in the wild")."""
    words = theme.split()
    at = next((i for i, w in enumerate(words) if w.lower().strip(".,;:") in _JOINS), None)
    if at is None:
        return []
    facets = [" ".join(words[:at]).strip(".,;: "), " ".join(words[at + 1:]).strip(".,;: ")]
    return facets if all(tokens(f) or any(len(w) >= 2 and w.isupper() for w in f.split()) for f in facets) else []


def _clean(items: list[str], limit: int, max_chars: int = 100) -> list[str]:
    """Stripped, de-duplicated (case-insensitively), non-empty, each at most `max_chars`, at most `limit`."""
    out: dict[str, str] = {}
    for item in items:
        flat = " ".join(str(item).split())[:max_chars].strip()
        if flat and flat.lower() not in out:
            out[flat.lower()] = flat
    return list(out.values())[:limit]


def theme_keywords(theme: str) -> list[str]:
    """The theme's own phrases (adjacent content words, as written), or its content words when it has none:
    "diffusion models for robot manipulation" → ["robot manipulation"]."""
    content = set(tokens(theme))
    runs, run = [], []
    for word in theme.split():
        w = word.strip(".,;:()[]!?").lower()
        if w in content:
            run.append(w)
        else:
            runs.append(run)
            run = []
    runs.append(run)
    bigrams = [f"{a} {b}" for r in runs for a, b in zip(r, r[1:])]
    return bigrams or tokens(theme)


class Planner:
    def __init__(self, llm: LLM | None, embed, memory, k: int = 40, neighbourhood: int = 1000):
        """`embed` maps texts to unit vectors; `memory` is searched by `search(vector, k, since_week, include_seen)`.
        The k nearest papers give the terms; the `neighbourhood` nearest are what they must stand out from."""
        self.llm = llm
        self.embed = embed
        self.memory = memory
        self.k = k
        self.neighbourhood = max(neighbourhood, k)

    def nearest(self, theme: str) -> tuple[list[str], list[str]]:
        """(distinctive terms of the nearest memory papers, their titles), nearest first."""
        vector = self.embed([theme])[0]
        records = self.memory.search(vector, self.neighbourhood, None, True)  # both collections: see graphs/review
        records = [r for r in records if r.title and not r.stub]
        if not records:
            return [], []
        texts = [f"{r.title}. {r.abstract}" for r in records]
        own = set(terms(theme))
        found = distinctive_terms(texts[: self.k], document_frequencies(texts), k=12)
        nearest = [t for t in found if t not in own and not set(t.split()) <= set(tokens(theme))]
        return nearest[:8], [r.title for r in records[:12]]

    def offline(self, theme: str, nearest: list[str]) -> QueryPlan:
        """The theme, then the theme with each of its three most distinctive neighbouring terms."""
        extra = [f"{theme} {t}" for t in nearest[:3]]
        return QueryPlan(theme=theme, description=theme, queries=_clean([theme, *extra], MAX_QUERIES),
                         keywords=_clean(theme_keywords(theme), MAX_KEYWORDS), nearest_terms=nearest,
                         facets=theme_facets(theme), source="offline")

    def plan(self, theme: str) -> tuple[QueryPlan, list[str]]:
        """The plan and any notes for the report (e.g. that the LLM failed and the offline plan was used)."""
        nearest, titles = self.nearest(theme)
        if self.llm is None:
            return self.offline(theme, nearest), []
        values = {"theme": flat_for_prompt(theme), "terms": flat_for_prompt(", ".join(nearest)) or "(the library is empty)",
                  "titles": "\n".join(f"- {flat_for_prompt(t[:200])}" for t in titles) or "(none)"}
        key = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()
        try:
            draft = self.llm.ask(ReviewPlan, load_prompt("plan_review"), values, stage="plan", key=key)
        except LLMError as exc:
            warn_fallback(log, exc, "review planning failed (%s): planned offline", exc)
            return self.offline(theme, nearest), [f"planning: the LLM failed ({exc}); queries are the theme and its nearest memory terms"]
        queries = _clean([theme, *draft.queries], MAX_QUERIES)
        return QueryPlan(
            theme=theme, description=" ".join(draft.description.split())[:600] or theme,
            relevant=" ".join(draft.relevant.split())[:600], not_relevant=" ".join(draft.not_relevant.split())[:600],
            queries=queries, keywords=_clean(draft.keywords, MAX_KEYWORDS, 60) or _clean(theme_keywords(theme), MAX_KEYWORDS),
            nearest_terms=nearest, facets=theme_facets(theme), source="llm",
        ), []


def arxiv_query(phrase: str, since: date | None = None, until: date | None = None) -> str:
    """arXiv search syntax for a phrase: every content word required anywhere in the record
    (`all:"kv" AND all:"cache" AND all:"compression"`), optionally within submission dates. Stopwords are
    dropped (the API would match them everywhere); acronyms are kept however short; words are quoted so
    hyphenated terms pass through as typed."""
    content = set(tokens(phrase))
    kept: list[str] = []
    for raw in phrase.replace('"', " ").split():
        word = raw.strip(".,;:()[]!?")
        acronym = len(word) >= 2 and (word.isupper() or any(c.isdigit() for c in word))
        if word and (word.lower() in content or acronym) and word.lower() not in kept:
            kept.append(word.lower())
    query = " AND ".join(f'all:"{w}"' for w in kept[:8]) or f'all:"{" ".join(phrase.split())}"'
    if since or until:
        start = f"{since:%Y%m%d}0000" if since else "199101010000"
        end = f"{until:%Y%m%d}2359" if until else "209912312359"
        query = f"({query}) AND submittedDate:[{start} TO {end}]"
    return query
