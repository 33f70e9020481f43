"""Must-show: SIGKILL `brief weekly` at every stage boundary and in the middle of screening; it resumes.

One uninterrupted run of a 300-paper week against the scripted LLM server is the reference (in-process,
to save an interpreter start; the same config and code path below the CLI). Then, on a
fresh memory dir, the same command is started again and again, each process killed at a later point:
after the fetch checkpoint, mid-screening (the server kills the client when it receives a screening
call, so that answer is lost), and after each later node's checkpoint, the last one after the reports
were written. Each start resumes the interrupted thread. At the end the chain must match the reference:
the same accepted papers, the same memory, and at most one screening batch more of server calls
(concurrency 1, so the one call in flight when the process died is the only one redone).

The kill points use the documented test hook BRIEF_TEST_KILL_AFTER=<node> (app/runner.py), which SIGKILLs the
process right after that node's checkpoint is written; mid-screening kills come from the server side.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading

import pytest

from brief.config_file import load_settings
from brief.app.runner import run_weekly
from brief.sources.window import parse_week
from tests.handlers import brief_handlers
from tests.integration.cli_helpers import (TOPIC, brief_cmd, brief_env, labels_for, memory_contents, snapshot_ids,
                                           week_snapshot, write_config)
from tests.scripted_llm import ScriptedLLMServer

WEEK = "2026-W24"
BOUNDARIES = ["fetch", "screen", "review", "remember", "link", "synthesise", "write"]
KILL_AT_SCREEN_CALL = 4  # of ~15 screening calls


class KillingServer:
    """The scripted server, able to SIGKILL the client when it receives its Nth screening call."""

    def __init__(self, labels: dict[str, int]):
        handlers = brief_handlers(labels, TOPIC)
        self._screen = handlers["ScreenBatch"]
        handlers["ScreenBatch"] = self._screen_then_maybe_kill
        self.srv = ScriptedLLMServer(handlers=handlers, latency=0.01)
        self._lock = threading.Lock()
        self.screen_calls = 0
        self.victim: int | None = None
        self.kill_at: int | None = None

    def _screen_then_maybe_kill(self, req):
        with self._lock:
            self.screen_calls += 1
            kill = self.victim is not None and self.screen_calls == self.kill_at
        if kill:
            os.kill(self.victim, signal.SIGKILL)  # the client dies waiting for this answer: it is never cached
        return self._screen(req)

    def run(self, args: list[str], env: dict[str, str], kill_at_screen_call: int | None = None):
        proc = subprocess.Popen(brief_cmd(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with self._lock:
            self.victim, self.screen_calls = proc.pid, 0
            self.kill_at = kill_at_screen_call
        out, err = proc.communicate(timeout=120)
        with self._lock:
            self.victim = self.kill_at = None
        return proc.returncode, out, err


def accepted_ids(out_dir) -> list[str]:
    report = json.loads((out_dir / f"{WEEK}.json").read_text())
    return sorted(p["id"] for p in report["accepted"])


def test_sigkill_at_every_boundary_and_mid_screening_resumes_to_the_same_result(tmp_path, cache_dir):
    kill_chain(tmp_path, cache_dir)
    checkpoints = tmp_path / "chain" / "memory" / "checkpoints.sqlite"
    assert checkpoints.exists(), "the chain ran with the SQLite checkpointer in the data dir"


@pytest.mark.postgres
def test_sigkill_resumes_with_postgres_checkpoints(tmp_path, cache_dir, postgres_url):
    """Must-show 2: the same kill chain with `[checkpoint] url` on a real PostgreSQL started by the test run."""
    kill_chain(tmp_path, cache_dir, f'[checkpoint]\nurl = "{postgres_url}"\n')
    assert not list((tmp_path / "chain" / "memory").glob("checkpoints.sqlite*")), "no SQLite checkpoints were used"
    import psycopg

    with psycopg.connect(postgres_url) as conn:
        tables = {row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'public'")}
        left = conn.execute("select count(*) from checkpoints where thread_id like %s", (f"weekly:{WEEK}:%",)).fetchone()[0]
    assert {"checkpoints", "checkpoint_writes", "checkpoint_migrations"} <= tables, tables
    assert left > 0, "the start killed after writing its reports left its thread in Postgres"


def kill_chain(tmp_path, cache_dir, extra_config: str = "") -> None:
    """Kill `brief weekly` at every boundary and mid-screening, resume each time; the chain's result, memory and
    server calls must match an uninterrupted reference run's."""
    snapshot = week_snapshot(tmp_path / "snapshot", 300)
    config = write_config(tmp_path / "brief.toml", cache_dir, extra_config)
    text = config.read_text()
    assert "concurrency = 8" in text and "max_retries = 2" in text and "requests_per_minute = 300" in text
    assert "batch_size = 16" in text
    # smaller batches: enough screening calls that one kill lands among them with calls on either side
    config.write_text(text.replace("concurrency = 8", "concurrency = 1").replace("max_retries = 2", "max_retries = 0")
                      .replace("requests_per_minute = 300", "requests_per_minute = 600000")
                      .replace("batch_size = 16", "batch_size = 8"))
    server = KillingServer(labels_for(snapshot))
    with server.srv as srv:
        env = brief_env(OPENAI_BASE_URL=srv.base_url, OPENAI_API_KEY="test-key", BRIEF_MODEL="scripted")

        def args(name: str) -> list[str]:
            return ["weekly", "--week", WEEK, "--source", f"snapshot:{snapshot}", "--config", str(config),
                    "--memory-dir", str(tmp_path / name / "memory"), "--out", str(tmp_path / name / "out"), "-q"]

        server.screen_calls = 0
        settings = load_settings(config, env={"OPENAI_BASE_URL": srv.base_url, "BRIEF_MODEL": "scripted"})
        run_weekly(settings.model_copy(update={
            "out_dir": tmp_path / "reference" / "out",
            "memory": settings.memory.model_copy(update={"dir": tmp_path / "reference" / "memory"})}),
            parse_week(WEEK), [f"snapshot:{snapshot}"])
        def pings() -> int:  # each start's preflight (one tiny call) is not part of the work compared here
            return sum(1 for r in srv.requests if r.schema_name == "Ping")

        reference_calls = srv.calls - pings()
        reference_screen_calls = server.screen_calls
        assert reference_screen_calls > KILL_AT_SCREEN_CALL + 2, "the kill lands in the middle of screening"
        reference = accepted_ids(tmp_path / "reference" / "out")
        assert reference, "the scripted LLM accepts some manipulation papers"

        srv.calls, before = 0, pings()
        chain = []
        for step, boundary in enumerate(BOUNDARIES):
            code, _, err = server.run(args("chain"), brief_env(**env, BRIEF_TEST_KILL_AFTER=boundary))
            chain.append((f"after {boundary}", code))
            assert code == -signal.SIGKILL, f"not killed after {boundary}: {err[-2000:]}"
            if step > 0:
                assert "took over a stale lock" in err, "the killed run's lock is taken over"
            if boundary == "fetch":  # the next start dies in the middle of screening, killed by the server
                code, _, err = server.run(args("chain"), env, kill_at_screen_call=KILL_AT_SCREEN_CALL)
                chain.append(("mid-screening", code))
                assert code == -signal.SIGKILL, err[-2000:]
                assert server.screen_calls == KILL_AT_SCREEN_CALL, "screening resumed from the fetch checkpoint"
        assert not [p.name for p in (tmp_path / "chain" / "out").iterdir() if p.name.startswith(".")], "no temp files"
        assert accepted_ids(tmp_path / "chain" / "out") == reference, chain
        notes = json.loads((tmp_path / "chain" / "out" / f"{WEEK}.json").read_text())["notes"]
        assert any(n.startswith("resumed an interrupted run") for n in notes), "the last start resumed a checkpoint"
        srv.calls -= pings() - before
        print(f"reference: {reference_calls} server calls ({reference_screen_calls} screening), {len(reference)} accepted; "
              f"8 killed starts: {srv.calls} server calls besides their preflights")
        batch = 1  # llm.concurrency = 1: one call was in flight when the server killed the client
        assert srv.calls <= reference_calls + batch, (srv.calls, reference_calls)
        assert srv.calls >= reference_calls, "every call of the reference was needed once"

    ids = snapshot_ids(snapshot)  # every paper's memory status (accepted, rejected, absent) and the counts match
    chain_memory = memory_contents(config, tmp_path / "chain" / "memory", ids)
    assert chain_memory == memory_contents(config, tmp_path / "reference" / "memory", ids)
    assert chain_memory["papers"] == len(reference)
