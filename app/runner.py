"""Runs the graphs: builds the run context once from Settings, invokes the compiled graph, returns its state.

A run holds the memory dir's lock (one run at a time), and its graph checkpoints after every node: the
same command after a crash resumes where it stopped (see graphs/checkpoint.py).

Test hook: BRIEF_TEST_KILL_AFTER=<node> makes the process SIGKILL itself right after that node's
checkpoint is written (tests/integration/test_resume_kill.py). It is read here and nowhere else.
"""

from __future__ import annotations

import os
import shutil
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

from brief.config import Settings
from brief.errors import UserError
from brief.graphs.context import open_context
from brief.graphs.review_state import ReviewState
from brief.graphs.state import WeeklyState
from brief.progress import QuietReporter, Reporter
from brief.sources.window import Window


@dataclass
class WeeklyResult:
    state: WeeklyState
    outputs: list[str]
    resumed_before: list[str] = field(default_factory=list)  # nodes an interrupted run still had to do


def bind_spend(ctx, graph, thread: str, restart: bool) -> None:
    """Charge the LLM's spend to this run in the data dir's ledger: a resumed run starts from what its earlier
    processes paid (so --max-cost holds across kills), a fresh run from zero."""
    if ctx.llm is None:
        return
    from brief.models import Usage

    recorded: Usage | None = None
    snapshot = None if restart else graph.get_state({"configurable": {"thread_id": thread}})
    if snapshot is not None and snapshot.next and snapshot.values:  # resuming: what earlier processes paid
        raw = snapshot.values.get("usage")
        recorded = raw if isinstance(raw, Usage) else Usage.model_validate(raw or {})
    ctx.llm.meter.bind_run(thread, recorded.total if recorded is not None else None)


def run_weekly(settings: Settings, window: Window, sources: list[str], reporter: Reporter | None = None,
               command: str | None = None, restart: bool = False, notes: list[str] | None = None,
               llm=None) -> WeeklyResult:
    """Run (or resume) the week under the memory dir's lock. Raises LockHeld if another run holds it.
    `restart` discards an interrupted run of the same command instead of resuming it; `notes` open the
    briefing's notes."""
    from brief.graphs.checkpoint import Resumable, open_checkpointer, thread_id
    from brief.graphs.weekly import build_weekly_graph
    from brief.memory.lock import RunLock
    from brief.memory.diskfull import disk_full_errors
    from brief.memory.presence import announce_created, creation_expected, ensure_on_disk

    created = not settings.memory.chroma_host and not settings.data_dir.exists()
    try:
        with RunLock(settings.data_dir, command), disk_full_errors(settings.data_dir):
            # a new memory is announced once the run has got past its input (below): bad input removes it again
            with creation_expected() if created else nullcontext():
                ctx = open_context(settings, reporter, llm)
            with open_checkpointer(settings, WeeklyState) as saver:
                graph = build_weekly_graph().compile(checkpointer=saver)
                thread = thread_id("weekly", settings, window.label, WeeklyState, sources=sources, window=window)
                bind_spend(ctx, graph, thread, restart)
                run = Resumable(graph, thread, ctx, kill_after=os.environ.get("BRIEF_TEST_KILL_AFTER"))
                final = run.run(WeeklyState(window=window, sources=sources, notes=list(notes or [])), restart=restart,
                                resume_note="resumed an interrupted run: {nodes} and what follows were redone")
            ensure_on_disk(ctx.memory)  # a memory dir deleted mid-run swallowed every write: say so, loudly
    except UserError:
        if created:  # bad input (an unreadable snapshot, say) leaves no new memory dir behind: exit 2 touches nothing
            shutil.rmtree(settings.data_dir, ignore_errors=True)
        raise
    except BaseException:
        if created:
            announce_created(settings.data_dir)
        raise
    if created:
        announce_created(settings.data_dir)
    state = WeeklyState.model_validate(final)
    return WeeklyResult(state=state, outputs=state.outputs, resumed_before=list(run.resumed_before))


DEMO_DIR = ".brief-demo"


