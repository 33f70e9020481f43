"""The review as one self-contained HTML page: the briefing's style sheet, CSP and escaping (report/html.py),
citations linked to the paper's entry on the page; and `write_review`, which writes every file of a review."""

from __future__ import annotations

from pathlib import Path

from brief.ids import cite_key
from brief.report import atomic_write
from brief.report.chart import colour
from brief.report.html import _CSP, _CSS, Linker, esc, prose, safe_url, summary_html
from brief.report.markdown import USAGE_HEADER, cite_url, partial_text, usage_note, usage_rows
from brief.report.review import (
    FINDING_TITLES,
    OFFLINE_FINDINGS_NOTE,
    ReviewPaper,
    ReviewReport,
    build_review,
    reference_opening,
    render_review_markdown,
    when,
)
from brief.text import counted, papers_in

_EXTRA_CSS = ".bar{display:inline-block;height:.7rem;background:#6b8fbf;border-radius:2px;vertical-align:middle}"


def _paper(p: ReviewPaper, full: bool) -> str:
    url = safe_url(p.url) or cite_url(cite_key(p.id))
    tags = "".join(f'<span class="tag">{esc(c)}</span>' for c in p.categories[:3])
    fields = summary_html(p.summary)
    body = (f"<div>{esc(p.summary.tldr)}</div><details><summary>summary and why</summary><ul>{fields}"
            f"<li><b>Why:</b> {esc(p.reason)}</li><li><b>Review:</b> {esc(p.review)}</li></ul></details>") if full else ""
    anchor = f' id="{esc(p.id)}"' if full else ""
    return (f'<div class="paper"{anchor}><div class="t"><a href="{esc(url)}">{esc(p.title)}</a></div>'
            f'<div class="meta">{tags} [{esc(cite_key(p.id))}] · {esc(when(p))} · similarity {p.similarity:.2f} · '
            f"relevance {p.relevance}</div>{body}</div>")


def _timeline(r: ReviewReport) -> str:
    t = r.timeline
    if t.weeks:
        peak = max(w.count for w in t.weeks) or 1
        rows = "".join(f'<tr><td>{esc(w.week)}</td><td>{w.count}</td><td style="text-align:left"><span class="bar" '
                       f'style="width:{round(10 * w.count / peak, 1)}rem"></span></td><td style="text-align:left">'
                       + esc("; ".join(f"{k} {v}" for k, v in sorted(w.by_subtheme.items(), key=lambda kv: -kv[1])))
                       + "</td></tr>" for w in t.weeks)
        weeks = (f"<p>By the week memory first saw each paper: {counted(t.span_weeks, 'week')}, {esc(t.weeks[0].week)} to "
                 f"{esc(t.weeks[-1].week)}.</p><table><tr><th>week</th><th>papers</th><th></th><th>sub-themes</th></tr>{rows}</table>")
    else:
        weeks = "<p>No paper of this review is in memory.</p>"
    fresh = f"<p>{counted(len(t.fresh_only), 'paper')} {'comes' if len(t.fresh_only) == 1 else 'come'} only from the fresh search.</p>" if t.fresh_only else ""
    fresh += f"<p>{counted(len(t.undated), 'paper')} {'is an undated entry' if len(t.undated) == 1 else 'are undated entries'} of your library.</p>" if t.undated else ""
    months = "".join(f"<tr><td>{esc(m.month)}</td><td>{m.count}</td></tr>" for m in t.published)
    return (f"{weeks}{fresh}<p>{esc(t.months_caption)}</p>"
            f"<table><tr><th>month</th><th>papers</th></tr>{months}</table>")


