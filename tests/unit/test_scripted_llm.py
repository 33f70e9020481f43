"""The scripted OpenAI-compatible server, driven through the real langchain-openai / openai clients."""
from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from enum import Enum
from pathlib import Path

import openai
import pydantic
import pytest
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel, Field

# The repo root is itself a package (brief), so pytest puts its parent on sys.path, not the root.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.scripted_llm import (Fault, ScriptedLLMServer, ScriptedRequest, embed_text, labels_screen_handler,
                                random_faults, schema_instance)

SCRIPT = Path(__file__).resolve().parents[1] / "scripted_llm.py"


@pytest.fixture(autouse=True)
def _no_tracing(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("LANGSMITH_", "LANGCHAIN_")):
            monkeypatch.delenv(name, raising=False)


class Result(BaseModel):
    id: str
    relevance: int = Field(ge=0, le=10)
    novelty: int = Field(ge=0, le=10)
    topic: str
    reason: str


class ScreenBatch(BaseModel):
    results: list[Result]


class Kind(str, Enum):
    method = "method"
    survey = "survey"


class Inner(BaseModel):
    score: float = Field(ge=1, le=3)
    kind: Kind


class Nested(BaseModel):
    title: str
    count: int = Field(gt=10)
    flag: bool
    inner: Inner
    maybe: Inner | None = None
    items: list[Inner] = Field(min_length=2)


def chat(srv: ScriptedLLMServer, **kw) -> ChatOpenAI:
    opts = {"timeout": 5, "max_retries": 0, **kw}
    return ChatOpenAI(base_url=srv.base_url, api_key="test", model="scripted", **opts)


PROMPT = [("system", "You screen papers.\nTopic: graph neural networks"),
          ("user", '<paper id="2401.00001">A</paper>\n<paper id="2401.00002">B</paper>')]


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_structured_output_from_handler(method):
    handler = labels_screen_handler({"2401.00001": 9})
    with ScriptedLLMServer(handlers={"ScreenBatch": handler}) as srv:
        out = chat(srv).with_structured_output(ScreenBatch, method=method, include_raw=True).invoke(PROMPT)
        assert out["parsing_error"] is None
        got = [(r.id, r.relevance, r.topic, r.reason) for r in out["parsed"].results]
        assert got == [("2401.00001", 9, "graph neural networks", "scripted"),
                       ("2401.00002", 2, "graph neural networks", "scripted")]
        usage = out["raw"].usage_metadata
        assert (usage["input_tokens"], usage["output_tokens"]) == (srv.prompt_tokens, srv.completion_tokens)
        assert srv.prompt_tokens == sum(len(text) for _, text in PROMPT) // 4
        assert (srv.calls, srv.attempts) == (1, 1)
        req = srv.requests[0]
        assert req.schema_name == "ScreenBatch" and req.path == "/v1/chat/completions"
        assert req.paper_ids == ["2401.00001", "2401.00002"] and req.system.startswith("You screen")
        assert ("response_format" in req.body) == (method == "json_schema")
        assert ("tools" in req.body) == (method == "function_calling") == (req.mode == "tools")
        assert out["raw"].response_metadata["finish_reason"] == ("stop" if method == "json_schema" else "tool_calls")


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_default_builds_valid_instance_of_any_schema(method):
    with ScriptedLLMServer() as srv:
        out = chat(srv).with_structured_output(Nested, method=method).invoke("anything")
    assert isinstance(out, Nested) and out.count > 10 and len(out.items) == 2
    assert out.inner.kind is Kind.method and 1 <= out.inner.score <= 3


def test_schema_instance_rules():
    schema = {"type": "object", "$defs": {"D": {"type": "object", "properties": {"v": {"type": "integer",
              "minimum": 7}}}}, "properties": {
        "s": {"type": "string"}, "n": {"type": "number", "maximum": 2}, "b": {"type": "boolean"},
        "e": {"enum": ["a", "b"]}, "r": {"$ref": "#/$defs/D"}, "o": {"anyOf": [{"type": "null"}, {"type": "integer"}]},
        "a": {"type": "array", "items": {"type": "string"}}, "t": {"type": ["null", "string"]}}}
    assert schema_instance(schema) == {"s": "x", "n": 2.0, "b": True, "e": "a", "r": {"v": 7}, "o": 5,
                                       "a": ["x"], "t": "x"}


