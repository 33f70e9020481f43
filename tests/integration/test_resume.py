"""Checkpoints in-process: a failed run resumes where it stopped, a finished one is not replayed, and the
checkpoint holds state (pydantic models, revived exactly) but never the settings or their secrets."""

from __future__ import annotations

import logging
import os
import sqlite3

import pytest
from pydantic import SecretStr

from brief.config import ConfigError
from brief.graphs import checkpoint, weekly
from brief.graphs.checkpoint import model_types, open_checkpointer, serializer, thread_id
from brief.graphs.state import WeeklyState
from brief.memory.store import Memory
from brief.models import Decision, Paper
from brief.app.runner import run_weekly
from brief.sources.window import parse_week
from tests.handlers import brief_handlers
from tests.integration.cli_helpers import TOPIC, labels_for, week_snapshot
from tests.scripted_llm import ScriptedLLMServer

WEEK = parse_week("2026-W24")


def llm_settings(settings, base_url: str):
    llm = settings.llm.model_copy(update={"base_url": base_url, "api_key": SecretStr("sk-test-secret-key"),
                                          "model": "scripted", "max_retries": 0, "timeout_seconds": 20,
                                          "requests_per_minute": 600000})
    return settings.model_copy(update={"llm": llm})


def threads(settings) -> list[str]:
    with sqlite3.connect(settings.data_dir / checkpoint.SQLITE_NAME) as db:
        return [r[0] for r in db.execute("SELECT DISTINCT thread_id FROM checkpoints")]


class Boom(RuntimeError):
    pass


def test_a_run_that_failed_resumes_at_the_failed_node_without_repeating_llm_calls(settings, tmp_path, monkeypatch):
    snapshot = week_snapshot(tmp_path / "snapshot", 80)
    sources = [f"snapshot:{snapshot}"]
    with ScriptedLLMServer(handlers=brief_handlers(labels_for(snapshot), TOPIC)) as srv:
        s = llm_settings(settings, srv.base_url)
        real_link = weekly.link

        def failing_link(state, runtime):
            raise Boom("the machine went down in link")

        monkeypatch.setattr(weekly, "link", failing_link)
        with pytest.raises(Boom):
            run_weekly(s, WEEK, sources)
        calls = srv.calls
        assert calls > 0 and len(threads(s)) == 1, "the failed run's thread waits to be resumed"
        assert not (s.out_dir / "2026-W24.json").exists(), "a failed run leaves no report"

        monkeypatch.setattr(weekly, "link", real_link)
        resumed = run_weekly(s, WEEK, sources)
        assert not any(r.schema_name in ("ScreenBatch", "ReviewBatch") for r in srv.requests[calls:]), \
            "screening and review were not redone: their results came from the checkpoint"
        assert resumed.resumed_before == ["link"]
        assert any(n.startswith("resumed an interrupted run: link") for n in resumed.state.notes)
        assert resumed.state.memory_added == len(resumed.state.accepted) > 0
        assert resumed.state.usage.stages["screen"].calls > 0, "usage of the first process's nodes is kept"
        assert (s.out_dir / "2026-W24.json").exists()
        assert threads(s) == [], "a finished run's thread is deleted"

        again = run_weekly(s, WEEK, sources)  # the same command once more: a fresh run, served from caches
        assert again.resumed_before == [] and not any(n.startswith("resumed") for n in again.state.notes)
        assert [p.id for p in again.state.accepted] == [p.id for p in resumed.state.accepted]
        assert again.state.memory_added == 0


def test_a_remember_node_redone_after_a_crash_adds_nothing_twice_and_counts_right(settings, tmp_path, monkeypatch):
    real = Memory.remember
    calls = []

    def crash_on_the_second_write(self, papers, *args, **kwargs):
        calls.append(len(papers))
        if len(calls) == 2:  # accepted papers are written; the process dies before the rejected ones
            raise Boom("killed inside remember")
        return real(self, papers, *args, **kwargs)

    monkeypatch.setattr(Memory, "remember", crash_on_the_second_write)
    with pytest.raises(Boom):
        run_weekly(settings, WEEK, ["sample"])
    monkeypatch.setattr(Memory, "remember", real)
    result = run_weekly(settings, WEEK, ["sample"])
    assert result.resumed_before == ["remember"]
    assert result.state.memory_added == len(result.state.accepted) > 0, "counted against memory before the run"
    assert result.state.memory_total == len(result.state.accepted)


