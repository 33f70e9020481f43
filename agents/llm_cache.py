"""The LLM answer cache: SQLite in the data dir, shared by threads, opened on first use (a run that fails its
preflight leaves it untouched). It only ever holds answers the caller validated (see LLMClient.ask), and, apart,
which asks failed validation twice (the problem, never the model's text), so re-running a week at once doesn't
ask a deterministic model the same question a third and fourth time; `--no-cache` asks again."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

FAILURE_REMEMBERED_SECONDS = 24 * 3600  # a server or model fixed since then is asked again after a day


class AnswerCache:
    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _conn(self, create: bool = True) -> sqlite3.Connection | None:
        if self.path is None or (not create and not self.path.exists()):
            return None
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            # A cache: a commit need not wait for the disk (WAL keeps it consistent if the process dies).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS failures (key TEXT PRIMARY KEY, problem TEXT NOT NULL, at REAL)")
            self._db.commit()
        return self._db

    def get(self, key: str) -> str | None:
        with self._lock:
            db = self._conn(create=False)
            row = db.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone() if db else None
        return row[0] if row else None

    def put(self, key: str, value: str) -> None:
        with self._lock:
            db = self._conn()
            if db is not None:
                db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?)", (key, value))
                db.execute("DELETE FROM failures WHERE key = ?", (key,))
                db.commit()

    def failure(self, key: str) -> str | None:
        """Why the ask under `key` failed validation twice within FAILURE_REMEMBERED_SECONDS, or None."""
        with self._lock:
            db = self._conn(create=False)
            row = db.execute("SELECT problem, at FROM failures WHERE key = ?", (key,)).fetchone() if db else None
        return row[0] if row and 0 <= time.time() - row[1] < FAILURE_REMEMBERED_SECONDS else None

    def put_failure(self, key: str, problem: str) -> None:
        with self._lock:
            db = self._conn()
            if db is not None:
                db.execute("INSERT OR REPLACE INTO failures VALUES (?, ?, ?)", (key, problem, time.time()))
                db.commit()

    def count(self) -> int:
        with self._lock:
            db = self._conn(create=False)
            return db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] if db else 0

    def count_failures(self) -> int:
        """Asks remembered as failing validation (within FAILURE_REMEMBERED_SECONDS)."""
        with self._lock:
            db = self._conn(create=False)
            cutoff = time.time() - FAILURE_REMEMBERED_SECONDS
            return db.execute("SELECT COUNT(*) FROM failures WHERE at > ?", (cutoff,)).fetchone()[0] if db else 0

    def clear(self) -> int:
        """Delete every cached answer and remembered failure; returns how many answers there were."""
        with self._lock:
            db = self._conn(create=False)
            if db is None:
                return 0
            n = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            db.execute("DELETE FROM answers")
            db.execute("DELETE FROM failures")
            db.commit()
            db.execute("VACUUM")
            return n
