"""Text embedders for memory and screening.

Every embedder returns float32 rows, L2-normalised, so a dot product is a cosine. `name` is a stable id
(model + recipe version) that goes into cache keys: vectors from different embedders never mix.

- FastLocalEmbedder: the default. The bundled MiniLM as an int8 ONNX model, built once from the packaged
  weights and cached (see onnx_minilm.py), reading 64 content tokens; ~10x the speed of
  sentence-transformers on two cores at the same screening AUC (bench/embeddings.py).
- StaticMiniLMEmbedder (static_minilm.py): a token table distilled from the same MiniLM (model2vec), for
  stage 1's screening: tens of thousands of abstracts a second.
- MiniLMEmbedder: the reference (sentence-transformers, full precision, 256 tokens); slow.
- OpenAIEmbedder: any OpenAI-compatible embeddings endpoint.
- CachedEmbedder: wraps any of them with a content-hash cache in SQLite, so re-running a week or linking
  to earlier weeks never re-embeds the same text.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

import numpy as np
import numpy.typing as npt
from brief.errors import UserError

from . import dbfiles, onnx_minilm
from .static_minilm import StaticMiniLMEmbedder

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> npt.NDArray[np.float32]:
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    return cast('npt.NDArray[np.float32]', x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12))


class FastLocalEmbedder:
    """Bundled all-MiniLM-L6-v2, int8 ONNX, each text fitted to `max_tokens` word pieces.

    Why truncation: on two cores the cost is linear in tokens and full MiniLM reads ~260 per abstract,
    which no int8 trick makes 10x cheaper. A paper's topic is in its title and first sentences, so a
    long text keeps its first `max_tokens` tokens after dropping stopwords and punctuation (short texts
    go in whole). Measured at 64: screening AUC within 0.01 of full MiniLM at 256 tokens on cs.AI/cs.CV
    and astro-ph sets, ~10x faster (bench/embeddings.py). Raise max_tokens to trade speed for coverage.

    The artifact is built lazily on first embed() (3-13 s here; needs the onnx package, not torch) and
    cached in `cache_dir`; later processes only load it (~0.2 s). Thread-safe.
    """

    dim = 384

    def __init__(self, cache_dir: Path, threads: int = 2, max_tokens: int = 64, batch_size: int = 32):
        self.cache_dir = Path(cache_dir)
        self.threads = threads
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.name = f"minilm-l6-int8-onnx-t{max_tokens}-r{onnx_minilm.RECIPE_VERSION}"
        self._runner: onnx_minilm.OnnxMiniLM | None = None
        self._lock = threading.Lock()
        self.build_seconds: float | None = None  # set when this instance had to build the artifact
        self.load_seconds: float | None = None

    def artifact_path(self) -> Path:
        return onnx_minilm.artifact_path(self.cache_dir, "minilm-l6-int8-{digest}.onnx")

    def _load(self) -> onnx_minilm.OnnxMiniLM:
        with self._lock:
            if self._runner is None:
                t0 = time.perf_counter()
                path = self.artifact_path()
                built = onnx_minilm.ensure_built(path, "embedding model", onnx_minilm.build_int8_onnx, log)
                if built is not None:
                    self.build_seconds, t0 = built, time.perf_counter()
                tok = onnx_minilm.bundled_model_dir() / "tokenizer.json"
                self._runner = onnx_minilm.OnnxMiniLM(path, tok, self.threads, self.max_tokens, self.batch_size)
                self.load_seconds = time.perf_counter() - t0
            return self._runner

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalise(self._load().embed(list(texts)))


class MiniLMEmbedder:
    """Reference: sentence-transformers all-MiniLM-L6-v2 from the bundled path (no hub access), CPU,
    256 tokens, batch 32 (batch 128 measured slower on two cores)."""

    dim = 384
    name = "all-MiniLM-L6-v2@st-256"  # unchanged since the first release: keeps existing caches valid

    def __init__(self, max_tokens: int = 256, batch_size: int = 32):
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging
                except ImportError:
                    raise UserError("embedder \"minilm\" needs the [minilm] extra: pip install -e '.[minilm]' "
                                    "torch==2.13.0 (or use the default embedder \"local\")") from None

                # a "Loading weights" bar per load would litter the CLI (typed only where transformers is installed)
                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call, unused-ignore]
                model = SentenceTransformer(str(onnx_minilm.bundled_model_dir()), device="cpu")
                model.max_seq_length = self.max_tokens
                self._model = model
            return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vecs = self._load().encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                   normalize_embeddings=True, show_progress_bar=False)
        return _normalise(vecs)


_OPENAI_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


class OpenAIEmbedder:
    """OpenAI-compatible embeddings via langchain-openai. check_embedding_ctx_length=False because the
    length check tokenises with tiktoken, which downloads its files (fails offline and on non-OpenAI
    models). Outputs are re-normalised: not every compatible server returns unit vectors."""

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None,
                 dim: int | None = None, timeout: float = 60.0, max_retries: int = 2):
        from langchain_openai import OpenAIEmbeddings

        # Local servers take any key; the client refuses to start without one.
        api_key = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
        kwargs = dict(model=model, base_url=base_url, api_key=api_key, check_embedding_ctx_length=False,
                      request_timeout=timeout, max_retries=max_retries)
        if dim and model.startswith("text-embedding-3"):
            kwargs["dimensions"] = dim  # only the v3 models accept shortened outputs
        self._client = OpenAIEmbeddings(**kwargs)
        self.model = model
        self.name = f"openai:{model}:{dim or 'native'}" + (f"@{base_url}" if base_url else "")
        self._dim = dim or _OPENAI_DIMS.get(model)

    @property
    def dim(self) -> int:
        if self._dim is None:  # unknown model: ask the server once
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vecs = _normalise(np.array(self._client.embed_documents(list(texts)), dtype=np.float32))
        self._dim = vecs.shape[1]
        return vecs


class EmbedderError(RuntimeError):
    """The embedder answered with vectors that can't be used (never cached)."""


