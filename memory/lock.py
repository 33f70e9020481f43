"""One run at a time per memory dir: a lock file that names its holder.

Two weekly runs on one memory would screen the same papers twice, race on the checkpoint thread and
interleave memory writes. The lock is `<data dir>/brief.lock`, held with `flock` for as long as the run
lives, so the kernel releases it when the holder dies however it dies (even SIGKILL). The file's content
says who holds it (pid, host, command, start time), for the message the second run prints. Content
left by a holder that died is a stale lock: it is taken over with a warning.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import stat
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ValidationError

from brief.errors import UserError

log = logging.getLogger(__name__)
LOCK_NAME = "brief.lock"


class LockHeld(UserError, RuntimeError):
    """Another run holds the memory dir; the message names it (a user error: exit 2)."""


class UnsafeLockPath(UserError, OSError):
    """The lock path is a symlink, a directory or anything but a regular file: brief won't open it (exit 2)."""


class LockHolder(BaseModel):
    pid: int
    host: str
    command: str
    started: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, `{self.command}`, started {self.started}"


def pid_alive(pid: int) -> bool:
    if pid <= 0:  # os.kill(0, ...) would signal our own process group
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def command_line(argv: list[str] | None = None) -> str:
    """What the holder is running, as the user typed it (program name shortened to `brief`)."""
    argv = list(sys.argv if argv is None else argv)
    if argv and (argv[0].endswith(("brief", "cli.py")) or argv[0] == "-m"):
        argv[0] = "brief"
    return " ".join(argv)[:300]


def open_regular_file(path: Path) -> int:
    """A read-write descriptor of the regular file `path`, created (exclusively) if missing; never through a
    symlink. Why: the memory dir may live on a shared disk, where anyone could plant `brief.lock -> ~/victim`,
    and opening that for writing would truncate the victim. Raises UnsafeLockPath naming what is there."""
    flags = os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(3):  # a racing creator may win between the two opens: then open what it made
        try:
            fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                fd = os.open(path, flags | os.O_NONBLOCK)  # O_NONBLOCK: a FIFO planted there must not hang us
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise UnsafeLockPath(f"{path} {_kind(path)} ({exc.strerror}): brief only opens a regular file "
                                     "there; remove it and run again") from None
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
        os.close(fd)
        raise UnsafeLockPath(f"{path} {_kind(path)}: brief only opens a regular file there; remove it and run again")
    raise UnsafeLockPath(f"{path} keeps appearing and disappearing: is another program creating it?")


def _kind(path: Path) -> str:
    if path.is_symlink():
        return "is a symbolic link"
    if path.is_dir():
        return "is a directory"
    return "exists but is not a regular file" if path.exists() else "cannot be opened"


class RunLock:
    """`with RunLock(data_dir, command):` — raises LockHeld when another live run holds it.

    Only needs the directory to be writable; creates it if missing.
    """

    def __init__(self, directory: Path, command: str | None = None):
        self.path = Path(directory) / LOCK_NAME
        self.command = command or command_line()
        self._fd: int | None = None
        self.took_over: LockHolder | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = open_regular_file(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read_holder(fd, wait=True)
            os.close(fd)
            who = holder.describe() if holder else "another process that is still starting"
            raise LockHeld(f"memory dir {self.path.parent} is in use by another brief run ({who}): "
                           f"wait for it to finish, or use another --memory-dir") from None
        previous = self._read_holder(fd)
        if previous and previous.host != socket.gethostname():
            os.close(fd)  # on a shared filesystem we can't tell whether that host's run is alive
            raise LockHeld(f"memory dir {self.path.parent} is locked by a run on another host ({previous.describe()}): "
                           f"if that run is gone, delete {self.path}")
        if previous:
            state = "still running but not holding the lock (pid reused?)" if pid_alive(previous.pid) else "no longer running"
            log.warning("took over a stale lock on %s left by %s: %s", self.path.parent, previous.describe(), state)
            self.took_over = previous
        me = LockHolder(pid=os.getpid(), host=socket.gethostname(), command=self.command,
                        started=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        os.ftruncate(fd, 0)
        os.pwrite(fd, me.model_dump_json().encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Empty the file (a clean release leaves no holder behind), then unlock. The file stays: deleting
        it would let a waiting opener lock an unlinked inode while a third process locks a new one."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        finally:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def holder(self) -> LockHolder | None:
        fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            return self._read_holder(fd)
        finally:
            os.close(fd)

    @staticmethod
    def _read_holder(fd: int, wait: bool = False) -> LockHolder | None:
        """The holder named in the file; with `wait`, give a holder that is starting up a moment to write it."""
        for _ in range(20 if wait else 1):
            raw = os.pread(fd, 4096, 0)
            if raw.strip():
                try:
                    return LockHolder.model_validate(json.loads(raw))
                except (ValueError, ValidationError):  # not ours or half-written by a holder that died
                    return LockHolder(pid=0, host=socket.gethostname(), command="(unreadable lock content)", started="?")
            if wait:
                time.sleep(0.05)
        return None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
