"""Author names as sources give them, made names: entries split inside their affiliations joined again,
affiliations dropped, TeX accents read. Below every layer that holds papers (models validates with it)."""

from __future__ import annotations

import functools
import re


_AFFILIATION = re.compile(r"\s*\([^()]*\)")
# "Kowalczyk, M." / "Smith, John A." (bioRxiv, medRxiv and journal feeds, BibTeX): surname first, given names after
_GIVEN = re.compile(r"^(?:(?:[A-Z][a-z]?\.|[A-Z][\w'\-]*\.?)(?:[\s\-]+|$)){1,4}$")
_SUFFIX = re.compile(r"^(?:Jr|Sr|I{1,3}|IV)\.?$", re.IGNORECASE)


def _given_first(name: str) -> str:
    """"Kowalczyk, M." as "M. Kowalczyk": the order every other source writes, so the watch-list, shared-author
    links and citation keys read the surname as the last word; "Smith, Jr." and names without a comma stay."""
    surname, comma, given = name.partition(",")
    surname, given = surname.strip(), given.strip()
    if not comma or "," in given or not surname or not given or _SUFFIX.match(given) or not _GIVEN.match(given):
        return name
    if len(surname.split()) > 3 or re.match(r"[A-Z]\.?\s", surname):  # "A Smith, B Jones": two names, not one inverted
        return name
    return f"{given} {surname}"


@functools.lru_cache(maxsize=65536)
def _tex_name(name: str) -> str:
    """A name as arXiv listings write it in TeX ("L\\'aszl\\'o Moln\\'ar") in plain letters ("László Molnár"),
    so it reads right and matches the watch-list; unchanged when it holds no TeX or can't be read."""
    if "\\" not in name and "{" not in name:
        return name
    try:
        from pylatexenc.latex2text import LatexNodes2Text

        return LatexNodes2Text(strict_latex_spaces=True).latex_to_text(name).strip() or name
    except Exception:  # noqa: BLE001 (odd TeX in a name: the name as written beats none)
        return name


def person_names(authors: list[str]) -> list[str]:
    """Author entries as names: a source that split "Vikram Seenivasan (University of California, Los Angeles)"
    at its commas gave "Vikram Seenivasan (University of California" and "Los Angeles)", which are joined again;
    TeX accents become letters; an affiliation in brackets is dropped (it is no name, and "USA)" must never
    make two papers "same authors"), and so is an entry left without a letter or a bracket's tail alone."""
    joined: list[str] = []
    open_brackets = 0
    for entry in authors:
        if open_brackets > 0 and joined:
            joined[-1] += ", " + entry
        else:
            joined.append(entry)
        open_brackets = joined[-1].count("(") - joined[-1].count(")")
    out = []
    for entry in joined:
        if entry.count(")") > entry.count("("):  # the tail of an entry split before it ("USA)"): no name
            continue
        name = entry
        while (shorter := _AFFILIATION.sub("", name)) != name:  # innermost brackets first: nested ones too
            name = shorter
        name = _given_first(" ".join(_tex_name(name).replace("(", " ").replace(")", " ").split()).strip(" ,;"))
        if any(c.isalpha() for c in name):
            out.append(name)
    return out
