"""Opening Chroma for memory/store.py: the client (local or server), the collections and their embedder check.

The only module that imports chromadb. Local mode keeps Chroma in the data dir (`PersistentClient`);
`memory.chroma_host` / CHROMA_HOST talks to a shared server (`chroma run --path DIR --port N`) through
`HttpClient`, so a team shares one memory. Every collection is stamped with the embedder that wrote its
vectors: vectors of another embedder don't compare with them, so opening it under another one is refused,
with a message that says why and how to get out (which differs when only the recipe changed). Opened
`read_only` (stats, show, export: records and metadata only), a collection opens under whatever embedder
wrote it, so the way out of a changed recipe (export, then import into a new memory) works.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # before chromadb is imported: no phoning home
PAGE = 5000  # rows per `get` when reading a whole collection

_RECIPE = re.compile(r"^(?P<base>.+)-r(?P<recipe>\d+)$")  # e.g. minilm-l6-int8-onnx-t64-r5 (embedders.py)


class MemoryStoreError(RuntimeError):
    """Memory can't be opened or used as asked; the message says how to fix it."""


def location_hint(path: Path | None, host: str | None, port: int) -> str:
    """Where memory lives, as an error message should name it (with the fix for a server that isn't up)."""
    if host:
        return (f"http://{host}:{port} (memory.chroma_host / CHROMA_HOST): is a server running there? "
                "Start one with `chroma run --path DIR --port N`")
    return str(path)


def open_client(path: Path | None, host: str | None, port: int) -> tuple[Any, str]:
    """(client, location): a server's `HttpClient` when `host` is set, else a `PersistentClient` at `path`."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, settings=chroma_settings), f"http://{host}:{port}"
        assert path is not None
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings), str(path)
    except Exception as exc:  # chroma raises many kinds; all mean "can't open"
        raise MemoryStoreError(f"cannot open memory at {location_hint(path, host, port)}: {exc}") from None


def open_collection(client: Any, name: str, embedder_name: str, location: str, read_only: bool = False) -> Any:
    """The cosine collection `name`, created stamped with `embedder_name`; refused if stamped with another,
    unless `read_only`: then it opens as a ReadOnlyCollection whatever embedder wrote it.
    Embeddings are always passed explicitly: Chroma's default embedder would try to download a model."""
    collection = client.get_or_create_collection(
        name,
        embedding_function=None,
        metadata={"hnsw:space": "cosine", "embedder": embedder_name},
    )
    stored = (collection.metadata or {}).get("embedder")
    why = embedder_mismatch(location, stored, embedder_name) if stored and stored != embedder_name else None
    if read_only:
        return ReadOnlyCollection(collection, why or f"memory at {location} was opened read-only")
    if why:
        raise MemoryStoreError(why)
    return collection


class ReadOnlyCollection:
    """A collection for reading records and metadata only: `get` (without embeddings), `count`, `metadata`.

    Why: a memory built by another embedder can still be listed and exported, but its vectors must never
    meet ours, and a reader must not write. Anything else (query, upsert, update, delete, reading vectors)
    raises MemoryStoreError with `why`: the embedder mismatch message when there is one."""

    _READS = frozenset({"count", "metadata", "name", "id"})

    def __init__(self, collection: Any, why: str) -> None:
        self._collection, self._why = collection, why

    def get(self, **kwargs: Any) -> Any:
        if "embeddings" in (kwargs.get("include") or ()):
            raise MemoryStoreError(self._why)
        return self._collection.get(**kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # private and dunder probes (copy, hasattr): plain AttributeError
            raise AttributeError(name)
        if name in self._READS:
            return getattr(self._collection, name)
        raise MemoryStoreError(self._why)


def embedder_mismatch(location: str, stored: str, wanted: str) -> str:
    """Why memory at `location` (built with `stored`) refuses `wanted`, and the way out.

    A different embedder is the user's config: set it back. The same embedder at a new recipe version
    (the `-rN` suffix) is a software upgrade: nothing in the config brings the old recipe back, so the
    papers must be re-embedded into a new memory."""
    old, new = _RECIPE.match(stored), _RECIPE.match(wanted)
    if old and new and old["base"] == new["base"]:
        return (f"memory at {location} was built with embedder {stored!r}, and this version of brief embeds with "
                f"{wanted!r}: an upgrade changed the embedding recipe (r{old['recipe']} → r{new['recipe']}), not your "
                "config, and vectors of the two don't compare. Re-embed it into a new memory: "
                "`brief memory export --bibtex memory.bib`, then `brief memory import memory.bib --memory-dir NEW_DIR` "
                "(README, Memory)")
    return (f"memory at {location} was built with embedder {stored!r}, not {wanted!r}: "
            "set [memory] embedder back, or use another --memory-dir")


def pages(collection: Any, **get: Any) -> Iterator[dict[str, Any]]:
    """`collection.get(**get)` page by page (PAGE rows each), skipping empty pages: a whole collection
    without holding it all in memory at once."""
    offset = 0
    while True:
        got = collection.get(**get, limit=PAGE, offset=offset)
        if got["ids"]:
            yield got
        if len(got["ids"]) < PAGE:
            return
        offset += PAGE


def max_batch(client: Any, default: int) -> int:
    """The most records one Chroma call takes (5461 for a local client), else `default`."""
    try:
        return int(client.get_max_batch_size())
    except Exception:  # an older server or a client without the call
        return default
