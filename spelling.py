"""How a phrase is written: a theme name's capitals, a term's case in running text, and acronyms.

- A name shows its most frequent spelling with each lower-case word capitalised ("Diffusion Policy"); a term in
  running text is lower-case but for acronyms, CamelCase and eponyms ("KV cache", "3D Gaussian splatting").
- An acronym stands for a phrase whose initials begin or end it ("ASR" for "Speech Recognition").
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from importlib import resources


_ACROSTIC = re.compile(r"[A-Z]{2}[a-z]{4,}")  # "COverage" in "Semantic Scene COverage (SSCO)": an acronym's spelling


def display(spellings: Counter) -> str:
    """The most frequent spelling, each lower-case word capitalised (acronyms and CamelCase kept)."""
    best = spellings.most_common(1)[0][0]
    return " ".join(w.upper() if any(c.isdigit() for c in w) and len(w) <= 4
                    else w[0] + w[1:].lower() if _ACROSTIC.fullmatch(w)
                    else w if any(c.isupper() for c in w)
                    else w[:1].upper() + w[1:] for w in best.split())


def abbreviates(acronym: str, short: str) -> bool:
    """Whether an acronym stands for a phrase whose initials are `short`: it begins or ends with them, at most two
    letters more ("ASR" for "Speech Recognition" (SR), "3DGS" for "Gaussian Splatting"). Same case for both."""
    return (acronym.startswith(short) or acronym.endswith(short)) and len(acronym) <= len(short) + 2


def initials(written: str) -> str:
    """"3D Gaussian Splatting" → "3DGS", "Vision-Language-Action" → "VLA": the phrase's acronym."""
    words = [part for w in written.split() for part in w.split("-") if part]
    return "".join(w if any(c.isdigit() for c in w) else w[0] for w in words).upper()


def acronym_in(word: str) -> bool:
    """A part of the word (hyphens apart) written with two capitals: "VLA", "Qwen3-VL-8B", "SWE-bench"; not a
    title's capitals ("Multi-Agent")."""
    return any(sum(c.isupper() for c in part) >= 2 for part in word.split("-"))


def word_keeps_case(word: str) -> bool:
    """An acronym or a name as written: "VLA", "CamelCase", "3D", "6DoF" (not an acrostic's "COverage")."""
    uppers = sum(c.isupper() for c in word)
    return (uppers >= 2 and not _ACROSTIC.fullmatch(word)) or (uppers >= 1 and any(c.isdigit() for c in word))


def keeps_case(written: str) -> bool:
    return any(word_keeps_case(w) for w in written.split())


@functools.cache
def eponyms() -> frozenset[str]:
    """Words from a person's name (data/eponyms.txt): "Gaussian", "Markov"; capitalised wherever they stand."""
    text = resources.files("brief").joinpath("data/eponyms.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


def term_case(written: str) -> str:
    """A phrase as a term in running text: "KV Cache" → "KV cache", "Cross-Lingual ASR" → "cross-lingual ASR",
    "3D gaussian" → "3D Gaussian"."""
    def case(part: str) -> str:
        if word_keeps_case(part):
            return part
        return part.capitalize() if part.lower() in eponyms() else part.lower()

    return " ".join("-".join(case(part) for part in w.split("-")) for w in written.split())
