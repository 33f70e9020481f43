"""Review writer: the prose of a themed review (`brief review`): sub-theme sections, what the papers agree
and disagree on, what they leave open, and the overview.

Sub-themes come from the synthesiser (offline themes: the papers about a phrase); this module only writes about them.
With an LLM, every call goes through the synthesiser's LLMWriter machinery (context budget, one
regeneration naming invalid citations, then removal), so a review's citations are validated exactly as a
weekly briefing's. Offline, everything is computed from data and says so:

- sections: templated from each sub-theme's lead paper, members, fields and the weeks they were first seen;
- common ground: the closest pair of papers in each sub-theme and the terms they share;
- competing approaches (the offline stand-in for contradictions): pairs whose problem statements are close
  but whose methods differ, which a reader should compare; never claimed to conflict;
- open questions: the limitations the abstracts state.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pydantic import BaseModel, Field

from brief.agents.citations import CitationChecker, normalise
from brief.agents.context_budget import Item, fit_texts, render_items
from brief.agents.llm import LLMError, warn_fallback
from brief.protocols import LLM
from brief.agents.theme_analysis import fields_clause, lead_clause, sharing_clause
from brief.agents.synthesis_writer import FEEDBACK, LLMWriter, Overview, ThemeDraft, prose_problem
from brief.config import SynthesisConfig
from brief.models import CitationRepair, Claim, Findings, Paper, Review, ThemeBrief, unstated
from brief.ids import citations, cite_key
from brief.prompts import load as load_prompt
from brief.phrases import reads_as_subject, shared_phrases, text_frequencies
from brief.text import counted, grouped
from brief.sources.window import weeks_between
from brief.untrusted import flat_for_prompt

log = logging.getLogger(__name__)
MAX_FINDINGS = 6


class ReviewFindings(BaseModel):
    """The LLM's answer (prompts/review_findings.md)."""

    agreements: list[str] = Field(description="one sentence each, citing ≥ 2 papers")
    contradictions: list[str] = Field(description="one sentence each, citing each side")
    open_questions: list[str] = Field(description="one sentence each, citing the papers raising it")


def _flat(text: str) -> str:
    return " ".join(str(text).split())


_inert = flat_for_prompt  # paper text (or the user's theme) as one inert line for a prompt


def _claim(text: str) -> Claim:
    return Claim(text=text, papers=list(dict.fromkeys(c.removeprefix("arXiv:") for c in citations(text))))


