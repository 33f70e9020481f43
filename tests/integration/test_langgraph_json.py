"""langgraph.json: every graph it names loads the way `langgraph dev` loads it (the file imported by path,
the variable read), is a graph LangGraph can serve, and runs with the JSON context Studio sends."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from brief.graphs.review import build_review_graph
from brief.graphs.weekly import build_weekly_graph
from tests.integration.cli_helpers import write_config
from tests.integration.review_helpers import check_written_review, seeded_settings

REPO = Path(__file__).resolve().parents[2]
NODES = {
    "weekly": {"fetch", "screen", "review", "remember", "link", "synthesise", "write"},
    "review": {"plan", "retrieve", "fresh", "merge", "screen", "review", "synthesise", "write"},
}


def load(spec: str):
    """What langgraph-api does with `./path/file.py:variable`: import the file by path, read the variable;
    a StateGraph is compiled, a callable is a factory."""
    path, _, variable = spec.partition(":")
    file = (REPO / path).resolve()
    name = "lg_" + file.stem + "_" + variable
    module_spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    graph = getattr(module, variable)
    if isinstance(graph, StateGraph):
        graph = graph.compile()
    elif callable(graph) and not isinstance(graph, Pregel):
        graph = graph()
    return graph


@pytest.fixture(scope="module")
def config() -> dict:
    return json.loads((REPO / "langgraph.json").read_text(encoding="utf-8"))


def test_langgraph_json_names_both_graphs_and_they_compile(config):
    assert config["dependencies"] == ["."] and set(config["graphs"]) == set(NODES)
    for name, spec in config["graphs"].items():
        assert (REPO / spec.partition(":")[0]).is_file(), spec
        graph = load(spec)
        assert isinstance(graph, Pregel), f"{name}: {type(graph)}"
        assert set(graph.get_graph().nodes) - {"__start__", "__end__"} == NODES[name]
    review = load(config["graphs"]["review"]).get_graph()
    assert {(e.source, e.target) for e in review.edges} >= {("retrieve", "fresh"), ("retrieve", "merge"), ("fresh", "merge")}


def test_the_cli_builders_compile():
    for builder, name in ((build_weekly_graph, "weekly"), (build_review_graph, "review")):
        assert set(builder().compile().get_graph().nodes) - {"__start__", "__end__"} == NODES[name]


def test_the_studio_review_graph_runs_with_a_json_context(config, tmp_path, cache_dir):
    settings = seeded_settings(tmp_path, cache_dir, per_day=12)
    graph = load(config["graphs"]["review"])
    context = {"config": str(write_config(tmp_path / "brief.toml", cache_dir)), "memory_dir": str(settings.memory.dir),
               "out_dir": str(tmp_path / "studio"), "offline": True}
    final = graph.invoke({"request": {"theme": "robot manipulation learning", "max_papers": 6}}, context=context)
    assert final["outputs"] and all(Path(p).parent == tmp_path / "studio" for p in final["outputs"])
    report = check_written_review(final["outputs"], "robot-manipulation-learning")
    assert report["mode"] == "offline: no LLM" and 1 <= len(report["accepted"]) <= 6
