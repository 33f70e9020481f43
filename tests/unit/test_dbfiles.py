"""A database a cut-off write left with a hot journal (a full disk, a killed run) is not damaged: brief's header
check must let SQLite roll it back, not call it unreadable (CI saw "chroma.sqlite3 cannot be read (attempt to
write a readonly database)" on the re-run after a full disk)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from brief.memory import dbfiles

CUT_OFF_WRITE = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size=1")  # spill pages to the file mid-transaction, as a big write does
conn.execute("BEGIN")
conn.execute("UPDATE t SET x = randomblob(600)")
os._exit(1)
"""


def test_a_hot_journal_is_rolled_back_not_reported_as_damage(tmp_path):
    db = tmp_path / "chroma.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x BLOB)")
    rows = [(os.urandom(500),) for _ in range(2000)]
    conn.executemany("INSERT INTO t VALUES (?)", rows)
    conn.commit()
    conn.close()
    subprocess.run([sys.executable, "-c", CUT_OFF_WRITE, str(db)], check=False)
    assert (tmp_path / "chroma.sqlite3-journal").exists(), "the cut-off write left its journal"

    assert dbfiles.header_problem(db) is None
    conn = dbfiles.connect(db)
    assert sorted(conn.execute("SELECT x FROM t").fetchall()) == sorted(rows), "the last commit, intact"
    conn.close()


def test_a_file_that_is_not_a_database_is_named_with_its_fix(tmp_path):
    db = tmp_path / "llm-cache.sqlite"
    db.write_bytes(b"not a database at all " * 200)
    with pytest.raises(dbfiles.DamagedFile, match="llm-cache.sqlite is not a SQLite database .* delete it"):
        dbfiles.connect(db)
