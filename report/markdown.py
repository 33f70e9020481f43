"""Markdown rendering. All text from papers and from the LLM is escaped: it renders inert."""

from __future__ import annotations

import html
import re

from brief.agents.synthesiser import CITATION, cite_key
from brief.report.briefing import AcceptedPaper, Briefing

_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#|!~>])")


def md(text: str, strip: bool = True) -> str:
    """Escape untrusted text for Markdown: HTML can't open, links and emphasis can't form."""
    flat = re.sub(r"\s+", " ", str(text))
    return _MD_SPECIAL.sub(r"\\\1", html.escape(flat.strip() if strip else flat, quote=False))


def cite_url(key: str) -> str:
    if key.startswith("arXiv:"):
        return f"https://arxiv.org/abs/{key.removeprefix('arXiv:')}"
    if key.startswith("doi:"):
        return f"https://doi.org/{key.removeprefix('doi:')}"
    return ""


def md_prose(text: str) -> str:
    """Escape generated prose, then turn its validated `[arXiv:ID]` citations into links."""
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        pieces, last = [], 0
        for m in CITATION.finditer(para):
            pieces.append(md(para[last:m.start()], strip=False))
            url = cite_url(m.group(1))
            pieces.append(f"[{md(m.group(1))}]({url})" if url else md(f"[{m.group(1)}]"))
            last = m.end()
        pieces.append(md(para[last:], strip=False))
        out.append("".join(pieces).strip())
    return "\n\n".join(out)


def usage_rows(b: Briefing) -> list[tuple[str, int, int, int, int, str]]:
    rows = [(name, s.calls, s.cached_calls, s.input_tokens, s.output_tokens, f"${s.cost_usd:.4f}")
            for name, s in sorted(b.usage.stages.items())]
    t = b.usage.total
    rows.append(("total", t.calls, t.cached_calls, t.input_tokens, t.output_tokens, f"${t.cost_usd:.4f}"))
    return rows


def _paper(p: AcceptedPaper) -> list[str]:
    key = cite_key(p.id)
    head = f"- **{md(p.title)}** — [{md(key)}]({cite_url(key)})"
    meta = f"  {md(' '.join(p.categories[:3]))} · relevance {p.relevance}" + (f" · novelty {p.novelty}" if p.novelty else "")
    meta += f" · {md(p.topic)}" if p.topic else ""
    lines = [head, meta, f"  - **TL;DR** {md(p.summary.tldr)}"]
    for label, value in (("Problem", p.summary.problem), ("Method", p.summary.method),
                         ("Results", p.summary.results), ("Limitations", p.summary.limitations)):
        if value and value != p.summary.tldr:
            lines.append(f"  - *{label}:* {md(value)}")
    lines.append(f"  - *Why:* {md(p.reason)}")
    for link in p.links:
        why = []
        if link.shared_authors:
            why.append("shared authors: " + md(", ".join(link.shared_authors)))
        if link.shared_terms:
            why.append("shared: " + md(", ".join(link.shared_terms)))
        if link.cross_field:
            why.append("cross-field")
        lines.append(f"  - ↩ earlier: **{md(link.title)}** [arXiv:{md(link.id)}]({cite_url('arXiv:' + link.id)})"
                     f" ({md(link.week)}, similarity {link.similarity:.2f}{'; ' + '; '.join(why) if why else ''})")
    return lines


def render_markdown(b: Briefing) -> str:
    c = b.counts
    lines = [f"# Research briefing — {b.week}", ""]
    lines.append(f"*{b.since} → {b.until} · {b.mode} · criteria {b.criteria_version} · generated {b.generated_at}*")
    if b.mode.startswith("offline"):
        lines += ["", "> Made offline, without an LLM: papers were screened by embedding similarity to your topics, "
                  "summaries are sentences extracted from the abstracts, and themes are clusters named by their "
                  "distinctive terms. Set `OPENAI_API_KEY` or `OPENAI_BASE_URL` for LLM screening and prose."]
    sources = ", ".join(f"{md(k)} ({v})" for k, v in b.sources.items())
    lines += ["", f"**Sources:** {sources or 'none'} · **fetched** {c.fetched} unique ({c.duplicates_merged} duplicates merged)"
              f" · **seen before** {c.seen_before} · **screened** {c.screened} · **accepted** {c.accepted}"
              f" · **memory** +{c.memory_added} → {c.memory_total}"]
    if b.notes:
        lines += [""] + [f"- {md(n)}" for n in b.notes]
    lines += ["", "## Overview", "", md_prose(b.overview) or "Nothing this week matched your criteria."]
    papers = b.paper
    if b.themes:
        lines += ["", "## Themes"]
    for i, theme in enumerate(b.themes, 1):
        lines += ["", f"### {i}. {md(theme.name)}", "",
                  f"*{len(theme.paper_ids)} papers · {md(', '.join(theme.categories))}*", "", md_prose(theme.prose), ""]
        for pid in theme.paper_ids:
            if pid in papers:
                lines += _paper(papers[pid])
    cross = [t for t in b.themes if len(t.categories) > 1]
    lines += ["", "## Cross-field", ""]
    if cross:
        for t in cross:
            lines.append(f"- **{md(t.name)}** spans {md(', '.join(t.categories))}")
        bridges = [(p, l) for p in b.accepted for l in p.links if l.cross_field]
        for p, l in bridges[:10]:
            lines.append(f"- bridge: {md(p.title)} [arXiv:{md(p.id)}] ↔ {md(l.title)} [arXiv:{md(l.id)}] ({l.similarity:.2f})")
    else:
        lines.append("No theme spans more than one primary category this week.")
    if b.citation_repairs:
        lines += ["", "## Citation repairs", ""]
        lines += [f"- {md(r.section)}: removed {md(', '.join(r.removed) or 'none')} (invalid: {md(', '.join(r.invalid))})"
                  for r in b.citation_repairs]
    lines += ["", "## Usage", "", "| stage | LLM calls | cached | tokens in | tokens out | cost |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |" for r in usage_rows(b)]
    lines += ["", f"Embeddings this run: {b.usage.embedded} computed, {b.usage.embed_cache_hits} from cache."]
    return "\n".join(lines) + "\n"
