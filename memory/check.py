"""`brief memory check [--repair]`: is memory readable, and are its caches and checkpoints?

What it checks, cheapest first:
- the SQLite files (memory's `chroma.sqlite3`, the embedding and LLM caches, the checkpoints): each must be
  a SQLite database (the first bytes; `PRAGMA quick_check` in the full check);
- each collection's vector index files, structurally (hnsw_files.py);
- (full check only) a query per collection in a child process (probe.py), so a segfault in Chroma's native
  code becomes a message naming the index, and an index that answers wrongly is caught.
`brief weekly` runs the cheap part at start (`preflight`), so a damaged index stops it with the fix instead
of a segfault. `--repair` rebuilds damaged indexes from the records (rebuild.py) and moves damaged caches
and checkpoint files aside (brief recreates them); a damaged `chroma.sqlite3` can't be repaired here: the
message says how to re-import.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from pydantic import BaseModel

from brief.config import Settings
from brief.errors import UserError
from brief.memory import dbfiles
from brief.memory.hnsw_files import index_problems, vector_segments
from brief.memory.rebuild import SUFFIX
from brief.progress import QuietReporter, Reporter

PROBE_TIMEOUT = 600


class MemoryDamaged(UserError, RuntimeError):
    """Memory or one of its files is damaged; the message names the file and `brief memory check --repair`."""


class Finding(BaseModel):
    path: str
    problem: str
    fix: str
    collection: str | None = None  # set for a damaged vector index: --repair rebuilds it

    def line(self) -> str:
        return f"{self.path} {self.problem}: {self.fix}"


class CheckReport(BaseModel):
    location: str
    checked: list[str]
    findings: list[Finding]
    actions: list[str] = []  # what --repair did (or why it could not)

    @property
    def ok(self) -> bool:
        return not self.findings


def chroma_dir(settings: Settings) -> Path:
    return settings.data_dir / "chroma"


def sqlite_files(settings: Settings) -> list[Path]:
    """The SQLite files this config uses (a Postgres checkpoint store is not ours to check)."""
    url = settings.checkpoint.url.get_secret_value() if settings.checkpoint.url else None
    checkpoints = (Path(url.removeprefix("sqlite:///")).expanduser() if url and url.startswith("sqlite:///")
                   else None if url else settings.data_dir / "checkpoints.sqlite")
    files = [settings.cache_dir / "embeddings.sqlite", settings.data_dir / "llm-cache.sqlite", checkpoints]
    local = [] if settings.memory.chroma_host else [chroma_dir(settings) / "chroma.sqlite3"]
    return local + [f for f in files if f is not None]


def _repair_hint(what: str) -> str:
    return f"{what}; `brief memory check --repair` rebuilds it from the stored records"


def quick_findings(settings: Settings) -> list[Finding]:
    """The cheap checks (file headers, index structure, an interrupted repair): `brief weekly` runs these."""
    found = [Finding(path=str(p), problem=problem, fix=dbfiles.fix_for(p))
             for p in sqlite_files(settings) if (problem := dbfiles.header_problem(p))]
    db = chroma_dir(settings) / "chroma.sqlite3"
    if settings.memory.chroma_host or not db.exists() or found:
        return found
    try:
        damaged = index_problems(chroma_dir(settings))
        names = _collections(db)
    except sqlite3.DatabaseError as exc:
        return [Finding(path=str(db), problem=f"is not a usable SQLite database ({exc})", fix=dbfiles.fix_for(db))]
    found += [Finding(path=str(d.path), problem=d.problem, collection=d.collection,
                      fix=_repair_hint(f"the vector index of collection {d.collection!r} is damaged")) for d in damaged]
    found += [Finding(path=str(db), problem=f"holds an interrupted repair of collection {n[:-len(SUFFIX)]!r}",
                      fix="run `brief memory check --repair` to finish it", collection=n[: -len(SUFFIX)])
              for n in names if n.endswith(SUFFIX)]
    return found


def _collections(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True)
    try:
        return [name for (name,) in conn.execute("SELECT name FROM collections ORDER BY name")]
    finally:
        conn.close()


def full_findings(settings: Settings) -> list[Finding]:
    """Every check: the quick ones, SQLite's own quick_check of each file, and a query per collection."""
    found = quick_findings(settings)
    bad = {f.path for f in found}
    for path in sqlite_files(settings):
        if path.exists() and str(path) not in bad and (problem := _quick_check(path)):
            found.append(Finding(path=str(path), problem=problem, fix=dbfiles.fix_for(path)))
    db = chroma_dir(settings) / "chroma.sqlite3"
    if settings.memory.chroma_host or not db.exists() or str(db) in bad:
        return found
    damaged = {f.collection for f in found if f.collection}
    segments = {name: seg for seg, name in vector_segments(chroma_dir(settings)).items()}
    for name in _collections(db):
        if name not in damaged and not name.endswith(SUFFIX) and (problem := _probe(chroma_dir(settings), name)):
            path = segments.get(name, db)
            found.append(Finding(path=str(path), problem=problem, collection=name,
                                 fix=_repair_hint(f"the vector index of collection {name!r} is damaged")))
    return found


