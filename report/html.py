"""Self-contained HTML: inline CSS and SVG chart, every piece of text escaped, a CSP that loads nothing.

Citations link inside the page for this week's papers, to the earlier week's briefing (when it sits in
the same directory) for remembered papers, else to arXiv. Only http(s) URLs from sources become links.
"""

from __future__ import annotations

import re

from brief.models import Bridge, EarlierPaper, Summary, ThemeBrief
from brief.ids import CITATION, cite_key
from brief.report.briefing import AcceptedPaper, Briefing, offline_screening
from brief.report.chart import colour, themes_bars, themes_svg
from brief.report.escape import esc
from brief.report.escape import web_url as safe_url
from brief.report.markdown import USAGE_HEADER, cite_url, partial_text, timings_text, trend_text, usage_note, usage_rows
from brief.report.paper_view import (authors_shown, earlier_label, link_list, link_why, new_ground, no_bridge, summary_fields,
                                     matched_note)
from brief.report.topics import topic_table_html
from brief.text import counted, papers_in

_CSS = """
:root{--ink:#1d232a;--muted:#5b6672;--line:#d9dee3;--soft:#f3f5f7}
body{font:16px/1.55 system-ui,-apple-system,Segoe UI,sans-serif;max-width:62rem;margin:1.5rem auto;padding:0 1rem;color:var(--ink)}
a{color:#1f5fa8;text-decoration:none}a:hover{text-decoration:underline}
header{border-bottom:2px solid var(--ink);padding-bottom:.6rem;margin-bottom:1rem}
h1{margin:.2rem 0;font-size:1.8rem}h2{margin-top:2rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{margin:.2rem 0}h4{margin:.8rem 0 .2rem;font-size:.95rem;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.meta{color:var(--muted);font-size:.9rem}.chip{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.8rem;
background:var(--soft);border:1px solid var(--line);margin-right:.3rem}.chip.llm{background:#e8f1fb}.chip.off{background:#fff3d6}
.note{background:#fff7e0;border-left:4px solid #e0a800;padding:.5rem .8rem;margin:.6rem 0}
.grid{display:grid;grid-template-columns:1fr auto;gap:1rem;align-items:start}
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid var(--line);padding:.15rem .5rem;text-align:right}
td:first-child,th:first-child{text-align:left}th{background:var(--soft)}
nav a{margin-right:.8rem}.toc a.chip{margin:.15rem .3rem .15rem 0;color:var(--ink)}figure{margin:1rem 0}figcaption{color:var(--muted);font-size:.85rem}
.theme{border-left:5px solid var(--line);padding:.2rem 0 .2rem 1rem;margin:1.6rem 0}
.facts{background:var(--soft);border-radius:6px;padding:.2rem .9rem .6rem;margin:.8rem 0;font-size:.93rem}
.facts ul{margin:.2rem 0;padding-left:1.2rem}.bridge{margin:.35rem 0}
.paper{margin:.55rem 0 .55rem .2rem}.paper .t{font-weight:600}.tag{display:inline-block;background:#eef1f4;border-radius:4px;
padding:0 .35rem;margin-right:.25rem;font-size:.78rem}.link{color:#4a5560;font-size:.88rem;margin-left:1rem}
details summary{cursor:pointer;color:var(--muted)}.up{color:#2e7d32}.down{color:#b23b3b}.new{color:#2f6db5}
.authors{font-size:.88rem}.authors mark{background:#fff1b8;border-radius:3px;padding:0 .15rem}.links{font-size:.85rem}
body{overflow-wrap:anywhere}.per-topic th,.per-topic td{overflow-wrap:break-word;hyphens:auto}h1{font-size:clamp(1.3rem,5vw,1.8rem);line-height:1.2}
.scroll{max-width:100%;overflow-x:auto;-webkit-overflow-scrolling:touch}.scroll td,.scroll th{white-space:nowrap}nav{display:flex;flex-wrap:wrap;gap:.2rem .8rem}
nav a{margin-right:0}.bars{display:none;list-style:none;padding:0;margin:.4rem 0}
.bars li{display:grid;grid-template-columns:minmax(0,1fr) auto;gap:.1rem .5rem;margin:.45rem 0;font-size:.88rem}
.bars .bar{grid-column:1/3;height:.6rem;border-radius:3px;min-width:3px}
@media (max-width:700px){body{margin:.8rem auto;padding:0 .7rem}.grid{grid-template-columns:minmax(0,1fr)}
#chart svg{display:none}.bars{display:block}.theme{padding-left:.6rem}.link{margin-left:.4rem}
.per-topic{font-size:.82rem}.per-topic th,.per-topic td{padding:.3rem .3rem}}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


class Linker:
    """Where a citation key points, and what its tooltip says."""

    def __init__(self, b: Briefing):
        self.here = {cite_key(p.id): p.title for p in b.accepted}
        self.earlier: dict[str, tuple[str, str]] = {}
        for t in b.themes:
            for e in t.earlier:
                self.earlier.setdefault(cite_key(e.id), (e.title, e.week))
        for p in b.accepted:
            for link in p.links:
                self.earlier.setdefault(cite_key(link.id), (link.title, link.week))
        self.reports = b.earlier_reports

    def href(self, key: str) -> str:
        if key in self.here:
            return f"#{key.removeprefix('arXiv:')}"
        week = self.earlier.get(key, ("", ""))[1]
        if week in self.reports:
            return f"{self.reports[week]}#{key.removeprefix('arXiv:')}"
        return cite_url(key)

    def title(self, key: str) -> str:
        if key in self.here:
            return self.here[key]
        title, week = self.earlier.get(key, ("", ""))
        return f"{title} ({week})" if title else key

    def anchor(self, key: str) -> str:
        url = self.href(key)
        text = f"[{esc(key)}]"
        return f'<a href="{esc(url)}" title="{esc(self.title(key))}">{text}</a>' if url else text


def prose(text: str, linker: Linker) -> str:
    parts = []
    for para in re.split(r"\n\s*\n", text.strip()):
        out, last = [], 0
        for m in CITATION.finditer(para):
            out.append(esc(para[last:m.start()]))
            out.append(linker.anchor(m.group(1)))
            last = m.end()
        out.append(esc(para[last:]))
        if "".join(out).strip():
            parts.append(f"<p>{''.join(out)}</p>")
    return "\n".join(parts)


def _trend_chip(theme: ThemeBrief) -> str:
    if not theme.trend or theme.trend.direction == "no history":
        return ""
    cls = {"growing": "up", "shrinking": "down", "new": "new"}.get(theme.trend.direction, "")
    return f' · <span class="{cls}">{esc(trend_text(theme.trend))}</span>'


def _earlier(e: EarlierPaper, linker: Linker) -> str:
    key = cite_key(e.id)
    url = cite_url(key)
    where = (f' · <a href="{esc(linker.reports[e.week])}#{esc(e.id)}">in your {esc(e.week)} briefing</a>'
             if e.week in linker.reports else "")
    tie = f"similarity {e.similarity:.2f}" if e.linked_from else "cited from memory"
    shared = f"; shared: {esc(', '.join(e.shared_terms[:3]))}" if e.shared_terms else ""
    via = " ← " + " ".join(linker.anchor(cite_key(i)) for i in e.linked_from[:3]) if e.linked_from else ""
    field = f"{esc(e.categories[0])}, " if e.categories else ""
    return (f'<li><a href="{esc(url)}">{esc(e.title)}</a> <span class="meta">({field}first seen {esc(e.week)}; {tie}{shared})'
            f"{where}</span>{via}</li>")


def _bridge(b: Bridge, linker: Linker, theme_label: str = "") -> str:
    where = f"{esc(b.b_category)}, {esc(b.b_week)}" if b.b_week else esc(b.b_category)
    kind = "fields" if b.across == "archives" else "categories"
    return (f'<div class="bridge">{linker.anchor(cite_key(b.a_id))} {esc(b.a_title)} <span class="tag">{esc(b.a_category)}</span>'
            f' ⇄ {linker.anchor(cite_key(b.b_id))} {esc(b.b_title)} <span class="tag">{where}</span>'
            f'<div class="meta">across {kind} · shared: {esc(", ".join(b.shared_terms))} · similarity {b.similarity:.2f}'
            f"{theme_label}</div></div>")


def _authors(p: AcceptedPaper) -> str:
    shown, more = authors_shown(p.authors, p.watched_authors)
    names = [f'<mark title="on your watch-list">{esc(a)}</mark>' if watched else esc(a) for a, watched in shown]
    return f'<div class="authors">{", ".join(names)}{" et al." if more else ""}</div>' if names else ""


def _links(p: AcceptedPaper) -> str:
    items = [f'<a class="res {esc(label.lower())}" href="{esc(url)}">{esc(label)}</a>'
             for label, url in link_list(safe_url(p.url), safe_url(p.pdf_url), p.resources) if safe_url(url)]
    return f'<div class="links">{" · ".join(items)}</div>' if items else ""


def summary_html(summary: Summary) -> str:
    """A paper's summary fields as <li> items; those the abstract doesn't state named together in one."""
    shown, unstated = summary_fields(summary)
    return "".join(f"<li><b>{label}:</b> {esc(value)}</li>" for label, value in shown) + (
        f"<li><b>Not in the abstract:</b> {esc(', '.join(unstated))}</li>" if unstated else "")


def _paper(p: AcceptedPaper, linker: Linker) -> str:
    key = cite_key(p.id)
    url = safe_url(p.url) or cite_url(key)
    tags = "".join(f'<span class="tag">{esc(c)}</span>' for c in p.categories[:3])
    if p.announce:
        inferred = " (inferred)" if p.announce.inferred else ""
        tags += f'<span class="tag announce">{esc(p.announce.label)}{inferred}</span>'
    fields = summary_html(p.summary)
    links = "".join(
        f'<div class="link">↩ {earlier_label(link)}: {linker.anchor(cite_key(link.id))} {esc(link.title)} ({esc(link.week)}, '
        f"similarity {link.similarity:.2f}" + "".join(f"; {esc(w)}" for w in link_why(link)) + ")</div>"
        for link in p.links
    )
    matched = esc(matched_note(p.reason, p.matched, p.matched_elsewhere))
    return (
        f'<div class="paper" id="{esc(p.id)}"><div class="t"><a href="{esc(url)}">{esc(p.title)}</a></div>'
        f'{_authors(p)}<div class="meta">{tags} [{esc(key)}] · relevance {p.relevance}'
        + (f" · novelty {p.novelty}" if p.novelty else "") + (f" · {esc(p.topic)}" if p.topic else "") + "</div>"
        f"{_links(p)}<div>{esc(p.summary.tldr)}</div><div class=\"meta\"><b>Why:</b> {esc(p.reason)}{matched}</div>"
        f"<details><summary>summary and review</summary><ul>{fields}"
        f"<li><b>Review:</b> {esc(p.review)}</li></ul></details>{links}</div>"
    )


def _theme(i: int, t: ThemeBrief, b: Briefing, linker: Linker) -> str:
    papers = b.paper
    facts = []
    if t.earlier:
        facts.append("<h4>Builds on earlier weeks</h4><ul>" + "".join(_earlier(e, linker) for e in t.earlier[:8]) + "</ul>")
    n_new = len(t.new_ids)
    facts.append(f'<p class="meta">{"New ground: " if n_new else ""}{new_ground(n_new, len(t.paper_ids))}'
                 f"{'.' if n_new != len(t.paper_ids) else ' — the whole theme is new to you.'}</p>")
    if t.bridges:
        facts.append("<h4>Cross-field bridges</h4>" + "".join(_bridge(x, linker) for x in t.bridges))
    return (
        f'<section class="theme" id="theme-{i}" style="border-left-color:{colour(i - 1)}"><h3>{i}. {esc(t.name)}</h3>'
        f'<div class="meta">{esc(papers_in(len(t.paper_ids), t.categories))}{_trend_chip(t)}</div>'
        f'{prose(t.prose, linker)}<div class="facts">{"".join(facts)}</div>'
        + "".join(_paper(papers[pid], linker) for pid in t.paper_ids if pid in papers) + "</section>"
    )


def _unscreened(b: Briefing) -> str:
    """The papers left unscreened, each with why: a partial run's note points here."""
    rows = "".join(f'<li>{esc(r.title or r.id)} [{esc(cite_key(r.id))}] — {esc(r.reason)}</li>'
                   for r in b.rejected if r.stage == "unscreened")
    return (f'<h2 id="unscreened">Unscreened</h2><p class="meta">Left unscreened (the same command again screens '
            f'them):</p><ul>{rows}</ul>') if rows else ""


