"""Refusal datasets: every XSTest-format completions file, and PyRIT's human-labelled set.

- ``xstest/xstest_v2_completions_<model>.csv`` (any number of files: each is the dataset
  ``xstest-<model>``): columns ``id``, ``prompt``, ``completion``, ``final_label``
  (``1_full_compliance`` / ``2_full_refusal`` / ``3_partial_refusal``). Split by prompt:
  ``hashed_split("xstest:" + id)``, so a prompt is on the same side in every model's file.
- ``pyrit-refusal/refusal.csv`` (``refusal_extra.csv`` is a verbatim subset of it and is not
  read): columns ``objective``, ``assistant_response``, ``human_score`` (1 = refusal). The
  objective is the user message; split by objective: ``hashed_split("pyrit:" + objective)``.
"""

from __future__ import annotations

from pathlib import Path

from equanimity.validation.items import LabelledItem, hashed_split
from equanimity.validation.readers import DataError, read_csv

XSTEST_GLOB = "xstest/xstest_v2_completions_*.csv"
XSTEST_PREFIX = "xstest_v2_completions_"
XSTEST_GOLD = {
    "1_full_compliance": False,
    "2_full_refusal": True,
    "3_partial_refusal": True,
}
PYRIT_FILE = "pyrit-refusal/refusal.csv"


def xstest_files(root: Path) -> list[Path]:
    """Every XSTest-format completions file under ``root``, sorted by name."""
    return sorted(root.glob(XSTEST_GLOB))


def xstest_dataset_name(path: Path) -> str:
    """``xstest-<model>`` for ``xstest_v2_completions_<model>.csv``."""
    return "xstest-" + path.stem.removeprefix(XSTEST_PREFIX)


def load_xstest_file(path: Path) -> list[LabelledItem]:
    """The labelled replies of one XSTest completions file."""
    name = xstest_dataset_name(path)
    items = []
    for row in read_csv(path, ("id", "prompt", "completion", "final_label")):
        label = row["final_label"].strip()
        if label not in XSTEST_GOLD:
            raise DataError(
                f"{path}:{row['__line__']}: final_label {label!r} is not one of "
                + ", ".join(XSTEST_GOLD)
            )
        pid = row["id"].strip()
        items.append(
            LabelledItem(
                dataset=name,
                id=pid,
                split=hashed_split("xstest:" + pid),
                task="refusal",
                gold=XSTEST_GOLD[label],
                gold_detail=label.split("_", 1)[1],
                reply=row["completion"],
                user=row["prompt"],
                context={"type": row.get("type") or ""},
                group=pid,
            )
        )
    return items


def load_xstest(root: Path) -> list[LabelledItem]:
    """Every XSTest-format file under ``root`` (none: [])."""
    return [item for path in xstest_files(root) for item in load_xstest_file(path)]


def load_pyrit(root: Path) -> list[LabelledItem]:
    """PyRIT's ``refusal.csv`` under ``root`` (absent: []).

    ``gold_detail`` is ``non_sequitur`` for a refusal-labelled row whose reply text also occurs
    in the file labelled 0 for another objective (PyRIT counts an answer to a different question as a
    refusal; SOURCE.md caveat 2), else ``on_topic``.
    """
    path = root / PYRIT_FILE
    if not path.is_file():
        return []
    items = []
    rows = read_csv(path, ("objective", "assistant_response", "human_score"), skip_comments=True)
    answered: set[str] = {  # reply texts labelled "not a refusal" for some objective
        row["assistant_response"].strip() for row in rows if row["human_score"].strip() == "0"
    }
    for row in rows:
        score = row["human_score"].strip()
        if score not in ("0", "1"):
            raise DataError(f"{path}:{row['__line__']}: human_score {score!r} is not 0 or 1")
        objective = row["objective"]
        items.append(
            LabelledItem(
                dataset="pyrit-refusal",
                id=f"line-{row['__line__']}",
                split=hashed_split("pyrit:" + objective),
                task="refusal",
                gold=score == "1",
                gold_detail=(
                    "non_sequitur"
                    if score == "1" and row["assistant_response"].strip() in answered
                    else "on_topic"
                ),
                reply=row["assistant_response"],
                user=objective,
                group=objective,
            )
        )
    return items


def load_pyrit_on_topic(root: Path) -> list[LabelledItem]:
    """``pyrit-refusal-on-topic``: PyRIT without the non-sequitur rows (see :func:`load_pyrit`)."""
    return [
        item.model_copy(update={"dataset": "pyrit-refusal-on-topic"})
        for item in load_pyrit(root)
        if item.gold_detail != "non_sequitur"
    ]
