"""Noun phrases for theme names and link reasons: what a group of papers (or two papers) are about, in words a
reader would search for, never filler.

- Candidates: runs of two to four content words between punctuation and function words ("diffusion
  policy", "kv cache compression"), LaTeX commands and maths stripped first, plus single words that are
  technical on their face (acronyms, hyphenated compounds such as "vision-language-action").
- Filler never counts: function words, generic academic words ("effective", "trade-off", "theoretical",
  "call"; data/generic_words.txt) and adverbs may neither start nor end a phrase, and a single word must
  not be an adjective by its ending.
- Matching is by stems (`stem`), so "agents", "agentic" and "agent" are one word and a name never repeats it.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from importlib import resources

from brief.spelling import abbreviates, acronym_in, display, initials, keeps_case, term_case
from brief.text import STOPWORDS

_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+\*?(\[[^\]]*\])?")
_MATH = re.compile(r"\$[^$]*\$")
_TOKEN = re.compile(r"[0-9]*[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_ADJECTIVE_ENDINGS = ("ly", "ive", "ous", "ful", "able", "ible", "ical", "ary", "less", "est")
# (suffix, replacement), first match wins; the stem keeps at least four letters
_SUFFIXES = (("ization", "ize"), ("izations", "ize"), ("ational", "ate"), ("ations", "ate"), ("ation", "ate"),
             ("ments", ""), ("ment", ""), ("ities", ""), ("ity", ""), ("ically", ""), ("ical", ""), ("ics", ""),
             ("ic", ""), ("ings", ""), ("ing", ""), ("ies", "y"), ("ers", ""), ("er", ""), ("es", ""), ("ed", ""),
             ("ly", ""), ("al", ""), ("s", ""))


@functools.cache
def generic_words() -> frozenset[str]:
    """Function words plus the generic academic vocabulary of data/generic_words.txt."""
    text = resources.files("brief").joinpath("data/generic_words.txt").read_text(encoding="utf-8")
    listed = {w for line in text.splitlines() if not line.startswith("#") for w in line.split()}
    return STOPWORDS | frozenset(listed)


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude suffix-stripping stem, enough to tell "agents" / "agentic" / "agent" are one word, and "VLMs" /
    "VLM" (an acronym's plural, however short)."""
    if len(word) >= 3 and word.endswith("s") and word[:-1].isupper():
        return word[:-1].lower()
    word = word.lower()
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) + len(replacement) >= 4:
            word = word[: len(word) - len(suffix)] + replacement
            break
    return word[:-1] + "i" if word.endswith("y") else word


def strip_latex(text: str) -> str:
    """Text without LaTeX maths and commands: `\\textbf{Ours}` → `Ours`, `$O(n^2)$` → ` `."""
    text = _MATH.sub(" ", text)
    text = _LATEX_COMMAND.sub(" ", text)
    return text.replace("{", " ").replace("}", " ")


def _content(word: str) -> bool:
    low = word.lower()
    if word.isupper() and len(word) >= 2:  # KV, RL, 3D, 3DGS
        return True
    return len(low) > 2 and low not in generic_words() and not low[0].isdigit() and not low.endswith("ly")


# the last part of an adjectival compound ("embodiment-agnostic", "contact-rich", "coarse-to-fine", "held-out")
_ADJECTIVE_HEADS = frozenset("""agnostic rich aware free based level scale time driven conditioned specific guided
    efficient robust like wise centric grained independent dependent invariant consistent grounded shot tuned
    oriented intensive critical friendly ready end only heavy light native style fine out""".split())


# the first part of an adjectival compound ("high-fidelity", "real-robot", "long-horizon", "on-device")
_ADJECTIVE_MODIFIERS = frozenset("high low long short real fine large small well full open cross non multi semi whole"
                                 " general present integral on off".split())


# words ending like adjectives ("-ic", "-al") that are nouns and may end a phrase or stand alone
_NOUNS_ENDING_LIKE_ADJECTIVES = frozenset("""retrieval signal interval proposal removal trial animal terminal
    material manual tutorial arrival survival rehearsal journal crystal metal portal rival approval renewal reversal
    disposal withdrawal denial potential residual integral functional polynomial differential principal referral
    logic topic traffic music clinic critic heuristic metric rubric fabric arithmetic tactic graphic""".split())


