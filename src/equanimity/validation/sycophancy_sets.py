"""Sycophancy validation sets: SYCON-Bench pushback conversations and the written sets.

Datasets (each a list of :class:`~equanimity.validation.items.LabelledItem`):

- ``sycon-<model>`` (task ``caving``): every ``sycon-bench/false-presuppositions/<model>/``
  under the data root holding ``responses.csv`` and ``judge_labels.csv``. One item per reply to
  a pushback (turns 2-5); gold = SYCON's GPT-4o judge says the reply treats the false
  presupposition as true (label 0, "caves"). Context: the question, its presupposition and
  correction (``data/*.txt``), the pushback (``data/push_back.csv``) and the conversation so
  far (JSON).
- ``sycon-<model>-conversations`` (task ``caving``): one item per conversation, gold = caved at
  any of turns 2-5; ``context["replies"]`` and ``context["pushbacks"]`` hold the four turns
  (JSON lists) so a layer can roll its per-turn verdicts up (:func:`conversation_turns`).
- ``written-flips`` (task ``flip``) and ``written-caving`` (task ``caving``): the hand-written
  sets in ``scorers/validation/written/`` (see its README), split by their ``split`` field.

Splits, fixed before any detector ran on the data: the models ``deepseek-v3`` and
``Qwen2.5-72B-Instruct`` are held out whole as ``test`` (as is any model not in
:data:`TRAINING_MODELS`, e.g. one added under ``--data``); the four training models are split
by question number, ``hashed_split("sycon-q:<n>")``, so a question's replies of every training
model fall on one side.

``python -m equanimity.validation.sycophancy_sets [--split dev|test] [--data DIR]`` prints the
sycophancy rows (see :mod:`equanimity.validation.sycophancy_report`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from equanimity.paths import scorers_dir
from equanimity.validation.items import DatasetSpec, LabelledItem, Split, hashed_split
from equanimity.validation.readers import DataError, read_csv, read_jsonl

SYCON_DIR = Path("sycon-bench") / "false-presuppositions"
"""Where the SYCON-Bench false-presupposition setting lies under a data root."""
TRAINING_MODELS = frozenset(
    {"gpt-4o", "Qwen2.5-7B-Instruct", "Llama-3.1-8B-Instruct", "gemma2-9b-it"}
)
"""SYCON models whose dev questions may be tuned and trained on; every other model is test."""
HELD_OUT_MODELS = frozenset({"deepseek-v3", "Qwen2.5-72B-Instruct"})
"""The SYCON models held out whole as test (named for the record; any non-training model is)."""
PUSHBACK_TURNS = (2, 3, 4, 5)
"""SYCON reply numbers that answer a pushback (reply 1 answers the question)."""
CONVERSATIONS = "-conversations"
"""Suffix of the per-conversation rollup dataset's name."""


def written_dir() -> Path:
    """The folder of the hand-written validation sets (shipped with the project)."""
    return scorers_dir() / "validation" / "written"


# --------------------------------------------------------------------------------------------
# SYCON-Bench


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read ({e})") from e


class _Questions(BaseModel):
    model_config = ConfigDict(frozen=True)
    questions: list[str]
    presuppositions: list[str]
    corrections: list[str]
    pushbacks: list[list[str]]


def _load_questions(base: Path) -> _Questions:
    data = base / "data"
    qs = _read_lines(data / "questions.txt")
    pre = _read_lines(data / "presuppositions.txt")
    cor = _read_lines(data / "corrections.txt")
    cols = tuple(f"Pushback_{i}" for i in range(1, 5))
    rows = read_csv(data / "push_back.csv", ("Question", *cols))
    for name, got in (
        ("presuppositions.txt", pre),
        ("corrections.txt", cor),
        ("push_back.csv", rows),
    ):
        if len(got) < len(qs):
            raise DataError(f"{data / name}: {len(got)} rows for {len(qs)} questions")
    return _Questions(
        questions=qs,
        presuppositions=pre[: len(qs)],
        corrections=cor[: len(qs)],
        pushbacks=[[r[c] for c in cols] for r in rows[: len(qs)]],
    )


def sycon_split(model: str, question: int) -> Split:
    """The fixed split of SYCON question ``question`` (1-based) of ``model``."""
    if model not in TRAINING_MODELS:
        return "test"
    return hashed_split(f"sycon-q:{question}")


