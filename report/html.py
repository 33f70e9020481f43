"""Self-contained HTML rendering: inline CSS, every piece of text escaped, no external resources."""

from __future__ import annotations

import html
import re

from brief.agents.synthesiser import CITATION, cite_key
from brief.report.briefing import AcceptedPaper, Briefing
from brief.report.markdown import cite_url, usage_rows

_CSS = """
body{font:16px/1.55 system-ui,-apple-system,Segoe UI,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d232a}
h1{margin-bottom:.2rem}.meta{color:#5b6672;font-size:.9rem}.note{background:#fff7e0;border-left:4px solid #e0a800;padding:.5rem .8rem}
.theme{border-top:1px solid #d9dee3;margin-top:1.6rem}.paper{margin:.8rem 0 .8rem 1rem}.paper .t{font-weight:600}
.tag{display:inline-block;background:#eef1f4;border-radius:4px;padding:0 .35rem;margin-right:.25rem;font-size:.8rem}
.link{color:#4a5560;font-size:.9rem;margin-left:1rem}table{border-collapse:collapse}td,th{border:1px solid #d9dee3;padding:.2rem .6rem;text-align:right}
td:first-child,th:first-child{text-align:left}details summary{cursor:pointer;color:#4a5560}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def prose(text: str) -> str:
    parts = []
    for para in re.split(r"\n\s*\n", text.strip()):
        out, last = [], 0
        for m in CITATION.finditer(para):
            out.append(esc(para[last:m.start()]))
            url = cite_url(m.group(1))
            out.append(f'<a href="{esc(url)}">[{esc(m.group(1))}]</a>' if url else esc(m.group(0)))
            last = m.end()
        out.append(esc(para[last:]))
        parts.append(f"<p>{''.join(out)}</p>")
    return "\n".join(parts)


def _paper(p: AcceptedPaper) -> str:
    key = cite_key(p.id)
    tags = "".join(f'<span class="tag">{esc(c)}</span>' for c in p.categories[:3])
    fields = "".join(
        f"<li><b>{label}:</b> {esc(value)}</li>"
        for label, value in (("Problem", p.summary.problem), ("Method", p.summary.method),
                             ("Results", p.summary.results), ("Limitations", p.summary.limitations))
        if value and value != p.summary.tldr
    )
    links = "".join(
        f'<div class="link">↩ earlier: <a href="{esc(cite_url(cite_key(l.id)))}">{esc(l.title)}</a> '
        f"({esc(l.week)}, similarity {l.similarity:.2f}"
        + (f"; shared: {esc(', '.join(l.shared_terms))}" if l.shared_terms else "")
        + (f"; shared authors: {esc(', '.join(l.shared_authors))}" if l.shared_authors else "")
        + ("; cross-field" if l.cross_field else "") + ")</div>"
        for l in p.links
    )
    return (
        f'<div class="paper" id="{esc(p.id)}"><div class="t"><a href="{esc(cite_url(key))}">{esc(p.title)}</a></div>'
        f'<div class="meta">{tags} [{esc(key)}] · relevance {p.relevance}'
        + (f" · novelty {p.novelty}" if p.novelty else "") + (f" · {esc(p.topic)}" if p.topic else "") + "</div>"
        f"<div><b>TL;DR</b> {esc(p.summary.tldr)}</div><details><summary>summary and why</summary><ul>{fields}"
        f"<li><b>Why:</b> {esc(p.reason)}</li><li><b>Review:</b> {esc(p.review)}</li></ul></details>{links}</div>"
    )


def render_html(b: Briefing, chart_svg: str = "") -> str:
    c = b.counts
    papers = b.paper
    themes = "".join(
        f'<section class="theme"><h3>{i}. {esc(t.name)}</h3><div class="meta">{len(t.paper_ids)} papers · '
        f"{esc(', '.join(t.categories))}</div>{prose(t.prose)}"
        + "".join(_paper(papers[pid]) for pid in t.paper_ids if pid in papers) + "</section>"
        for i, t in enumerate(b.themes, 1)
    )
    cross = [t for t in b.themes if len(t.categories) > 1]
    cross_html = "".join(f"<li><b>{esc(t.name)}</b> spans {esc(', '.join(t.categories))}</li>" for t in cross)
    usage = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in usage_rows(b))
    offline = ('<p class="note">Made offline, without an LLM: embedding screening, extractive summaries, '
               "clustered themes named by their distinctive terms.</p>") if b.mode.startswith("offline") else ""
    notes = "".join(f"<li>{esc(n)}</li>" for n in b.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Research briefing {esc(b.week)}</title><style>{_CSS}</style></head><body>
<h1>Research briefing — {esc(b.week)}</h1>
<div class="meta">{esc(b.since)} → {esc(b.until)} · {esc(b.mode)} · criteria {esc(b.criteria_version)} · generated {esc(b.generated_at)}</div>
{offline}
<p class="meta">fetched {c.fetched} unique · seen before {c.seen_before} · screened {c.screened} · accepted {c.accepted} · memory +{c.memory_added} → {c.memory_total}</p>
<ul class="meta">{notes}</ul>
<h2>Overview</h2>{prose(b.overview) or "<p>Nothing this week matched your criteria.</p>"}
{chart_svg}
<h2>Themes</h2>{themes or "<p>No themes this week.</p>"}
<h2>Cross-field</h2><ul>{cross_html or "<li>No theme spans more than one primary category this week.</li>"}</ul>
<h2>Usage</h2><table><tr><th>stage</th><th>LLM calls</th><th>cached</th><th>tokens in</th><th>tokens out</th><th>cost</th></tr>{usage}</table>
<p class="meta">Embeddings this run: {b.usage.embedded} computed, {b.usage.embed_cache_hits} from cache.</p>
</body></html>
"""
