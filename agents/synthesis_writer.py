"""The LLM side of synthesis: theme sections and the overview, map-reduced within the context budget.

Every answer is validated before it is used or cached (`answer_problem`): its prose must be at least a
sentence long and not echo the prompt, and a theme's name must be words. An invalid answer is asked again
once; a second invalid one raises `InvalidAnswer`, and the caller shows the offline text, labelled.
Every call's prompt is fitted to `context_budget_tokens - output_reserve_tokens` (chars/4): paper lines
are trimmed evenly first; a theme whose bare paper list still does not fit is drafted in parts (map) and
the parts merged (reduce, recursively when the drafts themselves are too long). Every answer's citations
are normalised and checked: an invalid key triggers one regeneration of that section with the bad keys
named, then any key still invalid is removed, and both steps are recorded as a CitationRepair.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel, Field

from brief.agents.citations import CitationChecker, normalise
from brief.agents.context_budget import CHARS_PER_TOKEN, Item, chunk_items, clip, fit_texts, prompt_tokens, render_items
from brief.agents.llm import CallsStopped, InvalidAnswer, LLMError, warn_fallback
from brief.protocols import LLM
from brief.config import SynthesisConfig
from brief.models import CitationRepair, Paper, Review, ThemeBrief, Trend
from brief.ids import citations, cite_key
from brief.prompts import Prompt
from brief.prompts import load as load_prompt
from brief.untrusted import flat_for_prompt

log = logging.getLogger(__name__)
FEEDBACK = "\nYour previous answer cited keys that do not exist: {keys}. Cite only keys listed above."
_FEEDBACK_ROOM = len(FEEDBACK) + 10 * 32  # room kept for feedback naming up to ten bad keys
_MIN_DRAFT_SHARE = 600  # a partial draft trimmed below this loses its substance: merge in stages instead


MIN_PROSE_CHARS = 30  # shorter "prose" says nothing (a model answering "x", "N/A", "No papers.")
MIN_PROSE_WORDS = 5
_ECHO_WORDS = 8  # an answer sharing this many consecutive words with the prompt's own wording echoes it
_WORDS = re.compile(r"[^\W\d_]+")
_ADDRESS = re.compile(r"(?i)\b(?:https?://|www\.)\S")
# JSON's structure in prose: a brace standing alone ("} {" from an answer that began a second object) or a quoted key
_JSON_LEFTOVER = re.compile(r'(?:^|\s)[{}](?:\s|$)|"\w+"\s*:\s*["{\[\d]')


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORDS.findall(text)]
    return {tuple(words[i:i + _ECHO_WORDS]) for i in range(len(words) - _ECHO_WORDS + 1)}


def prompt_wording(prompt: Prompt) -> str:
    """The prompt's own words: its system part and the fixed lines of its user template (no paper text)."""
    return prompt.system + "\n" + "\n".join(line for line in prompt.user.splitlines() if "{" not in line)


def prose_problem(text: str, prompt: Prompt, min_chars: int = MIN_PROSE_CHARS, min_words: int = MIN_PROSE_WORDS) -> str | None:
    """Why `text` can't be published as prose, or None. The why never quotes the answer: it reaches the report's
    labels, where text that failed validation must not appear."""
    flat = " ".join(str(text).split())
    if len(flat) < min_chars or len(_WORDS.findall(flat)) < min_words:
        return f"too short to be prose ({len(flat)} characters)"
    if _shingles(flat) & _shingles(prompt_wording(prompt)):
        return "it repeats the prompt's instructions"
    if _ADDRESS.search(normalise(flat)):  # a link to an arXiv page is a citation; any other address is unchecked
        return "it gives a web address (papers are cited by key; brief adds their links)"
    if _JSON_LEFTOVER.search(flat):
        return "it holds JSON, not prose"
    return None


MAX_NAME_WORDS = 9