def _quick_check(path: Path) -> str | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check")]
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):  # in use by another run: busy, not damaged
            return None
        return f"is not a usable SQLite database ({exc})"
    except sqlite3.DatabaseError as exc:
        return f"is not a usable SQLite database ({exc})"
    return None if rows == ["ok"] else f"fails SQLite's integrity check ({'; '.join(rows[:3])})"


def _probe(directory: Path, name: str) -> str | None:
    """Query collection `name` in a child process; what went wrong, or None."""
    try:
        done = subprocess.run([sys.executable, "-m", "brief.memory.probe", str(directory), name],
                              capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return f"does not answer a query on collection {name!r} within {PROBE_TIMEOUT} s"
    if done.returncode < 0:
        import signal

        sig = signal.Signals(-done.returncode).name
        return f"crashes Chroma ({sig}) when collection {name!r} is queried"
    try:
        problem = json.loads(done.stdout.strip().splitlines()[-1])["problem"]
    except (IndexError, ValueError, KeyError):
        return f"could not be checked (the probe exited {done.returncode}: {done.stderr.strip()[-200:]})"
    return f"fails a query on collection {name!r}: {problem}" if problem else None


def preflight(settings: Settings) -> None:
    """The cheap check `brief weekly` runs before it opens memory: raises MemoryDamaged naming the first problem."""
    found = quick_findings(settings)
    if found:  # look again: a run writing its index files at this very moment can look truncated for an instant
        time.sleep(0.5)
        found = quick_findings(settings)
    if found:
        raise MemoryDamaged(found[0].line() + (f" (and {len(found) - 1} more: `brief memory check`)" if len(found) > 1 else ""))


def check(settings: Settings, repair: bool = False, reporter: Reporter | None = None) -> CheckReport:
    """Run every check; with `repair`, fix what can be fixed and check again."""
    from brief.memory import repair as repairs

    from brief.memory.presence import require_memory

    require_memory(settings)
    reporter = reporter or QuietReporter()
    location = settings.memory.chroma_host or str(chroma_dir(settings))
    checked = [str(p) for p in sqlite_files(settings) if p.exists()]
    found = full_findings(settings)
    if not repair or not found:
        return CheckReport(location=location, checked=checked, findings=found)
    from brief.memory.lock import RunLock

    from brief.memory.diskfull import disk_full_errors

    with RunLock(settings.data_dir), disk_full_errors(settings.data_dir):  # never beside a running weekly or import
        actions = repairs.repair(settings, found, reporter, stamp=time.strftime("%Y%m%dT%H%M%S"))
    return CheckReport(location=location, checked=checked, findings=full_findings(settings), actions=actions)


def check_text(report: CheckReport) -> str:
    lines = [f"memory at {report.location}: checked {len(report.checked)} database files and every collection"]
    lines += [f"  {action}" for action in report.actions]
    lines += [f"  {f.line()}" for f in report.findings]
    n = len(report.findings)
    lines.append("  all good" if report.ok else f"  {n} problem{'s' if n > 1 else ''} left")
    return "\n".join(lines)
