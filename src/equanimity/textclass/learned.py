"""Learned heads: small logistic regressions on the shared sentence embeddings.

A head is a JSON file under ``scorers/learned/`` (``<name>.json``: the weights as base64
float16, the bias, the decision threshold, which features it reads) with a training record
(``<name>.record.json``: data, n, dev figures, the head file's sha256), both written by
``scripts/train_learned.py`` from DEV splits only. A head whose file does not hash to its
recorded sha256 is refused.

Features are built from the vectors of the embedding the head names: the MiniLM sentence
embedding (:mod:`~equanimity.textclass.embeddings`) or the cheap token-mean vector
(:mod:`~equanimity.textclass.token_vectors`). Blocks: ``reply`` (the reply), ``context`` (what
the reply answers: the question or stated belief, and the pushback), and ``reply*context``
(their elementwise product).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from equanimity.paths import scorers_dir
from equanimity.textclass.embeddings import DIM, MODEL_ID, embed_many
from equanimity.textclass.lexicons import cleared_with_caches
from equanimity.textclass.token_vectors import TOKEN_MEAN_ID, token_mean_many

Embedder = Callable[[Sequence[str]], npt.NDArray[np.float32]]
EMBEDDERS: dict[str, Embedder] = {MODEL_ID: embed_many, TOKEN_MEAN_ID: token_mean_many}
"""The embeddings a head can be trained on, by identity: the MiniLM sentence embedding (a
transformer run per text, milliseconds) and the token-mean vector (tens of microseconds)."""

Feature = Literal["reply", "context", "reply*context"]
"""A block of a head's input vector."""
ContextKind = Literal["stance", "stance+pushback", "pushback"]
"""What a head's context text is made of: the stance (the question and the claim pushed, or the
user's stated belief or work), the pushback (the user's message), or both."""


def context_text(kind: ContextKind, stance: str, pushback: str) -> str:
    """The context text a head of ``kind`` reads."""
    parts = {"stance": [stance], "pushback": [pushback], "stance+pushback": [stance, pushback]}
    return " ".join(p.strip() for p in parts[kind] if p.strip())


class LearnedError(RuntimeError):
    """A head file is missing, malformed, or does not match its recorded hash."""


class HeadFile(BaseModel):
    """A logistic-regression head as shipped (``scorers/learned/<name>.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """The head's name (``caving``)."""
    task: str
    """What its positive class is (the validation task name)."""
    embedding_model: str
    """The embedding its features come from (a key of :data:`EMBEDDERS`)."""
    features: list[Feature]
    """The feature blocks, in order; each is one embedding long."""
    context: ContextKind = "stance+pushback"
    """What the ``context`` embedding is of (:func:`context_text`)."""
    weights: str
    """The coefficients, float16 little-endian, base64."""
    bias: float
    """The intercept."""
    threshold: float = Field(ge=0.0, le=1.0)
    """Probability at or above which the head says positive (chosen on dev)."""
    rollup_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    """For a conversation: positive when its highest per-turn probability reaches this (chosen
    on dev conversations); None = :attr:`threshold`."""


class TrainingRecord(BaseModel):
    """How a head was trained (``scorers/learned/<name>.record.json``)."""

    model_config = ConfigDict(extra="allow")

    head: str
    """The head file's name."""
    sha256: str
    """sha256 of the head file's bytes."""
    data: list[str]
    """The datasets and splits it was trained on (dev only)."""
    n: dict[str, int]
    """Training items per dataset."""
    dev: dict[str, float]
    """Dev figures (cross-validated across groups) at the chosen threshold."""


def learned_dir() -> Path:
    """Folder of the shipped heads (``scorers/learned``)."""
    return scorers_dir() / "learned"


def encode_weights(w: npt.NDArray[np.floating]) -> str:
    """Base64 of ``w`` as float16 little-endian."""
    return base64.b64encode(np.asarray(w, dtype="<f2").tobytes()).decode("ascii")


