"""Checkpoints: every graph saves its state after every node, so the same command resumes a crashed run.

- Where: SQLite in the data dir (`checkpoints.sqlite`), or Postgres for a shared deployment
  (`[checkpoint] url = "postgresql://..."`, imported lazily: `pip install langgraph-checkpoint-postgres`).
- Which run: the thread id is the graph's name, the week and a hash of the settings and sources. The same
  command finds its interrupted thread and resumes it; any other config starts its own.
- What: only the state (papers, decisions, reviews, ...). Live objects (settings with the API key, the
  embedder, memory, the LLM client) travel in the run context, which LangGraph never checkpoints.
- Finished runs: their thread is deleted, so the next identical command starts a fresh run instead of
  returning a stale result. Work a crash threw away is cheap to redo: every LLM answer and embedding is
  cached on disk as soon as it arrives, and memory writes are idempotent upserts.

The serializer only revives our own state models (an allowlist walked from the state schema), so a
tampered checkpoint can't make the loader import arbitrary code, and no warning is logged per type.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import sqlite3
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from brief.config import ConfigError, Settings

log = logging.getLogger(__name__)
STATE_VERSION = 1  # bump when the meaning of the state changes without its shape changing
SQLITE_NAME = "checkpoints.sqlite"


class CheckpointError(RuntimeError):
    """The checkpoint store can't be opened; the message says how to fix it (never shows the URL)."""


def model_types(model: type[BaseModel], found: set[type] | None = None) -> set[tuple[str, str]]:
    """(module, name) of every pydantic model reachable from `model`'s fields: what checkpoints may revive."""
    found = set() if found is None else found
    if model in found:
        return set()
    found.add(model)
    for field in model.model_fields.values():
        for cls in _classes(field.annotation):
            if isinstance(cls, type) and issubclass(cls, BaseModel):
                model_types(cls, found)
    return {(cls.__module__, cls.__name__) for cls in found}


def _classes(annotation: Any) -> Iterator[Any]:
    origin = typing.get_origin(annotation)
    if origin is None:
        yield annotation
        return
    if origin is not typing.Annotated:
        yield origin
    for arg in typing.get_args(annotation):
        if arg is not Ellipsis and not isinstance(arg, (str, int, float, types.FunctionType)):
            yield from _classes(arg)


