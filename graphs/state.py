"""The weekly graph's state and the run context its nodes share.

State holds data (checkpointed, so a crashed run resumes); the context holds live objects (config,
embedder, memory, LLM client, progress display) built once per run and never checkpointed.
"""

from __future__ import annotations

import functools
import operator
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from brief.config import Settings
from brief.models import (
    CitationRepair,
    Decision,
    FetchCounts,
    Link,
    Paper,
    Review,
    Score,
    ScreenStats,
    ThemeBrief,
    Usage,
)
from brief.progress import QuietReporter, Reporter
from brief.protocols import LLM, Embedder, RunMemory
from brief.sources.window import Window, week_of
from pydantic import BaseModel, Field



def merge_usage(left: Usage, right: Usage) -> Usage:
    return left.merged(right)


def merge_timings(left: dict[str, float], right: dict[str, float]) -> dict[str, float]:
    return {**left, **right}  # a node redone after a crash reports its latest time


class RunState(BaseModel):
    """What both graphs carry from screening on: decisions, reviews, themes, notes, usage and stage times."""

    scores: list[Score] = Field(default_factory=list)
    decisions: dict[str, Decision] = Field(default_factory=dict)
    screen_stats: ScreenStats | None = Field(None, description="stage 1's cut, the audit and its recall estimate")
    reviews: dict[str, Review] = Field(default_factory=dict)
    themes: list[ThemeBrief] = Field(default_factory=list)
    overview: str = ""
    repairs: list[CitationRepair] = Field(default_factory=list)
    notes: Annotated[list[str], operator.add] = Field(default_factory=list)
    partial: Annotated[list[str], operator.add] = Field(
        default_factory=list, description="why the run is partial (papers unscreened, prose fell back, LLM stopped, a "
                                          "delivery failed); "
                                          "non-empty: the report says partial and the command exits 3")
    usage: Annotated[Usage, merge_usage] = Field(default_factory=Usage)
    timings: Annotated[dict[str, float], merge_timings] = Field(
        default_factory=dict, description="wall seconds per node, in the order they ran")
    outputs: list[str] = Field(default_factory=list)


def timed(name: str, node: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """The node, adding its wall time to the state's `timings` (the report's time-per-stage row)."""

    @functools.wraps(node)  # keeps the signature LangGraph reads to pass `runtime`
    def run(state: Any, runtime: Any) -> Any:
        started = time.perf_counter()
        update = node(state, runtime) or {}
        update = {**update, "timings": {name: round(time.perf_counter() - started, 3)}}
        partial = partial_reasons(update, runtime.context.llm)
        return {**update, "partial": [*update.get("partial", []), *partial]} if partial else update

    return run


def partial_reasons(update: dict[str, Any], llm: LLM | None) -> list[str]:
    """Why the node's result is partial: papers it left unscreened, and what the LLM client had to give up."""
    reasons = list(llm.take_partial()) if llm is not None else []
    decisions = update.get("decisions") or {}
    unscreened = sum(1 for d in decisions.values() if getattr(d, "stage", "") == "unscreened")
    if unscreened:
        reasons.insert(0, f"{unscreened} of {len(decisions)} papers were left unscreened (the same command again screens them)")
    return reasons


class WeeklyState(RunState):
    window: Window
    sources: list[str] = Field(default_factory=list, description="--source specs; empty = configured")
    papers: list[Paper] = Field(default_factory=list)
    fetch_counts: FetchCounts | None = None
    seen_before: list[str] = Field(default_factory=list, description="ids memory held from earlier weeks")
    in_memory: list[str] = Field(default_factory=list, description="ids already in memory's papers when the run began")
    memory_added: int = 0
    memory_total: int = 0
    links: dict[str, list[Link]] = Field(default_factory=dict)
    themes: list[ThemeBrief] = Field(default_factory=list, description="themes with earlier papers, bridges, trend")

    @property
    def week(self) -> str:
        return self.window.label

    @property
    def memory_week(self) -> str:
        """The ISO week memory files this run's papers under (a date range counts as its first week)."""
        return week_of(self.window.since)

    @property
    def accepted(self) -> list[Paper]:
        """Papers the screener accepted and the reviewer confirmed, best first."""
        keep = [p for p in self.papers if self.decisions.get(p.id) and self.decisions[p.id].accepted
                and self.reviews.get(p.id) and self.reviews[p.id].confirmed]
        return sorted(keep, key=lambda p: (-self.decisions[p.id].relevance, -self.decisions[p.id].score))


@dataclass
class RunContext:
    settings: Settings
    embedder: Embedder
    memory: RunMemory
    llm: LLM | None = None
    reporter: Reporter = field(default_factory=QuietReporter)
    formats: tuple[str, ...] = ("md", "json", "html")