def _citations(b: Briefing) -> str:
    n = sum(len(s.citations) for s in b.citations)
    status = ("all resolve to this week's papers or to papers in memory" if not b.unresolved_citations
              else f"{len(b.unresolved_citations)} do not resolve: {esc(', '.join(b.unresolved_citations))}")
    rows = "".join(
        f"<li>{esc(r.section)}: invalid {esc(', '.join(r.invalid))} → "
        + ("regenerated" if r.regenerated else "not regenerated")
        + (f", removed {esc(', '.join(r.removed))}" if r.removed else ", fixed by the regeneration") + "</li>"
        for r in b.citation_repairs
    )
    return (f"<p>{counted(n, 'citation')} in {counted(sum(1 for s in b.citations if s.citations), 'section')}; {status}.</p>"
            + (f"<h4>Repairs</h4><ul>{rows}</ul>" if rows else ""))


def render_html(b: Briefing) -> str:
    c = b.counts
    linker = Linker(b)
    themes = "".join(_theme(i, t, b, linker) for i, t in enumerate(b.themes, 1))
    bridges = "".join(_bridge(x, linker, f' · in <a href="#theme-{b.themes.index(t) + 1}">theme {b.themes.index(t) + 1}</a>')
                      for t, x in b.bridges[:12])
    spanning = [t for t in b.themes if len(t.categories) > 1]
    spans = "".join(f"<li><b>{esc(t.name)}</b> spans {esc(', '.join(t.categories))}</li>" for t in spanning)
    usage = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in usage_rows(b))
    offline = b.mode.startswith("offline")
    note = (f'<p class="note">Made offline, without an LLM: papers screened by {esc(offline_screening(b))}, extractive '
            "summaries, themes of the papers about a phrase several of them use (each topic's others listed together), "
            "templated prose.</p>") if offline else ""
    notes = "".join(f"<li>{esc(n)}</li>" for n in b.notes)
    toc = "".join(f'<a class="chip" href="#theme-{i}">{i}. {esc(t.name)}</a>' for i, t in enumerate(b.themes, 1))
    chart = themes_svg(b.themes, b.week)
    budget = f" · ≤ {b.context_budget_tokens} tokens per synthesis call" if b.context_budget_tokens else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="referrer" content="no-referrer">
