"""Entry points for LangGraph Studio and `langgraph dev` (see langgraph.json): both graphs, runnable there.

The CLI hands the graphs live objects as their run context (settings, embedder, memory, LLM client);
Studio can only send JSON. So the graphs compiled here take a `StudioContext` (which config, which memory
dir, offline or not), and each node first swaps it for the real context, opened once per distinct
StudioContext and kept while the server lives. Each node holds the memory dir's run lock while it runs,
so a Studio node never interleaves with a CLI run on the same memory (it fails with LockHeld instead).

`weekly` and `review` are compiled when this module is imported, because langgraph.json names module
variables; the CLI never imports this module, so nothing else pays for them. In Studio, start a review
with the input `{"request": {"theme": "KV cache compression"}}` and, as context, e.g.
`{"memory_dir": "~/.local/share/brief", "offline": true}`.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from brief.config import Settings
from brief.config_file import load_settings
from brief.graphs.context import open_context
from brief.graphs.review import build_review_graph
from brief.graphs.review_state import ReviewContext, ReviewState
from brief.graphs.state import RunContext, WeeklyState
from brief.graphs.nodes import Node
from brief.graphs.weekly import build_weekly_graph


@dataclass
class StudioContext:
    """What a Studio run may choose, as JSON."""

    config: str | None = None  # brief.toml; default ./brief.toml, else the built-in demo config
    memory_dir: str | None = None  # default: the config's [memory] dir
    offline: bool = False  # never call an LLM, even when one is configured
    out_dir: str | None = None  # where reports go; default: the config's out_dir


def studio_settings(studio: StudioContext) -> Settings:
    path = Path(studio.config).expanduser() if studio.config else (Path("brief.toml") if Path("brief.toml").exists() else None)
    settings = load_settings(path)
    updates: dict[str, Any] = {"offline": True} if studio.offline else {}
    if studio.out_dir:
        updates["out_dir"] = Path(studio.out_dir).expanduser()
    if studio.memory_dir:
        updates["memory"] = settings.memory.model_copy(update={"dir": Path(studio.memory_dir).expanduser()})
    return settings.model_copy(update=updates)


class Contexts:
    """The live run contexts of one compiled graph, by StudioContext, opened on first use."""

    def __init__(self, kind: type[RunContext]):
        self.kind = kind
        self._open: dict[tuple[str | None, str | None, bool, str | None], RunContext] = {}
        self._lock = threading.Lock()

    def get(self, studio: StudioContext) -> RunContext:
        key = (studio.config, studio.memory_dir, studio.offline, studio.out_dir)
        with self._lock:
            if key not in self._open:
                self._open[key] = open_context(studio_settings(studio), kind=self.kind)
            return self._open[key]


def adapter(contexts: Contexts) -> Callable[[Node], Node]:
    """Wraps a node so it receives the live context for the StudioContext (or JSON dict) it was given."""
    from brief.memory.lock import RunLock

    def wrap(node: Node) -> Node:
        @functools.wraps(node)
        def run(state: Any, runtime: Runtime[Any]) -> Any:
            given = runtime.context
            studio = given if isinstance(given, StudioContext) else StudioContext(**(given or {}))
            ctx = contexts.get(studio)
            with RunLock(ctx.settings.data_dir, f"langgraph studio: {node.__name__}"):
                return node(state, runtime.override(context=ctx))

        return run

    return wrap


def build_weekly() -> CompiledStateGraph[WeeklyState, Any]:
    return build_weekly_graph(adapter(Contexts(RunContext)), StudioContext).compile()


def build_review() -> CompiledStateGraph[ReviewState, Any]:
    return build_review_graph(adapter(Contexts(ReviewContext)), StudioContext).compile()


weekly = build_weekly()
review = build_review()