def demo_settings(settings: Settings) -> Settings:
    """The quick start's settings: memory in a throwaway dir inside the report dir (<out>/.brief-demo), so the
    demo never touches the user's default memory dir."""
    demo_memory = settings.memory.model_copy(update={"dir": settings.out_dir / DEMO_DIR})
    return settings.model_copy(update={"memory": demo_memory})


def run_demo(settings: Settings, window: Window, sources: list[str], reporter: Reporter | None = None,
             restart: bool = False, llm=None) -> WeeklyResult:
    """The quick start (`brief weekly` with no config, on the bundled sample): fill the demo memory with the
    week before `window` (once; its briefing goes to <memory>/briefings), then brief `window` against it, so
    links, trends and "builds on earlier weeks" show. `settings` are `demo_settings(...)`."""
    from brief.memory.presence import creation_expected
    from brief.sources.snapshot import available_days, sample_path

    earlier = Window(since=window.since - timedelta(days=7), until=window.since - timedelta(days=1))
    warm = settings.data_dir / "briefings" / f"{earlier.label}.json"
    if not warm.exists() and any(earlier.since <= d <= earlier.until for d in available_days(sample_path())):
        warm_settings = settings.model_copy(update={"out_dir": settings.data_dir / "briefings", "email": None})
        with creation_expected():
            run_weekly(warm_settings, earlier, sources, QuietReporter(), llm=llm)
    note = (f"This is the demo: its memory ({settings.data_dir}) was filled with the sample's {earlier.label}, "
            f"so {window.label} links to it (feedback on a demo paper: add --memory-dir {settings.data_dir}). "
            "Your own runs use your memory dir (`brief init`, then --config).")
    with creation_expected():
        return run_weekly(settings, window, sources, reporter, restart=restart, notes=[note], llm=llm)


class NothingToReview(UserError, ValueError):
    """`brief review` without --fresh on an empty memory: a user error (exit 2) naming the fix."""


@dataclass
class ReviewResult:
    state: ReviewState
    outputs: list[str]
    resumed_before: list[str] = field(default_factory=list)


def run_review(settings: Settings, request, reporter: Reporter | None = None, command: str | None = None,
               restart: bool = False, search=None, llm=None) -> ReviewResult:
    """Run (or resume) a themed review (`request`: graphs/review_state.ReviewRequest) under the memory dir's
    lock; it only reads memory. `search` is the arXiv client for --fresh (default: built from [arxiv])."""
    from brief.graphs.checkpoint import Resumable, open_checkpointer, thread_id
    from brief.graphs.review import build_review_graph
    from brief.graphs.review_state import ReviewContext
    from brief.memory.lock import RunLock
    from brief.memory.presence import DB_NAME, chroma_path

    no_memory = not settings.memory.chroma_host and not (chroma_path(settings) / DB_NAME).exists()
    if not request.fresh and no_memory:  # a review only reads memory: it never creates one
        raise NothingToReview(f"no memory at {settings.data_dir} (a mistyped --memory-dir or [memory] dir?): run "
                              "`brief weekly` (or import a library) first, or add --fresh to search arXiv")
    with RunLock(settings.data_dir, command):
        ctx = open_context(settings, reporter, llm, kind=ReviewContext, search=search)
        if not request.fresh and ctx.memory.count() == 0:
            raise NothingToReview(f"memory at {ctx.memory.location} holds no papers: run `brief weekly` (or import a "
                                  "library) first, or add --fresh to search arXiv")
        with open_checkpointer(settings, ReviewState) as saver:
            graph = build_review_graph().compile(checkpointer=saver)
            thread = thread_id("review", settings, request.slug, ReviewState, request=request.model_dump(mode="json"))
            bind_spend(ctx, graph, thread, restart)
            run = Resumable(graph, thread, ctx, kill_after=os.environ.get("BRIEF_TEST_KILL_AFTER"))
            final = run.run(ReviewState(request=request), restart=restart,
                            resume_note="resumed an interrupted review: {nodes} and what follows were redone")
    state = ReviewState.model_validate(final)
    return ReviewResult(state=state, outputs=state.outputs, resumed_before=list(run.resumed_before))
