"""A real PostgreSQL server for the `postgres` suite: initdb + pg_ctl in a temp dir, on 127.0.0.1 and a free port.

PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user (created with useradd
when the Debian package didn't). Trust authentication on loopback only; the server is stopped at the end.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

USER = "brief"


def pg_bin(name: str) -> str:
    """Debian keeps initdb and pg_ctl out of PATH, under /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: apt-get install postgresql (see .ci/steps/30-postgres.sh)")
    return found


def _owner() -> str | None:
    """The user the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return "postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(argv: list[str], owner: str | None) -> None:
    cmd = ["runuser", "-u", owner, "--", *argv] if owner else argv
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a throwaway cluster; yields its URL (`postgresql://brief@127.0.0.1:PORT/postgres`)."""
    owner = _owner()
    root = Path(tempfile.mkdtemp(prefix="brief-pg-"))
    data, log = root / "data", root / "server.log"
    if owner:
        info = pwd.getpwnam(owner)
        os.chown(root, info.pw_uid, info.pw_gid)
    port = _free_port()
    _run([pg_bin("initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"], owner)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run([pg_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"], owner)
    try:
        yield f"postgresql://{USER}@127.0.0.1:{port}/postgres"
    finally:
        _run([pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], owner)
        shutil.rmtree(root, ignore_errors=True)
