"""Runs the graphs: builds the run context once from Settings, invokes the compiled graph, returns its state."""

from __future__ import annotations

from dataclasses import dataclass

from brief.config import Settings
from brief.graphs.state import RunContext, WeeklyState
from brief.memory import open_embedder, open_memory
from brief.progress import QuietReporter, Reporter
from brief.sources.window import Window


def open_context(settings: Settings, reporter: Reporter | None = None) -> RunContext:
    embedder = open_embedder(settings)
    memory = open_memory(settings, embedder.name)
    llm = None
    if settings.llm_enabled:
        from brief.agents.llm import LLMClient

        llm = LLMClient(settings.llm, settings.data_dir / "llm-cache.sqlite")
    return RunContext(settings=settings, embedder=embedder, memory=memory, llm=llm, reporter=reporter or QuietReporter())


@dataclass
class WeeklyResult:
    state: WeeklyState
    outputs: list[str]


def run_weekly(settings: Settings, window: Window, sources: list[str], reporter: Reporter | None = None) -> WeeklyResult:
    from brief.graphs.weekly import build_weekly_graph

    ctx = open_context(settings, reporter)
    graph = build_weekly_graph().compile()
    final = graph.invoke(WeeklyState(window=window, sources=sources), context=ctx)
    state = WeeklyState.model_validate(final)
    return WeeklyResult(state=state, outputs=state.outputs)
