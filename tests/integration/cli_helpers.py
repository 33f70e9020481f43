"""Run `brief` as a user does (a subprocess), and build the small inputs the reliability tests share."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from brief.sources.snapshot import sample_path

REPO = Path(__file__).resolve().parents[2]
TOPIC = "Robot manipulation learning"


def brief_env(**extra: str) -> dict[str, str]:
    """The test process's environment (conftest already pinned it offline) plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEF_TEST_")}
    env.update(extra)
    return env


def brief_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "brief.cli", *map(str, args)]


def brief(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
          timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(brief_cmd(*args), capture_output=True, text=True, env=env or brief_env(),
                          cwd=cwd or REPO, timeout=timeout)


def write_config(path: Path, cache_dir: Path, extra: str = "") -> Path:
    """The demo config, with the embedding cache shared across runs and `extra` TOML appended."""
    text = (REPO / "data" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace("[memory]\n", f"[memory]\ncache_dir = {json.dumps(str(cache_dir))}\n", 1)
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


def llm_config(path: Path, cache_dir: Path, **llm) -> Path:
    """The demo config (see write_config) with these [llm] settings replaced or added."""
    config = write_config(path, cache_dir)
    text = config.read_text(encoding="utf-8")
    for key in llm:
        text = "\n".join(line for line in text.splitlines() if not line.startswith(f"{key} ="))
    lines = [f"{key} = {json.dumps(value) if not isinstance(value, dict) else _inline(value)}" for key, value in llm.items()]
    config.write_text(text.replace("[llm]\n", "[llm]\n" + "\n".join(lines) + "\n", 1), encoding="utf-8")
    return config


def _inline(table: dict) -> str:
    return "{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in table.items()) + "}"


def week_snapshot(directory: Path, n: int, week_days: tuple[str, ...] = ("2026-06-08", "2026-06-10", "2026-06-11",
                                                                             "2026-06-12", "2026-06-13")) -> Path:
    """A daily-JSONL snapshot of the first `n` papers of the bundled W24 sample."""
    directory.mkdir(parents=True, exist_ok=True)
    left = n
    for day in week_days:
        lines = (sample_path() / f"{day}_sample.jsonl").read_text(encoding="utf-8").splitlines()[:left]
        (directory / f"{day}_sample.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        left -= len(lines)
        if left <= 0:
            break
    assert left <= 0, f"the sample week has fewer than {n} papers"
    return directory


def labels_for(snapshot: Path) -> dict[str, int]:
    """Relevance 8 for papers about grasping or manipulation, 2 for the rest (what the scripted LLM says)."""
    labels = {}
    for path in sorted(snapshot.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            title = record["title"].lower()
            labels[record["id"]] = 8 if any(w in title for w in ("manipulat", "grasp", "dexter")) else 2
    return labels


def memory_contents(config: Path, memory_dir: Path, ids: list[str] | None = None) -> dict:
    """What a memory dir holds, comparable across runs: counts by collection and first-seen week, and the
    status of each of `ids` (volatile figures such as its size on disk are left out)."""
    from brief.config_file import load_settings
    from brief.memory import open_embedder, open_memory

    settings = load_settings(config, env={})
    settings = settings.model_copy(update={"memory": settings.memory.model_copy(update={"dir": memory_dir})})
    memory = open_memory(settings, open_embedder(settings).name)
    stats = memory.stats()
    found = {key: stats[key] for key in ("papers", "seen_rejected", "by_first_seen_week")}
    if ids is not None:
        found["status"] = memory.known(ids)
    return found


def snapshot_ids(snapshot: Path) -> list[str]:
    return sorted(labels_for(snapshot))