def _label(path: Path, line: int, value: str) -> bool:
    """SYCON judge label -> caved (True for 0)."""
    v = value.strip()
    if v not in ("0", "1"):
        raise DataError(f"{path}, line {line}: judge label {value!r} is not 0 or 1")
    return v == "0"


def sycon_models(root: Path) -> list[Path]:
    """The SYCON model folders under ``root`` that hold both replies and judge labels."""
    base = root / SYCON_DIR
    if not base.is_dir():
        return []
    return sorted(
        d
        for d in base.iterdir()
        if d.is_dir() and (d / "responses.csv").is_file() and (d / "judge_labels.csv").is_file()
    )


def _sycon_model(folder: Path, q: _Questions) -> tuple[list[LabelledItem], list[LabelledItem]]:
    model = folder.name
    reply_cols = tuple(f"Response_{t}" for t in range(1, 6))
    replies = read_csv(folder / "responses.csv", ("Question", *reply_cols))
    labels_path = folder / "judge_labels.csv"
    labels = read_csv(labels_path, ("Row", *reply_cols))
    if len(replies) != len(labels):
        raise DataError(f"{folder}: {len(replies)} reply rows but {len(labels)} label rows")
    turns: list[LabelledItem] = []
    convs: list[LabelledItem] = []
    for i, (rep, lab) in enumerate(zip(replies, labels, strict=True)):
        line = i + 2
        try:
            n = int(lab["Row"])
        except ValueError as e:
            raise DataError(
                f"{labels_path}, line {line}: Row {lab['Row']!r} is not a number"
            ) from e
        if not 1 <= n <= len(q.questions):
            raise DataError(f"{labels_path}, line {line}: Row {n} is not a question number")
        question = q.questions[n - 1]
        split = sycon_split(model, n)
        base_ctx = {
            "question": question,
            "presupposition": q.presuppositions[n - 1],
            "correction": q.corrections[n - 1],
            "model": model,
        }
        conversation: list[dict[str, str]] = [
            {"role": "user", "content": question},
            {"role": "assistant", "content": rep["Response_1"]},
        ]
        golds: list[bool] = []
        for t in PUSHBACK_TURNS:
            pushback = q.pushbacks[n - 1][t - 2]
            caved = _label(labels_path, line, lab[f"Response_{t}"])
            golds.append(caved)
            turns.append(
                LabelledItem(
                    dataset=f"sycon-{model}",
                    id=f"q{n:03d}-t{t}",
                    split=split,
                    task="caving",
                    gold=caved,
                    gold_detail="caved" if caved else "held",
                    reply=rep[f"Response_{t}"],
                    user=pushback,
                    context={
                        **base_ctx,
                        "pushback": pushback,
                        "turn": str(t),
                        "conversation": json.dumps(conversation),
                    },
                    group=f"q{n:03d}",
                )
            )
            conversation += [
                {"role": "user", "content": pushback},
                {"role": "assistant", "content": rep[f"Response_{t}"]},
            ]
        convs.append(
            LabelledItem(
                dataset=f"sycon-{model}{CONVERSATIONS}",
                id=f"q{n:03d}",
                split=split,
                task="caving",
                gold=any(golds),
                gold_detail="caved" if any(golds) else "held",
                reply=rep["Response_5"],
                user=q.pushbacks[n - 1][-1],
                context={
                    **base_ctx,
                    "pushback": q.pushbacks[n - 1][-1],
                    "replies": json.dumps([rep[f"Response_{t}"] for t in PUSHBACK_TURNS]),
                    "pushbacks": json.dumps(q.pushbacks[n - 1]),
                    "turn_gold": json.dumps(golds),
                },
                group=f"q{n:03d}",
            )
        )
    return turns, convs


def _load_sycon(root: Path) -> tuple[list[LabelledItem], list[LabelledItem]]:
    folders = sycon_models(root)
    if not folders:
        return [], []
    q = _load_questions(root / SYCON_DIR)
    turns: list[LabelledItem] = []
    convs: list[LabelledItem] = []
    for folder in folders:
        t, c = _sycon_model(folder, q)
        turns += t
        convs += c
    return turns, convs


def load_sycon(root: Path) -> list[LabelledItem]:
    """Per-turn SYCON items (turns 2-5) of every model under ``root``; [] when absent."""
    return _load_sycon(root)[0]


def load_sycon_conversations(root: Path) -> list[LabelledItem]:
    """Per-conversation SYCON items (caved at any of turns 2-5); [] when absent."""
    return _load_sycon(root)[1]


# --------------------------------------------------------------------------------------------
# written sets


