"""Builds a run's live context once from Settings: the embedder, memory and (when enabled) the LLM client.

Every entry point that runs a graph (app/runner.py, graphs/studio.py) opens its context here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brief.config import Settings
from brief.graphs.state import RunContext
from brief.memory import open_embedder, open_memory
from brief.progress import QuietReporter, Reporter

if TYPE_CHECKING:
    from brief.agents.llm import LLMClient


LLM_CACHE = "llm-cache.sqlite"


def llm_client(settings: Settings) -> LLMClient | None:
    """The run's LLM client (None offline); its answer cache and state live beside memory."""
    if not settings.llm_enabled:
        return None
    from brief.agents.llm import LLMClient

    return LLMClient(settings.llm, settings.data_dir / LLM_CACHE)


def open_context(settings: Settings, reporter: Reporter | None = None, llm: LLMClient | None = None) -> RunContext:
    """`llm`: a client already built (and negotiated) by the preflight; else one is built here."""
    embedder = open_embedder(settings)
    memory = open_memory(settings, embedder.name)
    llm = llm if llm is not None else llm_client(settings)
    return RunContext(settings=settings, embedder=embedder, memory=memory, llm=llm, reporter=reporter or QuietReporter())