def render_review_html(r: ReviewReport) -> str:
    linker = Linker(r)
    c = r.counts
    offline = r.mode.startswith("offline")
    note = ('<p class="note">Made offline, without an LLM: retrieval and screening by embedding similarity, extractive '
            "summaries, sub-themes of the papers about a phrase several of them use (the others listed together), "
            "templated prose.</p>") if offline else ""
    notes = "".join(f"<li>{esc(n)}</li>" for n in r.notes)
    plan = (f"<p class=\"meta\">Search phrases ({esc(r.plan.source)}): {esc('; '.join(r.plan.queries))}"
            + (f" · nearest memory terms: {esc(', '.join(r.plan.nearest_terms))}" if r.plan.nearest_terms else "")
            + "</p>") if r.plan else ""
    themes = "".join(
        f'<section class="theme" id="theme-{i}" style="border-left-color:{colour(i - 1)}"><h3>{i}. {esc(t.name)}</h3>'
        f'<div class="meta">{esc(papers_in(len(t.paper_ids), t.categories))}</div>{prose(t.prose, linker)}'
        + "".join(_paper(r.paper[pid], full=False) for pid in t.paper_ids if pid in r.paper) + "</section>"
        for i, t in enumerate(r.themes, 1))
    keys = "".join(_paper(r.paper[pid], full=True) for pid in r.key_papers)
    findings = ""
    for title, kind in zip(FINDING_TITLES[r.findings.source], ("agreements", "contradictions", "open_questions")):
        items = "".join(f"<li>{prose(cl.text, linker).removeprefix('<p>').removesuffix('</p>')}</li>" for cl in getattr(r.findings, kind))
        findings += f"<h3>{esc(title)}</h3>" + (f"<ul>{items}</ul>" if items else "<p class=\"meta\">None found.</p>")
    if r.findings.source == "offline":
        findings += f'<p class="meta">{esc(OFFLINE_FINDINGS_NOTE)}</p>'
    # papers outside the key list are anchored at their reference, so every citation link lands on the page
    keyed = set(r.key_papers)
    refs = "".join(f'<li id="{esc(p.id + "-ref" if p.id in keyed else p.id)}">'
                   f'{esc(reference_opening(p))} '
                   f'<a href="{esc(safe_url(p.url) or cite_url(cite_key(p.id)))}">{esc(p.title)}</a> [{esc(cite_key(p.id))}]'
                   f' <span class="meta">{esc(p.published_month or "")} · {esc(when(p))}</span></li>' for p in r.accepted)
    n = sum(len(s.citations) for s in r.citations)
    status = ("all resolve to papers in the references" if not r.unresolved_citations
              else f"unresolved: {esc(', '.join(r.unresolved_citations))}")
    usage = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in usage_rows(r))
    fresh = f" · fresh search {c.fresh} unique ({c.overlap} also in memory)" if r.fresh else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="referrer" content="no-referrer">
<title>Review: {esc(r.theme)}</title><style>{_CSS}{_EXTRA_CSS}</style></head><body>
<header><h1>Review — {esc(r.theme)}</h1>
<div class="meta">generated {esc(r.generated_at)}{f" · papers from {esc(r.since or '…')} to {esc(r.until or '…')}" if r.since or r.until else ""}</div>
<div style="margin-top:.4rem"><span class="chip {'off' if offline else 'llm'}">written by: {esc(r.mode)}</span>
<span class="chip">{counted(c.accepted, "paper")}</span></div>
<p class="meta">memory {c.memory} candidates{fresh} · pool {c.pool} · screened {c.screened} · reviewer rejected {c.reviewer_rejected}</p>
{plan}</header>
{f'<p class="note"><b>{esc(partial_text(r))}</b></p>' if partial_text(r) else ''}{note}{f'<ul class="meta">{notes}</ul>' if notes else ''}
<nav class="meta"><a href="#overview">Overview</a><a href="#timeline">Timeline</a><a href="#subthemes">Sub-themes</a><a href="#key">Key papers</a><a href="#findings">Agreements and contradictions</a><a href="#references">References</a></nav>
<h2 id="overview">Overview</h2>{prose(r.overview, linker) or "<p>No paper matched the theme.</p>"}
<h2 id="timeline">Timeline</h2>{_timeline(r)}
<h2 id="subthemes">Sub-themes</h2>{themes or "<p>No sub-themes.</p>"}
<h2 id="key">Key papers</h2>{keys or "<p>None.</p>"}
<h2 id="findings">Agreements, contradictions and open questions</h2>{findings}
<h2 id="references">References</h2><ol>{refs}</ol>
<h2 id="citations">Citations</h2><p>{n} distinct citations across sections; {status}.</p>
<table><tr>{"".join(f"<th>{esc(h)}</th>" for h in USAGE_HEADER)}</tr>{usage}</table>
<p class="meta">{esc(usage_note(r))}</p>
<p class="meta">Embeddings this run: {r.usage.embedded} computed, {r.usage.embed_cache_hits} from cache.</p>
</body></html>
"""


def write_review(state, settings, model: str | None) -> list[Path]:
    """`review-SLUG.{json,md,html}` (the configured formats) and `review-SLUG.bib`, each written atomically."""
    from brief.report.bibtex import render_bibtex

    report = build_review(state, settings, model)
    out = Path(settings.out_dir)
    renderers = {"json": lambda: report.model_dump_json(indent=2), "md": lambda: render_review_markdown(report),
                 "html": lambda: render_review_html(report)}
    paths = [atomic_write(out / f"review-{report.slug}.{fmt}", renderers[fmt]())
             for fmt in ("json", "md", "html") if fmt in settings.report.formats]
    paths.append(atomic_write(out / f"review-{report.slug}.bib", render_bibtex(report)))
    return paths