def thread_id(graph: str, settings: Settings, label: str, schema: type[BaseModel] | None = None, **inputs: Any) -> str:
    """`weekly:2026-W24:3f2a…`: the same command maps to the same thread; secrets never enter the hash
    (SecretStr dumps as asterisks), so changing an API key doesn't orphan an interrupted run. With the
    state `schema`, a new version of brief whose state has another shape never resumes an old thread."""
    shape = json.dumps(schema.model_json_schema(), sort_keys=True) if schema is not None else ""
    blob = json.dumps({"v": STATE_VERSION, "settings": settings.model_dump(mode="json"), "inputs": inputs,
                       "schema": hashlib.sha256(shape.encode()).hexdigest()}, sort_keys=True, default=str)
    return f"{graph}:{label}:{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def serializer(state_schema: type[BaseModel]) -> Any:
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer(allowed_msgpack_modules=sorted(model_types(state_schema)))


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite checkpoint file (`checkpoints.sqlite` in the data dir, or `sqlite:///PATH`); None for Postgres."""
    url = settings.checkpoint.url.get_secret_value() if settings.checkpoint.url else None
    if url and not url.startswith("sqlite:///"):
        return None
    return Path(url.removeprefix("sqlite:///")).expanduser() if url else settings.data_dir / SQLITE_NAME


@contextlib.contextmanager
def open_checkpointer(settings: Settings, state_schema: type[BaseModel]) -> Iterator[Any]:
    """The configured checkpoint saver, open for the duration of the `with` block."""
    url = settings.checkpoint.url.get_secret_value() if settings.checkpoint.url else None
    serde = serializer(state_schema)
    if url and url.startswith(("postgresql://", "postgres://")):
        with _postgres(url) as saver:
            saver.serde = serde
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = sqlite_path(settings)
    if path is None:  # a URL of another scheme: preflight names it before a run gets here
        raise CheckpointError("[checkpoint] url has a scheme brief can't open: use sqlite:///PATH or postgresql://…")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        saver = SqliteSaver(conn, serde=serde)
        saver.setup()
    except (OSError, sqlite3.Error) as exc:
        raise CheckpointError(f"cannot open the checkpoint store {path}: {exc}") from None
    try:
        yield saver
    finally:
        conn.close()


@contextlib.contextmanager
def _postgres(url: str) -> Iterator[Any]:
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
    except ImportError:
        raise ConfigError("[checkpoint] url is a Postgres URL, which needs the Postgres checkpointer: "
                          "pip install langgraph-checkpoint-postgres") from None
    try:
        manager = PostgresSaver.from_conn_string(url)
        saver = manager.__enter__()
        saver.setup()
    except Exception as exc:  # psycopg's errors: bad host, auth, database missing
        raise CheckpointError(f"cannot open the Postgres checkpoint store: {str(exc).replace(url, '***')[:300]}") from None
    try:
        yield saver
    finally:
        manager.__exit__(None, None, None)


class Resumable:
    """Runs a compiled graph on a thread: resumes it when interrupted, else starts afresh; deletes it when done."""

    def __init__(self, graph: Any, thread: str, context: Any, kill_after: str | None = None) -> None:
        self.graph = graph
        self.thread = thread
        self.config = {"configurable": {"thread_id": thread}}
        self.context = context
        self.kill_after = kill_after
        self.resumed_before: tuple[str, ...] = ()  # the nodes an interrupted run had still to do

    def pending(self) -> tuple[str, ...]:
        """Nodes the thread's last checkpoint still has to run; () when there is none or it finished."""
        try:
            snapshot = self.graph.get_state(self.config)
        except Exception as exc:  # written by an incompatible version, or corrupt: don't resume it
            log.warning("could not read the checkpoint of an interrupted run (%s: %s): starting afresh",
                        type(exc).__name__, str(exc)[:200])
            self.graph.checkpointer.delete_thread(self.thread)
            return ()
        if snapshot.values and not snapshot.next:  # a finished run that was killed before its cleanup
            self.graph.checkpointer.delete_thread(self.thread)
        return tuple(snapshot.next)

    def run(self, fresh_input: Any, resume_note: str | None = None, restart: bool = False) -> dict[str, Any]:
        """The graph's final state. Raises what the graph raises; the thread then stays, to be resumed.
        `restart` discards an interrupted run instead (the escape hatch when its saved state is unwanted)."""
        if restart:
            self.graph.checkpointer.delete_thread(self.thread)
        self.resumed_before = self.pending()
        graph_input = None if self.resumed_before else fresh_input
        if self.resumed_before and resume_note:
            self._add_note(resume_note.format(nodes=", ".join(self.resumed_before)))
        final: dict[str, Any] = {}
        # durability="sync": a node's checkpoint is on disk before the next node starts, so a crash at any
        # point loses at most the node that was running.
        for mode, chunk in self.graph.stream(graph_input, self.config, context=self.context, durability="sync",
                                             stream_mode=["updates", "values"]):
            if mode == "values":
                final = chunk
            elif self.kill_after and self.kill_after in chunk:
                self._kill(self.kill_after)
        self.graph.checkpointer.delete_thread(self.thread)
        return final

    def _add_note(self, note: str) -> None:
        """Tell the report this run resumed; appended as the last finished node, so what runs next is unchanged."""
        before = self.graph.get_state(self.config).next
        try:
            self.graph.update_state(self.config, {"notes": [note]})
        except Exception as exc:  # the note is a courtesy: never block a resume on it
            log.debug("no resume note: %s", exc)
            return
        if self.graph.get_state(self.config).next != before:  # pragma: no cover - guards a LangGraph change
            raise RuntimeError(f"adding the resume note changed the next nodes from {before}: run again with --restart")

    def _kill(self, node: str) -> None:
        """Test hook (BRIEF_TEST_KILL_AFTER=<node>): SIGKILL this process right after `node`'s checkpoint is
        written, to prove a crash at that boundary resumes. Chunks arrive after their checkpoint under
        durability="sync"; checked here so the hook can't silently test the wrong boundary."""
        if node in self.graph.get_state(self.config).next:
            raise RuntimeError(f"test hook: the checkpoint after {node!r} is not written yet")
        os.kill(os.getpid(), signal.SIGKILL)
