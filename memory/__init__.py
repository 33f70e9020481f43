"""Memory: the embedder and the Chroma store behind one small entry point."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from brief.config import Settings
from brief.memory.store import Memory, MemoryStoreError, Record

if TYPE_CHECKING:
    from brief.memory.embedders import CachedEmbedder


class RunEmbedder:
    """The configured embedder behind the content-hash cache, counting what each graph node embeds."""

    def __init__(self, cached: CachedEmbedder, stage1: Any = None) -> None:
        self.cached = cached
        self.name = cached.name
        self._taken = (0, 0)
        # Stage 1's embedder (the static table by default): its vectors rank this week's papers and never go
        # into memory, whose vectors all come from `cached`. Itself when stage 1 uses memory's embedder.
        self.stage1: Any = stage1 or self

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.cached.embed(texts)

    def take_counts(self) -> tuple[int, int]:
        """(embedded, cache hits) since the last call."""
        misses, hits = self.cached.misses, self.cached.hits
        delta = (misses - self._taken[0], hits - self._taken[1])
        self._taken = (misses, hits)
        return delta


def open_embedder(settings: Settings) -> RunEmbedder:
    from brief.memory.embedders import CachedEmbedder, make_embedder

    cache_dir = settings.cache_dir
    kwargs: dict[str, Any] = {}
    if settings.memory.embedder == "openai":
        kwargs = {
            "model": settings.memory.embedding_model,
            "base_url": settings.llm.base_url,
            "api_key": settings.llm.api_key.get_secret_value() if settings.llm.api_key else None,
        }
    inner = make_embedder(settings.memory.embedder, cache_dir, **kwargs)
    stage1 = make_embedder("static", cache_dir) if settings.screening.embedder == "static" else None
    return RunEmbedder(CachedEmbedder(inner, cache_dir / "embeddings.sqlite"), stage1)


def open_memory(settings: Settings, embedder_name: str, read_only: bool = False, create: bool = True) -> Memory:
    """The configured memory, checked against `embedder_name`; `read_only` opens one another embedder
    built, for reading records only (see Memory). Without `create`, a missing memory is an error
    (MemoryMissing); with it, a new one is made with a warning (see presence.py)."""
    from brief.memory import presence

    path: Path = presence.chroma_path(settings)
    local = not settings.memory.chroma_host
    new = local and not (path / presence.DB_NAME).exists()
    if local:
        presence.refuse_lost_database(path)
        if new and not create:
            presence.require_memory(settings)
    if not read_only:  # searches and writes would meet a damaged index: segfault or wrong answers
        from brief.memory.check import preflight

        preflight(settings)
    memory = Memory(path, embedder_name, host=settings.memory.chroma_host, port=settings.memory.chroma_port,
                    read_only=read_only)
    memory.disk_identity = presence.identity(memory.path)
    if new:
        presence.announce_created(settings.data_dir)
    return memory


__all__ = ["Memory", "MemoryStoreError", "Record", "RunEmbedder", "open_embedder", "open_memory"]
