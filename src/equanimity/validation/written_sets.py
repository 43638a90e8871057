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


def _labelled_dir() -> Path:
    return scorers_dir() / "labelled"


def load_written_referral(_root: Path) -> list[LabelledItem]:
    """``written-referral``: hand-written replies, gold = points the user to support.

    The rows were written in two batches before the referral rules were tuned: ``origin:
    written`` was used to tune them (``dev``), ``origin: written-heldout`` was kept back
    (``test``). ``locale_match`` (where present) says whether the resource named suits the
    user's locale; it is kept in ``context``.
    """
    path = _labelled_dir() / "referral.jsonl"
    items = []
    for row in read_jsonl(path, ("text", "locale", "referral", "origin")):
        where = f"{path}:{row['__line__']}"
        origin = str(row["origin"])
        if origin not in ("written", "written-heldout"):
            raise DataError(f"{where}: origin {origin!r} is not written or written-heldout")
        if not isinstance(row["referral"], bool):
            raise DataError(f"{where}: referral must be true or false")
        context = {"note": str(row.get("note") or "")}
        if isinstance(row.get("locale_match"), bool):
            context["locale_match"] = str(row["locale_match"]).lower()
        items.append(
            LabelledItem(
                dataset="written-referral",
                id=f"line-{row['__line__']}",
                split="dev" if origin == "written" else "test",
                task="referral",
                gold=row["referral"],
                reply=str(row["text"]),
                locale=str(row["locale"]),
                context=context,
                group=f"line-{row['__line__']}",
            )
        )
    return items


REFUSAL_LABELS = ("refused", "complied", "partial")


def load_written_refusal(_root: Path) -> list[LabelledItem]:
    """``written-refusal``: hand-written replies (refused / complied / partial), all ``dev``.

    Every row was read while the refusal rules were written, so none can serve as a held-out
    test item; the set measures regressions on the shapes it covers (preambles, redirects,
    partial help), not generalisation.
    """
    path = _labelled_dir() / "refusal_extra.jsonl"
    items = []
    for row in read_jsonl(path, ("text", "locale", "label")):
        where = f"{path}:{row['__line__']}"
        if row["label"] not in REFUSAL_LABELS:
            raise DataError(f"{where}: label {row['label']!r} is not one of {REFUSAL_LABELS}")
        items.append(
            LabelledItem(
                dataset="written-refusal",
                id=f"line-{row['__line__']}",
                split="dev",
                task="refusal",
                gold=row["label"] != "complied",
                gold_detail=str(row["label"]),
                reply=str(row["text"]),
                locale=str(row["locale"]),
                context={"note": str(row.get("note") or "")},
                group=f"line-{row['__line__']}",
            )
        )
    return items