def decode_weights(s: str) -> npt.NDArray[np.float32]:
    """The float32 coefficients of :func:`encode_weights` output."""
    return np.frombuffer(base64.b64decode(s), dtype="<f2").astype(np.float32)


class Head:
    """A loaded head: probability of the positive class for a feature vector."""

    def __init__(self, spec: HeadFile, sha256: str) -> None:
        self.spec = spec
        self.sha256 = sha256
        self.coef = decode_weights(spec.weights)
        if self.coef.shape != (DIM * len(spec.features),):
            raise LearnedError(f"head {spec.name}: {self.coef.size} weights for {spec.features}")

    @property
    def threshold(self) -> float:
        """The decision threshold."""
        return self.spec.threshold

    @property
    def embedder(self) -> Embedder:
        """The function that embeds texts the way this head was trained."""
        return EMBEDDERS[self.spec.embedding_model]

    @property
    def runs_a_model(self) -> bool:
        """Whether its embedding runs the transformer (milliseconds a text; worth a thread)."""
        return self.spec.embedding_model == MODEL_ID

    def probability(self, x: npt.NDArray[np.float32]) -> float:
        """P(positive) for one feature vector."""
        z = float(np.dot(self.coef, x)) + self.spec.bias
        return float(1.0 / (1.0 + np.exp(-z)))


def sha256_of(path: Path) -> str:
    """sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@cleared_with_caches
@lru_cache(maxsize=8)
def load_head(name: str) -> Head:
    """The shipped head ``name``, checked against its training record's sha256."""
    folder = learned_dir()
    path, rec_path = folder / f"{name}.json", folder / f"{name}.record.json"
    try:
        raw = path.read_bytes()
        record = TrainingRecord.model_validate_json(rec_path.read_bytes())
        spec = HeadFile.model_validate_json(raw)
    except OSError as e:
        raise LearnedError(f"{e.filename}: cannot read learned head ({e.strerror})") from e
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise LearnedError(f"{folder}/{name}: field {where}: {err['msg']}") from e
    digest = hashlib.sha256(raw).hexdigest()
    if digest != record.sha256:
        raise LearnedError(f"{path}: sha256 {digest} is not the recorded {record.sha256}")
    if spec.embedding_model not in EMBEDDERS:
        known = ", ".join(EMBEDDERS)
        raise LearnedError(f"{path}: trained on {spec.embedding_model}, not one of {known}")
    return Head(spec, digest)


def feature_vectors(
    features: list[Feature],
    replies: list[str],
    contexts: list[str],
    embedding: str = MODEL_ID,
) -> npt.NDArray[np.float32]:
    """Rows of the head inputs for (reply, context) pairs.

    The vectors are those of ``embedding`` (an :data:`EMBEDDERS` key; MiniLM vectors are
    cached and shared).
    """
    embed = EMBEDDERS[embedding]
    r = embed(replies)
    c = embed(contexts) if any(f != "reply" for f in features) else r
    blocks = {"reply": r, "context": c, "reply*context": r * c}
    out: npt.NDArray[np.float32] = np.concatenate([blocks[f] for f in features], axis=1)
    return out


def probability(name: str, reply: str, context: str) -> float:
    """P(positive) of head ``name`` for one reply in its context."""
    head = load_head(name)
    x = feature_vectors(head.spec.features, [reply], [context], head.spec.embedding_model)
    return head.probability(x[0])


def write_head(spec: HeadFile, record: dict[str, object], folder: Path | None = None) -> str:
    """Write ``<name>.json`` and ``<name>.record.json`` (with the head's sha256); returns it."""
    folder = folder or learned_dir()
    folder.mkdir(parents=True, exist_ok=True)
    body = (json.dumps(spec.model_dump(), indent=1) + "\n").encode()
    (folder / f"{spec.name}.json").write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    rec = {"head": f"{spec.name}.json", "sha256": digest, **record}
    (folder / f"{spec.name}.record.json").write_text(json.dumps(rec, indent=1) + "\n")
    return digest
