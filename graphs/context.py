"""The composition root: builds a run's live context once from Settings (the embedder, memory and, when
enabled, the LLM client).

Every entry point that opens memory opens it here: the runs (app/runner.py), LangGraph Studio
(graphs/studio.py), `brief memory …` (app/memory_commands.py) and `brief feedback` (app/cli_setup.py).
An eval (evals/runner.py) is the one exception: it never opens the user's memory (it replays into a
throwaway one) and its LLM clients keep no answer cache, so it opens only the embedder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def open_context(settings: Settings, reporter: Reporter | None = None, llm: LLMClient | None = None, *,
                 kind: type[RunContext] = RunContext, read_only: bool = False, create: bool = True, with_llm: bool = True,
                 **extra: Any) -> RunContext:
    """The run context `kind` (RunContext, or a subclass given its own fields in `extra`).

    `llm`: a client already built (and negotiated) by the preflight; else one is built here, unless
    `with_llm` is off (commands that never ask the LLM). `read_only` and `create`: see memory.open_memory."""
    embedder = open_embedder(settings)
    memory = open_memory(settings, embedder.name, read_only=read_only, create=create)
    client = (llm if llm is not None else llm_client(settings)) if with_llm else None
    return kind(settings=settings, embedder=embedder, memory=memory, llm=client, reporter=reporter or QuietReporter(),
                **extra)
