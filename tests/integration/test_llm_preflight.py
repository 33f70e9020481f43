"""`brief weekly` against servers that refuse, hang or charge: the preflight's one-line exit 2 with nothing touched,
exit 3 with a partial briefing, and --max-cost holding across a kill and resume. Real CLI subprocesses, the
scripted server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time

import pytest

from tests.handlers import brief_handlers
from tests.integration.cli_helpers import TOPIC, brief, brief_env, labels_for, week_snapshot
from tests.integration.cli_helpers import llm_config as _llm_config
from tests.scripted_faults import Fault, reject_modes
from tests.scripted_llm import ScriptedLLMServer, labels_screen_handler

WEEK = "2026-W24"
PRICE = (0.15, 0.60)  # gpt-4o-mini, USD per million tokens


def llm_config(tmp_path, cache_dir, **llm):
    return _llm_config(tmp_path / "brief.toml", cache_dir, **llm)


def weekly(tmp_path, config, snapshot, srv, model="scripted", *extra, name="run", env_extra=None):
    env = brief_env(OPENAI_BASE_URL=srv.base_url, OPENAI_API_KEY="sk-test", BRIEF_MODEL=model, **(env_extra or {}))
    return brief("weekly", "--week", WEEK, "--source", f"snapshot:{snapshot}", "--config", config,
                 "--memory-dir", tmp_path / name / "memory", "--out", tmp_path / name / "out", "-q", *extra, env=env)


@pytest.mark.parametrize("fault, words, most", [
    (lambda a, r: Fault("401"), "API key", 2),
    (lambda a, r: Fault("quota"), "quota", 2),
    (lambda a, r: Fault("404"), "/v1/models", 2),
    (reject_modes({"json_schema", "tools", "json_object", "text"}, 400), "rejected every structured-output method", 8),
], ids=["401", "insufficient_quota", "unknown-model", "no-structured-output"])
def test_a_refused_preflight_is_one_line_exit_2_and_touches_nothing(tmp_path, cache_dir, fault, words, most):
    snapshot = week_snapshot(tmp_path / "snapshot", 20)
    config = llm_config(tmp_path, cache_dir, max_retries=2)
    with ScriptedLLMServer(faults=fault) as srv:
        done = weekly(tmp_path, config, snapshot, srv)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: LLM preflight failed") and words in lines[0], lines
    assert srv.attempts <= most
    assert not (tmp_path / "run").exists(), "no memory, cache, lock or report was created"


def test_a_plain_web_server_is_named_as_no_api(tmp_path, cache_dir):
    """helper-108 pointed OPENAI_BASE_URL at a static file server: every method answered 501, which read as "rejected
    every structured-output method" (a model problem) instead of the wrong address."""
    import functools
    import http.server

    snapshot = week_snapshot(tmp_path / "snapshot", 20)
    config = llm_config(tmp_path, cache_dir, max_retries=0)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "snapshot"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/v1"
        env = brief_env(OPENAI_BASE_URL=base, OPENAI_API_KEY="sk-test", BRIEF_MODEL="scripted", NO_PROXY="127.0.0.1")
        done = brief("weekly", "--week", WEEK, "--source", f"snapshot:{snapshot}", "--config", config,
                     "--memory-dir", tmp_path / "run" / "memory", "--out", tmp_path / "run" / "out", "-q", env=env)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{base}: not an OpenAI-compatible API (it answered 501" in lines[0], lines
    assert not (tmp_path / "run").exists()


def test_max_cost_with_an_unpriced_model_is_refused_before_any_call(tmp_path, cache_dir):
    snapshot = week_snapshot(tmp_path / "snapshot", 20)
    config = llm_config(tmp_path, cache_dir)
    with ScriptedLLMServer() as srv:
        done = weekly(tmp_path, config, snapshot, srv, "scripted", "--max-cost", "0.01")
    assert done.returncode == 2 and "--max-cost needs the price of 'scripted'" in done.stderr, done.stderr
    assert srv.attempts == 0 and not (tmp_path / "run").exists()


def test_an_unpriced_model_says_cost_unknown(tmp_path, cache_dir):
    snapshot = week_snapshot(tmp_path / "snapshot", 20)
    config = llm_config(tmp_path, cache_dir)
    with ScriptedLLMServer(handlers={"ScreenBatch": labels_screen_handler(labels_for(snapshot))}) as srv:
        done = weekly(tmp_path, config, snapshot, srv, "my-local-model")
    assert done.returncode in (0, 3), done.stderr
    md = (tmp_path / "run" / "out" / f"{WEEK}.md").read_text()
    assert "Cost unknown: \\[llm\\] prices has no price for my-local-model" in md and "| unknown |" in md
    assert "Structured output: json\\_schema." in md


@pytest.mark.parametrize("answered", [1, 0], ids=["hangs-after-the-preflight", "never-answers"])
def test_a_server_that_hangs_ends_partial_with_exit_3(tmp_path, cache_dir, answered):
    snapshot = week_snapshot(tmp_path / "snapshot", 30)
    config = llm_config(tmp_path, cache_dir, timeout_seconds=3, max_retries=1)
    with ScriptedLLMServer(faults=lambda attempt, req: None if attempt < answered else Fault("hang")) as srv:
        started = time.monotonic()
        done = weekly(tmp_path, config, snapshot, srv)
        elapsed = time.monotonic() - started
    assert done.returncode == 3, done.stderr
    assert elapsed < 180
    report = json.loads((tmp_path / "run" / "out" / f"{WEEK}.json").read_text())
    why = "stopped after" if answered else "did not answer within 3 s"
    assert report["partial"] and any(why in r for r in report["partial"]), report["partial"]
    assert report["counts"]["unscreened"] > 0
    md = (tmp_path / "run" / "out" / f"{WEEK}.md").read_text()
    assert "Partial run (exit 3)" in md
    # every hung request was given up at its timeout: counted, its prompt estimated, said under the usage table
    stages = report["usage"]["stages"].values()
    assert sum(s["timed_out"] for s in stages) == srv.attempts - answered, (srv.attempts, report["usage"])
    assert sum(s["timed_out_input_tokens"] for s in stages) > 0
    assert "timed out: the server may still have run" in md


def test_a_server_that_goes_away_mid_run_stops_the_calls_with_one_reason(tmp_path, cache_dir):
    """The preflight and the first calls answered, then every connection is dropped: after three calls that
    could not connect through their retries no call is made, the run is labelled partial (exit 3) and says why
    once, instead of a warning for every batch left."""
    snapshot = week_snapshot(tmp_path / "snapshot", 300)
    config = llm_config(tmp_path, cache_dir, max_retries=1, concurrency=4, batch_size=4)
    with ScriptedLLMServer(handlers=brief_handlers(labels_for(snapshot), TOPIC),
                           faults=lambda attempt, req: None if attempt < 3 else Fault("drop")) as srv:
        done = weekly(tmp_path, config, snapshot, srv)
    assert done.returncode == 3, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) <= 3, warnings
    assert srv.attempts <= 3 + 3 * 2 + 4 * 2, "calls stop once three could not connect (four were in flight)"
    report = json.loads((tmp_path / "run" / "out" / f"{WEEK}.json").read_text())
    [reason] = [r for r in report["partial"] if "LLM calls stopped" in r]
    assert f"can't reach {srv.base_url}" in reason
    assert report["counts"]["unscreened"] > 0


