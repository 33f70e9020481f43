"""What a reader needs beside a paper's title, built once for every format: readable text (LaTeX resolved),
its links (abs, PDF, code, data, models, project pages), how it was announced, and who on the watch-list
wrote it. Renderers only format these fields."""

from __future__ import annotations

from pydantic import BaseModel, Field

from brief.config import Criteria
from brief.models import Link, Paper, Score, Summary, ThemeBrief, unstated
from brief.report.latex import latex_to_text
from brief.sources.urls import ResourceLink, resource_links
from brief.text import counted

ANNOUNCE_LABELS = {"new": "new", "cross": "cross-list", "replace": "replacement", "replace-cross": "replacement (cross-list)"}
AUTHORS_SHOWN = 4


class Announce(BaseModel):
    label: str
    inferred: bool = Field(False, description="true: guessed from the categories, the source did not say")


def web_url(url: str | None) -> str | None:
    """Only http(s) URLs become links: a `javascript:` or `data:` URL from a feed must not."""
    return url if url and url.lower().startswith(("http://", "https://")) and not any(c in url for c in " \"'<>") else None


def announce(paper: Paper, categories: list[str]) -> Announce | None:
    """The source's announce type (arXiv RSS says it), else a cross-list inferred when the primary category is
    outside the configured ones but another is inside, else a replacement when the record is v2 or later;
    None when nothing tells (a snapshot without the field): omitted rather than guessed."""
    if paper.announce_type:
        return Announce(label=ANNOUNCE_LABELS[paper.announce_type])
    configured = set(categories)
    if configured and paper.categories and paper.primary_category not in configured and configured & set(paper.categories):
        return Announce(label="cross-list", inferred=True)
    if paper.version and paper.version > 1:
        return Announce(label="replacement", inferred=True)
    return None


def abs_and_pdf(paper: Paper) -> tuple[str | None, str | None]:
    abs_url = web_url(paper.url) or (f"https://arxiv.org/abs/{paper.id}" if paper.is_arxiv else None)
    pdf_url = web_url(paper.pdf_url) or (f"https://arxiv.org/pdf/{paper.id}" if paper.is_arxiv else None)
    if abs_url is None and paper.doi:
        abs_url = f"https://doi.org/{paper.doi}"
    return abs_url, pdf_url


def readable_summary(summary: Summary) -> Summary:
    return Summary(**{name: latex_to_text(value) for name, value in summary.model_dump().items()})


def summary_fields(summary: Summary) -> tuple[list[tuple[str, str]], list[str]]:
    """The summary's fields beside its TL;DR, as (label, text) in reading order (the empty ones and those
    repeating the TL;DR left out), and the names of those the abstract doesn't state ("problem", "limitations"),
    which renderers show on one line."""
    fields = (("Problem", summary.problem), ("Method", summary.method), ("Results", summary.results),
              ("Limitations", summary.limitations))
    unstated_labels = [label.lower() for label, value in fields if value and unstated(value)]
    shown = [(label, value) for label, value in fields
             if value and value != summary.tldr and label.lower() not in unstated_labels]
    return shown, unstated_labels


def readable_theme(theme: ThemeBrief) -> ThemeBrief:
    """Titles of earlier and bridged papers, and the prose, with LaTeX resolved."""
    return theme.model_copy(update={
        "prose": latex_to_text(theme.prose),
        "earlier": [e.model_copy(update={"title": latex_to_text(e.title)}) for e in theme.earlier],
        "bridges": [b.model_copy(update={"a_title": latex_to_text(b.a_title), "b_title": latex_to_text(b.b_title)})
                    for b in theme.bridges],
    })


def matched_terms(score: Score | None) -> list[str]:
    """The topic keywords and include-keywords stage 1 found in the paper (what the decision already records)."""
    return list(score.keyword_hits) if score else []


def paper_fields(paper: Paper, score: Score | None, categories: list[str]) -> dict:
    """The AcceptedPaper fields that come from the paper itself, ready to render."""
    abs_url, pdf_url = abs_and_pdf(paper)
    return {
        "title": latex_to_text(paper.title),
        "url": abs_url,
        "pdf_url": pdf_url,
        "resources": resource_links(paper.abstract, paper.comment),
        "announce": announce(paper, categories),
        "watched_authors": list(score.author_hits) if score else [],
        "matched": matched_terms(score),
    }


def unstated_matches(reason: str, matched: list[str]) -> list[str]:
    """Matched terms the reason doesn't already name (offline reasons list their keywords themselves)."""
    low = reason.lower()
    return [term for term in matched if term.lower() not in low]


