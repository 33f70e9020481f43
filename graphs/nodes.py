"""What both graphs' nodes and builders share: the context's vectors and usage, and one way to build a graph."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from langgraph.graph import StateGraph

from brief.graphs.state import RunContext, timed
from brief.models import Paper, Usage

Node = Callable[..., Any]


def vectors_of(ctx: RunContext, papers: list[Paper]) -> np.ndarray:
    return ctx.embedder.embed([p.text_for_embedding() for p in papers]) if papers else np.zeros((0, 1), np.float32)


def unit(vectors: np.ndarray) -> npt.NDArray[np.float32]:
    return cast('npt.NDArray[np.float32]', vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12))


def spent(ctx: RunContext) -> Usage:
    """LLM and embedding usage since the previous node, so a resumed run's totals still add up."""
    usage = ctx.llm.meter.take() if ctx.llm else Usage()
    usage.embedded, usage.embed_cache_hits = ctx.embedder.take_counts()
    return usage


def graph_of(state: type, context_schema: type, nodes: dict[str, Node], wrap: Callable[[Node], Node],
             *chains: Sequence[str]) -> StateGraph[Any, Any]:
    """A StateGraph of `nodes` (each timed, then wrapped), with an edge between neighbours of each chain
    (START and END included where they belong). `wrap`/`context_schema` let LangGraph Studio run a graph with
    a JSON context instead of live objects (graphs/studio.py)."""
    graph: StateGraph[Any, Any] = StateGraph(state, context_schema=context_schema)
    for name, node in nodes.items():
        graph.add_node(name, wrap(timed(name, node)))
    for chain in chains:
        for before, after in zip(chain, chain[1:]):
            graph.add_edge(before, after)
    return graph
