"""Checks a run's inputs before anything is locked, opened or written.

Bad input should fail in one clear line with memory untouched, not an hour into a run (an output
directory that is really a file would otherwise only fail at the last node, after every LLM call).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from brief.config import ConfigError, Settings
from brief.errors import UserError
from brief.sources.window import Window


class InputError(UserError, ValueError):
    """Bad command-line input; the message names it and the fix (exit 2)."""


def check_window(window: Window, today: date) -> None:
    if window.since > today:
        raise InputError(f"{window.label} starts on {window.since}, after today ({today}): choose a week that has begun")


def check_sources(specs: list[str], settings: Settings) -> list:
    """Build the run's sources (unknown kinds and missing paths fail here) and let each check its own input."""
    from brief.agents.fetcher import build_sources

    for spec in specs:
        if spec.startswith("snapshot:") and not spec.removeprefix("snapshot:").strip():
            raise InputError("--source snapshot: needs a path, e.g. --source snapshot:~/arxiv-dumps")
    sources = build_sources(specs, settings)
    for source in sources:
        check = getattr(source, "check", None)
        if check is not None:
            check()
    return sources


def check_coverage(sources: list, window: Window) -> None:
    """A window wholly outside what every (daily-JSONL) snapshot holds would brief nothing: say what they cover.
    Live sources (arXiv, feeds) and snapshots without day files are not judged."""
    from brief.agents.fetcher import snapshot_days
    from brief.sources.window import week_of

    spans = [snapshot_days(source) for source in sources]
    if not spans or any(not days for days in spans):
        return
    days = sorted(d for span in spans for d in span)
    if any(window.contains(d) for d in days):
        return
    names = ", ".join(getattr(s, "name", "the snapshot") for s in sources)
    raise InputError(f"{window.label} ({window.since} to {window.until}) is outside what {names} covers: "
                     f"{days[0]} to {days[-1]} ({week_of(days[0])} to {week_of(days[-1])}); choose a --week in that range")


def check_writable_dir(path: Path, what: str) -> None:
    """`path` is a directory we can write, or can be created as one."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {path} is a file, not a directory")
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None or not existing.is_dir():
        raise InputError(f"{what} {path} can't be created: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{what} {path} is not writable (no permission on {existing})")


def check_writable_file(path: Path, what: str) -> None:
    """`path` can be written as a file: not a directory, in an existing directory we may write."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError(f"{what} {path} is a directory: name a file in it")
    parent = path.parent
    if not parent.is_dir():
        raise InputError(f"{what} {path} can't be written: {parent} is not a directory (create it first)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{what} {path} is not writable (no permission on {parent})")


def check_checkpoint(settings: Settings) -> None:
    """A Postgres checkpoint URL needs its optional package, a SQLite one a file name in a writable directory:
    say so before the run takes the lock or opens memory."""
    import importlib.util

    from brief.graphs.checkpoint import sqlite_path

    url = settings.checkpoint.url.get_secret_value() if settings.checkpoint.url else ""
    if url.startswith(("postgresql://", "postgres://")) and importlib.util.find_spec("langgraph.checkpoint.postgres") is None:
        raise ConfigError("[checkpoint] url is a Postgres URL, which needs the Postgres checkpointer: "
                          "pip install langgraph-checkpoint-postgres")
    path = sqlite_path(settings)
    if not url.startswith("sqlite:///") or path is None:
        return  # the default file in the memory dir is checked with the memory dir
    if not url.removeprefix("sqlite:///").strip() or url.endswith("/") or path.is_dir():
        # worded without the URL: it is a secret, so the redactor would mask it in this very line
        raise ConfigError("[checkpoint] url names no SQLite file: put the file's path after the three slashes "
                          "(…/checkpoints.sqlite), or leave url out for checkpoints.sqlite in the memory dir")
    check_writable_dir(path.parent, "the checkpoint file's directory ([checkpoint] url)")


def check_weekly(settings: Settings, specs: list[str], window: Window, today: date | None = None) -> None:
    check_window(window, today or date.today())
    check_checkpoint(settings)
    check_coverage(check_sources(specs, settings), window)
    check_writable_dir(settings.out_dir, "the report directory (--out)")
    check_writable_dir(settings.data_dir, "the memory directory (--memory-dir)")
    check_writable_dir(settings.cache_dir, "the cache directory ([memory] cache_dir)")


class LLMPreflightError(UserError, RuntimeError):
    """The LLM server refused the preflight (bad key, no quota, unknown model, no structured output): exit 2."""


def check_llm(settings: Settings):
    """One tiny call, before anything is fetched, locked or written: the key, the quota, the model name, and the
    structured-output method (negotiated, or the remembered one re-checked). Returns the LLM client the run
    goes on with (None offline). `--max-cost` needs a known price."""
    if not settings.llm_enabled:
        return None
    from brief.agents.llm import ServerRefused
    from brief.agents.llm_limits import price_of
    from brief.graphs.context import llm_client

    cfg = settings.llm
    if cfg.max_cost_usd is not None and price_of(cfg.model, cfg.prices) is None:
        raise InputError(f"--max-cost needs the price of {cfg.model!r}, which [llm] prices doesn't list: add "
                         f'"{cfg.model}" = [input, output] (USD per million tokens) to [llm.prices], or drop --max-cost')
    client = llm_client(settings)
    if client is None:
        return None
    try:
        client.negotiate()
    except ServerRefused as exc:
        raise LLMPreflightError(f"LLM preflight failed: {exc}") from None
    return client