def test_thread_ids_follow_week_config_and_sources_but_not_secrets(settings):
    base = thread_id("weekly", settings, "2026-W24", sources=["sample"])
    assert base.startswith("weekly:2026-W24:") and base == thread_id("weekly", settings, "2026-W24", sources=["sample"])
    assert base != thread_id("weekly", settings, "2026-W23", sources=["sample"])
    assert base != thread_id("weekly", settings, "2026-W24", sources=["arxiv"])
    stricter = settings.model_copy(update={"screening": settings.screening.model_copy(update={"accept_relevance": 9})})
    assert base != thread_id("weekly", stricter, "2026-W24", sources=["sample"])
    def keyed(key: str):
        return settings.model_copy(update={"llm": settings.llm.model_copy(update={"api_key": SecretStr(key)})})

    one = thread_id("weekly", keyed("sk-one"), "2026-W24", sources=["sample"])
    assert one != base, "a key switches the run from offline to the LLM"
    assert one == thread_id("weekly", keyed("sk-other"), "2026-W24", sources=["sample"]), "a new key resumes the same run"
    assert "sk-one" not in one
    assert thread_id("weekly", settings, "2026-W24", WeeklyState, sources=["sample"]) != base, \
        "a state of another shape (another version of brief) never resumes this thread"


def test_the_checkpoint_revives_state_models_exactly_and_only_ours(caplog):
    allowed = model_types(WeeklyState)
    assert {("brief.models", "Paper"), ("brief.models", "Decision"), ("brief.graphs.state", "WeeklyState"),
            ("brief.sources.window", "Window")} <= allowed
    assert not any(module.startswith("brief.config") for module, _ in allowed), "settings are never state"
    serde = serializer(WeeklyState)
    paper = Paper(id="2606.00001", version=2, title="T <b>", abstract="A", authors=["X"], announced=WEEK.since)
    decision = Decision(paper_id="2606.00001", accepted=True, stage="llm", relevance=8, novelty=5, reason="r")
    with caplog.at_level(logging.WARNING):
        papers = serde.loads_typed(serde.dumps_typed([paper]))
        decisions = serde.loads_typed(serde.dumps_typed({"2606.00001": decision}))
        state = serde.loads_typed(serde.dumps_typed(WeeklyState(window=WEEK, papers=[paper])))
    assert papers == [paper] and type(papers[0]) is Paper
    assert decisions == {"2606.00001": decision}
    assert state == WeeklyState(window=WEEK, papers=[paper])
    assert not caplog.records, "no 'unregistered type' warnings"


def test_a_postgres_url_without_its_package_says_what_to_install(settings):
    pytest.importorskip("langgraph.checkpoint.sqlite")
    try:
        import langgraph.checkpoint.postgres  # noqa: F401
        pytest.skip("langgraph-checkpoint-postgres is installed")
    except ImportError:
        pass
    pg = settings.model_copy(update={"checkpoint": settings.checkpoint.model_copy(
        update={"url": SecretStr("postgresql://brief:pw@db.example/brief")})})
    with pytest.raises(ConfigError, match="pip install langgraph-checkpoint-postgres") as err:
        with open_checkpointer(pg, WeeklyState):
            pass
    assert "pw@" not in str(err.value)


def test_a_sqlite_url_picks_another_file(settings, tmp_path):
    other = settings.model_copy(update={"checkpoint": settings.checkpoint.model_copy(
        update={"url": SecretStr(f"sqlite:///{tmp_path / 'elsewhere' / 'ck.sqlite'}")})})
    with open_checkpointer(other, WeeklyState) as saver:
        assert saver is not None
    assert (tmp_path / "elsewhere" / "ck.sqlite").exists()


def test_a_run_failing_while_writing_reports_leaves_the_old_ones_whole_then_resumes(settings, monkeypatch):
    first = run_weekly(settings, WEEK, ["sample"])
    html = settings.out_dir / "2026-W24.html"
    before = html.read_bytes()
    real_fsync = os.fsync

    def full_disk_for_html(fd):
        if os.readlink(f"/proc/self/fd/{fd}").rsplit("/", 1)[-1].startswith(".2026-W24.html."):
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk_for_html)
    with pytest.raises(OSError, match="No space left"):
        run_weekly(settings, WEEK, ["sample"])
    assert html.read_bytes() == before, "the old report is intact"
    assert not [p.name for p in settings.out_dir.iterdir() if p.name.startswith(".")], "no temporary files left"
    monkeypatch.setattr(os, "fsync", real_fsync)
    resumed = run_weekly(settings, WEEK, ["sample"])
    assert resumed.resumed_before == ["write"]
    assert [p.id for p in resumed.state.accepted] == [p.id for p in first.state.accepted]
    assert html.read_bytes() != before and "resumed an interrupted run" in html.read_text()


def test_restart_discards_an_interrupted_run(settings, monkeypatch):
    def failing_review(state, runtime):
        raise Boom("down in review")

    monkeypatch.setattr(weekly, "review", failing_review)
    with pytest.raises(Boom):
        run_weekly(settings, WEEK, ["sample"])
    monkeypatch.undo()
    assert len(threads(settings)) == 1
    fresh = run_weekly(settings, WEEK, ["sample"], restart=True)
    assert fresh.resumed_before == [] and not any(n.startswith("resumed") for n in fresh.state.notes)
    assert threads(settings) == []
