"""Stage 2's pool of screening calls: every pass of every paper in one pool, work added while it runs.

A paper's passes depend on each other (a first look at a shortened abstract, then a full read when it might
match), and the papers sent depend on the verdicts in hand (the audit's band below the cut). Each step that
waited for the whole previous one would cost a model latency at the tail, so there is one pool: a verdict
that settles a paper is handed to `on_settled` at once, which may add papers to the same pool.

What goes out first, when more is queued than the pool runs: re-asks and re-reads (the last step of their
papers), then first looks (a re-read may follow), then full reads. The re-reads of one `add` are batched
among themselves, so each batch is what it would be were that `add` screened alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from brief.agents.summary_roles import key_sentence
from brief.models import Paper

if TYPE_CHECKING:
    from brief.agents.screen_llm import BatchScreener, PaperVerdict

FIRST_LOOK, FULL, REREAD = "first look", "full", "reread"

BRIEF_MARK = " … [abstract cut short]"


def brief_copy(paper: Paper, chars: int) -> Paper:
    """The paper with its abstract cut to about `chars` at a word boundary and marked, without its authors (the
    watch-list is matched locally). What is kept is the sentence saying what the paper does ("we propose …"),
    else the abstract's opening: beside the title it places a paper on a topic better than the background an
    abstract opens with, in fewer characters."""
    abstract = paper.abstract
    if len(abstract) > chars:
        text = key_sentence(paper) or abstract
        abstract = (text if len(text) <= chars else text[:chars].rsplit(" ", 1)[0]) + BRIEF_MARK
    return paper.model_copy(update={"abstract": abstract, "authors": []})


@dataclass(eq=False)
class _Work:
    """The papers of one `add`: their originals (for re-reads) and the first looks waiting to fill a batch."""

    originals: dict[str, Paper]
    waiting: list[Paper] = field(default_factory=list)


@dataclass(eq=False)
class _Batch:
    papers: list[Paper]
    kind: str
    work: _Work
    retry: bool = False


class ScreenPool:
    """Screens what `add` gives it, in batches, with at most `[llm] concurrency` calls in flight."""

    def __init__(self, batcher: BatchScreener, brief_chars: int,
                 needs_full_read: Callable[[Paper, PaperVerdict | str], bool], progress=lambda n=1: None,
                 on_settled: Callable[[list[str]], None] = lambda ids: None):
        """`needs_full_read(paper, first look's verdict)`: re-read it whole; `on_settled(ids)`: these papers'
        verdicts are final (called from the pool's loop, so it may `add`)."""
        self.batcher = batcher
        self.brief_chars = brief_chars
        self.needs_full_read = needs_full_read
        self.progress = progress
        self.on_settled = on_settled
        self.verdicts: dict[str, PaperVerdict | str] = {}  # a re-read's replaces the first look's
        self.reread: list[str] = []
        self._size = batcher.llm.cfg.batch_size
        self._last_steps: deque[_Batch] = deque()
        self._first_looks: deque[_Batch] = deque()
        self._full: deque[_Batch] = deque()
        self._pending: dict[Future, _Batch] = {}
        self._works: list[_Work] = []

    def add(self, full: list[Paper], brief: list[Paper], lead: Collection[str] = (), ahead: bool = True) -> None:
        """`full` papers on their whole abstract, `brief` ones first on a look at one sentence of it; the first-look
        batches holding a `lead` paper go out before the others (another step waits on them). `ahead=False`:
        the first looks queue behind the full reads already queued, not ahead of them."""
        work = _Work({p.id: p for p in brief})
        self._works.append(work)
        looks = self._batches([brief_copy(p, self.brief_chars) for p in brief], FIRST_LOOK, work)
        led = [b for b in looks if any(p.id in lead for p in b.papers)]
        (self._first_looks if ahead else self._full).extend(led + [b for b in looks if b not in led])
        self._full.extend(self._batches(full, FULL, work))

    def run(self) -> None:
        """Until every paper added (before or while it runs) has its verdict."""
        with ThreadPoolExecutor(max_workers=self.batcher.llm.cfg.concurrency) as pool:
            while self._pending or self._queued() or any(w.waiting for w in self._works):
                for work in self._works:
                    if work.waiting and not self._first_looks_left(work):
                        self._send_rereads(work, len(work.waiting))  # no first look is left to fill the batch
                while self._queued() and len(self._pending) < self.batcher.llm.cfg.concurrency:
                    batch = self._next()
                    self._pending[pool.submit(self.batcher.screen_batch, batch.papers, batch.retry)] = batch
                if not self._pending:
                    continue
                done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = self._pending.pop(future)
                    verdicts, again = future.result()
                    self._last_steps.extendleft(reversed([_Batch(part, batch.kind, batch.work, True) for part in again]))
                    if verdicts:
                        self._finished([p for p in batch.papers if p.id in verdicts], verdicts, batch.kind, batch.work)

    def _queued(self) -> bool:
        return bool(self._last_steps or self._first_looks or self._full)

    def _next(self) -> _Batch:
        return (self._last_steps or self._first_looks or self._full).popleft()

    def _first_looks_left(self, work: _Work) -> bool:
        return any(b.kind == FIRST_LOOK and b.work is work
                   for b in (*self._pending.values(), *self._last_steps, *self._first_looks, *self._full))

    def _batches(self, papers: list[Paper], kind: str, work: _Work) -> list[_Batch]:
        """Batches of what the cache can't answer; the cache's answers are taken at once."""
        hits, todo = self.batcher.from_cache(papers)
        if hits:
            self._finished([p for p in papers if p.id in hits], hits, kind, work)
        self.batcher.prepare(todo)
        step = self._size * 3 if kind == FIRST_LOOK else self._size  # short blocks: more per call, less overhead
        return [_Batch(batch, kind, work) for batch in self.batcher.batches(todo, step)]

    def _send_rereads(self, work: _Work, n: int) -> None:
        papers, work.waiting = work.waiting[:n], work.waiting[n:]
        self._last_steps.extendleft(reversed(self._batches(papers, REREAD, work)))

    def _finished(self, batch: list[Paper], verdicts: Mapping[str, PaperVerdict | str], kind: str, work: _Work) -> None:
        self.verdicts.update(verdicts)
        if kind != REREAD:
            self.progress(len(batch))
        settled = [p.id for p in batch]
        if kind == FIRST_LOOK:
            again = [work.originals[p.id] for p in batch if self.needs_full_read(work.originals[p.id], verdicts[p.id])]
            work.waiting.extend(again)
            self.reread.extend(p.id for p in again)
            rereading = {p.id for p in again}
            settled = [pid for pid in settled if pid not in rereading]
            while len(work.waiting) >= self._size:
                self._send_rereads(work, self._size)
        if settled:
            self.on_settled(settled)