def test_str_handler_and_plain_chat():
    with ScriptedLLMServer(handlers={"ScreenBatch": lambda r: "not json"}, default=lambda r: "hello " + r.user) as s:
        assert chat(s).invoke("there").content == "hello there"
        with pytest.raises(pydantic.ValidationError):
            chat(s).with_structured_output(ScreenBatch).invoke("x")
    with ScriptedLLMServer() as srv:
        msg = chat(srv).invoke("hi")
        assert msg.content and msg.usage_metadata["output_tokens"] == len(msg.content) // 4


def test_429_then_success_honours_retry_after():
    with ScriptedLLMServer(faults=[Fault("429", retry_after=0.1)]) as srv:
        t0 = time.monotonic()
        out = chat(srv, max_retries=1).with_structured_output(ScreenBatch).invoke("x")
        assert time.monotonic() - t0 < 0.45  # 0.1 s from the header, not the 0.5 s default backoff
        assert isinstance(out, ScreenBatch)
        assert (srv.attempts, srv.calls) == (2, 1)
        assert [r.fault for r in srv.requests] == ["429", None]


def test_429_500_drop_without_retries_raise():
    with ScriptedLLMServer(faults=["429", "500", "drop"]) as srv:
        llm = chat(srv)
        with pytest.raises(openai.RateLimitError):
            llm.invoke("x")
        with pytest.raises(openai.InternalServerError):
            llm.invoke("x")
        with pytest.raises(openai.APIConnectionError):
            llm.invoke("x")
        assert llm.invoke("x").content  # script used up: normal again
        assert (srv.attempts, srv.calls) == (4, 1)


def test_malformed_output_fails_the_parse():
    with ScriptedLLMServer(faults=["malformed", "malformed"]) as srv:
        # json_schema: the openai client parses the content itself and raises, even with include_raw=True.
        with pytest.raises(pydantic.ValidationError):
            chat(srv).with_structured_output(ScreenBatch, include_raw=True).invoke("x")
        # function_calling: the bad arguments become an invalid tool call and nothing is parsed.
        out = chat(srv).with_structured_output(ScreenBatch, method="function_calling", include_raw=True).invoke("x")
        assert out["parsed"] is None and out["raw"].invalid_tool_calls[0]["args"] == '{"results": ['
        assert srv.calls == 2  # malformed answers are 200s and are counted


def test_slow_answer_triggers_client_timeout():
    with ScriptedLLMServer(faults=[Fault("slow", seconds=3)]) as srv:
        t0 = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            chat(srv, timeout=0.5).invoke("x")
        assert time.monotonic() - t0 < 1.5
    # leaving the context cut the server's sleep short; nothing hangs


def test_callable_and_random_faults():
    seen = []

    def script(attempt: int, req: ScriptedRequest):
        seen.append((attempt, req.user))
        return Fault("429", retry_after=0.05) if attempt == 0 else None

    with ScriptedLLMServer(faults=script) as srv:
        assert chat(srv, max_retries=1).invoke("q").content
        assert seen == [(0, "q"), (1, "q")]
    pick_a, pick_b = random_faults(7, p429=0.3, p500=0.1, pmalformed=0.1), random_faults(7, 0.3, 0.1, 0.1)
    req = ScriptedRequest(body={}, path="/v1/chat/completions")
    kinds = [getattr(pick_a(i, req), "kind", None) for i in range(1000)]
    assert kinds == [getattr(pick_b(i, req), "kind", None) for i in range(1000)]
    assert 250 < kinds.count("429") < 350 and 60 < kinds.count("500") < 140 and kinds.count("slow") == 0


