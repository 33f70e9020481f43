"""One run at a time per memory dir.

Must-show: two `brief weekly` at once on one memory dir. The first is held inside screening (its first
LLM call waits on the test) so it certainly holds the lock when the second starts; the second exits 2
with a message naming the first; then the first is let go and completes.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from brief.memory.lock import LockHeld, LockHolder, RunLock, UnsafeLockPath
from tests.handlers import brief_handlers
from tests.integration.cli_helpers import TOPIC, brief, brief_cmd, brief_env, labels_for, week_snapshot, write_config
from tests.scripted_llm import ScriptedLLMServer

LIBRARY = Path(__file__).resolve().parents[1] / "fixtures" / "library.bib"


def test_a_second_weekly_on_the_same_memory_exits_2_naming_the_first(tmp_path, cache_dir):
    snapshot = week_snapshot(tmp_path / "snapshot", 40)
    config = write_config(tmp_path / "brief.toml", cache_dir)
    first_call, release = threading.Event(), threading.Event()
    handlers = brief_handlers(labels_for(snapshot), TOPIC)
    screen = handlers["ScreenBatch"]

    def held_screen(req):
        first_call.set()
        release.wait(60)
        return screen(req)

    handlers["ScreenBatch"] = held_screen
    with ScriptedLLMServer(handlers=handlers) as srv:
        env = brief_env(OPENAI_BASE_URL=srv.base_url, BRIEF_MODEL="scripted")
        args = ["weekly", "--week", "2026-W24", "--source", f"snapshot:{snapshot}", "--config", str(config),
                "--memory-dir", str(tmp_path / "memory"), "--out", str(tmp_path / "out"), "-q", "--json"]
        first = subprocess.Popen(brief_cmd(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert first_call.wait(120), "the first run reached screening"
            second = brief(*args, env=env)
        finally:
            release.set()
        out, err = first.communicate(timeout=120)

    assert second.returncode == 2, second.stderr
    line = second.stderr.strip()
    assert len(line.splitlines()) == 1 and line.startswith("error: ")
    assert f"pid {first.pid} on {socket.gethostname()}" in line and "brief weekly --week 2026-W24" in line
    assert "in use by another brief run" in line and "wait for it to finish" in line
    assert second.stdout == ""
    assert first.returncode == 0, err
    assert json.loads(out)["week"] == "2026-W24"
    assert (tmp_path / "out" / "2026-W24.json").exists()
    assert (tmp_path / "memory" / "brief.lock").read_text() == "", "a clean exit leaves no holder behind"


def test_the_holder_is_named_and_released(tmp_path):
    with RunLock(tmp_path, "brief weekly --week 2026-W24") as held:
        holder = held.holder()
        assert holder.pid == os.getpid() and holder.command == "brief weekly --week 2026-W24"
        with pytest.raises(LockHeld, match=rf"pid {os.getpid()} on .*brief weekly --week 2026-W24.*started 20"):
            RunLock(tmp_path, "brief weekly").acquire()
    with RunLock(tmp_path, "brief weekly") as again:  # released: free to take, without a stale warning
        assert again.took_over is None


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_a_stale_lock_of_a_dead_process_is_taken_over_with_a_warning(tmp_path, caplog):
    dead = LockHolder(pid=_dead_pid(), host=socket.gethostname(), command="brief weekly", started="2026-06-01T00:00:00+00:00")
    (tmp_path / "brief.lock").write_text(dead.model_dump_json())
    with caplog.at_level(logging.WARNING, logger="brief.memory.lock"):
        with RunLock(tmp_path, "brief weekly --week 2026-W24") as lock:
            assert lock.took_over == dead
            assert lock.holder().pid == os.getpid()
    assert any("stale lock" in r.message and f"pid {dead.pid}" in r.message and "no longer running" in r.message
               for r in caplog.records)


def test_garbage_in_the_lock_file_is_taken_over(tmp_path, caplog):
    (tmp_path / "brief.lock").write_text("{half a json")
    with caplog.at_level(logging.WARNING, logger="brief.memory.lock"):
        with RunLock(tmp_path, "brief weekly") as lock:
            assert lock.took_over is not None
    assert any("stale lock" in r.message for r in caplog.records)


def test_a_lock_written_on_another_host_is_not_taken_over(tmp_path):
    other = LockHolder(pid=12345, host="elsewhere.example", command="brief weekly", started="2026-06-01T00:00:00+00:00")
    (tmp_path / "brief.lock").write_text(other.model_dump_json())
    with pytest.raises(LockHeld, match=r"another host \(pid 12345 on elsewhere.example.*delete .*brief.lock"):
        RunLock(tmp_path, "brief weekly").acquire()
    assert (tmp_path / "brief.lock").read_text() == other.model_dump_json(), "left as it was"


def test_the_lock_holds_across_processes_and_dies_with_its_holder(tmp_path):
    """A holder killed with SIGKILL can't clean up: the kernel drops its flock, and the next run takes over."""
    code = (f"from brief.memory.lock import RunLock; import time, sys; RunLock({str(tmp_path)!r}, 'holder').acquire(); "
            "print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=brief_env())
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld, match=rf"pid {holder.pid} .*`holder`"):
            RunLock(tmp_path, "second").acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = RunLock(tmp_path, "third").acquire()  # the holder is reaped: the kernel has dropped its flock
    assert lock.took_over is not None and lock.took_over.pid == holder.pid
    lock.release()


def test_a_symlinked_lock_is_refused_and_its_target_is_left_intact(tmp_path):
    """Issue 18, finding 2: `ln -s ~/victim.txt md/brief.lock` must not let any brief command (here `brief memory
    import`, which takes the lock before it opens memory) truncate victim.txt."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    memory_dir = tmp_path / "md"
    memory_dir.mkdir()
    (memory_dir / "brief.lock").symlink_to(victim)
    with pytest.raises(UnsafeLockPath, match=r"brief\.lock is a symbolic link.*remove it"):
        RunLock(memory_dir, "brief memory forget").acquire()
    assert victim.read_text() == "precious\n"

    out = brief("memory", "import", str(LIBRARY), "--memory-dir", str(memory_dir))
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip()
    assert len(line.splitlines()) == 1 and str(memory_dir / "brief.lock") in line and "symbolic link" in line
    assert victim.read_text() == "precious\n", "the symlink's target is untouched"


def test_a_lock_path_that_is_a_directory_is_a_one_line_error(tmp_path):
    memory_dir = tmp_path / "md"
    (memory_dir / "brief.lock").mkdir(parents=True)
    with pytest.raises(UnsafeLockPath, match=r"brief\.lock is a directory"):
        RunLock(memory_dir, "brief weekly").acquire()
    out = brief("memory", "import", str(LIBRARY), "--memory-dir", str(memory_dir))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert str(memory_dir / "brief.lock") in out.stderr and "is a directory" in out.stderr and "Traceback" not in out.stderr