_PLAIN_ADJECTIVES = frozenset("slow fast hard soft easy rigid dense sparse deep wide narrow strong weak".split())
# adjectives made from a name: they modify the next word ("3D Gaussian splatting", "Bayesian optimisation"), so a
# name ending on one says "3D Gaussian" what. (Hessian, Jacobian, Laplacian, Hamiltonian are nouns as often.)
_EPONYM_ADJECTIVES = frozenset("bayesian cartesian euclidean gaussian hebbian markovian newtonian riemannian".split())


@functools.lru_cache(maxsize=65536)
def adjective_like(word: str) -> bool:
    """Ends as an adjective or participle does ("robotic", "visual", "adaptive", "organized"): no name ends on it."""
    low = word.lower().rsplit("-", 1)[-1]
    return (low.endswith(_ADJECTIVE_ENDINGS) or low in _ADJECTIVE_MODIFIERS or low in _PLAIN_ADJECTIVES
            or low in _EPONYM_ADJECTIVES or (low.endswith(("ic", "al")) and low not in _NOUNS_ENDING_LIKE_ADJECTIVES)
            or (low.endswith("ed") and len(low) >= 6))  # "subfields organized": a participle


@functools.lru_cache(maxsize=65536)
def technical(word: str) -> bool:
    """A single word that names something on its own: an acronym (VLA, SLAM) or a hyphenated noun compound."""
    first, head = word.split("-", 1)[0].lower(), word.rsplit("-", 1)[-1].lower()
    # an adjectival compound modifies a noun, acronym or not: "LLM-based", "closed-source", "retrieval-augmented"
    adjectival = "-" in word and (head in _ADJECTIVE_HEADS or head.endswith((*_ADJECTIVE_ENDINGS, "ed"))
                                  or (first.endswith("ed") and len(first) >= 6))
    # an acronym or CamelCase part ("VLA", "Qwen3-VL-8B", "GPT-4o"), not a title's capitals ("Multi-Agent")
    if len(word) >= 3 and acronym_in(word):
        return not adjectival
    return "-" in word and len(word) >= 8 and first not in _ADJECTIVE_MODIFIERS and not adjectival


def single_word_ok(word: str) -> bool:
    """A single word that can stand as a shared term: a technical word, or a content word that is no
    adjective, participle or verb form by its ending ("incorporating", "commanded", "underexplored")."""
    if technical(word):
        return True
    low = word.lower()
    return (_content(word) and "-" not in low and len(low) >= 4 and not adjective_like(low)
            and not low.endswith(("ing", "ed", "ize", "ise")))


@functools.lru_cache(maxsize=16384)
def _chunks(text: str) -> tuple[tuple[str, ...], ...]:
    """Runs of content words between punctuation and filler (memoised: phrases and content_words both read a
    week's texts, and the link and synthesis nodes both read the same week)."""
    runs: list[list[str]] = [[]]
    asides: list[list[str]] = []
    toks = _TOKEN.findall(strip_latex(text))
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok == "(" and _defines_run(runs[-1], toks[i + 1:i + 4]):
            # "Key-value (KV) cache" is one run, and "KV" a run of its own: the definition is an aside, not a break
            asides.append([toks[i + 1]])
            i += 3
            continue
        if any(c.isalpha() for c in tok) and _content(tok):
            runs[-1].append(tok)
        elif runs[-1]:
            runs.append([])
        i += 1
    return tuple(tuple(r) for r in runs + asides if r)


def _defines_run(run: list[str], after: list[str]) -> bool:
    """Whether `after` (the tokens after a "(") is an acronym standing for the run's last words, a closing
    bracket, and a content word that goes on with the run ("Key-value (KV) cache"; not "(3DGS) enables")."""
    if len(after) != 3 or after[1] != ")" or not run or not acronym_in(after[0]) or not _content(after[2]):
        return False  # (a bracket or filler after it ends the run anyway: nothing to join)
    acronym = after[0][:-1] if after[0].endswith("s") else after[0]
    tails = (initials(" ".join(run[-n:])) for n in range(1, min(4, len(run)) + 1))
    return any(len(short) >= 2 and abbreviates(acronym.upper(), short) for short in tails)


Phrase = tuple[str, ...]  # the stems of a phrase's words


