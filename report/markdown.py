"""Markdown rendering. All text from papers and from the LLM is escaped: it renders inert."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from brief.models import Summary, ThemeBrief, Trend
from brief.ids import CITATION, cite_key
from brief.report.briefing import AcceptedPaper, Briefing, offline_screening
from brief.report.escape import md_link, md_target
from brief.report.escape import md_text as md
from brief.report.paper_view import (authors_shown, earlier_label, link_list, link_why, new_ground, no_bridge, summary_fields,
                                     matched_note)
from brief.report.topics import topic_table_md
from brief.text import counted, papers_in

if TYPE_CHECKING:
    from brief.report.review import ReviewReport


def cite_url(key: str) -> str:
    """The web page of a citation key; the id is percent-encoded (an imported DOI may hold any character)."""
    if key.startswith("arXiv:"):
        return f"https://arxiv.org/abs/{quote(key.removeprefix('arXiv:'))}"
    if key.startswith("doi:"):
        return f"https://doi.org/{quote(key.removeprefix('doi:'))}"
    return ""


def md_prose(text: str) -> str:
    """Escape generated prose, then turn its validated `[arXiv:ID]` citations into links."""
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        pieces, last = [], 0
        for m in CITATION.finditer(para):
            pieces.append(md(para[last:m.start()], strip=False))
            pieces.append(cite_link(m.group(1)))
            last = m.end()
        pieces.append(md(para[last:], strip=False))
        out.append("".join(pieces).strip())
    return "\n\n".join(p for p in out if p)


def trend_text(trend: Trend | None) -> str:
    """`growing (W21 3 · W22 1 · W23 4 · W24 9 nearby papers)`: weeks memory has data for; empty without history."""
    if trend is None or trend.direction == "no history":
        return ""
    series = " · ".join(f"{w.split('-')[-1]} {c}" for w, c, t in zip(trend.weeks, trend.counts, trend.totals) if t)
    return f"{trend.direction} ({series} nearby papers)"


USAGE_HEADER = ("stage", "LLM calls", "cached", "tokens in", "tokens out", "cost", "model time")


def usage_rows(b: Briefing) -> list[tuple]:
    """One row per LLM stage and a total; model time = wall time with a call of that stage in flight."""
    def cost(s) -> str:
        return f"${s.cost_usd:.4f}" if b.usage.price_known or not s.calls else "unknown"

    rows = [(name, s.calls, s.cached_calls, s.input_tokens, s.output_tokens, cost(s), f"{s.seconds:.1f} s")
            for name, s in sorted(b.usage.stages.items())]
    t = b.usage.total
    rows.append(("total", t.calls, t.cached_calls, t.input_tokens, t.output_tokens, cost(t), f"{t.seconds:.1f} s"))
    return rows


def usage_note(b) -> str:
    """The line under the usage table: how answers were structured, and whether the cost is known."""
    parts = []
    if b.usage.method:
        parts.append(f"Structured output: {b.usage.method}.")
    if not b.usage.price_known and b.usage.total.calls:
        parts.append(f"Cost unknown: [llm] prices has no price for {b.usage.model or 'this model'}.")
    if lost := b.usage.total.timed_out:
        parts.append(f"{lost} call{'s' if lost > 1 else ''} timed out: the server may still have run "
                     f"{'them' if lost > 1 else 'it'} (about {b.usage.total.timed_out_input_tokens:,} prompt tokens, "
                     "estimated, not in the totals above; --max-cost counts them).")
    return " ".join(parts)


def partial_text(b: Briefing | ReviewReport) -> str:
    """The partial-run label (empty for a complete run)."""
    return ("Partial run (exit 3): " + "; ".join(b.partial) + ".") if b.partial else ""


def usage_table(b) -> list[str]:
    """The usage table's markdown lines (a briefing or a review), then its note."""
    lines = ["| " + " | ".join(USAGE_HEADER) + " |", "|---" + "|---:" * (len(USAGE_HEADER) - 1) + "|"]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in usage_rows(b)]
    note = usage_note(b)
    return lines + (["", md(note)] if note else [])


def timings_text(b: Briefing) -> str:
    """`Time per stage: fetch 0.4 s · screen 32.5 s · … (total 41.0 s)`, or "" for a report made before it."""
    if not b.timings:
        return ""
    parts = " · ".join(f"{name} {seconds:.1f} s" for name, seconds in b.timings.items())
    return f"Time per stage: {parts} (total {sum(b.timings.values()):.1f} s, writing excluded)."