class ReviewWriter:
    """Writes one review's prose; `when[id]` says when a paper was first seen (or published, if fresh)."""

    def __init__(self, llm: LLM | None, cfg: SynthesisConfig, checker: CitationChecker,
                 embed: Callable[[list[str]], np.ndarray] | None = None):
        self.llm = llm
        self.cfg = cfg
        self.checker = checker
        self.embed = embed
        self.writer = LLMWriter(llm, cfg, checker) if llm is not None else None
        self._repairs: list[CitationRepair] = []

    @property
    def repairs(self) -> list[CitationRepair]:
        return (self.writer.repairs if self.writer else []) + self._repairs

    @property
    def notes(self) -> list[str]:
        return list(self.writer.notes) if self.writer else []

    @property
    def fallbacks(self) -> list[str]:
        return list(self.writer.fallbacks) if self.writer else []

    # -- sub-theme sections -----------------------------------------------------------------------------

    def sections(self, theme: str, themes: list[ThemeBrief], by_id: dict[str, Paper], reviews: dict[str, Review],
                 when: dict[str, str]) -> list[ThemeBrief]:
        if self.writer is None:
            return [self._with_prose(t, offline_section(t, by_id, reviews, when)) for t in themes]

        def one(t: ThemeBrief) -> ThemeBrief:
            try:
                return self._llm_section(theme, t, by_id, reviews, when)
            except LLMError as exc:
                warn_fallback(log, exc, "review section failed (%s): templated prose used", exc)
                self.writer.fell_back(f"review: sub-theme “{t.name}”", exc)
                return self._with_prose(t, offline_section(t, by_id, reviews, when))

        with ThreadPoolExecutor(max_workers=max(1, min(len(themes), self.llm.cfg.concurrency))) as pool:
            return list(pool.map(one, themes))

    def _with_prose(self, t: ThemeBrief, prose: str) -> ThemeBrief:
        text, _ = self.checker.clean(normalise(prose))
        return t.model_copy(update={"prose": text, "citations": citations(text)})

    def _llm_section(self, theme: str, t: ThemeBrief, by_id, reviews, when) -> ThemeBrief:
        values = {"theme": _inert(theme), "terms": _inert(", ".join(t.terms)) or "(none)", "span": span_text(t.paper_ids, when)}
        items = [Item(head=f"- [{cite_key(pid)}] {_inert(by_id[pid].title)[:200]} ({by_id[pid].primary_category}; "
                           f"{when.get(pid, 'date unknown')})",
                      detail=_inert(reviews[pid].summary.tldr if pid in reviews else by_id[pid].abstract))
                 for pid in t.paper_ids]
        lines = self._fit("review_subtheme", values, "papers", items)
        draft, _ = self.writer.checked(ThemeDraft, "review_subtheme", {**values, "papers": "\n".join(lines)}, t.name)
        name = _flat(draft.name)[:80] or t.name
        for repair in self.writer.repairs:
            if repair.section == t.name:
                repair.section = name
        return t.model_copy(update={"name": name, "prose": draft.text, "citations": citations(draft.text), "parts": 1})

    def _fit(self, prompt_name: str, values: dict, slot: str, items: list[Item]) -> list[str]:
        """Lines for as many items (best first) as fit the context budget; the rest are dropped, with a note."""
        room = self.writer._room(load_prompt(prompt_name), values, slot)  # noqa: SLF001 (same budget rule)
        keep = len(items)
        while keep and render_items(items[:keep], room) is None:
            keep -= 1
        if keep < len(items):
            self.writer.notes.append(f"review: {len(items) - keep} of {len(items)} papers left out of one "
                                     f"{prompt_name} call to stay within {self.writer.budget_tokens} tokens")
        return render_items(items[:keep], room) or []

    # -- agreements, contradictions, open questions -----------------------------------------------------

    def findings(self, theme: str, papers: list[Paper], reviews: dict[str, Review], themes: list[ThemeBrief],
                 vectors: dict[str, np.ndarray]) -> Findings:
        """`papers` best first (the LLM sees as many as fit); `vectors` are unit embeddings by id."""
        if len(papers) < 2:
            return Findings(source="llm" if self.writer is not None else "offline")
        if self.writer is not None:
            try:
                return self._llm_findings(theme, papers, reviews)
            except LLMError as exc:
                warn_fallback(log, exc, "review findings failed (%s): computed offline", exc)
                self.writer.fell_back("review: agreements and contradictions", exc)
        return self._offline_findings(papers, reviews, themes, vectors)

    def _llm_findings(self, theme: str, papers: list[Paper], reviews: dict[str, Review]) -> Findings:
        values = {"theme": _inert(theme), "feedback": ""}
        items = []
        for p in papers:
            s = reviews[p.id].summary if p.id in reviews else None
            parts = [f"{label}: {_inert(v)}" for label, v in (("problem", s.problem), ("method", s.method), ("results", s.results),
                                                            ("limitations", s.limitations)) if s and v] if s else [_inert(p.abstract)]
            items.append(Item(head=f"- [{cite_key(p.id)}] {_inert(p.title)[:200]}", detail=" / ".join(parts)))
        values["papers"] = "\n".join(self._fit("review_findings", values, "papers", items))
        prompt = load_prompt("review_findings")
        key = hashlib.sha256(prompt.render_user(**values).encode()).hexdigest()
        answer = self.llm.ask(ReviewFindings, prompt, values, stage="synthesise", key=key,
                              validate=lambda found: findings_problem(found, prompt))
        lists = _normalised(answer)
        invalid = list(dict.fromkeys(k for items_ in lists.values() for t in items_ for k in self.checker.invalid(t)))
        regenerated = False
        if invalid:
            values["feedback"] = FEEDBACK.format(keys=", ".join(invalid[:10]))
            try:
                retry = self.llm.ask(ReviewFindings, prompt, values, stage="synthesise",
                                     key=hashlib.sha256(prompt.render_user(**values).encode()).hexdigest(),
                                     validate=lambda found: findings_problem(found, prompt))
                lists, regenerated = _normalised(retry), True
            except LLMError as exc:
                warn_fallback(log, exc, "regenerating the findings failed (%s): invalid citations removed instead", exc)
        removed: list[str] = []
        out = Findings(source="llm")
        for kind, texts in lists.items():
            for text in texts[:MAX_FINDINGS]:
                clean, gone = self.checker.clean(text)
                removed += gone
                claim = _claim(clean)
                if claim.text and len(claim.papers) >= (1 if kind == "open_questions" else 2):
                    getattr(out, kind).append(claim)
        if invalid:
            self._repairs.append(CitationRepair(section="findings", invalid=invalid, regenerated=regenerated,
                                                removed=list(dict.fromkeys(removed))))
        return out

    def _offline_findings(self, papers: list[Paper], reviews: dict[str, Review], themes: list[ThemeBrief],
                          vectors: dict[str, np.ndarray]) -> Findings:
        by_id = {p.id: p for p in papers}
        out = Findings(source="offline")
        background = text_frequencies([p.text_for_embedding() for p in papers])
        for t in themes:
            members = [pid for pid in t.paper_ids if pid in by_id and pid in vectors]
            pair = _closest_pair(members, vectors)
            if pair:
                a, b, sim = pair
                # as a link's reason: phrases rare among the review's papers, shown when they read as a subject
                # ("screens identify", "performed genome-wide" were fragments of two abstracts' wording)
                titles = f"{by_id[a].title}. {by_id[b].title}"
                shared = [term for term in shared_phrases(by_id[a].text_for_embedding(), by_id[b].text_for_embedding(),
                                                          background, k=6) if reads_as_subject(term, titles)][:3]
                if shared:
                    out.agreements.append(_claim(f"[{cite_key(a)}] and [{cite_key(b)}] work on common ground: "
                                                 f"{', '.join(shared)} (similarity {sim:.2f})."))
        out.agreements = out.agreements[:MAX_FINDINGS]
        out.contradictions = self._competing(themes, by_id, reviews)[:MAX_FINDINGS]
        for p in papers:
            limitation = reviews[p.id].summary.limitations if p.id in reviews else ""
            if limitation and not unstated(limitation) and len(out.open_questions) < MAX_FINDINGS:
                out.open_questions.append(_claim(f"{_flat(limitation).rstrip('.')} [{cite_key(p.id)}]."))
        for kind in ("agreements", "contradictions", "open_questions"):
            setattr(out, kind, [_claim(self.checker.clean(c.text)[0]) for c in getattr(out, kind)])
        return out

    def _competing(self, themes: list[ThemeBrief], by_id: dict[str, Paper], reviews: dict[str, Review]) -> list[Claim]:
        """Per sub-theme, the pair whose problem sentences are closest while their methods differ most."""
        if self.embed is None:
            return []
        found = []
        for t in themes:
            ids = [pid for pid in t.paper_ids if pid in by_id and pid in reviews
                   and reviews[pid].summary.problem and not unstated(reviews[pid].summary.problem)
                   and reviews[pid].summary.method and not unstated(reviews[pid].summary.method)
                   and reviews[pid].summary.problem != reviews[pid].summary.method]
            if len(ids) < 2:
                continue
            problems = self.embed([reviews[i].summary.problem for i in ids])
            methods = self.embed([reviews[i].summary.method for i in ids])
            best = None
            for i in range(len(ids)):
                for j in range(i + 1, len(ids)):
                    same, differ = float(problems[i] @ problems[j]), float(methods[i] @ methods[j])
                    if same >= 0.5 and same - differ >= 0.1 and (best is None or same - differ > best[0]):
                        best = (same - differ, ids[i], ids[j], same)
            if best:
                _, a, b, same = best
                found.append(_claim(
                    f"[{cite_key(a)}] and [{cite_key(b)}] take on the same problem (similarity {same:.2f}) with different "
                    f"methods: {_clip(reviews[a].summary.method)} [{cite_key(a)}] versus "
                    f"{_clip(reviews[b].summary.method)} [{cite_key(b)}]."))
        return found

    # -- overview ---------------------------------------------------------------------------------------

    def overview(self, theme: str, themes: list[ThemeBrief], findings: Findings, coverage: str, lead: Paper | None,
                 lead_similarity: float | None) -> str:
        if self.writer is not None and themes:
            found = "\n".join(f"- {kind}: {_inert(text)}" for kind, text in findings.all_text()) or "(none)"
            values = {"theme": _inert(theme), "coverage": coverage, "findings": found}
            room = self.writer._room(load_prompt("review_overview"), values, "drafts")  # noqa: SLF001
            drafts = "\n\n".join(fit_texts([f"## {t.name} ({len(t.paper_ids)} papers)\n{t.prose}" for t in themes], room))
            try:
                result, _ = self.writer.checked(Overview, "review_overview", {**values, "drafts": drafts}, "overview")
                text, _ = self.checker.clean(normalise(result.text))
                return text
            except LLMError as exc:
                warn_fallback(log, exc, "review overview failed (%s): templated", exc)
                self.writer.fell_back("review: the overview", exc)
        text, _ = self.checker.clean(offline_overview(theme, themes, coverage, lead, lead_similarity))
        return text


