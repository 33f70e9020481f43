"""BibTeX of the week's accepted papers (`brief weekly --bibtex`), ready for a reference manager.

arXiv papers are `@misc` entries with `eprint`/`archivePrefix`/`primaryClass` (what biblatex and
natbib styles print as arXiv references); others are `@article` with their DOI. Keys are
`lastnameYEARword`, made unique with a letter suffix. Field values escape LaTeX's special characters,
so a title with `&`, `%` or `_` compiles.
"""

from __future__ import annotations

import re
import unicodedata

from brief.ids import is_arxiv_id
from brief.report.briefing import AcceptedPaper, Briefing

_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_SKIP = {"a", "an", "the", "on", "of", "for", "towards", "toward", "via", "with", "from", "to", "in", "and"}


def tex(text: str) -> str:
    return "".join(_SPECIAL.get(ch, ch) for ch in " ".join(str(text).split()))


def _ascii(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


def year_of(paper: AcceptedPaper) -> str:
    if paper.published:
        return paper.published[:4]
    match = re.match(r"(\d{2})(\d{2})\.\d{4,5}$", paper.id)
    return f"20{match.group(1)}" if match else ""


def base_key(paper: AcceptedPaper) -> str:
    last = paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else "anon"
    word = next((w for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", paper.title) if w.lower() not in _SKIP), "paper")
    return f"{_ascii(last) or 'anon'}{year_of(paper)}{_ascii(word)}"


def entry(paper: AcceptedPaper, key: str, week: str) -> str:
    fields: list[tuple[str, str]] = [("title", "{" + tex(paper.title) + "}"),
                                     ("author", " and ".join(tex(a) for a in paper.authors) or "Unknown")]
    year = year_of(paper)
    if year:
        fields.append(("year", year))
    arxiv = is_arxiv_id(paper.id)
    if arxiv:
        fields += [("eprint", paper.id), ("archivePrefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryClass", tex(paper.categories[0])))
        fields.append(("url", f"https://arxiv.org/abs/{paper.id}"))
    elif paper.url and paper.url.startswith(("http://", "https://")):
        fields.append(("url", tex(paper.url)))
    if paper.doi:
        fields.append(("doi", tex(paper.doi)))
    if paper.journal_ref:
        fields.append(("journal" if not arxiv else "howpublished", tex(paper.journal_ref)))
    fields.append(("note", tex(f"brief {week}: relevance {paper.relevance}" + (f", {paper.topic}" if paper.topic else ""))))
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name:<{width}} = {{{value}}}" for name, value in fields)
    return f"@{'misc' if arxiv else 'article'}{{{key},\n{body}\n}}\n"


def render_bibtex(b: Briefing) -> str:
    taken: set[str] = set()
    entries = []
    for paper in b.accepted:
        base = key = base_key(paper)
        n = 0
        while key in taken:
            n += 1
            key = f"{base}{chr(ord('a') + (n - 1) % 26)}{(n - 1) // 26 or ''}"
        taken.add(key)
        entries.append(entry(paper, key, b.week))
    head = f"% {len(entries)} accepted papers of {b.week}, written by brief ({b.mode}).\n\n"
    return head + "\n".join(entries)
