"""`brief memory check --repair`: rebuild a collection's vector index from the records memory still holds.

Chroma keeps records (ids, metadata with the abstract, documents of older memories) in `chroma.sqlite3` and the vectors only in the HNSW files
once its write log is compacted, so a damaged index can't be copied back from Chroma. It is rebuilt by
embedding each record's text again, exactly as it was embedded when stored ("title. abstract", or the bare
id of an id-only stub) through the embedding cache, which usually holds those very vectors: the rebuilt
index gives the same search results. The new collection is filled under a temporary name and swapped in
only when complete; an interrupted repair is finished (or redone) by the next one.
"""

from __future__ import annotations

from typing import Any

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from brief.memory.chroma import open_client, pages
from brief.memory.hnsw_files import vector_segments
from brief.memory.records import abstract_of

SUFFIX = ".rebuild"
_UPSERT = 4000  # under Chroma's max batch of 5461


def embedding_text(pid: str, meta: dict[str, Any], document: str | None) -> str:
    """The text a record's vector was made from (Paper.text_for_embedding, or the id of a stub)."""
    return pid if meta.get("stub") else f"{meta.get('title', '')}. {abstract_of(meta, document)}"


def finish_interrupted(client: Any) -> list[str]:
    """Complete swaps an interrupted repair left: a full `X.rebuild` without `X` is renamed to `X`;
    one beside `X` was never finished and is dropped. Returns the names it renamed."""
    names = {c.name for c in client.list_collections()}
    renamed = []
    for name in sorted(n for n in names if n.endswith(SUFFIX)):
        target = name[: -len(SUFFIX)]
        if target in names:
            client.delete_collection(name)
        else:
            client.get_collection(name).modify(name=target)
            renamed.append(target)
    return renamed


def rebuild(chroma_dir: Path, name: str, embed: Callable[[list[str]], np.ndarray],
            progress: Callable[[int], None] = lambda n: None) -> int:
    """Re-embed every record of collection `name` into a fresh index and swap it in; returns the records."""
    client, _ = open_client(chroma_dir, None, 0)
    finish_interrupted(client)
    old = client.get_collection(name)
    hnsw = (old.configuration_json or {}).get("hnsw") or {}
    new = client.create_collection(name + SUFFIX, embedding_function=None, metadata=old.metadata,
                                   configuration={"hnsw": hnsw} if hnsw else None)
    done = 0
    for got in pages(old, include=["metadatas", "documents"]):
        for start in range(0, len(got["ids"]), _UPSERT):
            rows = slice(start, start + _UPSERT)
            ids, metas, docs = got["ids"][rows], got["metadatas"][rows], got["documents"][rows]
            vectors = embed([embedding_text(pid, m or {}, d) for pid, m, d in zip(ids, metas, docs)])
            new.upsert(ids=ids, embeddings=np.asarray(vectors, np.float32).tolist(), documents=docs, metadatas=metas)
            done += len(ids)
            progress(len(ids))
    client.delete_collection(name)
    new.modify(name=name)
    _drop_orphan_segments(chroma_dir)
    return done


def _drop_orphan_segments(chroma_dir: Path) -> None:
    """Delete index dirs no collection uses any more (the damaged one Chroma left behind on delete)."""
    live = set(vector_segments(chroma_dir))
    for entry in chroma_dir.iterdir():
        if entry.is_dir() and len(entry.name) == 36 and entry.name.count("-") == 4 and entry not in live:
            shutil.rmtree(entry)
