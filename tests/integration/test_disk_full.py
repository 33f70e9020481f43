"""A full disk (issue 18, finding 12): `brief memory import` into a memory on a small tmpfs fails with one line naming
the memory dir and the full disk (not Chroma's "Error in compaction: Failed to apply logs to the metadata
segment"), and the same command after freeing space completes the import.

Needs root (or CAP_SYS_ADMIN) to mount a tmpfs: skipped, saying so, where it can't.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.cli_helpers import brief, write_config

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", str(mount)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_naming_memory_and_a_rerun_after_freeing_space_completes(small_disk, tmp_path, cache_dir):
    library = tmp_path / "library"
    shutil.copytree(SAMPLE, library)
    config = write_config(tmp_path / "brief.toml", cache_dir)
    memory_dir = small_disk / "memory"
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (24 << 20))  # 6 MB left: the import needs ~14 MB
    common = ("--config", str(config), "--memory-dir", str(memory_dir), "-q")

    out = brief("memory", "import", str(library), *common)
    assert out.returncode == 1, out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert line.startswith("failed: DiskFull: ") and f"the disk holding memory at {memory_dir} is full" in line, line
    assert "free some space, then run the same command again" in line and "Traceback" not in out.stderr

    filler.unlink()
    out = brief("memory", "import", str(library), *common)
    assert out.returncode == 0, out.stderr
    stats = json.loads(brief("memory", "stats", "--json", *common[:-1]).stdout)
    expected = len({json.loads(x)["id"] for f in library.glob("*.jsonl") for x in f.read_text(encoding="utf-8").splitlines()})
    assert stats["papers"] == expected, "every paper is in memory after the re-run"