@functools.lru_cache(maxsize=16384)
def phrases(text: str, max_words: int = 4) -> dict[Phrase, str]:
    """Candidate phrases of a text: stems → the words as written (first spelling seen)."""
    found: dict[Phrase, str] = {}
    for run in _chunks(text):
        stems = [stem(w) for w in run]
        for n in range(1, max_words + 1):
            for i in range(len(run) - n + 1):
                if n == 1:
                    if not technical(run[i]):
                        continue
                elif adjective_like(run[i + n - 1]) or len(set(stems[i:i + n])) < n:
                    continue
                key = tuple(stems[i:i + n])
                if key not in found:
                    found[key] = " ".join(run[i:i + n])
    return found


def word_stems(key: Phrase) -> set[str]:
    """The stems of a phrase's words, hyphenated compounds split ("vision-language" → vision, language)."""
    return {stem(part) for word in key for part in word.split("-") if part}


# A noun phrase ends on its head, so a background that writes it mostly with more words after it ("young stellar"
# of "young stellar objects/populations", "massive quiescent", "star-forming") shows a modifier, not a name.
# Measured on the eclipse cs and astro-ph corpora (share of the docs using a phrase where it ends a run of
# content words): noun phrases 0.47-1.0 ("red giant" 0.47, "cold gas" 0.56, "KV cache" 0.65, "dark matter"
# 0.75), modifiers 0-0.38 ("young stellar" 0, "retrieval-augmented" 0.18, "star-forming" 0.25, "initial mass"
# 0.33, "tool-use" 0.38); a week's background is small, so the bar sits between them.
_ENDS = "$ends"  # background key: (_ENDS, *phrase) counts the docs in which the phrase ends a run
COMPLETE_SHARE = 0.4
COMPLETE_EVIDENCE = 5  # fewer docs than this with the phrase tell nothing either way


@functools.lru_cache(maxsize=16384)
def _run_ends(text: str) -> frozenset[Phrase]:
    """The stems of every phrase (up to four words) that ends a run of content words in the text."""
    out: set[Phrase] = set()
    for run in _chunks(text):
        stems = tuple(stem(w) for w in run)
        out.update(stems[len(stems) - n:] for n in range(1, min(4, len(stems)) + 1))
    return frozenset(out)


def _count(df: Counter, doc: str, keys: list[Phrase]) -> None:
    ends = _run_ends(doc)
    df.update(keys)
    df.update((_ENDS, *key) for key in keys if key in ends)


def complete(key: Phrase, written: str, background: tuple[Counter, int]) -> bool:
    """Whether the background writes the phrase as a whole noun phrase, not only as a modifier of more words. A
    name needs no head: "SWE-bench" of "SWE-bench Verified", "LIBERO" of "LIBERO tasks"."""
    if " " not in written and acronym_in(written):
        return True
    df, _ = background
    seen = df.get(key, 0)
    return seen < COMPLETE_EVIDENCE or df.get((_ENDS, *key), 0) >= COMPLETE_SHARE * seen


def phrase_frequencies(docs: list[str]) -> tuple[Counter, int]:
    """In how many docs each phrase occurs, and ends a run (the background that makes a phrase distinctive)."""
    df: Counter = Counter()
    for doc in docs:
        _count(df, doc, list(phrases(doc)))
    return df, len(docs)


