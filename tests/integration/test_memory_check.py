"""`brief memory check [--repair]` (issue 18, finding 6 and must-show 3): a memory whose vector index has a garbage
`data_level0.bin`, and one whose index file is truncated, are named with the repair, and `--repair` restores
search results identical to the intact memory's.

Chroma holds recent writes in its SQLite log and writes the HNSW files only every `sync_threshold` records
(1,000 by default), so the collections are created here with a threshold of 100: the few hundred imported
papers then sit in the index files, as a large memory's do.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from brief.config_file import load_settings
from brief.app import memory_commands as commands
from brief.memory import open_embedder
from brief.memory.hnsw_files import vector_segments
from tests.integration.cli_helpers import brief, write_config

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
QUERIES = ["robot grasping", "diffusion models for images", "language model agents", "graph neural networks",
           "speech recognition"]


def _settings(config: Path, memory_dir: Path):
    settings = load_settings(config, env={})
    return settings.model_copy(update={"memory": settings.memory.model_copy(update={"dir": memory_dir})})


def _persisted_memory(config: Path, memory_dir: Path, library: Path) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    name = open_embedder(_settings(config, memory_dir)).name
    client = chromadb.PersistentClient(path=str(memory_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    for collection in ("papers", "seen"):
        client.create_collection(collection, embedding_function=None, metadata={"embedder": name},
                                 configuration={"hnsw": {"space": "cosine", "sync_threshold": 100, "batch_size": 100}})
    out = brief("memory", "import", str(library), "--config", str(config), "--memory-dir", str(memory_dir), "-q")
    assert out.returncode == 0, out.stderr


def _index_file(memory_dir: Path, name: str = "data_level0.bin") -> Path:
    papers = [seg for seg, coll in vector_segments(memory_dir / "chroma").items() if coll == "papers"]
    return papers[0] / name


def _results(config: Path, memory_dir: Path) -> list[list[tuple[str, float]]]:
    settings = _settings(config, memory_dir)
    return [[(r.id, r.similarity) for r in commands.search(settings, q, limit=10)] for q in QUERIES]


@pytest.fixture(scope="module")
def intact(tmp_path_factory):
    root = tmp_path_factory.mktemp("check")
    library = root / "library"
    library.mkdir()
    for day in sorted(SAMPLE.glob("*.jsonl"))[:5]:
        shutil.copy(day, library / day.name)
    # a cache of its own: repairs may move damaged caches aside, never the session's shared one
    config = write_config(root / "brief.toml", root / "cache")
    memory_dir = root / "intact"
    _persisted_memory(config, memory_dir, library)
    return config, memory_dir, _results(config, memory_dir)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_check_names_a_damaged_index_and_repair_restores_identical_search_results(intact, tmp_path, damage):
    config, original, expected = intact
    header = json.loads(brief("memory", "stats", "--json", "--config", str(config), "--memory-dir", str(original)).stdout)
    assert header["papers"] > 300, header
    memory_dir = tmp_path / damage
    shutil.copytree(original, memory_dir)
    index = _index_file(memory_dir)
    size = index.stat().st_size
    assert size > 300 * 1500, "the imported papers are in the index files, not only in Chroma's log"
    if damage == "garbage":
        index.write_bytes(__import__("os").urandom(size))
    else:
        with open(index, "r+b") as f:
            f.truncate(size * 3 // 10)
    common = ("--config", str(config), "--memory-dir", str(memory_dir))

    out = brief("memory", "check", *common)
    assert out.returncode == 2, out.stdout + out.stderr
    assert str(index) in out.stdout and "brief memory check --repair" in out.stdout, out.stdout
    search = brief("memory", "search", "robot grasping", *common)  # the cheap check: no segfault, no wrong answer
    assert search.returncode == 2 and len(search.stderr.strip().splitlines()) == 1, search.stderr
    assert str(index) in search.stderr and "brief memory check --repair" in search.stderr

    out = brief("memory", "check", "--repair", *common)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "rebuilt the vector index of collection 'papers'" in out.stdout and "all good" in out.stdout
    assert _results(config, memory_dir) == expected, "search results identical to the intact memory's"
    assert brief("memory", "check", *common).returncode == 0


def test_an_intact_memory_checks_clean(intact):
    config, memory_dir, _ = intact
    out = brief("memory", "check", "--config", str(config), "--memory-dir", str(memory_dir), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["findings"] == [] and any(p.endswith("chroma.sqlite3") for p in report["checked"])


@pytest.mark.parametrize("name", ["chroma/chroma.sqlite3", "cache/embeddings.sqlite", "llm-cache.sqlite", "checkpoints.sqlite"])
def test_a_database_file_that_is_not_a_database_is_named_with_its_fix(tmp_path, name):
    """Finding 7: "file is not a database" did not say which of the four database files, nor what to do."""
    from tests.integration.cli_helpers import week_snapshot

    memory_dir = tmp_path / "memory"
    broken = memory_dir / name
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"garbage, not SQLite " * 200)
    config = tmp_path / "brief.toml"
    config.write_text((SAMPLE.parent / "demo.toml").read_text(encoding="utf-8"), encoding="utf-8")
    out = brief("weekly", "--week", "2026-W24", "--source", f"snapshot:{week_snapshot(tmp_path / 'snap', 10)}",
                "--offline", "--config", str(config), "--memory-dir", str(memory_dir), "--out", str(tmp_path / "out"), "-q")
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip()
    assert len(line.splitlines()) == 1 and str(broken) in line and "not a SQLite database" in line, line
    assert ("restore" if name.startswith("chroma") else "delete it") in line
    assert not (tmp_path / "out").exists()


def test_repair_moves_a_damaged_cache_aside(intact, tmp_path):
    config, original, _ = intact
    memory_dir = tmp_path / "memory"
    shutil.copytree(original, memory_dir)
    (memory_dir / "llm-cache.sqlite").write_bytes(b"not a database " * 100)
    common = ("--config", str(config), "--memory-dir", str(memory_dir))
    out = brief("memory", "check", *common)
    assert out.returncode == 2 and f"{memory_dir / 'llm-cache.sqlite'} is not a SQLite database" in out.stdout, out.stdout
    assert "delete it and run again" in out.stdout
    out = brief("memory", "check", "--repair", *common)
    assert out.returncode == 0 and "moved" in out.stdout and "all good" in out.stdout, out.stdout
    assert not (memory_dir / "llm-cache.sqlite").exists() and list(memory_dir.glob("llm-cache.sqlite.damaged-*"))


def test_a_database_path_that_is_a_directory_is_named(tmp_path):
    """Finding 2 (paths of the kind expected): a directory where brief keeps a database file is named, exit 2."""
    from tests.integration.cli_helpers import week_snapshot

    memory_dir = tmp_path / "memory"
    (memory_dir / "checkpoints.sqlite").mkdir(parents=True)
    config = tmp_path / "brief.toml"
    config.write_text((SAMPLE.parent / "demo.toml").read_text(encoding="utf-8"), encoding="utf-8")
    out = brief("weekly", "--week", "2026-W24", "--source", f"snapshot:{week_snapshot(tmp_path / 'snap', 10)}",
                "--offline", "--config", str(config), "--memory-dir", str(memory_dir), "--out", str(tmp_path / "out"), "-q")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"{memory_dir / 'checkpoints.sqlite'} is not a regular file" in out.stderr
