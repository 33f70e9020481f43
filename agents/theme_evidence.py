"""Whether a paper is on a review's theme, offline: judged against the theme, not ranked into a quota.

Similarity to the theme alone can't tell "KV cache compression" from LLM compression in general: both sit
close to the theme's embedding. Two kinds of evidence are read against the theme's own neighbourhood in
memory (its `NEIGHBOURHOOD` nearest papers, from both collections):

- similarity, calibrated: how many robust standard deviations a paper stands above that neighbourhood's
  median similarity, so a bar means the same for a broad theme (everything nearby is close) and a narrow one;
- the theme's specific words: each word's weight is how much more often it occurs among the theme's
  nearest papers than in the wider neighbourhood (log lift). Generic words ("LLM", "inference", "faster")
  occur everywhere nearby and weigh little; the words that make the theme what it is ("KV", "cache") weigh
  most. A paper must contain the specific words carrying `COVERAGE` of their weight, and its title must name
  the heaviest one: a paper whose main contribution is the theme names it there, one that only mentions it
  in passing does not.

A theme without such words (another script, or memory too small to measure) is judged by similarity alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from brief.agents.budget import relevance
from brief.models import Decision, Paper
from brief.protocols import RunMemory
from brief.text import STOPWORDS

NEIGHBOURHOOD = 1000  # memory papers nearest the theme: the background
NEAREST = 40  # of them, the nearest: where the theme's own words concentrate
MIN_NEIGHBOURHOOD = 30  # fewer than this: too few to measure a background; similarity decides as before
SPECIFIC_SHARE = 0.5  # a specific word weighs at least this share of the heaviest
COVERAGE = 2 / 3  # share of the specific words' weight a paper must contain

_WORD = re.compile(r"[A-Za-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")  # "CompressKV" names "KV"
# longest first; a theme names the noun ("mitigation", "quantization", "compression") where a title often has
# the verb ("Mitigating", "Quantizing", "Compressing"), so the noun's ending goes as the verb's does
_SUFFIXES = (("izations", "iz"), ("ization", "iz"), ("isations", "is"), ("isation", "is"), ("ations", ""),
             ("ation", ""), ("ating", ""), ("ated", ""), ("ates", ""), ("ate", ""), ("tions", "t"), ("tion", "t"),
             ("sions", "s"), ("sion", "s"), ("izing", "iz"), ("ized", "iz"), ("izes", "iz"), ("ize", "iz"),
             ("ing", ""), ("es", ""), ("ed", ""), ("s", ""))


def stem(word: str) -> str:
    """A light stem, so "caching", "caches" and "cache" match, and so do "mitigation", "mitigating" and
    "mitigate": one ending off (an inflection, or a noun's -ation / -tion / -sion / -ization; never the s of
    "compress" or "loss"), then a final e."""
    w = word.lower()
    for suffix, replacement in _SUFFIXES:
        if suffix == "s" and w.endswith("ss"):
            break
        if w.endswith(suffix) and len(w) - len(suffix) + len(replacement) >= 3:
            w = w[: -len(suffix)] + replacement
            break
    return w[:-1] if w.endswith("e") and len(w) > 3 else w


def _parts(text: str) -> list[str]:
    return [part for m in _WORD.finditer(text) for part in _CAMEL.split(m.group(0)) if part]


def stemmed(text: str) -> str:
    """The text as its stems, space-separated and padded, for `has`."""
    return " " + " ".join(stem(w) for w in _parts(text)) + " "


def has(text_stems: str, unit: str) -> bool:
    """Whether a `stemmed` text holds a theme word (one stem, or a compound's stems in a row, or its acronym)."""
    return any(f" {form} " in text_stems for form in unit.split("|"))


def _content(word: str) -> bool:
    acronym = len(word) == 2 and (word.isupper() or any(c.isdigit() for c in word))
    return (len(word) > 2 or acronym) and word.lower() not in STOPWORDS and not word.isdigit()


def theme_words(theme: str) -> list[tuple[str, str]]:
    """(form, unit) of the theme's content words; a two-letter word counts when written as an acronym ("KV").
    A hyphenated compound is one word: its stems in a row, and for three parts or more also its acronym
    ("vision-language-action" is "vision language action|vla"), so "EquiVLA" names it."""
    out: dict[str, str] = {}
    for token in theme.split():
        for piece in filter(None, re.split(r"[^A-Za-z0-9-]+", token)):
            parts = [w for w in _parts(piece) if _content(w)] if "-" not in piece.strip("-") else _parts(piece)
            if "-" in piece.strip("-") and len(parts) > 1:
                unit = " ".join(stem(w) for w in parts)
                if len(parts) >= 3:
                    unit += "|" + "".join(w[0] for w in parts).lower()
                out.setdefault(unit, piece.lower())
                continue
            for w in parts:
                if _content(w):
                    out.setdefault(stem(w), w.lower())
    return [(form, unit) for unit, form in out.items()]


class ThemeWord(BaseModel):
    form: str = Field(description="the word as the theme writes it (lower case)")
    stem: str = Field(description="what is matched: a stem, or a compound's stems in a row, alternatives joined by |")
    weight: float = Field(description="log lift: how much more often it occurs among the theme's nearest memory papers "
                                      "than in its wider neighbourhood; 0 for a word that does not concentrate near the theme")


class ThemeBackground(BaseModel):
    """The theme as memory sees it: its neighbourhood's similarity (what similarity is calibrated against)
    and the weight of each of its words."""

    neighbourhood: int = Field(0, description="memory papers nearest the theme the figures come from")
    center: float = Field(0.0, description="their median similarity to the theme")
    spread: float = Field(0.0, description="its robust spread (1.4826 × MAD)")
    words: list[ThemeWord] = Field(default_factory=list)
    specific: list[str] = Field(default_factory=list, description="stems of the words weighing at least half the heaviest")
    anchor: str = Field("", description="stem of the heaviest word: a paper's title must name it")

    def form(self, stem: str) -> str:
        return next((w.form for w in self.words if w.stem == stem), stem)


def theme_background(theme: str, vector: np.ndarray, memory: RunMemory) -> ThemeBackground:
    """The theme's background in memory: its NEIGHBOURHOOD nearest papers, both collections (a theme outside
    the weekly criteria lives mostly among the papers they screened out)."""
    records = [r for r in memory.search(vector, NEIGHBOURHOOD, None, True) if r.title and not r.stub]
    return measure(theme, [f"{r.title}. {r.abstract}" for r in records], [r.similarity or 0.0 for r in records])


def measure(theme: str, texts: list[str], similarities: list[float]) -> ThemeBackground:
    """The theme's background from its neighbourhood in memory, nearest first: `texts` are title and
    abstract, `similarities` their cosine similarity to the theme."""
    n = len(texts)
    if n < MIN_NEIGHBOURHOOD:
        return ThemeBackground(neighbourhood=n)
    sims = np.asarray(similarities, dtype=float)
    center = float(np.median(sims))
    spread = max(1.4826 * float(np.median(np.abs(sims - center))), 0.01)
    bags = [stemmed(t) for t in texts]
    k = min(NEAREST, n // 10)
    words = []
    for form, s in theme_words(theme):
        near = (sum(has(b, s) for b in bags[:k]) + 0.5) / (k + 1)
        everywhere = (sum(has(b, s) for b in bags) + 0.5) / (n + 1)
        words.append(ThemeWord(form=form, stem=s, weight=round(max(0.0, math.log(near / everywhere)), 4)))
    heaviest = max((w.weight for w in words), default=0.0)
    specific = [w.stem for w in words if heaviest > 0 and w.weight >= SPECIFIC_SHARE * heaviest]
    anchor = max(words, key=lambda w: w.weight).stem if specific else ""
    return ThemeBackground(neighbourhood=n, center=round(center, 4), spread=round(spread, 4), words=words,
                           specific=specific, anchor=anchor)


@dataclass
class Judgement:
    z: float | None  # standard deviations above the neighbourhood; None: no background to measure
    coverage: float | None  # share of the specific words' weight present; None: the theme has none
    titled: bool  # the title names the anchor word
    found: list[str]

    def lexical(self) -> bool:
        return self.coverage is None or (self.coverage >= COVERAGE - 1e-9 and self.titled)


def judge(background: ThemeBackground, paper: Paper, similarity: float) -> Judgement:
    z = (similarity - background.center) / background.spread if background.neighbourhood >= MIN_NEIGHBOURHOOD else None
    if not background.specific:
        return Judgement(z=z, coverage=None, titled=True, found=[])
    weight = {w.stem: w.weight for w in background.words}
    text = stemmed(f"{paper.title}. {paper.abstract}")
    found = [s for s in background.specific if has(text, s)]
    coverage = sum(weight[s] for s in found) / sum(weight[s] for s in background.specific)
    return Judgement(z=z, coverage=coverage, titled=has(stemmed(paper.title), background.anchor), found=found)


def theme_check(papers: list[Paper], similarity: Mapping[str, float], background: ThemeBackground | None,
                decisions: dict[str, Decision], min_z: float, floor: float) -> tuple[dict[str, Decision], int]:
    """Offline decisions against the theme: a paper qualifies when its calibrated similarity reaches `min_z`
    (the screener's own verdict when memory is too small to calibrate) and it carries the theme's specific
    words; for a theme without such words its similarity must also reach the screener's `floor`, the only
    guard left against a theme far from everything in memory. Returns the decisions, uncapped, and how many
    qualified."""
    if background is None:
        return decisions, sum(d.accepted for d in decisions.values())
    out = dict(decisions)
    for paper in papers:
        d = out.get(paper.id)
        if d is None or d.stage == "author":
            continue
        sim = similarity.get(paper.id, 0.0)
        j = judge(background, paper, sim)
        needs_floor = j.coverage is None
        close = d.accepted if j.z is None else j.z >= min_z and (sim >= floor or not needs_floor)
        ok = close and j.lexical()
        reason = d.reason if j.z is None else (f"similarity {sim:.2f}, {j.z:.1f} SD above the theme's "
                                               f"{background.neighbourhood} nearest memory papers (needs {min_z:g} SD"
                                               + (f" and {floor:.2f})" if needs_floor else ")"))
        update: dict = {"accepted": ok, "topic": d.topic if ok else None, "reason": _reason(background, j, reason)}
        if j.z is not None:
            update |= {"score": round(j.z, 4), "relevance": relevance(j.z) if j.lexical() else 1}
        out[paper.id] = d.model_copy(update=update)
    return out, sum(d.accepted for d in out.values())


def _reason(background: ThemeBackground, j: Judgement, similarity: str) -> str:
    parts = [similarity]
    if j.coverage is not None:
        named = ", ".join(background.form(s) for s in j.found) or "none"
        parts.append(f"the theme's specific words: {named} ({j.coverage:.0%} of their weight, needs {COVERAGE:.0%})")
        parts.append(f"title {'names' if j.titled else 'does not name'} “{background.form(background.anchor)}”")
    return "; ".join(parts)


def criteria_note(background: ThemeBackground | None, min_z: float, floor: float) -> str:
    """What an offline review's papers had to show, for the report."""
    if background is None or background.neighbourhood < MIN_NEIGHBOURHOOD:
        return "the screener's similarity to the theme (memory holds too few papers to calibrate against)"
    bar = background.center + min_z * background.spread
    bar = bar if background.specific else max(bar, floor)
    text = (f"similarity at least {min_z:g} SD above the theme's {background.neighbourhood} nearest memory papers "
            f"(≥ {bar:.2f})")
    if background.specific:
        words = ", ".join(f"“{background.form(s)}”" for s in background.specific)
        text += (f", the theme's specific words ({words}) carrying {COVERAGE:.0%} of their weight, and a title "
                 f"naming “{background.form(background.anchor)}”")
    return text