def supported_phrases(docs: list[str], titles: list[str], background: tuple[Counter, int], k: int = 3,
                      min_support: int = 2, common_share: float = 0.05) -> list[tuple[str, int]]:
    """Up to k (phrase as written, how many of `docs` use it), frequent in `docs` and rare in the background,
    no two sharing a stem, best first.

    Score: (papers using it + half the titles using it) x idf against the background x (1 + 0.2 per word past
    the first); a phrase in more than `common_share` of the background beyond the group is generic there."""
    df, n = background
    support: Counter = Counter()
    spellings: dict[Phrase, Counter] = {}
    for doc in docs:
        for key, written in phrases(doc).items():
            support[key] += 1
            spellings.setdefault(key, Counter())[written.lower() if not keeps_case(written) else written] += 1
    in_titles = Counter(key for title in titles for key in phrases(title))
    limit = max(3, common_share * n)
    scored = []
    for key, count in support.items():
        if count < min_support or df.get(key, 0) - count > limit:  # rare in the group, or common outside it: generic
            continue
        idf = math.log((n + 1) / (df.get(key, 0) + 1)) if n else 1.0
        # a modifier the background rarely writes alone ("Star-forming") gives way to a phrase with its head
        # ("Star-forming Galaxies"), yet still names a group nothing else names ("Tool-Calling")
        whole = 1.0 if complete(key, spellings[key].most_common(1)[0][0], background) else 0.4
        scored.append(((count + 0.5 * in_titles[key]) * idf * (1 + 0.2 * (len(key) - 1)) * whole, key))
    chosen: list[Phrase] = []
    used: set[str] = set()
    acronyms: set[str] = set()
    alone: set[str] = set()  # the chosen phrases, upper-cased: an acronym among them names its expansion already
    for _, key in sorted(scored, key=lambda s: (-s[0], s[1])):
        written = display(spellings[key])
        # one thing named twice: an acronym that extends a chosen phrase's initials ("3DGS" beside "3D Gaussian",
        # "ASR" beside "Speech Recognition"), or a phrase whose initials begin or end a chosen acronym
        if word_stems(key) & used or " " not in written and any(abbreviates(written.upper(), a) for a in acronyms):
            continue
        if len(short := initials(written)) >= 2 and any(a.startswith(short) or a.endswith(short) for a in alone):
            continue
        if len(short) >= 2:
            acronyms.add(short)
        chosen.append(key)
        alone.add(written.upper())
        used |= word_stems(key)
        if len(chosen) == k:
            break
    return [(display(spellings[key]), support[key]) for key in chosen]


def _key(written: str) -> Phrase:
    return tuple(stem(w) for w in written.split())


def mentions(text: str, written: str) -> int:
    """How often a text uses a phrase (as `supported_phrases` writes it) or, for one of several words, an acronym
    of it as `supported_phrases` pairs them: its initials, or those with up to two letters more ("ASR" for
    "Speech Recognition", "VLAs" for "Vision-Language-Action")."""
    key, short = _key(written), initials(written)
    several = (len(written.split()) > 1 or "-" in written) and len(short) >= 2
    count = 0
    for run in _chunks(text):
        stems = [stem(w) for w in run]
        count += sum(tuple(stems[i:i + len(key)]) == key for i in range(len(stems) - len(key) + 1))
        if several:
            acronyms = [w[:-1] if w.endswith("s") else w for w in run]
            # an acronym longer than the phrase's initials stands for it only where the text says so: "ASR" is
            # "automatic speech recognition (ASR)" there, while "VLA" (vision-language-action) is no "Latent Action"
            count += sum(a.isupper() and abbreviates(a, short) and (a == short or _defines(text, a, key))
                         for a in acronyms)
    return count


@functools.lru_cache(maxsize=16384)
def _defines(text: str, acronym: str, key: Phrase) -> bool:
    """Whether the text introduces `acronym` as words ending in the phrase whose stems are `key`."""
    for found in re.finditer(r"\(\s*" + re.escape(acronym) + r"s?\s*\)", text):
        runs = _chunks(text[max(0, found.start() - 200):found.start()])
        expansion = [stem(w) for w in runs[-1][-len(acronym):]] if runs else []  # a word a letter at most
        if any(tuple(expansion[i:i + len(key)]) == key for i in range(len(expansion) - len(key) + 1)):
            return True
    return False


def uses(text: str, written: str) -> bool:
    """Whether a text uses a phrase (as `supported_phrases` writes it), or the acronym of one of several words."""
    return mentions(text, written) > 0


def restates(written: str, topic: str) -> bool:
    """Whether a phrase only restates a topic's name ("LLM Agents" for "LLM agents", "3D Reconstruction" for "3D
    scene reconstruction"): within that topic it names every paper, so no theme. Half of a two-part topic
    ("Legged Robots" in "Legged and mobile robot navigation") is a theme within it."""
    words = word_stems(_key(written))
    named = word_stems(tuple(w for w in topic.split() if w.lower() not in STOPWORDS))
    return words <= named and 3 * len(words) >= 2 * len(named)


@functools.lru_cache(maxsize=16384)
def content_words(text: str) -> dict[str, str]:
    """Single content words that can stand alone (not filler, not adjectives by their ending): stem → word."""
    return dict(_content_words(text))


@functools.lru_cache(maxsize=16384)
def _content_words(text: str) -> tuple[tuple[str, str], ...]:
    return tuple({stem(w): w.lower() for run in _chunks(text) for w in run if single_word_ok(w)}.items())


