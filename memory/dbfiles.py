"""The SQLite files brief keeps in the data dir, and what to tell the user when one is damaged.

Four databases live there (memory's `chroma.sqlite3`, the embedding cache, the LLM answer cache, the
checkpoints), and SQLite's own "file is not a database" names none of them. Every error about one names
the file and the way out, which differs: a cache can simply be deleted, memory itself cannot.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from pathlib import Path

from brief.errors import UserError


FIXES = {
    "chroma.sqlite3": "it is memory itself: restore the memory dir from a backup, or move it aside and re-import "
                      "your library into a new one (`brief memory import FILE --memory-dir NEW_DIR`)",
    "embeddings.sqlite": "it only caches vectors: delete it and run again (texts are embedded again)",
    "llm-cache.sqlite": "it only caches LLM answers: delete it and run again (answers are asked for, and paid, again)",
    "checkpoints.sqlite": "it only holds interrupted runs: delete it and run again (an interrupted run starts afresh)",
}


class DamagedFile(UserError, RuntimeError):
    """A file brief keeps is unreadable; the message names it and the fix (exit 2)."""


def fix_for(path: Path) -> str:
    return FIXES.get(Path(path).name, "move it aside and run again")


def damaged(path: Path, problem: str) -> DamagedFile:
    return DamagedFile(f"{path} {problem}: {fix_for(path)}")


def header_problem(path: Path) -> str | None:
    """Why `path` can't be a SQLite database, judged from its first bytes (cheap); None when it can be or
    is absent. An empty file is a valid new database."""
    if not path.exists():
        return None
    if not path.is_file():
        return "is not a regular file"
    if path.stat().st_size == 0:
        return None
    # Read through SQLite, never by opening the file ourselves: closing any other descriptor of a database
    # drops every POSIX lock this process's connections hold on it, and concurrent writers then corrupt it.
    # Read-write (never creating): a write cut off by a full disk leaves a hot journal that SQLite must roll
    # back before the file can be read, which a read-only connection refuses ("attempt to write a readonly
    # database") although nothing is damaged.
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
        try:
            conn.execute("PRAGMA schema_version").fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if any(word in str(exc) for word in ("locked", "busy", "readonly")):
            return None  # in use, or a file we may only read: the connection that uses it will say
        return f"cannot be read ({exc})"
    except sqlite3.DatabaseError as exc:
        return f"is not a SQLite database ({exc})"
    return None


def connect(path: Path, **kwargs: Any) -> sqlite3.Connection:
    """`sqlite3.connect` that names the file and its fix when it is not a usable database."""
    problem = header_problem(Path(path))
    if problem:
        raise damaged(path, problem)
    try:
        conn: sqlite3.Connection = sqlite3.connect(str(path), **kwargs)
        conn.execute("PRAGMA schema_version").fetchone()  # reads the header: "not a database" surfaces here
    except sqlite3.DatabaseError as exc:
        raise damaged(path, f"is not a usable SQLite database ({exc})") from None
    return conn
