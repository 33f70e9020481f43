"""Atomic outputs: reports replace their old version whole or not at all; memory writes are idempotent
upserts made by one node only, so a node redone after a crash duplicates nothing."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numpy as np
import pytest

from brief.memory.store import Memory
from brief.models import Paper
from brief.report import atomic_write

WEEKLY = Path(__file__).resolve().parents[2] / "graphs" / "weekly.py"


def test_atomic_write_replaces_the_whole_file(tmp_path):
    path = atomic_write(tmp_path / "out" / "2026-W24.md", "new text\n")
    assert path.read_text() == "new text\n"
    atomic_write(path, "newer\n")
    assert path.read_text() == "newer\n"
    assert [p.name for p in path.parent.iterdir()] == ["2026-W24.md"], "no temporary file left"


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_write_that_fails_leaves_the_old_report_and_no_temp_file(tmp_path, monkeypatch, failing):
    path = atomic_write(tmp_path / "2026-W24.html", "<p>complete old report</p>\n")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, disk_full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, "<p>half of a new rep")
    monkeypatch.undo()
    assert path.read_text() == "<p>complete old report</p>\n"
    assert [p.name for p in tmp_path.iterdir()] == ["2026-W24.html"]


def _papers(n: int) -> list[Paper]:
    return [Paper(id=f"2606.{i:05d}", version=1, title=f"Paper {i}", abstract=f"About {i}.") for i in range(n)]


def test_remembering_twice_adds_nothing_and_keeps_the_first_week(tmp_path):
    memory = Memory(tmp_path / "chroma", "test-embedder")
    papers = _papers(5)
    vectors = np.eye(5, 384, dtype=np.float32)
    assert memory.remember(papers[:3], vectors[:3], "2026-W23") == 3
    assert memory.remember(papers, vectors, "2026-W23") == 2, "a redone write only adds what was missing"
    assert memory.remember(papers, vectors, "2026-W23") == 0
    assert memory.count() == 5
    memory.remember(papers[:1], vectors[:1], "2026-W24")
    assert memory.count() == 5 and memory.get(papers[0].id).first_seen == "2026-W23"


def test_only_the_remember_node_writes_memory():
    """Any other node writing memory would write again when it is redone after a crash."""
    tree = ast.parse(WEEKLY.read_text(encoding="utf-8"))
    writers = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr in ("remember", "forget", "upsert", "add", "delete", "import_papers")
                        and "memory" in ast.unparse(call.func.value)):
                    writers.setdefault(node.name, []).append(ast.unparse(call.func))
    assert set(writers) == {"remember"}, writers
