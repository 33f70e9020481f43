"""LLMClient against the scripted server: negotiation, request shapes, retries through the limiter, validation,
the cache, usage and prices. Real ChatOpenAI over HTTP on 127.0.0.1; nothing of ours is mocked."""

from __future__ import annotations

import inspect
import json
import sqlite3
import threading
import time
import typing

import pytest
from brief.agents.link_check import LinkCheck
from brief.agents.llm import BudgetExceeded, CallsStopped, InvalidAnswer, LLMClient, LLMError, Ping, ServerRefused
from brief.agents.llm_limits import price_of
from brief.agents.llm_protocol import PREFLIGHT_TRUSTED_SECONDS, openai_schema
from brief.agents.planner import ReviewPlan
from brief.agents.review_llm import ReviewBatch
from brief.agents.review_writer import ReviewFindings
from brief.agents.screen_llm import ScreenBatch
from brief.agents.synthesis_writer import Overview, ThemeDraft
from brief.config import LLMConfig
from brief.prompts import Prompt
from pydantic import BaseModel, Field, SecretStr

from tests.scripted_faults import Fault, reject_modes
from tests.scripted_llm import ScriptedLLMServer

PROMPT = Prompt(name="t", version="1", system="Name a colour.", user="{q}")


class Colour(BaseModel):
    name: str


def client(srv, tmp_path, **kw) -> LLMClient:
    kw = {"model": "scripted", "max_retries": 0, "timeout_seconds": 10, "api_key": SecretStr("k"), **kw}
    cfg = LLMConfig(base_url=srv.base_url, **kw)
    return LLMClient(cfg, tmp_path / "llm-cache.sqlite")


def colour(req) -> dict:
    return {"name": "blue"}


def arrival_times(srv: ScriptedLLMServer) -> list[float]:
    """When each chat attempt reaches the server (monotonic clock), filled in as they arrive."""
    arrivals: list[float] = []
    real_admit = srv._admit

    def admit(body, path):
        arrivals.append(time.monotonic())
        return real_admit(body, path)

    srv._admit = admit
    return arrivals


@pytest.mark.parametrize("rejected, status, chosen", [
    (set(), 400, "json_schema"),
    ({"json_schema"}, 500, "function_calling"),  # llama-cpp-python's answer to json_schema
    ({"json_schema", "tools"}, 400, "json_object"),
    ({"json_schema", "tools", "json_object"}, 400, "text"),
])
def test_negotiation_picks_the_first_accepted_method_and_remembers_it(tmp_path, rejected, status, chosen):
    with ScriptedLLMServer(handlers={"Ping": lambda r: {"ok": True}, "Colour": colour}, default=lambda r: '```json\n{"ok": true, "name": "blue"}\n```',
                           faults=reject_modes(rejected, status)) as srv:
        llm = client(srv, tmp_path)
        assert llm.negotiate() == chosen
        assert llm.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="sky").name == "blue"
        assert llm.meter.take().method == chosen
        before = srv.attempts
        assert client(srv, tmp_path).negotiate() == chosen and srv.attempts == before, "a new process at once: no call"
        state = sqlite3.connect(tmp_path / "llm-state.sqlite")
        with state:
            state.execute("UPDATE preflights SET at = at - ?", (PREFLIGHT_TRUSTED_SECONDS + 1,))
        assert client(srv, tmp_path).negotiate() == chosen and srv.attempts == before + 1, "an hour on: checked again"
        other_key = client(srv, tmp_path, api_key=SecretStr("another-key"))
        assert other_key.negotiate() == chosen and srv.attempts == before + 2, "another key: checked again"


def test_a_server_rejecting_every_method_is_refused_with_one_line(tmp_path):
    refusing = ScriptedLLMServer(faults=reject_modes({"json_schema", "tools", "json_object", "text"}, 400))
    with refusing as srv, pytest.raises(ServerRefused) as err:
        client(srv, tmp_path).negotiate()
    assert err.value.kind == "unsupported" and "rejected every structured-output method" in str(err.value)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "llm-state.sqlite").exists() and not (tmp_path / "llm-cache.sqlite").exists()


