"""A full disk, said plainly: "the disk holding memory at DIR is full", not Chroma's "Error in compaction:
Failed to apply logs to the metadata segment" or SQLite's "database or disk is full".

Nothing is lost when a write fails for want of space: memory writes are idempotent upserts, embeddings and LLM
answers are cached as they arrive and a weekly run resumes from its last checkpoint; so the message says to
free space and run the same command again. Chroma reports a failed compaction without its cause; in practice
(measured on a small tmpfs) that cause is the disk filling up while the log is applied, even when the failed
write's space is freed again by the time the message is read, so it is reported as a full disk too.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

_FULL_WORDS = ("database or disk is full", "no space left on device", "disk quota exceeded", "(code: 13)",
               "error in compaction", "failed to apply logs")


class DiskFull(OSError):
    """A write failed because the disk is full; the message names where and how to go on. An OSError still,
    like the ENOSPC it stands for."""


def disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or anything in its cause chain) says the disk or quota is full."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(word in str(seen).lower() for word in _FULL_WORDS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _free(path: Path) -> str:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return f"{shutil.disk_usage(candidate).free / 1e6:.1f} MB free now"
    return "free space unknown"


@contextlib.contextmanager
def disk_full_errors(data_dir: Path) -> Iterator[None]:
    """Turn a disk-full failure inside the block into one DiskFull line naming the memory dir."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as exc:
        if not disk_full(exc):
            raise
        where = getattr(exc, "filename", None) or data_dir
        raise DiskFull(f"the disk holding {'memory at ' if where == data_dir else ''}{where} is full, or was while writing "
                       f"({_free(Path(where))}; "
                       f"{' '.join(str(exc).split())[:120]}): free some space, then run the same command again: "
                       "it picks up where it stopped") from None