def findings_problem(answer: ReviewFindings, prompt) -> str | None:
    """Each finding must be a sentence of its own words (not "x", not the prompt's instructions)."""
    for kind in ("agreements", "contradictions", "open_questions"):
        for text in getattr(answer, kind):
            problem = prose_problem(text, prompt, min_chars=20, min_words=3)
            if problem:
                return f"{kind}: {problem}"
    return None


def _normalised(answer: ReviewFindings) -> dict[str, list[str]]:
    return {kind: [normalise(_flat(t)) for t in getattr(answer, kind) if _flat(t)]
            for kind in ("agreements", "contradictions", "open_questions")}


def _closest_pair(ids: list[str], vectors: dict[str, np.ndarray]) -> tuple[str, str, float] | None:
    if len(ids) < 2:
        return None
    m = np.stack([vectors[i] for i in ids])
    sims = m @ m.T
    np.fill_diagonal(sims, -2.0)
    i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
    return ids[min(i, j)], ids[max(i, j)], float(sims[i, j])


def _clip(text: str, n: int = 160) -> str:
    flat = _flat(text).rstrip(".")
    return flat if len(flat) <= n else flat[: n - 1].rsplit(" ", 1)[0] + "…"


def span_text(ids: list[str], when: dict[str, str]) -> str:
    """`2026-W22 to 2026-W26 (5 weeks)` from the `first seen YYYY-Www` labels, or `(papers in 3 of its 5 weeks)`
    when some weeks between have none (the timeline counts the whole span); fresh-only papers counted aside."""
    weeks = sorted({when[i].removeprefix("first seen ") for i in ids if when.get(i, "").startswith("first seen ")})
    fresh = sum(1 for i in ids if not when.get(i, "").startswith("first seen "))
    text = weeks[0] if len(weeks) == 1 else "none in memory"
    if len(weeks) > 1:
        span = len(weeks_between(weeks[0], weeks[-1]))
        count = f"{len(weeks)} weeks" if span == len(weeks) else f"papers in {len(weeks)} of its {span} weeks"
        text = f"{weeks[0]} to {weeks[-1]} ({count})"
    return text + (f"; {fresh} from the fresh search" if fresh else "")


