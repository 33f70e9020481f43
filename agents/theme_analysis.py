"""What a theme is beyond its papers: where it stands against memory, which fields it bridges, where it heads.

All of it is computed from data (embeddings, links, memory), never by the LLM, so offline and LLM
briefings carry the same facts and the LLM only puts them into words.

- earlier: the papers from earlier weeks this theme's papers link to (memory/links.py), with their weeks;
  papers with no link are new ground.
- bridges: pairs of papers from different fields (brief/fields.py: cs.CV ↔ cs.RO, cs ↔ eess; never cs.AI ↔
  cs.CL) that share a method or problem: the cross-field ties a single-field digest never shows.
- trend: how many remembered papers lay near the theme's centre in each of the previous weeks and this
  one, as a share of each week's volume, so a busier week does not read as growth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta

import numpy as np

from brief.models import Bridge, Decision, EarlierPaper, Link, Paper, Theme, ThemeBrief, Trend
from brief.sources.window import parse_week, week_of
from brief.fields import cross_field
from brief.phrases import (mentions, phrase_frequencies, restates, shared_phrases, strip_latex, supported_phrases,
                           technical, uses)
from brief.spelling import abbreviates, initials, term_case


def name_themes(groups: list[list[int]], papers: list[Paper], decisions: dict[str, Decision],
                background: list[str], merge_rest: bool = True) -> list[ThemeBrief]:
    """Themes named by distinctive phrases against the whole week (brief/phrases.py), members best first,
    heaviest theme first. A name's first phrase is used by at least a third of its group, at least two (a
    phrase two of seven share names those two, not the group), a second one by a third, at least three; a
    phrase that only restates the papers' topic ("LLM Agents" in the topic "LLM agents") names nothing, and a
    phrase a heavier theme is named by is not used again: two themes never read alike.

    Offline (`merge_rest`) a theme is the papers about its name (`_by_phrase`). With `merge_rest` False (a
    model names the themes from their papers) every group stays a theme, its phrases only the fallback name."""
    bg = phrase_frequencies(background)
    drafts = []
    for group in groups:
        members = _best_first([papers[i] for i in group], decisions)
        drafts.append((_weight(members, decisions), members, [] if len(members) == 1 else _ranked(members, decisions, bg)))
    drafts.sort(key=lambda d: (-d[0], d[1][0].id))
    if merge_rest:
        return _by_phrase([(members, ranked) for _, members, ranked in drafts], decisions, bg)
    themes = []
    named: set[str] = set()
    for _, members, ranked in drafts:
        shown = _shown(ranked, named, len(members), third=False)
        if len(members) == 1:
            name = _short_title(strip_latex(members[0].title))
        elif shown:
            name = " · ".join(f for f, _ in shown)
        elif ranked:  # the same subject again
            name = f"More on {ranked[0][0]}"
        else:
            name = _assorted(members, decisions)
        named |= _name_keys(f for f, _ in shown)
        themes.append(_theme(name, members, decisions, [term_case(t) for t, _ in ranked[:4]]))
    return themes


def _by_phrase(drafts: list[tuple[list[Paper], list[tuple[str, int]]]], decisions: dict[str, Decision],
               bg: tuple[Counter, int]) -> list[ThemeBrief]:
    """Offline themes, each the papers about its name (`_about`). Heaviest group first, a group's best phrase
    (one a member's title uses) names the papers of it about it, at least two; the others, single papers and the
    groups no phrase names are the rest of their topic. A rest paper joins the heaviest theme of its topic it is
    about; a phrase three of a topic's rest are about makes one more theme; one paper left is named by its
    title, several are one "<topic>: assorted" theme, listed after the named ones."""
    found: list[tuple[str, str, list[Paper], str]] = []  # (name, its first phrase, members, their topic's rest)
    rest: dict[str, list[Paper]] = {}
    named: set[str] = set()
    for members, ranked in drafts:
        shown = _shown(ranked, named, len(members), titles=[p.title for p in members])
        users, others = _split_about(members, shown[0][0]) if len(members) > 1 and shown else ([], members)
        if len(users) < 2:  # one paper about it is no theme
            users, others = [], members
        if users:
            shown = shown[:1] + [(f, n) for f, n in shown[1:]
                                 if 3 * sum(uses(p.text_for_embedding(), f) for p in users) >= len(users)]
            found.append((" · ".join(f for f, _ in shown), shown[0][0], users, _assorted(users[:1], decisions)))
            named |= _name_keys(f for f, _ in shown)
        for paper in others:
            rest.setdefault(_assorted([paper], decisions), []).append(paper)
    assorted = []
    for topic_rest, members in rest.items():
        left: list[Paper] = []
        for paper in members:  # found is heaviest first
            home = next((t[2] for t in found if t[3] == topic_rest and _about(paper, t[1])), left)
            home.append(paper)
        while len(left) >= 3 and (split := _rest_theme(left, decisions, bg, named)):
            phrase, users, left = split
            found.append((phrase, phrase, users, topic_rest))
            named |= _name_keys([phrase])
        if len(left) == 1:
            found.append((_short_title(strip_latex(left[0].title)), "", left, topic_rest))
        elif left:
            assorted.append(_theme(topic_rest, left, decisions, []))
    themes = [_theme(name, members, decisions, [term_case(t) for t, _ in _ranked(members, decisions, bg)[:4]] if len(members) > 1 else [])
              for name, _, members, _ in found]
    return sorted(themes, key=_heaviest) + sorted(assorted, key=_heaviest)


def _shown(ranked: list[tuple[str, int]], named: set[str], size: int, third: bool = True,
           titles: list[str] | None = None) -> list[tuple[str, int]]:
    """The phrases a group's name shows: its best one not named before (and one of `titles` uses), when a third of the
    group uses it (any share with `third` False: a model's fallback name), and the next one when a third of the
    group, at least three, use it (two of eleven papers' "held-out" or "five benchmarks" is a quirk of those
    two, and the name reads better without it)."""
    fresh = [(f, n) for f, n in ranked if not _named_before(f, named)]
    lead = [(f, n) for f, n in fresh if titles is None or _in_a_title(f, titles)][:1]
    if not lead or third and 3 * lead[0][1] < size:
        return []
    second = [(f, n) for f, n in fresh if f != lead[0][0]][:1]
    return lead + [(f, n) for f, n in second if n >= max(3, size / 3)]


def _ranked(members: list[Paper], decisions: dict[str, Decision], bg: tuple[Counter, int],
            min_support: int = 2) -> list[tuple[str, int]]:
    """The members' distinctive phrases, best first, without those that only restate their topic's name."""
    ranked = supported_phrases([p.text_for_embedding() for p in members], [p.title for p in members], bg, k=6,
                               min_support=min_support)
    topics = {decisions[p.id].topic for p in members}
    return [(f, n) for f, n in ranked if not any(restates(f, t) for t in topics if t)]


def _in_a_title(phrase: str, titles: list[str]) -> bool:
    """Whether a title uses the phrase: one only abstracts use ("end-effector", "token usage") is a detail of
    several papers, not what any of them is about."""
    return any(uses(title, phrase) for title in titles)


def _about(paper: Paper, phrase: str) -> bool:
    """Whether a paper is about a phrase: its title uses it, or its abstract does twice (once is in passing:
    "unlike VLA models, we…")."""
    return uses(paper.title, phrase) or mentions(paper.abstract, phrase) >= 2


def _rest_theme(left: list[Paper], decisions: dict[str, Decision], bg: tuple[Counter, int],
                named: set[str]) -> tuple[str, list[Paper], list[Paper]] | None:
    """(phrase, the papers about it, the others) for the best phrase of a topic's rest that at least three of
    it are about, one of their titles uses and no heavier theme is named by; None when there is none."""
    for phrase, _ in _ranked(left, decisions, bg, min_support=3):
        if not _named_before(phrase, named) and _in_a_title(phrase, [p.title for p in left]):
            users, others = _split_about(left, phrase)
            if len(users) >= 3:
                return phrase, users, others
    return None


def _split_about(members: list[Paper], phrase: str) -> tuple[list[Paper], list[Paper]]:
    """(the members about the phrase or its acronym, the others), each in the members' order."""
    used = [_about(p, phrase) for p in members]
    return [p for p, u in zip(members, used) if u], [p for p, u in zip(members, used) if not u]


def _named_before(phrase: str, named: set[str]) -> bool:
    """A phrase a heavier theme's name says already: itself, its acronym, a word of it ("VLA Policies" after
    "Vision-Language-Action", whose acronym is VLA), or an acronym and its expansion ("Speech Recognition" after
    "ASR", "ASR" after "Speech Recognition"), as brief/phrases.py tells them within one theme."""
    low, short = phrase.lower(), initials(phrase).lower()
    if {low, short, *low.split()} & named:
        return True
    acronyms = [a for a in named if " " not in a and "-" not in a and len(a) >= 2]
    if " " in low or "-" in low:
        return len(short) >= 2 and any(abbreviates(a, short) for a in acronyms)
    return any(abbreviates(low, a) for a in acronyms)


def _name_keys(phrases: Iterable[str]) -> set[str]:
    """What a name uses up: its phrases, and the acronym of a phrase of several words."""
    return {k for f in phrases for k in [f.lower()] + ([initials(f).lower()] if " " in f or "-" in f else [])}


def _best_first(members: list[Paper], decisions: dict[str, Decision]) -> list[Paper]:
    return sorted(members, key=lambda p: (-decisions[p.id].relevance, p.id))


def _weight(members: list[Paper], decisions: dict[str, Decision]) -> float:
    return round(sum(decisions[p.id].relevance for p in members) / 10, 2)


def _heaviest(theme: ThemeBrief) -> tuple[float, str]:
    return -theme.weight, theme.paper_ids[0]


def _theme(name: str, members: list[Paper], decisions: dict[str, Decision], terms: list[str]) -> ThemeBrief:
    members = _best_first(members, decisions)
    return ThemeBrief(name=name, paper_ids=[p.id for p in members], terms=terms,
                      categories=sorted({p.categories[0] for p in members if p.categories}), weight=_weight(members, decisions))


def _assorted(members: list[Paper], decisions: dict[str, Decision]) -> str:
    topics = Counter(decisions[p.id].topic for p in members if decisions[p.id].topic)
    return f"{topics.most_common(1)[0][0]}: assorted" if topics else "Assorted"


def sharing_clause(theme: Theme) -> str:
    """", sharing kv cache, quantization" when the theme's papers share phrases; nothing when they share none
    (a topic's assorted rest, a single paper): no sentence claims a common method that isn't there."""
    return f", sharing {', '.join(theme.terms[:3])}" if theme.terms else ""


def fields_clause(theme: Theme) -> str:
    """" (cs.RO, cs.CV)": the theme's categories; nothing when its source records none (a journal's feed)."""
    return f" ({', '.join(theme.categories)})" if theme.categories else ""


def lead_clause(ref: str, title: str, when: str, tldr: str) -> str:
    """"Leading it, [ref] “Title” (when): its TL;DR." The TL;DR is left out when it only restates the title
    (an abstract that never says what the paper did)."""
    said = "" if tldr.strip().rstrip(".").casefold() == title.strip().rstrip(".").casefold() else tldr.strip()
    head = f"Leading it, [{ref}] “{title}”{f' ({when})' if when else ''}"
    return f"{head}: {said}" + ("" if said.endswith((".", "!", "?", "…")) else ".") if said else f"{head}."


def _short_title(title: str, n: int = 60) -> str:
    """A title as a theme name: what follows a method's name ("MoDex: A Diffusion Policy…"), cut at a word."""
    head, colon, tail = title.partition(":")
    if colon and len(head) <= 25 and len(tail.strip()) >= 12:
        title = tail.strip()
    return title if len(title) <= n else title[:n].rsplit(" ", 1)[0] + "…"


def earlier_papers(theme: Theme, links: dict[str, list[Link]], categories: dict[str, list[str]],
                   limit: int = 12) -> list[EarlierPaper]:
    found: dict[str, EarlierPaper] = {}
    for pid in theme.paper_ids:
        for link in links.get(pid, []):
            seen = found.setdefault(link.id, EarlierPaper(
                id=link.id, title=link.title, week=link.week, similarity=link.similarity,
                categories=categories.get(link.id, []), shared_terms=link.shared_terms))
            seen.linked_from.append(pid)
            if link.similarity > seen.similarity:
                seen.similarity, seen.shared_terms = link.similarity, link.shared_terms
    return sorted(found.values(), key=lambda e: (-e.similarity, e.id))[:limit]


def _field_gap(a: str, b: str) -> str | None:
    """How two primary categories differ, when they lie in different fields (brief/fields.py); None if not."""
    if not cross_field(a, b):
        return None
    return "archives" if a.split(".")[0] != b.split(".")[0] else "categories"


def bridges(theme: Theme, by_id: dict[str, Paper], vectors: dict[str, np.ndarray], earlier: list[EarlierPaper],
            background, limit: int = 3) -> list[Bridge]:
    """The theme's strongest cross-field pairs that share a phrase or a technical term (a single common word ties
    nothing: "swarms", "exchange"); archive gaps rank above category gaps.

    Candidates: pairs of this week's members, and members with the earlier papers they link to. A paper
    appears in at most two bridges, so one hub does not fill the list.
    """
    members = [by_id[i] for i in theme.paper_ids]
    candidates = []
    for i, a in enumerate(members):
        for b in members[i + 1:]:
            gap = _field_gap(a.primary_category, b.primary_category)
            if gap:
                sim = float(vectors[a.id] @ vectors[b.id])
                candidates.append((gap, sim, a, b.id, b.title, b.primary_category, None, b.text_for_embedding()))
    for e in earlier:
        category = e.categories[0] if e.categories else ""
        for pid in e.linked_from:
            a = by_id[pid]
            gap = _field_gap(a.primary_category, category) if category else None
            if gap:
                candidates.append((gap, e.similarity, a, e.id, e.title, category, e.week, e.title))
    candidates.sort(key=lambda c: (c[0] != "archives", -c[1], c[2].id, c[3]))
    chosen: list[Bridge] = []
    uses: dict[str, int] = {}
    for gap, sim, a, b_id, b_title, b_cat, b_week, b_text in candidates[:200]:  # terms are costly: the best 200
        if uses.get(a.id, 0) >= 2 or uses.get(b_id, 0) >= 2:
            continue
        terms = shared_phrases(a.text_for_embedding(), b_text, background, k=3)
        if not any(" " in t or technical(t) for t in terms):  # "swarms", "exchange": a word, not a method or problem
            continue
        chosen.append(Bridge(a_id=a.id, a_title=a.title, a_category=a.primary_category, b_id=b_id, b_title=b_title,
                             b_category=b_cat, b_week=b_week, shared_terms=terms, similarity=round(sim, 4), across=gap))
        uses[a.id] = uses.get(a.id, 0) + 1
        uses[b_id] = uses.get(b_id, 0) + 1
        if len(chosen) == limit:
            break
    return chosen


def previous_weeks(week: str, n: int) -> list[str]:
    """The n ISO weeks before `week`, oldest first."""
    monday = parse_week(week).since
    return [week_of(monday - timedelta(weeks=k)) for k in range(n, 0, -1)]


def direction(counts: list[int], totals: list[int]) -> str:
    """Compare this week's count with what the earlier weeks' pooled share predicts for this week's volume.

    Differences within about two Poisson deviations read as steady: this week's members sit near the
    centre by construction, so a small excess is expected and means nothing.
    """
    before_total, before_count = sum(totals[:-1]), sum(counts[:-1])
    if before_total == 0:
        return "no history"
    now_count, now_total = counts[-1], totals[-1]
    if before_count == 0:
        return "new" if now_count else "steady"
    expected = before_count / before_total * now_total
    margin = max(2.0, 2.0 * float(np.sqrt(expected)))  # about two Poisson standard deviations
    if now_count >= 1.5 * expected and now_count - expected >= margin:
        return "growing"
    if now_count <= expected / 1.5 and expected - now_count >= margin:
        return "shrinking"
    return "steady"


def _leave_one_out(members: np.ndarray) -> np.ndarray:
    """Each member's similarity to the centre of the *other* members: how near a fresh paper of the theme
    would sit. (Similarity to the full centre flatters small themes: each member pulls it towards itself.)"""
    if len(members) < 2:
        return np.ones(len(members), np.float32)
    others = members.sum(axis=0)[None, :] - members
    others /= np.maximum(np.linalg.norm(others, axis=1, keepdims=True), 1e-12)
    return np.einsum("ij,ij->i", members, others)


MIN_TREND_PAPERS = 3  # fewer: no spread of the theme's own to say what "near" is, so no trend


def trends(themes: list[ThemeBrief], vectors: dict[str, np.ndarray], week: str, n_weeks: int,
           counts_near: Callable | None, floor: float = 0.35, ceiling: float = 0.75) -> list[Trend | None]:
    """Each theme's per-week counts near its centroid over the previous `n_weeks` and this week.

    "Near" is as close to the centre as the theme's own lower quartile of members, measured leave-one-out
    (bounded), so tight themes count tightly and loose ones loosely. A theme of one or two papers has no such
    spread, and its centre is where this week's two papers happen to sit: it gets no trend (a fixed floor
    counted a third of a single-field week as "near" a two-paper theme, and borrowing the larger themes' cut
    made such pairs look like they grew). This week's own members are counted by the same leave-one-out
    measure, so they do not make every theme look like it grew. `counts_near` is Memory.weekly_counts_near;
    None gives no trends.
    """
    sized = [i for i, theme in enumerate(themes) if len(theme.paper_ids) >= MIN_TREND_PAPERS]
    out: list[Trend | None] = [None] * len(themes)
    if not sized or counts_near is None:
        return out
    centroids, cuts, own = [], [], []
    for theme in (themes[i] for i in sized):
        members = np.stack([vectors[i] for i in theme.paper_ids])
        centre = members.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        fair = _leave_one_out(members)
        cut = min(max(float(np.quantile(fair, 0.25)), floor), ceiling)
        centroids.append(centre)
        cuts.append(cut)
        # this week's count from memory includes members by their flattering full-centre similarity
        own.append(int((fair >= cut).sum()) - int((members @ centre >= cut).sum()))
    weeks = [*previous_weeks(week, n_weeks), week]
    totals, counts = counts_near(np.stack(centroids), weeks, cuts)
    for i, per_week, cut, correction in zip(sized, counts, cuts, own):
        c = [per_week[w] for w in weeks]
        c[-1] = max(0, c[-1] + correction)
        t = [totals[w] for w in weeks]
        out[i] = Trend(weeks=weeks, counts=c, totals=t, direction=direction(c, t), threshold=round(cut, 3))
    return out