def cite_link(key: str) -> str:
    """A citation key as a link to its page, or `[key]` as text when it has none."""
    return md_link(key, cite_url(key)) if cite_url(key) else md(f"[{key}]")


def authors_md(p: AcceptedPaper) -> str:
    """`Ada Lovelace, **Sergey Levine** (watch-list), … et al.`"""
    shown, more = authors_shown(p.authors, p.watched_authors)
    names = [f"**{md(a)}** (watch-list)" if watched else md(a) for a, watched in shown]
    return ", ".join(names) + (" et al." if more else "") if names else "authors not listed"


def links_md(p: AcceptedPaper) -> str:
    """`[abs](…) · [PDF](…) · [code](…)`: http(s) only; the URL's own parentheses are percent-encoded."""
    return " · ".join(md_link(label, url) for label, url in link_list(p.url, p.pdf_url, p.resources))


def summary_md(summary: Summary) -> list[str]:
    """A paper's summary fields as list items; those the abstract doesn't state named together on one line."""
    shown, unstated = summary_fields(summary)
    return [f"  - *{label}:* {md(value)}" for label, value in shown] + (
        [f"  - *Not in the abstract:* {', '.join(unstated)}"] if unstated else [])


def _paper(p: AcceptedPaper) -> list[str]:
    key = cite_key(p.id)
    head = f"- **{md(p.title)}** — {cite_link(key)}"
    meta = f"  {md(' '.join(p.categories[:3]))}" + (f" · {md(p.announce.label)}" + (" (inferred)" if p.announce.inferred else "")
                                                     if p.announce else "")
    meta += f" · relevance {p.relevance}" + (f" · novelty {p.novelty}" if p.novelty else "")
    meta += f" · {md(p.topic)}" if p.topic else ""
    card = [head, f"  {authors_md(p)}", meta] + ([f"  {links_md(p)}"] if links_md(p) else [])
    lines = [line + "  " for line in card[:-1]] + [card[-1]]  # trailing double space: a hard line break
    lines.append(f"  - **TL;DR** {md(p.summary.tldr)}")
    lines += summary_md(p.summary)
    lines.append(f"  - *Why:* {md(p.reason)}{md(matched_note(p.reason, p.matched, p.matched_elsewhere), strip=False)}")
    for link in p.links:
        why = [md(w) for w in link_why(link)]
        lines.append(f"  - ↩ {earlier_label(link)}: **{md(link.title)}** {cite_link(cite_key(link.id))}"
                     f" ({md(link.week)}, similarity {link.similarity:.2f}{'; ' + '; '.join(why) if why else ''})")
    return lines


def _theme(i: int, t: ThemeBrief, b: Briefing) -> list[str]:
    trend = trend_text(t.trend)
    lines = ["", f"### {i}. {md(t.name)}", "",
             f"*{md(papers_in(len(t.paper_ids), t.categories))}{' · ' + md(trend) if trend else ''}*", "",
             md_prose(t.prose), ""]
    if t.earlier:
        lines.append("**Builds on earlier weeks:**")
        for e in t.earlier[:8]:
            report = (f" · in your [{md(e.week)} briefing]({md_target(b.earlier_reports[e.week] + '#' + e.id)})"
                      if e.week in b.earlier_reports else "")
            tie = f"similarity {e.similarity:.2f}" if e.linked_from else "cited from memory"
            lines.append(f"- {md(e.title)} {cite_link(cite_key(e.id))} (first seen {md(e.week)}; {tie}){report}")
        lines.append("")
    lines += [f"{'*New ground:* ' if t.new_ids else ''}{new_ground(len(t.new_ids), len(t.paper_ids))}.", ""]
    if t.bridges:
        lines.append("**Cross-field bridges:**")
        lines += [_bridge_line(x) for x in t.bridges]
        lines.append("")
    papers = b.paper
    for pid in t.paper_ids:
        if pid in papers:
            lines += _paper(papers[pid])
    return lines