@pytest.mark.parametrize("kind, expect", [("401", "auth"), ("quota", "quota"), ("404", "model")])
def test_key_quota_and_model_fail_the_negotiation_in_one_request(tmp_path, kind, expect):
    with ScriptedLLMServer(faults=lambda a, r: Fault(kind)) as srv:
        with pytest.raises(ServerRefused) as err:
            client(srv, tmp_path, max_retries=2).negotiate()
        assert err.value.kind == expect and srv.attempts == 1


class Shade(BaseModel):
    """Code note: a shade is one of a colour's answers."""

    hex: str = Field(description="six hex digits")


class Palette(BaseModel):
    """Code note: the answer (see prompts/palette.md)."""

    shades: list[Shade]


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_object", "text"])
def test_a_schemas_class_docstrings_stay_in_the_code(tmp_path, method):
    """A model reads field descriptions; class docstrings are notes for readers of the code, and were sent with
    every request (as the function's description and the nested object's) until stop 47."""
    with ScriptedLLMServer(default=lambda r: '{"shades": [{"hex": "00ff00"}]}') as srv:
        client(srv, tmp_path, structured_output=method).ask(Palette, PROMPT, {"q": "sky"}, stage="review", key="k")
        sent = json.dumps(srv.requests[-1].body)
    assert "Code note" not in sent
    assert "six hex digits" in sent


@pytest.mark.parametrize("schema", [ScreenBatch, LinkCheck, ReviewBatch, ThemeDraft, Overview, ReviewFindings, ReviewPlan, Ping])
def test_no_answer_schema_sends_a_docstring(schema):
    sent = json.dumps(openai_schema(schema))
    notes = [inspect.cleandoc(cls.__doc__) for cls in _models_in(schema) if "__doc__" in vars(cls) and cls.__doc__]
    assert not [note for note in notes if json.dumps(note)[1:-1] in sent]


def _models_in(schema: type[BaseModel]) -> set[type[BaseModel]]:
    found = {schema}
    for field in schema.model_fields.values():
        for arg in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(arg, type) and issubclass(arg, BaseModel) and arg not in found:
                found |= _models_in(arg)
    return found


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_object", "text"])
def test_request_shape_of_each_method(tmp_path, method):
    with ScriptedLLMServer(handlers={"Colour": colour}, default=lambda r: '{"name": "blue"}') as srv:
        client(srv, tmp_path, structured_output=method).ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k")
        body = srv.requests[-1].body
    # both spellings: OpenAI reads max_completion_tokens, llama-cpp-python's server only max_tokens
    assert body["max_tokens"] == body["max_completion_tokens"] == LLMConfig().max_tokens["review"]
    assert body["temperature"] == 0 and body["model"] == "scripted"
    rf = body.get("response_format")
    if method == "json_schema":
        assert rf["type"] == "json_schema" and rf["json_schema"]["name"] == "Colour"
        assert rf["json_schema"]["schema"]["properties"]["name"]["type"] == "string"
    elif method == "function_calling":
        assert body["tools"][0]["function"]["name"] == "Colour" and body["tool_choice"]["function"]["name"] == "Colour"
        assert rf is None
    elif method == "json_object":
        assert rf["type"] == "json_object" and rf["schema"]["properties"]["name"]["type"] == "string"
    else:
        assert rf is None and "tools" not in body
    says_schema = '"name"' in body["messages"][0]["content"]
    assert says_schema == (method in ("json_object", "text")), "the schema is in the prompt when the request can't carry it"


def test_a_429_storm_never_exceeds_the_request_rate(tmp_path):
    """Every attempt, retries included, takes a request from the limiter: 60/min with a burst of 2."""
    storm = [Fault("429", retry_after=0.0)] * 30
    with ScriptedLLMServer(handlers={"Colour": colour}, faults=storm) as srv:
        llm = client(srv, tmp_path, requests_per_minute=60, concurrency=2, max_retries=6, structured_output="json_schema")
        arrivals = arrival_times(srv)
        errors = []

        def one(i):
            try:
                llm.ask(Colour, PROMPT, {"q": i}, stage="screen", key=str(i))
            except LLMError as exc:
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert len(arrivals) >= 12, "the storm was retried through"
    for i, t0 in enumerate(arrivals):
        in_window = sum(1 for t in arrivals[i:] if t - t0 <= 3.0)
        assert in_window <= 2 + 3.0 * 1 + 1, f"{in_window} requests within 3 s of {t0 - started:.1f} s"


