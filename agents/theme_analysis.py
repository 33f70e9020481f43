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
from collections.abc import Callable
from datetime import timedelta

import numpy as np

from brief.models import Bridge, Decision, EarlierPaper, Link, Paper, Theme, ThemeBrief, Trend
from brief.sources.window import parse_week, week_of
from brief.fields import cross_field
from brief.phrases import initials, phrase_frequencies, shared_phrases, strip_latex, supported_phrases


def name_themes(groups: list[list[int]], papers: list[Paper], decisions: dict[str, Decision],
                background: list[str], merge_rest: bool = True) -> list[ThemeBrief]:
    """Offline names (distinctive phrases against the whole week, brief/phrases.py), members best first,
    heaviest theme first. A name's first phrase is used by at least a third of its papers, at least two (a
    phrase two of seven share names those two, not the theme), a second one by a third, at least three. The groups no
    such phrase names are what they are: the rest of a topic, merged into one theme per topic and listed
    after the named ones ("Legged robot navigation: assorted"). A single paper is named by its title. A
    phrase a heavier theme is named by is not used again: two themes never read alike ("LLM Agents" twice);
    a theme whose phrases all name heavier themes is "More on" its first. With `merge_rest` False (a model
    names the themes from their papers) every group stays a theme, its phrases only the fallback name."""
    bg = phrase_frequencies(background)
    drafts = []
    for group in groups:
        members = sorted((papers[i] for i in group), key=lambda p: (-decisions[p.id].relevance, p.id))
        ranked = [] if len(members) == 1 else supported_phrases(
            [p.text_for_embedding() for p in members], [p.title for p in members], bg, k=6, min_support=2)
        drafts.append((round(sum(decisions[p.id].relevance for p in members) / 10, 2), members, ranked))
    themes = []
    rest: dict[str, list[Paper]] = {}
    named: set[str] = set()
    for weight, members, ranked in sorted(drafts, key=lambda d: (-d[0], d[1][0].id)):
        fresh = [(f, n) for f, n in ranked if f.lower() not in named and initials(f).lower() not in named]
        # a second phrase only when a third of the theme uses it: two of eleven papers' "held-out" or "five
        # benchmarks" is a quirk of those two, and the name reads better without it
        shown = fresh[:1] + [(f, n) for f, n in fresh[1:2] if n >= max(3, len(members) / 3)]
        if len(members) == 1:
            name = _short_title(strip_latex(members[0].title))
        elif shown and (3 * shown[0][1] >= len(members) or not merge_rest):
            name = " · ".join(f for f, _ in shown)
        elif not shown and ranked and (3 * ranked[0][1] >= len(members) or not merge_rest):  # the same subject again
            name = f"More on {ranked[0][0]}"
        elif not merge_rest:
            name = _assorted(members, decisions)
        else:
            rest.setdefault(_assorted(members, decisions), []).extend(members)
            continue
        named |= {f.lower() for f, _ in shown} | {initials(f).lower() for f, _ in shown if " " in f or "-" in f}
        themes.append(_theme(name, members, decisions, [t.lower() for t, _ in ranked[:4]], weight))
    for name, members in sorted(rest.items(), key=lambda r: -sum(decisions[p.id].relevance for p in r[1])):
        members = sorted(members, key=lambda p: (-decisions[p.id].relevance, p.id))
        themes.append(_theme(name, members, decisions, [], round(sum(decisions[p.id].relevance for p in members) / 10, 2)))
    return themes


def _theme(name: str, members: list[Paper], decisions: dict[str, Decision], terms: list[str], weight: float) -> ThemeBrief:
    return ThemeBrief(name=name, paper_ids=[p.id for p in members], terms=terms,
                      categories=sorted({p.primary_category for p in members}), weight=weight)


def _assorted(members: list[Paper], decisions: dict[str, Decision]) -> str:
    topics = Counter(decisions[p.id].topic for p in members if decisions[p.id].topic)
    return f"{topics.most_common(1)[0][0]}: assorted" if topics else "Assorted"


def sharing_clause(theme: Theme) -> str:
    """", sharing kv cache, quantization" when the theme's papers share phrases; nothing when they share none
    (a topic's assorted rest, a single paper): no sentence claims a common method that isn't there."""
    return f", sharing {', '.join(theme.terms[:3])}" if theme.terms else ""


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
    """The theme's strongest cross-field pairs that share terms; archive gaps rank above category gaps.

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
        if not terms:
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


def trends(themes: list[ThemeBrief], vectors: dict[str, np.ndarray], week: str, n_weeks: int,
           counts_near: Callable | None, floor: float = 0.35, ceiling: float = 0.75) -> list[Trend | None]:
    """Each theme's per-week counts near its centroid over the previous `n_weeks` and this week.

    "Near" is as close to the centre as the theme's own lower quartile of members, measured leave-one-out
    (bounded; the floor for themes under three papers), so tight themes count tightly and loose ones
    loosely. This week's own members are counted by the same leave-one-out measure, so they do not make
    every theme look like it grew. `counts_near` is Memory.weekly_counts_near; None gives no trends.
    """
    if not themes or counts_near is None:
        return [None] * len(themes)
    centroids, cuts, own = [], [], []
    for theme in themes:
        members = np.stack([vectors[i] for i in theme.paper_ids])
        centre = members.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        fair = _leave_one_out(members)
        cut = min(max(float(np.quantile(fair, 0.25)) if len(fair) >= 3 else floor, floor), ceiling)
        centroids.append(centre)
        cuts.append(cut)
        # this week's count from memory includes members by their flattering full-centre similarity
        own.append(int((fair >= cut).sum()) - int((members @ centre >= cut).sum()))
    weeks = [*previous_weeks(week, n_weeks), week]
    totals, counts = counts_near(np.stack(centroids), weeks, cuts)
    out = []
    for per_week, cut, correction in zip(counts, cuts, own):
        c = [per_week[w] for w in weeks]
        c[-1] = max(0, c[-1] + correction)
        t = [totals[w] for w in weeks]
        out.append(Trend(weeks=weeks, counts=c, totals=t, direction=direction(c, t), threshold=round(cut, 3)))
    return out
