"""Run `brief eval` in-process (so a test can patch an agent) and build small labelled sets from the shipped one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from brief.evals import datasets as ds

DATA = Path(ds.__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]


def run_brief(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """`brief ARGS` through cli.main(), as the console script runs it: (exit code, stdout, stderr)."""
    from brief.cli import main

    monkeypatch.setattr(sys, "argv", ["brief", *map(str, args)])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def shipped_subset(path: Path, name: str = "cs", per_week: int = 20, weeks: int = 2) -> tuple[Path, list[ds.Item]]:
    """A JSONL of the first `per_week` papers (positives first) of `weeks` weeks of a shipped collection."""
    dataset = next(d for d in ds.shipped() if d.name == name)
    chosen: list[ds.Item] = []
    for week in dataset.weeks[:weeks]:
        items = sorted((i for i in dataset.items if i.week == week), key=lambda i: (-i.label, i.paper.id))
        chosen += items[:per_week]
    rows = [{"id": i.paper.id, "title": i.paper.title, "abstract": i.paper.abstract, "authors": i.paper.authors,
             "categories": i.paper.categories, "date": i.paper.announced.isoformat(), "label": i.label,
             "topic": i.topic} for i in chosen]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path, chosen