<title>Research briefing {esc(b.week)}</title><style>{_CSS}</style></head><body>
<header><div class="grid"><div>
<h1>Research briefing — {esc(b.week)}</h1>
<div class="meta">{esc(b.since)} → {esc(b.until)} · generated {esc(b.generated_at)}</div>
<div style="margin-top:.4rem"><span class="chip {'off' if offline else 'llm'}">written by: {esc(b.mode)}</span>
<span class="chip">criteria {esc(b.criteria_version)}</span><span class="chip">{c.accepted} accepted of {c.fetched}</span></div>
<p class="meta">seen before {c.seen_before} · screened {c.screened} · sent to the LLM {c.sent_to_llm} · memory +{c.memory_added} → {c.memory_total}{budget}</p>
</div><div class="scroll"><table><tr>{"".join(f"<th>{esc(h)}</th>" for h in USAGE_HEADER)}</tr>{usage}</table></div>
<p class="meta">{esc(usage_note(b))}</p></div>
</header>
{f'<p class="note"><b>{esc(partial_text(b))}</b></p>' if partial_text(b) else ''}{note}{f'<ul class="meta">{notes}</ul>' if notes else ''}
<nav class="meta"><a href="#overview">Overview</a><a href="#chart">Chart</a><a href="#cross-field">Cross-field</a><a href="#themes">Themes</a><a href="#citations">Citations</a></nav>
{topic_table_html(b)}<h2 id="overview">Overview</h2>{prose(b.overview, linker) or "<p>Nothing this week matched your criteria.</p>"}
<figure id="chart">{chart + themes_bars(b.themes) if chart else '<p class="meta">No themes to chart.</p>'}<figcaption>Theme sizes this week and their trend over the previous weeks in memory.</figcaption></figure>
<h2 id="cross-field">Cross-field</h2>
{bridges or f'<p class="meta">{esc(no_bridge(any(p.categories for p in b.accepted)))}</p>'}
{f'<h4>Themes spanning categories</h4><p class="meta">Within one field unless bridged above.</p><ul>{spans}</ul>' if spans else ''}
<h2 id="themes">Themes</h2><nav class="toc">{toc}</nav>{themes or "<p>No themes this week.</p>"}
{_unscreened(b)}<h2 id="citations">Citations</h2>{_citations(b)}
<p class="meta">Embeddings this run: {b.usage.embedded} computed, {b.usage.embed_cache_hits} from cache.</p>
{f'<p class="meta">{esc(timings_text(b))}</p>' if b.timings else ''}
</body></html>
"""
