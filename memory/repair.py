"""What `brief memory check --repair` does with each finding of check.py; returns one sentence per action.

- A damaged vector index: rebuilt from the collection's records (rebuild.py), when the configured embedder
  is the one that built memory (else its vectors would not compare: says so instead).
- A damaged cache or checkpoint file: moved aside as `NAME.damaged-STAMP` (brief recreates it on the next run).
- A damaged `chroma.sqlite3` holds the records themselves: not repairable here; the finding says how to re-import.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from brief.config import Settings
from brief.progress import Reporter

if TYPE_CHECKING:
    from brief.memory.check import Finding


def repair(settings: Settings, findings: list[Finding], reporter: Reporter, stamp: str) -> list[str]:
    from brief.memory.check import chroma_dir

    actions = []
    memory_db = chroma_dir(settings) / "chroma.sqlite3"
    for finding in findings:
        path = Path(finding.path)
        if finding.collection is None and path != memory_db:
            actions.append(_move_aside(path, stamp))
    if memory_db.exists() and str(memory_db) in {f.path for f in findings if f.collection is None}:
        actions.append(f"not repaired: {memory_db} holds memory's records themselves; "
                       "restore it from a backup or re-import your library into a new memory dir")
        return actions
    collections = sorted({f.collection for f in findings if f.collection})
    if collections:
        actions += _rebuild_all(settings, collections, reporter)
    return actions


def _move_aside(path: Path, stamp: str) -> str:
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    path.rename(aside)
    for extra in ("-wal", "-shm"):  # SQLite's journal files belong to the damaged database: they go with it
        journal = Path(f"{path}{extra}")
        if journal.exists():
            journal.rename(aside.with_name(aside.name + extra))
    return f"moved {path} aside to {aside.name}: brief starts a new one on the next run"


def _rebuild_all(settings: Settings, collections: list[str], reporter: Reporter) -> list[str]:
    from brief.memory import open_embedder
    from brief.memory.check import chroma_dir
    from brief.memory.rebuild import finish_interrupted, rebuild

    directory = chroma_dir(settings)
    embedder = open_embedder(settings)
    built_by = _embedders(directory / "chroma.sqlite3")
    actions = []
    from brief.memory.chroma import open_client

    renamed = finish_interrupted(open_client(directory, None, 0)[0])
    actions += [f"finished an interrupted repair of collection {name!r}" for name in renamed]
    for name in collections:
        if name in renamed:
            continue
        if built_by.get(name) not in (None, embedder.name):
            actions.append(f"not repaired: collection {name!r} was built with embedder {built_by[name]!r} and this "
                           f"config embeds with {embedder.name!r}; set [memory] embedder back and repair again")
            continue
        with reporter.stage(f"rebuild {name}") as advance:
            count = rebuild(directory, name, embedder.embed, advance)
        misses, hits = embedder.take_counts()
        actions.append(f"rebuilt the vector index of collection {name!r} from its {count} records "
                       f"({hits} vectors from the embedding cache, {misses} embedded again)")
    return actions


def _embedders(db: Path) -> dict[str, str]:
    """collection name → the embedder stamped on it (collection metadata, read without opening Chroma)."""
    conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True)
    try:
        rows = conn.execute("SELECT c.name, m.str_value FROM collections c JOIN collection_metadata m "
                            "ON m.collection_id = c.id WHERE m.key = 'embedder'").fetchall()
    finally:
        conn.close()
    return dict(rows)
