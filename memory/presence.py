"""Memory that can't be found, or vanishes mid-run, is an error: never silently a new, empty memory.

Three ways memory used to be lost without a word: a mistyped `--memory-dir` (or `[memory] dir = ""`)
made `brief memory stats` create a memory there; a memory dir whose `chroma.sqlite3` was deleted opened
as a new empty memory; and a memory dir deleted while a run held it open took that run's writes into the
deleted file, while the run reported "memory +31 → 31". So: commands that only use memory require it to
exist; only `brief weekly` and `brief memory import` create one, with a warning; a dir that holds Chroma's
index files but no database is refused; and a run checks, after writing, that the database it wrote is
still the one on disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from brief.config import Settings
from brief.errors import UserError
from brief.memory.chroma import MemoryStoreError

if TYPE_CHECKING:
    from brief.protocols import RunMemory

log = logging.getLogger(__name__)
DB_NAME = "chroma.sqlite3"


class MemoryMissing(UserError, RuntimeError):
    """No memory where the config or --memory-dir points (exit 2); nothing is created there."""


class MemoryLost(MemoryStoreError):
    """Memory's database disappeared or was replaced while this process was writing to it."""


def chroma_path(settings: Settings) -> Path:
    return settings.data_dir / "chroma"


def require_memory(settings: Settings) -> None:
    """For commands that use an existing memory only: raises unless one is there (a server always is)."""
    if settings.memory.chroma_host:
        return
    path = chroma_path(settings)
    refuse_lost_database(path)
    if not (path / DB_NAME).exists():
        raise MemoryMissing(f"no memory at {settings.data_dir} (a mistyped --memory-dir or [memory] dir?): "
                            "`brief weekly` or `brief memory import` creates one")


def refuse_lost_database(path: Path) -> None:
    """A Chroma dir with content but no chroma.sqlite3 lost its database: opening it would start afresh."""
    if path.is_dir() and not (path / DB_NAME).exists() and any(path.iterdir()):
        raise MemoryStoreError(f"memory at {path} has lost its database {path / DB_NAME} (deleted or moved?): "
                               f"restore it from a backup; to start a new, empty memory instead, remove {path}")


def identity(path: Path | None) -> tuple[int, int] | None:
    """(device, inode) of memory's database: which file this process has open."""
    if path is None:
        return None
    try:
        st = os.stat(path / DB_NAME)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def ensure_on_disk(memory: RunMemory) -> None:
    """Raise MemoryLost when the database memory was opened on is no longer the one at its path: what this
    process wrote went into a deleted file and is gone."""
    opened = getattr(memory, "disk_identity", None)
    if memory.path is None or opened is None or identity(Path(memory.path)) == opened:
        return
    raise MemoryLost(f"memory at {memory.path} was deleted or replaced while this run was using it: what the run "
                     "remembered was not saved. Restore the memory dir from a backup, or run the same command again "
                     "to remember this run's papers in a new memory")


def announce_created(data_dir: Path) -> None:
    """The warning a new, empty memory gets (a mistyped --memory-dir shows here, not as missing papers)."""
    log.warning("no memory at %s yet: created a new, empty one", data_dir)


@contextmanager
def creation_expected() -> Iterator[None]:
    """Within: a new memory is made without the warning (the demo makes its throwaway memory on purpose)."""
    was, log.disabled = log.disabled, True
    try:
        yield
    finally:
        log.disabled = was
