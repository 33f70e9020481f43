"""Builds a run's live context once from Settings: the embedder, memory and (when enabled) the LLM client.

Every entry point that runs a graph (runner.py, graphs/studio.py) opens its context here.
"""

from __future__ import annotations

from brief.config import Settings
from brief.graphs.state import RunContext
from brief.memory import open_embedder, open_memory
from brief.progress import QuietReporter, Reporter


def open_context(settings: Settings, reporter: Reporter | None = None) -> RunContext:
    embedder = open_embedder(settings)
    memory = open_memory(settings, embedder.name)
    llm = None
    if settings.llm_enabled:
        from brief.agents.llm import LLMClient

        llm = LLMClient(settings.llm, settings.data_dir / "llm-cache.sqlite")
    return RunContext(settings=settings, embedder=embedder, memory=memory, llm=llm, reporter=reporter or QuietReporter())