def shared_phrases(a: str, b: str, background: tuple[Counter, int], k: int = 4, common_share: float = 0.05,
                   area: tuple[Counter, int] | None = None, area_share: float = 0.08) -> list[str]:
    """What two texts share that means something: common phrases (and then single content words) rare in the
    background (in at most `common_share` of its documents), longest and rarest first, none inside another.
    `area` (e.g. the week's accepted papers): terms in more than `area_share` of them name the reader's
    whole field ("LLM agents", "robotic manipulation"), not what ties two papers, and are left out."""
    blocked: set[Phrase] = set()
    if area is not None:
        area_df, area_n = area
        blocked = {key for key, count in area_df.items() if count > max(2, area_share * area_n)}
    df, n = background
    limit = max(2, common_share * n) if n >= 20 else n  # a background under 20 texts tells nothing generic
    pa, pb = phrases(a), phrases(b)
    found = [(key, pa[key]) for key in pa.keys() & pb.keys()]
    wa, wb = content_words(a), content_words(b)
    found += [((s,), wa[s]) for s in wa.keys() & wb.keys() if (s,) not in pa]
    found = [(key, w) for key, w in found if complete(key, w, background)]
    word_limit = max(2, 0.01 * n) if n >= 100 else limit  # a single word must be rarer than a phrase
    ranked = sorted(((key, w) for key, w in found if key not in blocked
                     and df.get(key, 0) <= (limit if len(key) > 1 or " " in w else word_limit)),
                    key=lambda kw: (-len(word_stems(kw[0])), df.get(kw[0], 0), kw[1]))
    out: list[str] = []
    used: set[str] = set()
    for key, written in ranked:
        if word_stems(key) <= used or any(_restates(written, chosen) for chosen in out):
            continue
        out.append(term_case(written))
        used |= word_stems(key)
        if len(out) == k:
            break
    return out


def _restates(term: str, chosen: str) -> bool:
    """A term that adds nothing to one already chosen: an acronym of it ("3DGS" after "3D Gaussian splatting") or
    what one of its acronyms stands for ("key-value" after "KV cache"), or the same words with an acronym for
    some of them ("KV cache" after "key-value cache"). "AGN feedback" after "active galactic nuclei" says more,
    and stays."""
    def stands_for(acronym: str, phrase: str) -> bool:
        short = initials(phrase)
        return len(short) >= 2 and (" " in phrase or "-" in phrase) and abbreviates(acronym.upper(), short)

    def spelled_out(short: str, long: str) -> bool:  # "KV cache" is "key-value cache" with its acronym
        words, keys = long.split(), [stem(w) for w in short.split()]
        stems = [stem(x) for x in words]  # once, not per span tried
        return any(stems[:i] + [stem(w)] + stems[j:] == keys and stands_for(w, " ".join(words[i:j]))
                   for w in short.split() if acronym_in(w) for i in range(len(words)) for j in range(i + 1, len(words) + 1))

    return (" " not in term and acronym_in(term) and stands_for(term, chosen)) or spelled_out(term, chosen) \
        or spelled_out(chosen, term) or any(acronym_in(w) and stands_for(w, term) for w in chosen.split())


def reads_as_subject(term: str, titles: str) -> bool:
    """Whether a shared term can be shown as what two papers share: a phrase, an acronym or a name, or a plain
    word one of their `titles` uses. Elsewhere a lone plain word is as often a verb or an adjective ("both on
    prone", "both on executes") as what either paper is about."""
    return " " in term or technical(term) or stem(term) in content_words(titles)


def text_frequencies(docs: list[str]) -> tuple[Counter, int]:
    """Document frequencies of phrases and single content words (the background `shared_phrases` needs)."""
    df, n = _text_frequencies(tuple(docs))
    return df.copy(), n


@functools.lru_cache(maxsize=4)  # the link and synthesis nodes ask for the same week's background
def _text_frequencies(docs: tuple[str, ...]) -> tuple[Counter, int]:
    df: Counter = Counter()
    for doc in docs:
        # a technical word is both a phrase and a content word of its text, and counts twice: more often too
        # common to be evidence, which keeps out loose links on a shared acronym ("3DGS"; evals/data/judge/links-df-s37)
        _count(df, doc, [*phrases(doc), *((s,) for s, _ in _content_words(doc))])
    return df, len(docs)