def test_max_cost_holds_with_calls_in_flight(tmp_path, cache_dir):
    """Eight calls at once: what the server was paid never passes the cap."""
    snapshot = week_snapshot(tmp_path / "snapshot", 300)
    config = llm_config(tmp_path, cache_dir, concurrency=8, max_retries=0)
    with ScriptedLLMServer(handlers=brief_handlers(labels_for(snapshot), TOPIC), latency=0.1) as srv:
        reference = weekly(tmp_path, config, snapshot, srv, "gpt-4o-mini", name="reference")
        assert reference.returncode == 0, reference.stderr
        full = (srv.prompt_tokens * PRICE[0] + srv.completion_tokens * PRICE[1]) / 1e6
        tokens = srv.prompt_tokens, srv.completion_tokens
        cap = round(full / 3, 6)
        done = weekly(tmp_path, config, snapshot, srv, "gpt-4o-mini", "--max-cost", str(cap))
        paid = ((srv.prompt_tokens - tokens[0]) * PRICE[0] + (srv.completion_tokens - tokens[1]) * PRICE[1]) / 1e6
    assert done.returncode == 3, done.stderr
    assert 0 < paid <= cap, (paid, cap)
    report = json.loads((tmp_path / "run" / "out" / f"{WEEK}.json").read_text())
    assert any(r.startswith(f"--max-cost {cap:g} USD reached") for r in report["partial"]), report["partial"]