def name_problem(name: str) -> str | None:
    """A theme name must be words: at least one word of 3+ letters (or an acronym), not mostly symbols. The why
    never quotes the name (see prose_problem)."""
    flat = " ".join(str(name).split())
    words = _WORDS.findall(flat)
    letters = sum(len(w) for w in words)
    if not any(len(w) >= 3 or (len(w) >= 2 and w.isupper()) for w in words) or letters < 0.4 * len(flat.replace(" ", "")):
        return f"the name ({len(flat)} characters) is not words"
    if len(flat.split()) > MAX_NAME_WORDS:  # the schema asks for 6: more is a title or a sentence, not a name
        return f"the name is {len(flat.split())} words, not a name"
    return None


def answer_problem(answer: BaseModel, prompt: Prompt) -> str | None:
    """Validation of a prose answer (ThemeDraft, Overview): its name, if any, then its text."""
    name = getattr(answer, "name", None)
    return (name_problem(name) if name is not None else None) or prose_problem(getattr(answer, "text", ""), prompt)


class ThemeDraft(BaseModel):
    name: str = Field(description="at most 6 words")
    text: str = Field(description="2-4 short paragraphs citing papers as [arXiv:ID]")


class Overview(BaseModel):
    text: str


def _flat(text: str) -> str:
    """Paper text as one inert line: no newlines to fake prompt structure, no markup."""
    return flat_for_prompt(text)


def trend_line(trend: Trend | None) -> str:
    if trend is None:
        return "not measured (a theme of one or two papers, or no memory to compare with)"
    if trend.direction == "no history":
        return "no earlier weeks in memory"
    counts = " → ".join(f"{w}: {c}/{t}" for w, c, t in zip(trend.weeks, trend.counts, trend.totals) if t)
    return f"{trend.direction} (nearby papers / papers seen per week: {counts})"