def test_latency_and_concurrent_calls():
    with ScriptedLLMServer(latency=0.3) as srv:
        llm = chat(srv)
        threads = [threading.Thread(target=llm.invoke, args=(f"q{i}",)) for i in range(6)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        assert 0.3 <= elapsed < 1.2
        assert srv.calls == 6 and sorted(r.attempt for r in srv.requests) == list(range(6))


def test_streaming_with_usage():
    with ScriptedLLMServer() as srv:
        msg = chat(srv, streaming=True, stream_usage=True).invoke("hello there")
        assert msg.content.startswith("Scripted reply")
        assert msg.usage_metadata["input_tokens"] == srv.prompt_tokens
        assert msg.usage_metadata["output_tokens"] == srv.completion_tokens
        out = chat(srv, streaming=True).with_structured_output(ScreenBatch, method="function_calling").invoke("x")
        assert isinstance(out, ScreenBatch)


def test_embeddings_and_models():
    with ScriptedLLMServer(embedding_dim=32) as srv:
        emb = OpenAIEmbeddings(base_url=srv.base_url, api_key="x", model="m", check_embedding_ctx_length=False)
        vecs = emb.embed_documents(["alpha", "beta", "alpha"])
        assert len(vecs) == 3 and all(len(v) == 32 for v in vecs)
        assert vecs[0] == pytest.approx(vecs[2]) and vecs[0] != pytest.approx(vecs[1])
        assert math.isclose(sum(x * x for x in vecs[1]), 1.0, rel_tol=1e-5)
        assert emb.embed_query("alpha") == pytest.approx(embed_text("alpha", 32), abs=1e-6)
        assert srv.requests[0].mode == "embeddings" and srv.calls == 0
        models = openai.OpenAI(base_url=srv.base_url, api_key="x", max_retries=0).models.list()
        assert [m.id for m in models.data] == ["scripted"]


def test_cli_with_labels(tmp_path):
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"p1": 7}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "--port", str(port), "--labels", str(labels)],
                            stderr=subprocess.PIPE, text=True)
    try:
        assert "scripted LLM at" in proc.stderr.readline()
        body = {"model": "scripted", "messages": [{"role": "user", "content": '<paper id="p1">x</paper>'}],
                "response_format": {"type": "json_schema", "json_schema": {"name": "ScreenBatch", "schema": {}}}}
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            content = json.loads(json.load(resp)["choices"][0]["message"]["content"])
        assert content["results"][0] == {"id": "p1", "relevance": 7, "novelty": 5, "topic": "topic",
                                         "reason": "scripted"}
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        proc.stderr.close()


def test_unknown_fault_kind_is_rejected():
    with pytest.raises(ValueError):
        Fault("timeout")


def _post(srv: ScriptedLLMServer, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(f"{srv.base_url}/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_sloppy_mode_answers_like_real_models():
    from tests.scripted_answers import Sloppy

    user = 'Topics:\n1. Robot grasping: learning to grasp\n\n<paper id="2606.00001">a</paper><paper id="2606.00002">b</paper>'
    body = {"model": "m", "messages": [{"role": "user", "content": user}], "response_format": {"type": "json_object"}}
    with ScriptedLLMServer(default=labels_screen_handler({"2606.00001": 9}),
                           sloppy=Sloppy(no_usage_every=2, truncate_every=3, reject_json_schema=True)) as srv:
        replies = [_post(srv, body) for _ in range(3)]
        rejected = _post(srv, {**body, "response_format": {"type": "json_schema", "json_schema": {"name": "S", "schema": {}}}})
        again = [_post(srv, body) for _ in range(2)][-1]  # attempt 5, which would be cut short
    first = replies[0][1]["choices"][0]["message"]["content"]
    assert first.startswith("```json\n") and first.endswith("\n```"), "fenced JSON outside json_schema mode"
    verdicts = json.loads(first.removeprefix("```json\n").removesuffix("\n```"))["results"]
    assert [v["id"] for v in verdicts] == ["arXiv:2606.00001", "2606.00002v2"]
    assert [v["topic"] for v in verdicts] == ["ROBOT GRASPING", "robot grasping"], "the prompt's numbered topic, recased"
    assert "usage" in replies[0][1] and "usage" not in replies[1][1]
    third = replies[2][1]["choices"][0]["message"]["content"]
    assert not third.rstrip().endswith("```"), "the third answer is cut short"
    assert rejected[0] == 400 and "json_object" in rejected[1]["error"]["message"]
    assert srv.attempts == 6 and again[1]["choices"][0]["message"]["content"].endswith("```"), "asked again: whole"