def _bridge_line(x) -> str:
    where = f"{md(x.b_category)}, {md(x.b_week)}" if x.b_week else md(x.b_category)
    return (f"- {md(x.a_title)} {cite_link(cite_key(x.a_id))} ({md(x.a_category)}) ⇄ {md(x.b_title)} {cite_link(cite_key(x.b_id))} "
            f"({where}) — shared: {md(', '.join(x.shared_terms))}; similarity {x.similarity:.2f}")


def render_markdown(b: Briefing) -> str:
    c = b.counts
    lines = [f"# Research briefing — {b.week}", ""]
    lines.append(f"*{b.since} → {b.until} · written by **{md(b.mode)}** · criteria {b.criteria_version} · generated {b.generated_at}*")
    if b.mode.startswith("offline"):
        lines += ["", f"> Made offline, without an LLM: papers were screened by {offline_screening(b)}, "
                  "summaries are sentences extracted from the abstracts, a theme holds the papers about a phrase "
                  "several of them use (each topic's others are listed together), and the prose is templated. Set "
                  "`OPENAI_API_KEY` or `OPENAI_BASE_URL` for LLM "
                  "screening and prose."]
    if partial_text(b):
        lines += ["", f"> **{md(partial_text(b))}**"]
    sources = ", ".join(f"{md(k)} ({v})" for k, v in b.sources.items())
    lines += ["", f"**Sources:** {sources or 'none'} · **fetched** {c.fetched} unique ({c.duplicates_merged} duplicates merged)"
              f" · **seen before** {c.seen_before} · **screened** {c.screened} · **accepted** {c.accepted}"
              f" · **memory** +{c.memory_added} → {c.memory_total}"]
    if b.notes:
        lines += [""] + [f"- {md(n)}" for n in b.notes]
    lines += ["", "## Usage", "", *usage_table(b)]
    lines += topic_table_md(b)
    lines += ["", "## Overview", "", md_prose(b.overview) or "Nothing this week matched your criteria."]
    if b.themes:
        lines += ["", "## Themes at a glance", "", "| # | theme | papers | fields | trend | build on earlier weeks | bridges |",
                  "|---:|---|---:|---|---|---:|---:|"]
        lines += [f"| {i} | {md(t.name)} | {len(t.paper_ids)} | {md(', '.join(t.categories))} | {md(trend_text(t.trend)) or '—'}"
                  f" | {len(t.paper_ids) - len(t.new_ids)} | {len(t.bridges)} |" for i, t in enumerate(b.themes, 1)]
    lines += ["", "## Cross-field", ""]
    if b.bridges:
        lines += [_bridge_line(x) + f" (theme: {md(t.name)})" for t, x in b.bridges[:12]]
    else:
        lines.append(no_bridge(any(p.categories for p in b.accepted)))
    spanning = [t for t in b.themes if len(t.categories) > 1]
    if spanning:
        lines += ["", "Themes spanning categories (within one field unless bridged above):", ""]
        lines += [f"- **{md(t.name)}** spans {md(', '.join(t.categories))}" for t in spanning]
    if b.themes:
        lines += ["", "## Themes"]
    for i, theme in enumerate(b.themes, 1):
        lines += _theme(i, theme, b)
    if unscreened := [r for r in b.rejected if r.stage == "unscreened"]:
        lines += ["", "## Unscreened", "", "Left unscreened (the same command again screens them):", ""]
        lines += [f"- {md(r.title or r.id)} {cite_link(cite_key(r.id))} — {md(r.reason)}" for r in unscreened]
    n = sum(len(s.citations) for s in b.citations)
    lines += ["", "## Citations", "", f"{counted(n, 'citation')}; " + ("all resolve to this week's papers or to papers in memory."
                                                            if not b.unresolved_citations else
                                                            f"unresolved: {md(', '.join(b.unresolved_citations))}.")]
    if b.citation_repairs:
        lines += [""] + [f"- {md(r.section)}: invalid {md(', '.join(r.invalid))} → "
                         + ("regenerated" if r.regenerated else "not regenerated")
                         + (f", removed {md(', '.join(r.removed))}" if r.removed else ", fixed by the regeneration")
                         for r in b.citation_repairs]
    lines += ["", f"Embeddings this run: {b.usage.embedded} computed, {b.usage.embed_cache_hits} from cache."]
    if timings_text(b):
        lines += ["", timings_text(b)]
    return "\n".join(lines) + "\n"
