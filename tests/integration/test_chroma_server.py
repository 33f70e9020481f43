"""Chroma server mode: a real `chroma run` on 127.0.0.1, and the weekly graph writing to it (a team's shared
memory). The second run of the same week embeds nothing, as its JSON report counts."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from brief.memory import open_embedder
from brief.memory.store import Memory, MemoryStoreError
from brief.app.runner import run_weekly
from brief.sources.window import parse_week


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chroma_cli() -> str:
    path = Path(sys.executable).with_name("chroma")
    found = str(path) if path.exists() else shutil.which("chroma")
    if not found:
        pytest.skip("the `chroma` CLI (installed with chromadb) is not on this machine")
    return found


@pytest.fixture
def chroma_server(tmp_path):
    port = _free_port()
    log = (tmp_path / "chroma.log").open("wb")
    proc = subprocess.Popen([_chroma_cli(), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not come up: {(tmp_path / 'chroma.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.25)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_weekly_run_against_a_chroma_server(settings, chroma_server, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    shared = settings.model_copy(update={"memory": settings.memory.model_copy(
        update={"chroma_host": "127.0.0.1", "chroma_port": chroma_server})})
    first = run_weekly(shared, parse_week("2026-W24"), ["sample"])
    accepted = {p.id for p in first.state.accepted}
    assert accepted and first.state.memory_added == len(accepted)

    server = Memory(None, open_embedder(shared).name, host="127.0.0.1", port=chroma_server)
    assert server.location == f"http://127.0.0.1:{chroma_server}"
    assert set(server.papers.get(ids=sorted(accepted))["ids"]) == accepted, "accepted papers are in the server's `papers`"
    assert server.seen.count() > 0, "and the screened-out ones in its `seen`"
    rec = server.get(sorted(accepted)[0])
    assert rec.first_seen == "2026-W24" and rec.history[0].run.startswith("weekly:2026-W24:")
    assert not (shared.data_dir / "chroma").exists(), "nothing went to a local Chroma"

    again = run_weekly(shared, parse_week("2026-W24"), ["sample"])
    report = json.loads((shared.out_dir / "2026-W24.json").read_text())
    assert report["usage"]["embedded"] == 0 and again.state.usage.embedded == 0, "a rerun embeds nothing"
    assert again.state.memory_added == 0 and server.count() == first.state.memory_total
    assert len(server.get(sorted(accepted)[0]).history) == 1, "the same run's decision is recorded once"


def test_a_server_that_is_down_is_a_one_line_error(tmp_path):
    with pytest.raises(MemoryStoreError, match=r"chroma run --path DIR --port N"):
        Memory(None, "x", host="127.0.0.1", port=_free_port())