class _FlipRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    split: Split
    locale: str = "en-US"
    question: str
    correct: str
    wrong: str
    pushback: str
    reply: str
    label: str


class _CavingRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    split: Split
    locale: str = "en-US"
    kind: str
    group: str
    context: str
    pushback: str
    reply: str
    label: str


def _jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(line, object)`` of a JSON Lines file (none when the file is absent)."""
    if not path.is_file():
        return []
    return [(int(obj.pop("__line__")), obj) for obj in read_jsonl(path)]


def _field_error(path: Path, line: int, e: ValidationError) -> DataError:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "row"
    return DataError(f"{path}, line {line}: field {where}: {err['msg']}")


FLIP_LABELS = ("correct", "wrong", "unclear")
CAVING_LABELS = ("caved", "held", "honest_agreement")


def load_written_flips(root: Path | None = None, path: Path | None = None) -> list[LabelledItem]:
    """The written answer-flip set (task ``flip``: gold = the reply asserts the wrong answer).

    ``gold_detail`` keeps the 3-way label (correct / wrong / unclear). ``root`` is ignored: the
    set ships with the project (``path`` overrides its location, for tests).
    """
    path = path or written_dir() / "flips.jsonl"
    items: list[LabelledItem] = []
    for line, obj in _jsonl(path):
        try:
            r = _FlipRow.model_validate(obj)
        except ValidationError as e:
            raise _field_error(path, line, e) from e
        if r.label not in FLIP_LABELS:
            raise DataError(f"{path}, line {line}: label {r.label!r} not in {FLIP_LABELS}")
        items.append(
            LabelledItem(
                dataset="written-flips",
                id=r.id,
                split=r.split,
                task="flip",
                gold=r.label == "wrong",
                gold_detail=r.label,
                reply=r.reply,
                user=r.pushback or r.question,
                locale=r.locale,
                context={
                    "question": r.question,
                    "correct": r.correct,
                    "wrong": r.wrong,
                    "pushback": r.pushback,
                },
                group=r.id,
            )
        )
    return items


def load_written_caving(root: Path | None = None, path: Path | None = None) -> list[LabelledItem]:
    """The written caving set (task ``caving``: gold = ``caved``; honest agreement is not)."""
    path = path or written_dir() / "caving.jsonl"
    items: list[LabelledItem] = []
    for line, obj in _jsonl(path):
        try:
            r = _CavingRow.model_validate(obj)
        except ValidationError as e:
            raise _field_error(path, line, e) from e
        if r.label not in CAVING_LABELS:
            raise DataError(f"{path}, line {line}: label {r.label!r} not in {CAVING_LABELS}")
        items.append(
            LabelledItem(
                dataset="written-caving",
                id=r.id,
                split=r.split,
                task="caving",
                gold=r.label == "caved",
                gold_detail=r.label,
                reply=r.reply,
                user=r.pushback,
                locale=r.locale,
                context={"stance": r.context, "pushback": r.pushback, "kind": r.kind},
                group=r.group,
            )
        )
    return items


WRITTEN_SOURCE = "scorers/validation/written (equanimity, MIT)"
SYCON_SOURCE = "SYCON-Bench false-presupposition setting (Hong et al. 2025, MIT)"

SYCOPHANCY_DATASETS: list[DatasetSpec] = [
    DatasetSpec(
        name="sycon",
        task="caving",
        source=SYCON_SOURCE,
        labelled_by="SYCON-Bench's GPT-4o judge",
        load=load_sycon,
    ),
    DatasetSpec(
        name="sycon-conversations",
        task="caving",
        source=SYCON_SOURCE,
        labelled_by="SYCON-Bench's GPT-4o judge (caved at any of turns 2-5)",
        load=load_sycon_conversations,
    ),
    DatasetSpec(
        name="written-flips",
        task="flip",
        source=WRITTEN_SOURCE,
        labelled_by="equanimity helper (AI), 2026-12-01",
        load=load_written_flips,
    ),
    DatasetSpec(
        name="written-caving",
        task="caving",
        source=WRITTEN_SOURCE,
        labelled_by="equanimity helper (AI), 2026-12-01",
        load=load_written_caving,
    ),
]
"""The sycophancy datasets, in the order ``validate-scorers`` reports them."""


if __name__ == "__main__":  # pragma: no cover - thin CLI
    from equanimity.validation.sycophancy_report import main

    raise SystemExit(main(SYCOPHANCY_DATASETS, TRAINING_MODELS))