def matched_elsewhere(hits: list[str], topic: str | None, criteria: Criteria) -> dict[str, list[str]]:
    """The keywords stage 1 found that belong to other topics than the one the paper was kept for, by topic:
    shown as that topic's, since they are no reason for this one (a 3D-reconstruction paper that says
    "manipulation" does not match its topic by it)."""
    own = {k.lower() for k in criteria.include_keywords} | {k.lower() for t in criteria.topics if t.name == topic for k in t.keywords}
    out: dict[str, list[str]] = {}
    for other in criteria.topics:
        theirs = {k.lower() for k in other.keywords}
        if found := [h for h in hits if h.lower() in theirs and h.lower() not in own and other.name != topic]:
            out[other.name] = found
    return out


def matched_note(reason: str, matched: list[str], elsewhere: dict[str, list[str]]) -> str:
    """What the Why line adds in brackets, brackets and the space before them included (plain text; each format
    escapes it): matched terms the reason doesn't name, and another topic's keywords as that topic's."""
    topics_of: dict[str, list[str]] = {}  # each other topic's keyword with all the topics it is a keyword of
    for name, hits in elsewhere.items():
        for hit in hits:
            topics_of.setdefault(hit, []).append(name)
    theirs = {hit.lower() for hit in topics_of}
    plain = [term for term in unstated_matches(reason, matched) if term.lower() not in theirs]
    grouped: dict[tuple[str, ...], list[str]] = {}  # a keyword two topics share is named once, with both
    for hit, names in topics_of.items():
        grouped.setdefault(tuple(names), []).append(hit)
    parts = ([f"matched: {', '.join(plain)}"] if plain else []) + [
        f"{', '.join(hits)}: {'keywords' if len(hits) > 1 else 'a keyword'} of {_and(list(names))}"
        for names, hits in grouped.items()]
    return f" ({'; '.join(parts)})" if parts else ""


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def authors_shown(authors: list[str], watched: list[str], n: int = AUTHORS_SHOWN) -> tuple[list[tuple[str, bool]], int]:
    """The first `n` authors, plus any watch-listed author further down, each with whether it is watched;
    and how many more there are ("et al.")."""
    watch = set(watched)
    shown = [a for i, a in enumerate(authors) if i < n or a in watch]
    return [(a, a in watch) for a in shown], len(authors) - len(shown)


def link_list(abs_url: str | None, pdf_url: str | None, resources: list[ResourceLink]) -> list[tuple[str, str]]:
    """(label, url) pairs in reading order: abs, PDF, then code, data, model and project links."""
    order = {"code": 0, "data": 1, "model": 2, "project": 3}
    out = [("abs", abs_url), ("PDF", pdf_url), *((r.kind, r.url) for r in sorted(resources, key=lambda r: order[r.kind]))]
    return [(label, url) for label, url in out if url and web_url(url)]


def earlier_label(link: Link) -> str:
    """What the earlier paper is to this one: an earlier version of it (its preprint), or earlier work."""
    return "earlier version" if link.same_work else "earlier"


def link_why(link: Link) -> list[str]:
    """Why a link was made, strongest evidence first, each thing said once (the reason often names the shared
    authors or terms already: "both on dexterous robotics"); plain text, for every format to escape its own way."""
    reason = link.reason or ""
    why = [reason] if reason else []
    if authors := [a for a in link.shared_authors if a not in reason]:
        why.append("shared authors: " + ", ".join(authors))
    if terms := [t for t in link.shared_terms if t not in reason]:
        why.append("shared: " + ", ".join(terms))
    if link.cross_field:
        why.append("cross-field")
    return why


def no_bridge(categorised: bool) -> str:
    """Why the week shows no cross-field bridge: none was found, or (a source without categories, such as a
    plain listing) fields could not be told apart at all."""
    if not categorised:
        return "No cross-field bridges: the source gave no arXiv categories, so papers' fields can't be told apart."
    return "No cross-field bridge this week: no two papers from different fields shared a method or problem."


def new_ground(new: int, total: int) -> str:
    """"1 of 3 papers has nothing close in memory": the verb agrees with the papers counted; with none new,
    what is true instead ("All 3 papers have something close in memory", not "0 of 3 … nothing")."""
    if new == 0 and total:
        return "Its paper has something close in memory" if total == 1 else f"All {total} papers have something close in memory"
    return f"{new} of {counted(total, 'paper')} {'has' if new == 1 else 'have'} nothing close in memory"
