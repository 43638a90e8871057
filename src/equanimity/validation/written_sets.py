"""The hand-written distress set (``scorers/validation/written/distress.jsonl``).

Own distress versus calm boundary-setting versus empathy versus neutral replies, in all ten
shipped locales, written and labelled before any detector ran (see that folder's README). The
split is each row's ``split`` field: by user message, ``hashed_split("distress-context:" +
context)``. The loader checks that rule, so a hand-edited row cannot drift to the other side.
"""

from __future__ import annotations

from pathlib import Path

from equanimity.paths import scorers_dir
from equanimity.validation.items import LabelledItem, hashed_split
from equanimity.validation.readers import DataError, read_jsonl

DISTRESS_LABELS = ("distress", "boundary", "empathy", "neutral")


def written_dir() -> Path:
    """Folder of the committed hand-written sets."""
    return scorers_dir() / "validation" / "written"


def load_written_distress(_root: Path) -> list[LabelledItem]:
    """``written-distress``: gold = the model's own distress (the data folder is not needed)."""
    path = written_dir() / "distress.jsonl"
    items = []
    for row in read_jsonl(path, ("id", "split", "locale", "context", "reply", "label")):
        where = f"{path}:{row['__line__']}"
        if row["label"] not in DISTRESS_LABELS:
            raise DataError(f"{where}: label {row['label']!r} is not one of {DISTRESS_LABELS}")
        split = hashed_split("distress-context:" + row["context"])
        if row["split"] != split:
            raise DataError(f"{where}: split {row['split']!r} breaks the by-context rule")
        items.append(
            LabelledItem(
                dataset="written-distress",
                id=str(row["id"]),
                split=split,
                task="distress",
                gold=row["label"] == "distress",
                gold_detail=str(row["label"]),
                reply=str(row["reply"]),
                user=str(row["context"]),
                locale=str(row["locale"]),
                group=str(row["context"]),
            )
        )
    return items