class CachedEmbedder:
    """Content-addressed cache: key = sha256(inner.name + NUL + text), value = float32 bytes in SQLite.

    embed() asks `inner` only for texts it has not seen (each distinct text once, even if repeated in
    the call). Counters are cumulative over calls: `misses` = texts sent to inner, `hits` = requested
    texts served without it (including repeats of a miss inside the same call). WAL mode lets other
    processes read while one writes; a lock serialises this object's own connection across threads.
    """

    def __init__(self, inner: Embedder, db_path: Path):
        self.inner = inner
        self.name = inner.name
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = dbfiles.connect(self.db_path, check_same_thread=False, timeout=30)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            self._db.commit()
        except sqlite3.DatabaseError as exc:
            raise dbfiles.damaged(self.db_path, f"is not a usable SQLite database ({exc})") from None
        self.hits = 0
        self.misses = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _usable(self, vector: np.ndarray) -> bool:
        """A cached row is served only if it has the embedder's dimension, is finite and is not zero."""
        dim = getattr(self.inner, "_dim", None) if hasattr(self.inner, "_dim") else self.inner.dim
        return ((dim is None or vector.size == dim) and vector.size > 0 and bool(np.isfinite(vector).all())
                and float(np.linalg.norm(vector)) > 1e-6)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.inner.name}\0{text}".encode()).hexdigest()

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for i in range(0, len(unique), 500):  # stay under SQLite's bound-variable limit
                chunk = unique[i:i + 500]
                rows = self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                for k, blob in rows:
                    found[k] = np.frombuffer(blob, dtype=np.float32) if len(blob) % 4 == 0 else np.zeros(0, np.float32)
        bad = [k for k, v in found.items() if not self._usable(v)]
        if bad:  # dropped here, recomputed and overwritten below
            log.warning("%d unusable vectors in the embedding cache %s (wrong size, NaN, infinite or zero): "
                        "recomputed", len(bad), self.db_path)
            for k in bad:
                del found[k]
        todo = {k: t for k, t in zip(keys, texts) if k not in found}  # dict: one entry per distinct text
        if todo:
            vecs = _normalise(self.inner.embed(list(todo.values())))
            if len(vecs) != len(todo) or not all(self._usable(v) for v in vecs):
                raise EmbedderError(f"embedder {self.inner.name} returned unusable vectors (wrong count or size, "
                                    "NaN, infinite or zero): none were cached; check the embedding model or server")
            new = dict(zip(todo, vecs))
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                                     [(k, v.tobytes()) for k, v in new.items()])
                self._db.commit()
            found.update(new)
        with self._lock:
            self.misses += len(todo)
            self.hits += len(texts) - len(todo)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def make_embedder(provider: str, cache_dir: Path, cache_db: Path | None = None, **kw: Any) -> Embedder:
    """provider: "local" (fast int8 ONNX MiniLM, default), "static" (distilled token table), "minilm"
    (reference), "openai".
    kw go to the embedder's constructor; cache_db wraps it in a CachedEmbedder."""
    if provider == "local":
        emb: Embedder = FastLocalEmbedder(Path(cache_dir), **kw)
    elif provider == "static":
        emb = StaticMiniLMEmbedder(Path(cache_dir), **kw)
    elif provider == "minilm":
        emb = MiniLMEmbedder(**kw)
    elif provider == "openai":
        emb = OpenAIEmbedder(**kw)
    else:
        raise ValueError(f"unknown embedding provider {provider!r} (local, static, minilm, openai)")
    return CachedEmbedder(emb, Path(cache_db)) if cache_db else emb
