"""Small text tools shared by the offline agents: tokens, sentences, distinctive terms, author names."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

STOPWORDS = frozenset(
    """a about above across after again against all almost also although always am among an and another any are
    as at based be because been before being below between both but by can could did do does doing done down
    during each either enable enables et etc even ever every few for from further given had has have having
    here how however i if in into is it its itself just large less like made make makes many may more most much
    must new not novel now of off often on once one only onto or other our ours out over own paper particular
    per perform performance present propose proposed provide recent results same several should show shows
    significant significantly since so some such than that the their them then there these they this those
    through thus to toward towards two under up upon us use used uses using various very via was we well were
    what when where whether which while who whom whose why will with within without work would yet approach
    approaches method methods model models framework task tasks data existing state art demonstrate study
    first however furthermore moreover introduce introduces achieve achieves achieving address across propose
    code available https github com experiments experimental extensive outperforms prior key challenge
    challenges problem problems remains improve improves improved including include includes both high low
    better best strong via new novel three four real world""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def tokens(text: str) -> list[str]:
    return [w for w in (m.group(0).lower().strip("-") for m in _WORD.finditer(text)) if len(w) > 2 and w not in STOPWORDS]


def terms(text: str) -> list[str]:
    """Unigrams and bigrams of content words: bigrams name methods better ("gaussian splatting")."""
    words = tokens(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


# a full stop that ends one of these ends no sentence ("1005 full-length movies (avg. 104 min)")
_ABBREVIATIONS = frozenset("""e.g. i.e. al. avg. approx. vs. fig. figs. eq. eqs. resp. cf. ca. ref. refs. incl. w.r.t.
    viz. tab. pp. vol.""".split())  # not "min." or "sec.": "in under 5 min." ends sentences


def sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    out, start = [], 0
    for stop in _SENTENCE.finditer(text):
        if text[start:stop.start()].rsplit(" ", 1)[-1].lstrip("([\"'").lower() in _ABBREVIATIONS:
            continue
        out.append(text[start:stop.start()])
        start = stop.end()
    out.append(text[start:])
    return [s.strip() for s in out if len(s.strip()) > 20]


@functools.lru_cache(maxsize=8192)
def _term_set(doc: str) -> frozenset[str]:
    return frozenset(terms(doc))


def document_frequencies(docs: Iterable[str]) -> tuple[Counter, int]:
    """In how many docs each term occurs. Links, theme names and bridges each count the same week's
    papers, so a doc's term set is kept (per text) rather than tokenised three times."""
    df: Counter = Counter()
    n = 0
    for doc in docs:
        df.update(_term_set(doc))
        n += 1
    return df, n


def distinctive_terms(docs: list[str], background: tuple[Counter, int], k: int = 5) -> list[str]:
    """Terms frequent in `docs` but rare in the background: TF-IDF over the group, redundant unigrams dropped."""
    df, n = background
    tf: Counter = Counter()
    for doc in docs:
        tf.update(set(terms(doc)))
    min_support = 2 if len(docs) >= 3 else 1
    scored = {
        term: count * math.log((n + 1) / (df.get(term, 0) + 1)) * (1.3 if " " in term else 1.0)
        for term, count in tf.items()
        if count >= min_support
    }
    chosen: list[str] = []
    for term, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0])):
        if any(term in c.split() or c in term.split() or term in c for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == k:
            break
    return chosen


def counted(n: int, noun: str, plural: str = "") -> str:
    """'1 paper', '3 papers', '1 sub-theme': a count read in a sentence or a label."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def papers_in(n: int, categories: list[str]) -> str:
    """'2 papers · cs.RO, cs.CV': a theme's size and categories ('2 papers' when its source records none)."""
    return counted(n, "paper") + (f" · {', '.join(categories)}" if categories else "")


def grouped(total: str, group: str, sizes: list[tuple[str, int]]) -> str:
    """'12 papers in 3 themes; the largest is “X” (5 papers)': `sizes` (name, papers) in any order (a briefing lists
    its named themes before a topic's assorted rest, which may be larger); one group has no largest."""
    name, size = max(sizes, key=lambda s: s[1]) if sizes else ("", 0)
    largest = f"; the largest is “{name}” ({counted(size, 'paper')})" if len(sizes) > 1 else ""
    return f"{total} in {counted(len(sizes), group)}{largest}"


def author_keys(name: str) -> tuple[str, str]:
    """(full key, short key) of a name: `Jürgen A. Schmidt` → ("jurgen a schmidt", "j schmidt"). Short keys
    let "J. Schmidt" (a .bib abbreviation) match "Jürgen Schmidt"; full keys are compared first. Accents
    are dropped, other scripts kept."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))
    parts = re.sub(r"[^\w\- ]+", " ", plain.replace(".", " ")).split()
    if not parts:
        return "", ""
    return " ".join(parts), f"{parts[0][0]} {parts[-1]}"


def watch_key(name: str) -> str:
    """A name as the watch-list compares it: accents and punctuation dropped, other scripts kept, a hyphen
    no different from a space ("René Barcos-Muñoz" is "Rene Barcos Munoz")."""
    return " ".join(author_keys(name)[0].replace("-", " ").split())


class WatchList:
    """The watch-list's names, compared as `watch_key`s: the same name, or, where one side gives only an initial
    ("Kowalczyk, M." in a bioRxiv feed is "M. Kowalczyk"), the same initial and surname. Built once a run, asked
    for every author of every paper: each test is a set lookup."""

    def __init__(self, names: Iterable[str]):
        keys = [k.split() for k in {watch_key(n) for n in names} if k]
        self.keys = {" ".join(k) for k in keys}
        self._short = {(k[0][0], k[-1]) for k in keys if len(k) >= 2}  # any watched name's initial and surname
        self._initialled = {(k[0][0], k[-1]) for k in keys if len(k) >= 2 and len(k[0]) == 1}  # watched as "M. X"

    def __contains__(self, name: object) -> bool:
        key = watch_key(str(name))
        if key in self.keys:
            return True
        parts = key.split()
        if len(parts) < 2:
            return False
        return (parts[0][0], parts[-1]) in (self._short if len(parts[0]) == 1 else self._initialled)


def _abbreviated(full: str) -> bool:
    return bool(full) and len(full.split()[0]) == 1


def authors_agree(mine: list[str], theirs: list[str]) -> bool:
    """Nothing in the author lists says two records are different papers: one lists none, or they share one."""
    return not mine or not theirs or bool(shared_authors(mine, theirs))


def shared_authors(mine: list[str], theirs: list[str]) -> list[str]:
    """My authors who also wrote the other paper (full names equal, or one side abbreviated to an initial).

    Stricter than `WatchList`, on purpose: a hyphenated surname stays one word, so "R. Muñoz" is not
    "R. Barcos-Muñoz". A missed watched author costs the reader a paper; a false shared author puts
    "same authors" on a link between strangers."""
    keys = [author_keys(a) for a in theirs]
    their_full = {full for full, _ in keys if full}
    their_short = {short for full, short in keys if full}
    their_abbreviated = {short for full, short in keys if _abbreviated(full)}
    out = []
    for name in mine:
        full, short = author_keys(name)
        if full and (full in their_full or short in their_abbreviated or (_abbreviated(full) and short in their_short)):
            out.append(name)
    return out
