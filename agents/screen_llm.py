"""Stage 2's transport: batched, structured, cached, rate-limited LLM screening that never drops a paper.

Several papers go in one call, each keyed by its id inside a delimited, escaped `<paper>` element. An id in
the answer that was not in the batch is ignored and counted as hallucinated; a paper missing from the
answer is retried alone, once; a batch that fails (after the client's own retries with backoff, which
honour Retry-After, and one retry of malformed output) is split and each paper retried alone, once. A
paper that still has no verdict gets the reason why, and the screener marks it `unscreened: <reason>`.

Verdicts are cached per paper (model, prompt version, paper id and version, criteria), so re-running a
week costs no calls even when stage 1's cut has moved and the batches are composed differently.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from pydantic import BaseModel, Field

from brief.agents.llm import BudgetExceeded, LLMClient, LLMError, paper_block
from brief.models import Paper
from brief.prompts import load as load_prompt

log = logging.getLogger(__name__)


class PaperVerdict(BaseModel):
    id: str
    relevance: int = Field(description="1-10, per the rubric")
    novelty: int = Field(description="1-10, per the rubric")
    topic: str = Field(description="exact topic name, or 'none'")
    reason: str = Field(description="one sentence")


class ScreenBatch(BaseModel):
    results: list[PaperVerdict]


BRIEF_MARK = " … [abstract cut short]"


def brief_copy(paper: Paper, chars: int) -> Paper:
    """The paper with its abstract cut to about `chars` at a word boundary and marked, without its authors
    (topic relevance is in the title and the abstract's opening; the watch-list is matched locally)."""
    abstract = paper.abstract
    if len(abstract) > chars:
        abstract = abstract[:chars].rsplit(" ", 1)[0] + BRIEF_MARK
    return paper.model_copy(update={"abstract": abstract, "authors": []})


class BatchStats(BaseModel):
    hallucinated_ids: int = 0
    retried_alone: int = 0
    cached: int = 0


class BatchScreener:
    """Screens papers in batches through one LLMClient; returns a verdict or a failure reason per paper."""

    def __init__(self, llm: LLMClient, values: dict, criteria_key: str):
        self.llm = llm
        self.values = values  # interests and topics, the same for every batch
        self.criteria_key = criteria_key
        self.prompt = load_prompt("screen")
        self.stats = BatchStats()
        self._lock = threading.Lock()
        self._stopped: str | None = None

    def screen(self, papers: list[Paper], progress=lambda n=1: None, brief_chars: int | None = None) -> dict[str, PaperVerdict | str]:
        """Verdicts for `papers`; with `brief_chars`, each abstract is cut to its opening (a cheap first look)."""
        if brief_chars:
            return self.screen_two_pass([], papers, brief_chars, lambda _paper, _verdict: False, progress)[0]
        return self.screen_two_pass(papers, [], 0, lambda _paper, _verdict: False, progress)[0]

    def screen_two_pass(self, full: list[Paper], brief: list[Paper], brief_chars: int,
                        needs_full_read: Callable[[Paper, PaperVerdict | str], bool],
                        progress=lambda n=1: None) -> tuple[dict[str, PaperVerdict | str], list[str]]:
        """`full` papers on their whole abstract, `brief` ones on a first look at its opening, all in one pool;
        a first-look paper that `needs_full_read` is re-read whole, in a batch sent as soon as it fills.

        One pool and no waiting between passes: each pass that waited for the previous one would cost a
        whole model latency at the tail. Returns the verdicts (a re-read's replaces the first look's) and
        the ids re-read.
        """
        out: dict[str, PaperVerdict | str] = {}
        originals = {p.id: p for p in brief}
        size, slots = self.llm.cfg.batch_size, self.llm.cfg.concurrency
        waiting: list[Paper] = []  # first looks that need a full read, until they fill a batch
        reread: list[str] = []
        queue: deque[tuple[list[Paper], str]] = deque()  # batches not sent yet; re-reads go first
        pending: dict[Future, tuple[list[Paper], str]] = {}

        def finished(batch: list[Paper], verdicts: dict[str, PaperVerdict | str], kind: str) -> None:
            out.update(verdicts)
            if kind != "reread":
                progress(len(batch))
            if kind != "first look":
                return
            again = [originals[p.id] for p in batch if needs_full_read(originals[p.id], verdicts[p.id])]
            waiting.extend(again)
            reread.extend(p.id for p in again)
            while len(waiting) >= size:
                send(waiting[:size], "reread")
                del waiting[:size]

        def send(papers: list[Paper], kind: str) -> None:
            hits, todo = self._from_cache(papers)
            if hits:
                finished([p for p in papers if p.id in hits], hits, kind)
            step = size * 3 if kind == "first look" else size  # short blocks: more per call, less overhead
            batches = [(todo[i:i + step], kind) for i in range(0, len(todo), step)]
            if kind == "reread":  # the last step of its papers: ahead of full reads that can wait a round
                queue.extendleft(reversed(batches))
            else:
                queue.extend(batches)

        def first_looks_left() -> bool:
            return any(kind == "first look" for _, kind in (*pending.values(), *queue))

        with ThreadPoolExecutor(max_workers=slots) as pool:
            send([brief_copy(p, brief_chars) for p in brief], "first look")  # first: they may make more work
            send(full, "full")
            while pending or queue or waiting:
                if waiting and not first_looks_left():
                    send(waiting[:], "reread")  # no first look is left to fill the batch
                    waiting.clear()
                while queue and len(pending) < slots:  # never more in flight than the pool runs
                    batch, kind = queue.popleft()
                    pending[pool.submit(self._batch, batch)] = (batch, kind)
                if not pending:
                    continue
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    batch, kind = pending.pop(future)
                    finished(batch, future.result(), kind)
        return out, reread

    def _from_cache(self, papers: list[Paper]) -> tuple[dict[str, PaperVerdict], list[Paper]]:
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

    def _paper_key(self, paper: Paper) -> str:
        brief = "|brief" if paper.abstract.endswith(BRIEF_MARK) else ""
        return self.llm.cache_key(self.prompt, f"paper|{paper.id}v{paper.version or 0}|{self.criteria_key}{brief}")

    def _batch(self, batch: list[Paper]) -> dict[str, PaperVerdict | str]:
        got = self._ask(batch)
        if isinstance(got, str):
            if len(batch) == 1 or self._stopped:
                return {p.id: got for p in batch}
            with self._lock:
                self.stats.retried_alone += len(batch)
            results: dict[str, PaperVerdict | str] = {}
            for paper in batch:
                alone = self._ask([paper])
                results[paper.id] = alone if isinstance(alone, str) else self._pick(alone, paper, "missing from its answer alone")
            return results
        wanted = {p.id for p in batch}
        strays = {v.id for v in got.results} - wanted
        if strays:
            log.warning("screener answered for ids %s not in its batch: ignored (hallucinated)", sorted(strays))
            with self._lock:
                self.stats.hallucinated_ids += len(strays)
        verdicts: dict[str, PaperVerdict | str] = {}
        for paper in batch:
            found = next((v for v in got.results if v.id == paper.id), None)
            if found is not None:
                verdicts[paper.id] = found
            elif len(batch) > 1 and not self._stopped:
                with self._lock:
                    self.stats.retried_alone += 1
                alone = self._ask([paper])
                verdicts[paper.id] = alone if isinstance(alone, str) else self._pick(alone, paper, "missing from the answer twice")
            else:
                verdicts[paper.id] = "missing from the answer"
        for paper in batch:
            if isinstance(verdicts[paper.id], PaperVerdict):
                self.llm.remember(self._paper_key(paper), verdicts[paper.id])
        return verdicts

    @staticmethod
    def _pick(answer: ScreenBatch, paper: Paper, problem: str) -> PaperVerdict | str:
        return next((v for v in answer.results if v.id == paper.id), problem)

    def _ask(self, batch: list[Paper]) -> ScreenBatch | str:
        if self._stopped:
            return self._stopped
        values = dict(self.values, count=len(batch), papers="\n\n".join(paper_block(p) for p in batch))
        key = "|".join(f"{p.id}v{p.version or 0}" + ("b" if p.abstract.endswith(BRIEF_MARK) else "") for p in batch)
        key += "|" + self.criteria_key
        try:
            return self.llm.ask(ScreenBatch, self.prompt, values, stage="screen", key=key)
        except BudgetExceeded as exc:
            self._stopped = f"{exc}: not sent"
            return self._stopped
        except LLMError as exc:
            log.warning("screening call failed: %s", exc)
            return str(exc)