def call_budget(cfg: SynthesisConfig, context_tokens: int | None) -> tuple[int, int]:
    """(tokens per call, of which the prompt may use): `[synthesis] context_budget_tokens`, capped by the
    server's window (`[llm] context_tokens`), keeping the answer's reserve (at most a third of a small window)."""
    budget = min(cfg.context_budget_tokens, context_tokens or cfg.context_budget_tokens)
    return budget, budget - min(cfg.output_reserve_tokens, budget // 3)


class LLMWriter:
    """Writes the prose of a synthesis with one LLM client; collects repairs and notes (thread-safe)."""

    def __init__(self, llm: LLM, cfg: SynthesisConfig, checker: CitationChecker, language: str | None = None):
        self.llm = llm
        self.cfg = cfg
        self.checker = checker
        self.language = language  # [report] language: the prose is written in it
        self.budget_tokens, self.prompt_limit = call_budget(cfg, getattr(llm.cfg, "context_tokens", None))
        self.budget_chars = self.prompt_limit * CHARS_PER_TOKEN - 16
        self.repairs: list[CitationRepair] = []
        self.notes: list[str] = []
        self.fallbacks: list[str] = []  # sections shown as offline text: the run is partial (WeeklyState.partial)
        self._lock = threading.Lock()

    def fell_back(self, what: str, exc: LLMError) -> None:
        """Record that `what` shows the offline text instead of the LLM's, and why, for the report."""
        if isinstance(exc, CallsStopped):  # the run's note gives the reason once
            why = "not asked (LLM calls had stopped)"
        else:  # an answer cut at max_tokens is asked once (asking again would cut it again); others twice
            why = ("its answer was cut short" if exc.cut_short else "its answer failed validation twice") \
                if isinstance(exc, InvalidAnswer) else "the LLM failed"
            why += f" ({str(exc)[:160]})"
        line = f"{what}: {why}; the offline text is shown instead (fallback)"
        with self._lock:  # shown once, in the report's partial-run label
            self.fallbacks.append(line)

    # -- one checked call ------------------------------------------------------------------------------

    def _room(self, prompt: Prompt, values: dict, slot: str) -> int:
        """Characters left for `slot` once the rest of the prompt (and room for feedback) is counted."""
        fixed = len(prompt.system) + len(prompt.render_user(**{**values, slot: "", "feedback": ""}))
        return self.budget_chars - fixed - _FEEDBACK_ROOM

    def _ask(self, schema, prompt: Prompt, values: dict):
        limit = self.prompt_limit
        if prompt_tokens(prompt, values) > limit:  # fitting is exact, so this is a bug; the caller falls back
            log.error("%s prompt of %d tokens exceeds the budget of %d", prompt.name, prompt_tokens(prompt, values), limit)
            raise LLMError(f"synthesise: {prompt.name} prompt over the context budget")
        key = hashlib.sha256(prompt.render_user(**values).encode()).hexdigest()
        return self.llm.ask(schema, prompt, values, stage="synthesise", key=key,
                            validate=lambda answer: answer_problem(answer, prompt))

    def checked(self, schema, prompt_name: str, values: dict, section: str):
        """Ask; if the answer cites unknown keys, ask once more naming them; then strip what is still bad."""
        prompt = load_prompt(prompt_name, self.language)
        values = {**values, "feedback": ""}
        result = self._ask(schema, prompt, values)
        text = normalise(result.text)
        invalid = self.checker.invalid(text)
        if not invalid:
            return result.model_copy(update={"text": text}), None
        values["feedback"] = FEEDBACK.format(keys=clip(", ".join(invalid[:10]), _FEEDBACK_ROOM - len(FEEDBACK)))
        regenerated = False
        try:
            result = self._ask(schema, prompt, values)
            text, regenerated = normalise(result.text), True
        except LLMError as exc:
            warn_fallback(log, exc, "regenerating %s failed (%s): invalid citations removed instead", section, exc)
        text, removed = self.checker.clean(text)
        repair = CitationRepair(section=section, invalid=invalid, regenerated=regenerated, removed=removed)
        with self._lock:
            self.repairs.append(repair)
        return result.model_copy(update={"text": text}), repair

    # -- theme sections ---------------------------------------------------------------------------------

    def _context(self, theme: ThemeBrief) -> dict:
        """Terms, trend, earlier papers and bridges, each list capped at an eighth of the budget."""
        cap = self.budget_chars // 8
        earlier = render_items([Item(head=f"- [{cite_key(e.id)}] {_flat(clip(e.title, 160))} (first seen {e.week})",
                                     detail=_flat(", ".join(e.shared_terms))) for e in theme.earlier], cap)
        bridges = render_items([Item(head=f"- [{cite_key(b.a_id)}] ({b.a_category}) ↔ [{cite_key(b.b_id)}] "
                                          f"({b.b_category}{', ' + b.b_week if b.b_week else ''})",
                                     detail="shared: " + _flat(", ".join(b.shared_terms))) for b in theme.bridges], cap)
        return {"terms": _flat(", ".join(theme.terms)) or "(none)", "trend": trend_line(theme.trend),
                "earlier": "\n".join(earlier or []) or "(none)", "bridges": "\n".join(bridges or []) or "(none)"}

    def draft_theme(self, theme: ThemeBrief, by_id: dict[str, Paper], reviews: dict[str, Review]
                    ) -> tuple[ThemeBrief, list[CitationRepair]]:
        """The theme with its prose and LLM name, and the repairs of its sections (named after the theme)."""
        context = {**self._context(theme), "part": ""}
        items = [_paper_item(by_id[pid], reviews.get(pid)) for pid in theme.paper_ids]
        prompt = load_prompt("synthesise_theme", self.language)
        lines = render_items(items, self._room(prompt, context, "papers"))
        own: list[CitationRepair] = []
        if lines is not None:
            draft, repair = self.checked(ThemeDraft, "synthesise_theme", {**context, "papers": "\n".join(lines)}, theme.name)
            own += [repair] if repair else []
            parts = 1
        else:
            part_context = {**context, "part": "Part 999 of 999 of this theme's papers: write about these papers only.\n"}
            chunks = chunk_items(items, self._room(prompt, part_context, "papers"))
            parts = len(chunks)

            def one(numbered):
                i, chunk = numbered
                values = {**context, "part": f"Part {i} of {parts} of this theme's papers: write about these papers only.\n",
                          "papers": "\n".join(render_items(chunk, self._room(prompt, part_context, "papers")))}
                return self.checked(ThemeDraft, "synthesise_theme", values, f"{theme.name} (part {i}/{parts})")

            with ThreadPoolExecutor(max_workers=min(parts, self.llm.cfg.concurrency)) as pool:
                partials = list(pool.map(one, enumerate(chunks, 1)))
            own += [r for _, r in partials if r]
            draft, repair = self.merge(theme, context, [d.text for d, _ in partials])
            own += [repair] if repair else []
            with self._lock:
                self.notes.append(f"synthesis: theme “{theme.name}” ({len(items)} papers) was drafted in {parts} parts "
                                  f"and merged, within {self.budget_tokens} tokens per call")
        name = " ".join(draft.name.split())[:80] or theme.name
        for repair in own:  # sections are known by the theme's final name
            repair.section = repair.section.replace(theme.name, name, 1)
        return theme.model_copy(update={"name": name, "prose": draft.text, "citations": citations(draft.text),
                                        "parts": parts}), own

    def merge(self, theme: ThemeBrief, context: dict, drafts: list[str]) -> tuple[ThemeDraft, CitationRepair | None]:
        """Reduce partial drafts to one section; in stages when they can't all share one prompt usefully."""
        values = {k: context[k] for k in ("terms", "trend", "earlier", "bridges")}
        room = self._room(load_prompt("synthesise_merge", self.language), values, "drafts")
        group = max(2, room // _MIN_DRAFT_SHARE)
        while len(drafts) > group:
            merged = []
            for start in range(0, len(drafts), group):
                batch = drafts[start : start + group]
                if len(batch) == 1:
                    merged.append(batch[0])
                    continue
                text = "\n\n".join(fit_texts([f"Draft {i}: {t}" for i, t in enumerate(batch, 1)], room))
                draft, _ = self.checked(ThemeDraft, "synthesise_merge", {**values, "drafts": text}, f"{theme.name} (merge)")
                merged.append(draft.text)
            drafts = merged
        text = "\n\n".join(fit_texts([f"Draft {i}: {t}" for i, t in enumerate(drafts, 1)], room))
        return self.checked(ThemeDraft, "synthesise_merge", {**values, "drafts": text}, theme.name)

    # -- overview ---------------------------------------------------------------------------------------

    def overview(self, week: str, themes: list[ThemeBrief], by_id: dict[str, Paper], reviews: dict[str, Review]) -> str:
        """The week's opening paragraph, from the themes' papers rather than their drafts, so it is written at
        the same time as the theme sections (one round of model latency less)."""
        values = {"week": week}
        room = self._room(load_prompt("synthesise_overview", self.language), values, "themes")
        lines = None
        for most in (None, 8, 5, 3, 1):  # the best-first papers of each theme that fit, when not all do
            items = [item for t in themes for item in _theme_items(t, by_id, reviews, most)]
            if (lines := render_items(items, room)) is not None:
                break
        else:
            raise LLMError(f"the themes' labels alone exceed the context budget of {self.budget_tokens} tokens")
        result, _ = self.checked(Overview, "synthesise_overview", {**values, "themes": "\n".join(lines)}, "overview")
        return result.text


def _theme_items(theme: ThemeBrief, by_id: dict[str, Paper], reviews: dict[str, Review], most: int | None) -> list[Item]:
    """A theme as prompt lines: its label and figures, then (at most `most` of) its papers."""
    trend = theme.trend.direction if theme.trend else "n/a"
    head = Item(head=f"## {_flat(theme.name)} ({len(theme.paper_ids)} papers; trend: {trend}; "
                     f"{len(theme.bridges)} cross-field bridges)")
    return [head, *(_paper_item(by_id[pid], reviews.get(pid)) for pid in theme.paper_ids[:most] if pid in by_id)]


def _paper_item(paper: Paper, review: Review | None) -> Item:
    detail = review.summary.tldr if review and review.summary.tldr else paper.abstract
    return Item(head=f"- [{cite_key(paper.id)}] {_flat(clip(paper.title, 200))} ({paper.primary_category})",
                detail=_flat(detail))