def test_invalid_answers_are_counted_retried_once_and_never_cached(tmp_path):
    with ScriptedLLMServer(handlers={"Colour": lambda r: {"name": "x"}}) as srv:
        llm = client(srv, tmp_path, structured_output="json_schema")
        with pytest.raises(InvalidAnswer):
            llm.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k",
                    validate=lambda c: "a colour is a word" if len(c.name) < 2 else None)
        usage = llm.meter.take().stages["review"]
        assert usage.calls == 2 == srv.calls
        assert (usage.input_tokens, usage.output_tokens) == (srv.prompt_tokens, srv.completion_tokens)
        assert llm.cache.count() == 0 and llm.cache.count_failures() == 1, "only that it failed is remembered"
        assert "review: 1 LLM answer failed" in " ".join(llm.take_partial())
        def ask_again(**kw):
            client(srv, tmp_path, structured_output="json_schema", **kw).ask(
                Colour, PROMPT, {"q": "sky"}, stage="review", key="k", validate=lambda c: "a colour is a word" if len(c.name) < 2 else None)

        with pytest.raises(InvalidAnswer, match="remembered from an earlier run"):
            ask_again()
        assert srv.calls == 2, "the same question isn't asked a third time"
        with pytest.raises(InvalidAnswer, match="invalid answer twice"):
            ask_again(use_cache=False)
        assert srv.calls == 4, "--no-cache asks again"
        assert llm.cache.clear() == 0 and llm.cache.count_failures() == 0


def test_malformed_output_still_counts_its_tokens(tmp_path):
    with ScriptedLLMServer(handlers={"Colour": lambda r: '{"name": '}) as srv:
        llm = client(srv, tmp_path, structured_output="json_schema")
        with pytest.raises(InvalidAnswer):
            llm.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k")
        assert llm.meter.take().total.output_tokens == srv.completion_tokens > 0


def test_a_bad_cached_row_is_ignored_and_asked_again(tmp_path, caplog):
    with ScriptedLLMServer(handlers={"Colour": colour}) as srv:
        llm = client(srv, tmp_path, structured_output="json_schema")
        key = llm.cache_key(PROMPT, "k")
        llm.cache.put(key, '{"colour": 3}')
        assert llm.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k").name == "blue"
        assert srv.calls == 1 and "no longer validates" in caplog.text
        assert llm.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k").name == "blue" and srv.calls == 1
        nocache = client(srv, tmp_path, structured_output="json_schema", use_cache=False)
        nocache.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k")
        assert srv.calls == 2, "--no-cache asks again"


def test_the_breaker_stops_calls_after_repeated_refusals(tmp_path):
    with ScriptedLLMServer(faults=lambda a, r: Fault("401")) as srv:
        llm = client(srv, tmp_path, structured_output="json_schema", breaker_failures=3)
        for i in range(6):
            with pytest.raises(LLMError):
                llm.ask(Colour, PROMPT, {"q": i}, stage="review", key=str(i))
        assert srv.attempts == 3
        assert any("stopped after 3 failures" in r for r in llm.take_partial())


def test_a_server_that_stops_answering_mid_run_trips_the_breaker(tmp_path):
    """A connection that fails through all of a call's retries counts; a blip that a retry gets past does not."""
    faults = [None, Fault("drop"), None] + [Fault("drop")] * 50  # answers, a blip, answers, then the server is gone
    with ScriptedLLMServer(handlers={"Colour": colour}, faults=faults) as srv:
        llm = client(srv, tmp_path, structured_output="json_schema", max_retries=1, breaker_failures=3)
        assert llm.ask(Colour, PROMPT, {"q": 0}, stage="review", key="0").name == "blue"
        assert llm.ask(Colour, PROMPT, {"q": 1}, stage="review", key="1").name == "blue", "the blip was retried"
        assert llm.breaker.reason is None
        for i in range(2, 5):
            with pytest.raises(LLMError) as failed:
                llm.ask(Colour, PROMPT, {"q": i}, stage="review", key=str(i))
            assert isinstance(failed.value, CallsStopped) == (i == 4), "the third failure opens the breaker and says so"
        attempts = srv.attempts
        assert attempts == 3 + 3 * 2, "each of the three failed calls was tried twice"
        for i in range(5, 9):
            with pytest.raises(CallsStopped):
                llm.ask(Colour, PROMPT, {"q": i}, stage="review", key=str(i))
        assert srv.attempts == attempts, "no call is made once the breaker is open"
    [reason] = [r for r in llm.take_partial() if r.startswith("LLM calls stopped")]
    assert f"can't reach {srv.base_url}" in reason and "3 failures in a row" in reason


