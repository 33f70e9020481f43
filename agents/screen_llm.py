"""Stage 2's transport: batched, structured, cached, rate-limited LLM screening that never drops a paper.

Several papers go in one call, each keyed by its id inside a delimited, escaped `<paper>` element. Answers
are read leniently, as real models write them: an id is matched after normalising (`arXiv:` prefix, a
version, a URL, whitespace) or as the paper's number in the batch, a topic by case- and space-insensitive
name, by number, or to the closest name. What still can't be matched is counted (an answer naming no paper
of the batch as a hallucinated id; a paper whose topic matched none at an accepting relevance as an
unmatched topic), never read as a reject. The papers of a batch left without a usable verdict are re-asked
once, together in one batch; a batch that fails (after the client's own retries with backoff and one retry
of malformed output) is re-asked paper by paper; these retries join the same pool, so they run
concurrently (within the client's limiter), not one after another. A paper that still has no verdict gets the reason why, and
the screener marks it `unscreened: <reason>`.

Verdicts are cached per paper (model, prompt version, paper id and version, criteria), matched verdicts
only, so re-running a week costs no calls even when stage 1's cut has moved and the batches are composed
differently.
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
from collections.abc import Callable

from brief.agents.llm import CallsStopped, LLMError, paper_block
from brief.agents.llm_protocol import answer_room, match_ids, one_verdict_each, pack
from brief.agents.screen_pool import BRIEF_MARK, ScreenPool
from brief.protocols import LLM
from brief.models import Paper
from brief.prompts import load as load_prompt
from pydantic import BaseModel, Field, field_validator

log = logging.getLogger(__name__)


class PaperVerdict(BaseModel):
    """One paper's verdict, as the model is asked for it: no defaults (strict structured output rejects
    them), the reason before the scores (a model that has said why scores more consistently)."""

    id: str = Field(description="the paper's id, copied exactly")
    reason: str = Field(description="one sentence")
    topic: str = Field(description="exact topic name, or 'none'")
    relevance: int = Field(description="1-10, per the rubric")
    novelty: int = Field(description="1-10, per the rubric")


class ScreenBatch(BaseModel):
    results: list[PaperVerdict]

    @field_validator("results", mode="before")
    @classmethod
    def _scores_in_range(cls, results: object) -> object:
        """Scores outside 1-10 are read as the nearest end of the scale, not as a broken answer."""
        for verdict in results if isinstance(results, list) else []:
            for name in ("relevance", "novelty"):
                if isinstance(verdict, dict) and isinstance(verdict.get(name), int | float):
                    verdict[name] = min(10, max(1, int(verdict[name])))
        return results


def first_look_bars(accept_relevance: int) -> dict[str, int]:
    """What a first look's relevance leads to, as the screening prompt states it: below `reread` the paper is
    rejected; from `reread` to below `sure` it is read again in full; at `sure` or more the shortened abstract has
    shown it squarely on a topic, and it is accepted without the full read (the reviewer reads the whole
    abstract of every paper the briefing keeps)."""
    return {"reread": max(1, accept_relevance - 2), "sure": min(10, accept_relevance + 2)}


class BatchStats(BaseModel):
    hallucinated_ids: int = 0  # answers whose id matched no paper of their batch
    unmatched_topics: int = 0  # papers whose answered topic matched none, at an accepting relevance
    retried_alone: int = 0  # papers re-asked (without their batch's other papers)
    cached: int = 0


ANSWER_TOKENS = 80  # room a paper's verdict takes in the answer (it shares the context window)
NO_TOPIC = {"", "none", "no topic", "n/a", "na", "null", "-", "0"}


def _first_look(paper: Paper) -> bool:
    """Whether this copy of the paper carries only one sentence of its abstract (a first look's)."""
    return paper.abstract.endswith(BRIEF_MARK)


def _block_key(paper: Paper) -> tuple[str, bool]:
    return paper.id, _first_look(paper)


def _name_key(name: str) -> str:
    return " ".join(re.sub(r"[^\w ]", " ", name.casefold()).split())


def match_topic(answer: str, topics: list[str]) -> str | None:
    """The topic name an answer means: exact, case/space/punctuation-insensitive, by number ("2", "2. Name"),
    or a conservative fuzzy match (one close name only, similarity ≥ 0.8). None: no topic ("none") or unmatched;
    `is_no_topic` tells them apart."""
    if answer in topics:
        return answer
    by_key = {_name_key(t): t for t in topics}
    key = _name_key(answer)
    if key in by_key:
        return by_key[key]
    numbered = re.match(r"^(?:topic\s*)?#?(\d{1,2})\b[.):]?\s*(.*)$", key, re.IGNORECASE)
    if numbered and 1 <= int(numbered.group(1)) <= len(topics):
        rest, named = numbered.group(2), topics[int(numbered.group(1)) - 1]
        agrees = not rest or _name_key(named).startswith(rest) or rest.startswith(_name_key(named))
        return named if agrees else None  # a number and a name that disagree: no guess
    close = difflib.get_close_matches(key, list(by_key), n=2, cutoff=0.8)
    return by_key[close[0]] if len(close) == 1 else None


def is_no_topic(answer: str) -> bool:
    return _name_key(answer) in NO_TOPIC


def _names_a_paper(answer: ScreenBatch, batch: list[Paper]) -> str | None:
    """An answer naming no paper of its batch is no answer (and is not cached)."""
    if any(pid is not None for pid in match_ids([v.id for v in answer.results], batch)):
        return None
    return "its verdicts name no paper of the batch"


class BatchScreener:
    """Screens papers in batches through one LLMClient; returns a verdict or a failure reason per paper."""

    def __init__(self, llm: LLM, values: dict, criteria_key: str, topics: list[str] | None = None,
                 accept_relevance: int = 6):
        """`topics`: the names a verdict's topic must match (None: any answer is taken as given);
        `accept_relevance`: below it a verdict rejects whatever its topic, so an unmatched topic is harmless."""
        self.llm = llm
        # interests, topics and the thresholds the prompt states: the same for every batch
        self.values = {"accept": accept_relevance, **first_look_bars(accept_relevance), **values, "first_look": ""}
        self.criteria_key = criteria_key
        self.topics = topics
        self._enums = {"topic": [*topics, "none"]} if topics else {}  # narrow every batch's schema (one_verdict_each)
        self.accept_relevance = accept_relevance
        self.prompt = load_prompt("screen")
        # how to read a shortened abstract: only in the calls that carry one (most full reads carry none)
        self._first_look_rules = "\n\n" + self.prompt.parts["first look"].format(**self.values)
        self.stats = BatchStats()
        self._lock = threading.Lock()
        self._stopped: str | None = None
        self._blocks: dict[tuple[str, bool], str] = {}

    def screen(self, papers: list[Paper], progress=lambda n=1: None, brief_chars: int | None = None) -> dict[str, PaperVerdict | str]:
        """Verdicts for `papers`; with `brief_chars`, each abstract is cut to one sentence (a cheap first look)."""
        if brief_chars:
            return self.screen_two_pass([], papers, brief_chars, lambda _paper, _verdict: False, progress)[0]
        return self.screen_two_pass(papers, [], 0, lambda _paper, _verdict: False, progress)[0]

    def screen_two_pass(self, full: list[Paper], brief: list[Paper], brief_chars: int,
                        needs_full_read: Callable[[Paper, PaperVerdict | str], bool],
                        progress=lambda n=1: None) -> tuple[dict[str, PaperVerdict | str], list[str]]:
        """`full` papers on their whole abstract, `brief` ones on a first look at one sentence of it, all in one pool
        (agents/screen_pool.py); a first-look paper that `needs_full_read` is re-read whole. Returns the
        verdicts (a re-read's replaces the first look's) and the ids re-read."""
        pool = ScreenPool(self, brief_chars, needs_full_read, progress)
        pool.add(full, brief)
        pool.run()
        return pool.verdicts, pool.reread

    def batches(self, papers: list[Paper], step: int) -> list[list[Paper]]:
        """Up to `step` papers a batch, fewer when their verdicts would not fit the answer's `[llm]
        max_tokens.screen` (a cut answer costs the batch) or, with `[llm] context_tokens` set, the prompt with
        its answer would not fit the server's window (a server may cut an overlong prompt silently)."""
        step = max(1, min(step, answer_room(self.llm.cfg, "screen", ANSWER_TOKENS)))
        values = dict(self.values, count=0, papers="", first_look=self._first_look_rules)
        fixed = (len(self.prompt.system) + len(self.prompt.render_user(**values))) / 4
        return pack(papers, step, getattr(self.llm.cfg, "context_tokens", None), fixed,
                    lambda paper: len(self._block(paper)) / 4 + ANSWER_TOKENS)

    def from_cache(self, papers: list[Paper]) -> tuple[dict[str, PaperVerdict], list[Paper]]:
        """Verdicts this model gave these papers (this prompt version, criteria, abstract length) before."""
        hits: dict[str, PaperVerdict] = {}
        todo = []
        for paper in papers:
            hit = self.llm.cached(PaperVerdict, self._paper_key(paper))
            if hit is None:
                todo.append(paper)
            else:
                hits[paper.id] = hit
        if hits:
            with self._lock:
                self.stats.cached += len(hits)
            self.llm.meter.add("screen", 0, 0, cached=True)
        return hits, todo

    def prepare(self, papers: list[Paper]) -> None:
        """Build these papers' prompt blocks now, before the calls that carry them: escaping a batch's abstracts
        is most of a call's client work, and a round's calls leave one after another (as the GIL allows)."""
        for paper in papers:
            self._blocks[_block_key(paper)] = paper_block(paper, authors=False)

    def _block(self, paper: Paper) -> str:
        # without authors: a topic is matched on the work (the watch-list is matched locally), and a name
        # neither earns nor costs relevance
        return self._blocks.get(_block_key(paper)) or paper_block(paper, authors=False)

    def _paper_key(self, paper: Paper) -> str:
        brief = "|brief" if _first_look(paper) else ""
        return self.llm.cache_key(self.prompt, f"paper|{paper.id}v{paper.version or 0}|{self.criteria_key}{brief}")

    def screen_batch(self, batch: list[Paper], retry: bool) -> tuple[dict[str, PaperVerdict | str], list[list[Paper]]]:
        """(final verdicts or failure reasons, batches to re-ask): on a first try, a failed batch comes back
        as one batch per paper and the papers without a usable verdict as one batch; on a retry, nothing does."""
        got = self._ask(batch, retry)
        if isinstance(got, str):
            if retry or self._stopped:
                return {p.id: got for p in batch}, []
            self._count("retried_alone", len(batch))
            return {}, [[paper] for paper in batch]  # alone: one paper that breaks the answer takes no other down
        verdicts = self._read(got, batch)
        usable: dict[str, PaperVerdict | str] = {}
        for paper in batch:
            verdict = verdicts.get(paper.id)
            if isinstance(verdict, PaperVerdict):  # only a matched verdict is cached
                self.llm.remember(self._paper_key(paper), verdict)
                usable[paper.id] = verdict
        left = [p for p in batch if p.id not in usable]
        if left and not retry and not self._stopped:
            self._count("retried_alone", len(left))
            return usable, [left]
        for paper in left:
            problem = verdicts.get(paper.id)
            reason = problem if isinstance(problem, str) else "missing from the answer"
            usable[paper.id] = reason + (" (asked twice)" if retry else "")
        return usable, []

    def _read(self, answer: ScreenBatch, batch: list[Paper]) -> dict[str, PaperVerdict | str]:
        """The answer's verdicts by batch paper id, ids and topics matched leniently; a paper whose answered
        topic matched none (at an accepting relevance) gets the reason instead."""
        out: dict[str, PaperVerdict | str] = {}
        strays = []
        for verdict, pid in zip(answer.results, match_ids([v.id for v in answer.results], batch)):
            if pid is None:
                strays.append(verdict.id)
            elif not isinstance(out.get(pid), PaperVerdict):
                out[pid] = self._topic_checked(verdict.model_copy(update={"id": pid}))
        if strays:
            log.warning("screener answered for ids %s not in its batch: ignored (hallucinated)", sorted(strays)[:10])
            self._count("hallucinated_ids", len(strays))
        return out

    def _topic_checked(self, verdict: PaperVerdict) -> PaperVerdict | str:
        if self.topics is None:
            return verdict
        named = match_topic(verdict.topic, self.topics)
        if named is not None:
            return verdict.model_copy(update={"topic": named})
        if is_no_topic(verdict.topic) or verdict.relevance < self.accept_relevance:
            return verdict.model_copy(update={"topic": "none"})
        self._count("unmatched_topics", 1)
        return "answered a topic that matches no topic of the criteria"  # the model's words stay out of the report

    def _count(self, field: str, n: int) -> None:
        with self._lock:
            setattr(self.stats, field, getattr(self.stats, field) + n)

    def _ask(self, batch: list[Paper], retry: bool = False) -> ScreenBatch | str:
        if self._stopped:
            return self._stopped
        looks = [_first_look(p) for p in batch]
        values = dict(self.values, count=len(batch), papers="\n\n".join(self._block(p) for p in batch))
        if any(looks):
            values["first_look"] = self._first_look_rules
        key = "|".join(f"{p.id}v{p.version or 0}" + ("b" if look else "") for p, look in zip(batch, looks))
        key += "|" + self.criteria_key + ("|again" if retry else "")  # a re-ask is a new question, not the cached one
        try:
            return self.llm.ask(ScreenBatch, self.prompt, values, stage="screen", key=key,
                                wire=one_verdict_each(ScreenBatch, [p.id for p in batch], **self._enums),
                                validate=lambda answer: _names_a_paper(answer, batch))
        except CallsStopped as exc:
            self._stopped = f"{exc}: not sent"
            return self._stopped
        except LLMError as exc:
            log.warning("screening call failed: %s", exc)
            return str(exc)
