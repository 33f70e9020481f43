"""Silent memory loss (issue 18, finding 11): memory that can't be found, lost its database or vanished during a
run is an error naming it, never a new empty memory or a run that reports papers it did not save."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.handlers import brief_handlers
from tests.integration.cli_helpers import TOPIC, brief, brief_env, labels_for, week_snapshot, write_config
from tests.scripted_llm import ScriptedLLMServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_a_memory_dir_deleted_during_a_run_fails_loudly(tmp_path, cache_dir):
    """The memory dir removed after the remember node (while the themes are written): exit 0 and "memory +31 → 31"
    with nothing saved, before."""
    snapshot = week_snapshot(tmp_path / "snapshot", 40)
    config = write_config(tmp_path / "brief.toml", cache_dir)
    memory_dir = tmp_path / "memory"
    handlers = brief_handlers(labels_for(snapshot), TOPIC)
    overview = handlers["Overview"]

    def delete_memory_then_answer(req):
        shutil.rmtree(memory_dir, ignore_errors=True)
        return overview(req)

    handlers["Overview"] = delete_memory_then_answer
    with ScriptedLLMServer(handlers=handlers) as srv:
        out = brief("weekly", "--week", "2026-W24", "--source", f"snapshot:{snapshot}", "--config", str(config),
                    "--memory-dir", str(memory_dir), "--out", str(tmp_path / "out"),
                    env=brief_env(OPENAI_BASE_URL=srv.base_url, BRIEF_MODEL="scripted"))
    assert out.returncode == 2, out.stdout + out.stderr
    assert "memory +" not in out.stdout, "no claim that papers were remembered"
    error = out.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and str(memory_dir / "chroma") in error and "was not saved" in error


def test_a_memory_that_lost_chroma_sqlite3_is_an_error_not_a_new_memory(tmp_path, cache_dir):
    config = write_config(tmp_path / "brief.toml", cache_dir)
    memory_dir = tmp_path / "memory"
    common = ("--config", str(config), "--memory-dir", str(memory_dir))
    assert brief("memory", "import", str(FIXTURES / "library.bib"), "--week", "2026-W30", "-q", *common).returncode == 0
    (memory_dir / "chroma" / "chroma.sqlite3").unlink()
    for args in (("memory", "stats"), ("memory", "search", "robots"), ("memory", "import", str(FIXTURES / "library.bib"))):
        out = brief(*args, *common)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        line = out.stderr.strip()
        assert len(line.splitlines()) == 1 and "has lost its database" in line and "chroma.sqlite3" in line, line
    assert not (memory_dir / "chroma" / "chroma.sqlite3").exists(), "no new empty memory was made"


def test_stats_on_a_mistyped_path_or_an_empty_dir_setting_creates_nothing(tmp_path, cache_dir):
    config = write_config(tmp_path / "brief.toml", cache_dir)
    typo = tmp_path / "memroy"
    for args in (("memory", "stats"), ("memory", "search", "robots"), ("memory", "forget", "2606.00001"),
                 ("memory", "check")):
        out = brief(*args, "--config", str(config), "--memory-dir", str(typo))
        assert out.returncode == 2, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and f"no memory at {typo}" in out.stderr, out.stderr
        assert not typo.exists(), f"`brief {' '.join(args)}` created {typo}"

    empty = write_config(tmp_path / "empty.toml", cache_dir).read_text(encoding="utf-8")
    (tmp_path / "empty.toml").write_text(empty.replace("[memory]\n", '[memory]\ndir = ""\n', 1), encoding="utf-8")
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    out = brief("memory", "stats", "--config", str(tmp_path / "empty.toml"), cwd=workdir)
    assert out.returncode == 2 and "memory.dir" in out.stderr and "is empty" in out.stderr, out.stderr
    assert list(workdir.iterdir()) == [], "nothing created in the current directory"


def test_the_first_import_creates_memory_with_a_warning(tmp_path, cache_dir):
    config = write_config(tmp_path / "brief.toml", cache_dir)
    memory_dir = tmp_path / "new"
    out = brief("memory", "import", str(FIXTURES / "library.bib"), "-q", "--config", str(config), "--memory-dir", str(memory_dir))
    assert out.returncode == 0, out.stderr
    assert f"warning: no memory at {memory_dir} yet: created a new, empty one" in out.stderr
    again = brief("memory", "import", str(FIXTURES / "library.bib"), "-q", "--config", str(config), "--memory-dir", str(memory_dir))
    assert again.returncode == 0 and "created" not in again.stderr