def test_max_cost_holds_with_many_calls_in_flight(tmp_path):
    """16 calls at once against a cap that fits about five: what the server reports is never past the cap."""
    price = LLMConfig().prices["gpt-4o-mini"]
    with ScriptedLLMServer(handlers={"Colour": colour}, latency=0.2) as srv:
        llm = client(srv, tmp_path, model="gpt-4o-mini", structured_output="json_schema", concurrency=16,
                     max_tokens={"review": 50})
        question = "word " * 2000  # ~2,500 prompt tokens a call
        one = ((len(PROMPT.system) + len(question)) // 4 * price[0] + 50 * price[1]) / 1e6
        llm.cfg.max_cost_usd = round(5.5 * one, 8)
        stopped: list[str] = []

        def ask(i: int) -> None:
            try:
                llm.ask(Colour, PROMPT, {"q": f"{question}{i}"}, stage="review", key=str(i))
            except BudgetExceeded as exc:
                stopped.append(str(exc))

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        paid = (srv.prompt_tokens * price[0] + srv.completion_tokens * price[1]) / 1e6
    assert 0 < srv.calls < 16 and len(stopped) == 16 - srv.calls
    assert paid <= llm.cfg.max_cost_usd, (paid, llm.cfg.max_cost_usd)
    assert any(r.startswith("--max-cost") for r in llm.take_partial())


def test_a_hung_server_is_bounded_by_the_timeout_and_trips_the_breaker(tmp_path):
    with ScriptedLLMServer(faults=lambda a, r: Fault("hang")) as srv:
        llm = client(srv, tmp_path, timeout_seconds=1, max_retries=1)
        started = time.monotonic()
        llm.negotiate()  # no answer: the run goes on without the LLM
        with pytest.raises(LLMError):
            llm.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k")
        assert time.monotonic() - started < 8 and srv.attempts <= 2
        assert any("did not answer" in r for r in llm.take_partial())


def test_dated_models_take_their_family_price_and_unknown_ones_none():
    prices = LLMConfig().prices
    assert price_of("gpt-4o-mini-2024-07-18", prices) == prices["gpt-4o-mini"]
    assert price_of("gpt-4.1-2025-04-14", prices) == prices["gpt-4.1"]
    assert price_of("smollm2", prices) is None


def test_a_synthesis_call_and_its_retry_wait_on_the_token_rate(tmp_path):
    """tokens/min gates every attempt of every kind of call, not only screening: a synthesis prompt of ~3,100
    tokens against 6,000 a minute leaves too little in the bucket for its retry, which waits ~2 s for it."""
    with ScriptedLLMServer(handlers={"Colour": colour}, faults=[Fault("429", retry_after=0.0)]) as srv:
        llm = client(srv, tmp_path, tokens_per_minute=6000, max_retries=1, structured_output="json_schema")
        arrivals = arrival_times(srv)
        assert llm.ask(Colour, PROMPT, {"q": "word " * 2400}, stage="synthesise", key="long").name == "blue"
    assert len(arrivals) == 2, "the 429 was retried"
    assert arrivals[1] - arrivals[0] >= 1.5, f"the retry came {arrivals[1] - arrivals[0]:.2f} s after the first attempt"


@pytest.mark.parametrize("method, finish", [("json_schema", "length"), ("function_calling", "length"),
                                            ("function_calling", "tool_calls"), ("json_object", "length")])
def test_an_answer_cut_at_max_tokens_is_named_and_not_asked_again(tmp_path, method, finish):
    """`finish`: what the server says of a cut tool call (llama-cpp-python's says "tool_calls")."""
    long_name = {"name": "ultramarine " * 40}  # ~120 tokens, for an answer allowed 20
    with ScriptedLLMServer(handlers={"Colour": lambda r: long_name}, cut_tool_call_finish=finish) as srv:
        llm = client(srv, tmp_path, structured_output=method, max_tokens={"review": 20})
        with pytest.raises(InvalidAnswer, match=r"review: answer cut short at 20 tokens \(\[llm\] max_tokens.review") as cut:
            llm.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k")
        assert cut.value.cut_short, "asked once: a report must not say it failed twice"
        assert srv.calls == 1, "the same request would be cut at the same place"
        assert llm.meter.take().stages["review"].output_tokens == srv.completion_tokens == 20
        assert llm.cache.count() == 0
        with pytest.raises(InvalidAnswer, match="remembered from an earlier run") as again:
            client(srv, tmp_path, structured_output=method, max_tokens={"review": 20}).ask(
                Colour, PROMPT, {"q": "sky"}, stage="review", key="k")
        assert again.value.cut_short
        assert srv.calls == 1
        roomier = client(srv, tmp_path, structured_output=method, max_tokens={"review": 400})
        assert roomier.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k").name.startswith("ultramarine")
        assert srv.calls == 2, "the room the message advised is asked for at once, not a day later"


@pytest.mark.parametrize("method", ["json_schema", "json_object"])
def test_a_cut_answer_that_still_reads_is_taken(tmp_path, method):
    padded = '{"name": "blue"}' + "\n" * 400  # a grammar-constrained server pads a finished object up to the limit
    with ScriptedLLMServer(handlers={"Colour": lambda r: padded}) as srv:
        llm = client(srv, tmp_path, structured_output=method, max_tokens={"review": 20})
        assert llm.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k").name == "blue"
        assert srv.calls == 1


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_object"])
@pytest.mark.parametrize("fault, said", [("decline", "the model declined: I'm sorry, I can't assist"),
                                         ("filtered", "the server's content filter stopped the answer")])
def test_a_declined_answer_is_named_as_such_and_asked_once_more(tmp_path, method, fault, said):
    with ScriptedLLMServer(handlers={"Colour": colour}, faults=[Fault(fault), Fault(fault)]) as srv:
        llm = client(srv, tmp_path, structured_output=method)
        with pytest.raises(InvalidAnswer, match=said):
            llm.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k")
        assert srv.calls == 2
        assert llm.ask(Colour, PROMPT, {"q": "sea"}, stage="review", key="k2").name == "blue", "the next answer is read"


@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_object"])
def test_a_reasoning_model_that_spent_the_answer_on_reasoning_says_so(tmp_path, method):
    """A reasoning model's hidden tokens count against max_tokens: 700 of 800 spent, the answer is cut."""
    long_name = {"name": "ultramarine " * 40}
    with ScriptedLLMServer(handlers={"Colour": lambda r: long_name}, reasoning_tokens=700) as srv:
        llm = client(srv, tmp_path, structured_output=method, max_tokens={"review": 800})
        with pytest.raises(InvalidAnswer, match=r"cut short at 800 tokens, 700 of them the model's reasoning \(\[llm\]"):
            llm.ask(Colour, PROMPT, {"q": "sky"}, stage="review", key="k")
        assert srv.calls == 1 and llm.meter.take().stages["review"].output_tokens == srv.completion_tokens == 800


def test_a_404_from_a_base_url_without_its_v1_names_the_address_that_answers():
    from brief.agents.llm_limits import missing_api_path

    answers = {"http://127.0.0.1:8799/v1/models": 200}
    def fetch(url):
        return answers.get(url, 404)
    assert missing_api_path("http://127.0.0.1:8799", fetch) == "http://127.0.0.1:8799/v1"
    assert missing_api_path("http://127.0.0.1:8799/", fetch) == "http://127.0.0.1:8799/v1"
    assert missing_api_path("http://127.0.0.1:8799/v1", fetch) is None, "already there: the model is what's wrong"
    assert missing_api_path("http://127.0.0.1:9000", fetch) is None, "nothing answers at /v1 either"