def offline_section(t: ThemeBrief, by_id: dict[str, Paper], reviews: dict[str, Review], when: dict[str, str]) -> str:
    members = [by_id[i] for i in t.paper_ids if i in by_id]
    lead = members[0]
    tldr = reviews[lead.id].summary.tldr if lead.id in reviews else lead.title
    first = [f"{len(members)} paper{'s' if len(members) > 1 else ''}{fields_clause(t)}, first seen "
             f"{span_text(t.paper_ids, when)}{sharing_clause(t)}.",
             lead_clause(cite_key(lead.id), _flat(lead.title), when.get(lead.id, "date unknown"), tldr)]
    others = [f"[{cite_key(p.id)}]" for p in members[1:5]]
    if others:
        first.append(f"Also here: {', '.join(others)}{f' and {len(members) - 5} more' if len(members) > 5 else ''}.")
    paragraphs = [" ".join(first)]
    dated = sorted((when[p.id], p.id) for p in members if when.get(p.id, "").startswith("first seen "))
    if len(dated) > 1 and dated[0][0] != dated[-1][0]:
        paragraphs.append(f"Earliest in memory: [{cite_key(dated[0][1])}] ({dated[0][0]}); latest: "
                          f"[{cite_key(dated[-1][1])}] ({dated[-1][0]}).")
    if t.bridges:
        b = t.bridges[0]
        paragraphs.append(f"Across fields, [{cite_key(b.a_id)}] ({b.a_category}) and [{cite_key(b.b_id)}] ({b.b_category}) "
                          f"meet on {', '.join(b.shared_terms)}.")
    return "\n\n".join(paragraphs)


def offline_overview(theme: str, themes: list[ThemeBrief], coverage: str, lead: Paper | None,
                     lead_similarity: float | None) -> str:
    if not themes:
        return f"“{_flat(theme)}”: no paper in memory{' or the fresh search' if 'fresh' in coverage else ''} matched the theme ({coverage})."
    n = sum(len(t.paper_ids) for t in themes)
    sizes = [(t.name, len(t.paper_ids)) for t in themes]
    text = f"“{_flat(theme)}”: {grouped(counted(n, 'paper'), 'sub-theme', sizes)}. Coverage: {coverage}."
    if lead is not None:
        sim = f", similarity {lead_similarity:.2f}" if lead_similarity is not None else ""
        text += f" Closest to the theme: [{cite_key(lead.id)}] “{_flat(lead.title)}”{sim}."
    return text
