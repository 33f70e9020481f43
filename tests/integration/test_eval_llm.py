"""`brief eval` with a model: the real ChatOpenAI against the scripted server screens, reviews, writes,
and the grounding judge's scores and the cost per accepted paper appear in the record."""

from __future__ import annotations

import json
import re

from tests.handlers import brief_handlers
from tests.integration.eval_helpers import DATA, run_brief, shipped_subset
from tests.scripted_llm import ScriptedLLMServer, ScriptedRequest


def judge_handler(req: ScriptedRequest) -> dict:
    """Supports each summary's first sentence only."""
    block = req.user.split("<sentences>", 1)[1]
    n = len(re.findall(r"(?m)^\d+\. ", block))
    return {"verdicts": [{"index": i, "supported": i == 1, "reason": "scripted"} for i in range(1, n + 1)]}


def test_llm_judge_and_cost_with_the_scripted_server(tmp_path, cache_dir, monkeypatch, capsys):
    path, items = shipped_subset(tmp_path / "small.jsonl", per_week=16)
    labels = {i.paper.id: 8 if i.label else 2 for i in items}
    topic = "New VLLMs and MLLMs"
    handlers = brief_handlers(labels, topic) | {"GroundingVerdict": judge_handler}
    with ScriptedLLMServer(handlers=handlers) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        code, out, err = run_brief(monkeypatch, capsys, "eval", "--dataset", path, "--criteria", DATA / "cs.criteria.toml",
                                   "--json", "-q", "--memory-dir", cache_dir)
        assert code == 0, err
        assert not srv.errors, srv.errors[:1]
    report = json.loads(out)
    assert report["run"]["backend"] == "llm" and report["run"]["model"] == "gpt-4o-mini"
    result = report["results"]["small"]
    metrics = result["metrics"]

    judged = [r for r in srv.requests if r.schema_name == "GroundingVerdict"]
    assert judged, "the grounding judge ran"
    sentences = sum(len(re.findall(r"(?m)^\d+\. ", r.user.split("<sentences>", 1)[1])) for r in judged)
    assert metrics["synthesis.grounding_judge"] == round(len(judged) / sentences, 4)
    assert isinstance(metrics["synthesis.grounding_lexical"], float)

    product_calls = [r for r in srv.requests if r.mode != "embeddings" and r.schema_name not in ("GroundingVerdict", "Ping")]
    assert metrics["cost.calls"] == len(product_calls)
    assert metrics["cost.tokens_per_accept"] > 0 and metrics["cost.usd_per_accept"] > 0
    usage = result["details"]["usage"]
    assert usage["judge"]["calls"] == len(judged), "the judge's tokens are eval overhead, kept apart"
    assert sum(s["input_tokens"] for s in usage.values()) == srv.prompt_tokens

    # the scripted screener answers the labels, so whatever it accepted is a labelled positive
    assert metrics["screening.precision"] == 1.0
    assert metrics["reviewer.agreement"] == 1.0, "the scripted reviewer confirms everything"


def test_the_judge_can_be_another_model(tmp_path, cache_dir, monkeypatch, capsys):
    from brief.config_file import demo_config_text

    path, items = shipped_subset(tmp_path / "small.jsonl", per_week=8)
    config = tmp_path / "brief.toml"
    config.write_text(demo_config_text().replace('# judge_model = "gpt-4o"', 'judge_model = "judge-model"'), encoding="utf-8")
    handlers = brief_handlers({i.paper.id: 8 if i.label else 2 for i in items}, "New VLLMs and MLLMs") | {
        "GroundingVerdict": judge_handler}
    with ScriptedLLMServer(handlers=handlers) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        code, out, err = run_brief(monkeypatch, capsys, "eval", "--dataset", path, "--criteria", DATA / "cs.criteria.toml",
                                   "--config", config, "--json", "-q", "--memory-dir", cache_dir)
        assert code == 0, err
    # each client negotiates its structured-output method once (a "Ping"); the questions are what is checked
    models = {(r.schema_name == "GroundingVerdict", r["model"]) for r in srv.requests
              if r.mode != "embeddings" and r.schema_name != "Ping"}
    assert models == {(True, "judge-model"), (False, "gpt-4o-mini")}, models
    report = json.loads(out)
    assert report["results"]["small"]["details"]["usage"]["judge"]["calls"] > 0, "the judge's calls are counted"