def test_max_cost_counts_what_a_killed_process_paid(tmp_path, cache_dir):
    """Killed after screening and resumed with --max-cost: the server was paid at most the cap plus one call."""
    snapshot = week_snapshot(tmp_path / "snapshot", 300)  # enough manipulation papers to review and synthesise
    config = llm_config(tmp_path, cache_dir, concurrency=1, max_retries=0)
    calls: list[float] = []
    lock = threading.Lock()
    with ScriptedLLMServer(handlers=brief_handlers(labels_for(snapshot), TOPIC)) as srv:  # answers that validate
        count = srv._count

        def priced(req, content):
            usage = count(req, content)
            with lock:
                calls.append((usage["prompt_tokens"] * PRICE[0] + usage["completion_tokens"] * PRICE[1]) / 1e6)
            return usage

        srv._count = priced
        reference = weekly(tmp_path, config, snapshot, srv, "gpt-4o-mini", name="reference")
        assert reference.returncode == 0, reference.stderr
        usage = json.loads((tmp_path / "reference" / "out" / f"{WEEK}.json").read_text())["usage"]["stages"]
        screened = sum(usage[s]["cost_usd"] for s in ("preflight", "screen") if s in usage)
        total = sum(calls)
        cap = round(screened + (total - screened) / 3, 6)
        assert screened < cap < total
        calls.clear()
        killed = weekly(tmp_path, config, snapshot, srv, "gpt-4o-mini", "--max-cost", str(cap),
                        env_extra={"BRIEF_TEST_KILL_AFTER": "screen"})
        assert killed.returncode == -9, killed.stderr
        first = len(calls)
        resumed = weekly(tmp_path, config, snapshot, srv, "gpt-4o-mini", "--max-cost", str(cap))
    assert resumed.returncode in (0, 3), resumed.stderr
    assert len(calls) > first, "the resumed process made calls"
    paid = sum(calls)
    assert paid <= cap + max(calls), (paid, cap, max(calls))
    report = json.loads((tmp_path / "run" / "out" / f"{WEEK}.json").read_text())
    assert report["usage"]["stages"] and sum(s["calls"] for s in report["usage"]["stages"].values()) == len(calls)
    assert abs(sum(s["cost_usd"] for s in report["usage"]["stages"].values()) - paid) < 1e-5


def test_cache_stats_clear_and_no_cache(tmp_path, cache_dir):
    snapshot = week_snapshot(tmp_path / "snapshot", 30)
    config = llm_config(tmp_path, cache_dir)
    with ScriptedLLMServer(handlers=brief_handlers(labels_for(snapshot), TOPIC)) as srv:
        assert weekly(tmp_path, config, snapshot, srv).returncode == 0
        answered = srv.calls
        memory = ["--config", config, "--memory-dir", tmp_path / "run" / "memory"]
        stats = json.loads(brief("cache", "stats", "--json", *memory).stdout)
        assert stats["answers"] > 0
        assert weekly(tmp_path, config, snapshot, srv, "scripted", "--restart").returncode == 0
        assert srv.calls == answered, "a second run at once makes no call, not even the preflight's"
        assert weekly(tmp_path, config, snapshot, srv, "scripted", "--no-cache").returncode == 0
        assert srv.calls > answered + 2, "--no-cache asks again"
        cleared = brief("cache", "clear", *memory)
        assert f"cleared {stats['answers']}" in cleared.stdout or "cleared" in cleared.stdout
        assert json.loads(brief("cache", "stats", "--json", *memory).stdout)["answers"] == 0
