"""VERA-MH datasets: real chatbot replies to simulated at-risk users, labelled here.

Transcripts: ``vera-mh/conversations/<run>/<file>.txt`` under the data folder (not in this
repository); labels: ``scorers/validation/labels/vera-mh/<run>.jsonl`` (one row per ``agent:``
reply, numbered 1, 2, ... within a file; a reply runs from its ``agent:`` line to the next
``user:`` line) and ``<run>.conversations.jsonl`` (one row per conversation). The split is the
``split`` field of each row: by persona (dev = Lena, Noah, Kevin; test = Omar, Maya, Ray, Sky),
fixed before any detector ran. Datasets:

- ``vera-mh-referral``: gold = ``referral`` (crisis resource or professional);
- ``vera-mh-crisis``: gold = ``crisis_resource`` only (context ``definition=crisis_resource``);
- ``vera-mh-distress``: gold = ``distress``; ``gold_detail`` = distress / boundary / empathy /
  neutral, so false positives on boundary-setting and empathy can be counted;
- ``vera-mh-end-chat``: gold = ``ends_chat`` per reply;
- ``vera-mh-end-chat-transcripts``: gold = ``ended_or_abandoned`` per conversation; the item's
  ``context["conversation"]`` holds the whole transcript as JSON messages.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from equanimity.paths import scorers_dir
from equanimity.validation.items import LabelledItem, Split
from equanimity.validation.readers import DataError, read_jsonl

CONVERSATIONS = "vera-mh/conversations"
_TURN = re.compile(r"^(user|agent):[ \t]?", re.MULTILINE)
_REPLY_FIELDS = (
    "conversation",
    "reply",
    "split",
    "crisis_resource",
    "referral",
    "distress",
    "boundary",
    "empathy",
    "ends_chat",
)


def labels_dir() -> Path:
    """Folder of the committed VERA-MH labels."""
    return scorers_dir() / "validation" / "labels" / "vera-mh"


def parse_transcript(text: str) -> list[tuple[str, str]]:
    """``(role, text)`` pairs of a VERA-MH transcript (role ``user`` or ``agent``)."""
    marks = list(_TURN.finditer(text))
    return [
        (m.group(1), text[m.end() : nxt.start() if nxt else len(text)].strip())
        for m, nxt in zip(marks, [*marks[1:], None], strict=True)
    ]


@lru_cache(maxsize=256)
def _transcript(path: Path) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(parse_transcript(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None


def _split(value: Any, where: str) -> Split:
    if value not in ("dev", "test"):
        raise DataError(f"{where}: split {value!r} is not dev or test")
    return "dev" if value == "dev" else "test"


def _detail(row: dict[str, Any]) -> str:
    for key in ("distress", "boundary", "empathy"):
        if row.get(key):
            return key
    return "neutral"


def _runs(root: Path) -> list[tuple[str, Path]]:
    """``(run, transcript folder)`` for each labelled run whose transcripts are present."""
    base = root / CONVERSATIONS
    return [
        (f.stem, base / f.stem)
        for f in sorted(labels_dir().glob("*.jsonl"))
        if not f.name.endswith(".conversations.jsonl") and (base / f.stem).is_dir()
    ]


def _reply_items(root: Path) -> list[tuple[dict[str, Any], str, str, str, str]]:
    """``(label row, id, reply, user message, earlier messages as JSON)`` per labelled reply.

    The earlier messages are what a judge is shown before the user message.
    """
    out = []
    for run, folder in _runs(root):
        label_file = labels_dir() / f"{run}.jsonl"
        for row in read_jsonl(label_file, _REPLY_FIELDS):
            where = f"{label_file}:{row['__line__']}"
            path = folder / str(row["conversation"])
            if not path.is_file():
                raise DataError(f"{where}: transcript {path} not found")
            turns = _transcript(path)
            agent = [i for i, (role, _) in enumerate(turns) if role == "agent"]
            n = int(row["reply"])
            if not 1 <= n <= len(agent):
                raise DataError(f"{where}: reply {n} but {path.name} has {len(agent)} replies")
            i = agent[n - 1]
            users = [k for k in range(i) if turns[k][0] == "user"]
            user = turns[users[-1]][1] if users else ""
            earlier = [{"role": r, "content": x} for r, x in turns[: users[-1] if users else i]]
            item_id = f"{run}/{row['conversation']}#{n}"
            out.append((row, item_id, turns[i][1], user, json.dumps(earlier)))
    return out


def _items(root: Path, dataset: str, key: str, task: str) -> list[LabelledItem]:
    items = []
    for row, item_id, reply, user, earlier in _reply_items(root):
        items.append(
            LabelledItem.model_validate(
                {
                    "dataset": dataset,
                    "id": item_id,
                    "split": _split(row["split"], item_id),
                    "task": task,
                    "gold": bool(row[key]),
                    "gold_detail": _detail(row) if task == "distress" else None,
                    "reply": reply,
                    "user": user,
                    "context": {
                        "definition": key,
                        "persona": str(row.get("persona", "")),
                        "history": earlier,
                    },
                    "group": item_id.split("#")[0],
                }
            )
        )
    return items


def load_referral(root: Path) -> list[LabelledItem]:
    """``vera-mh-referral``: gold = crisis resource or professional."""
    return _items(root, "vera-mh-referral", "referral", "referral")


def load_crisis(root: Path) -> list[LabelledItem]:
    """``vera-mh-crisis``: gold = crisis resource only."""
    return _items(root, "vera-mh-crisis", "crisis_resource", "referral")


def load_distress(root: Path) -> list[LabelledItem]:
    """``vera-mh-distress``: gold = the model's own distress."""
    return _items(root, "vera-mh-distress", "distress", "distress")


def load_end_chat(root: Path) -> list[LabelledItem]:
    """``vera-mh-end-chat``: gold = the reply ends or abandons the chat."""
    return _items(root, "vera-mh-end-chat", "ends_chat", "end_chat")


def load_end_chat_transcripts(root: Path) -> list[LabelledItem]:
    """``vera-mh-end-chat-transcripts``: one item per conversation, gold = ended or abandoned."""
    items = []
    for run, folder in _runs(root):
        label_file = labels_dir() / f"{run}.conversations.jsonl"
        if not label_file.is_file():
            continue
        for row in read_jsonl(label_file, ("conversation", "split", "ended_or_abandoned")):
            path = folder / str(row["conversation"])
            if not path.is_file():
                raise DataError(f"{label_file}:{row['__line__']}: transcript {path} not found")
            turns = _transcript(path)
            messages = [
                {"role": "assistant" if r == "agent" else "user", "content": t} for r, t in turns
            ]
            last = next((t for r, t in reversed(turns) if r == "agent"), "")
            item_id = f"{run}/{row['conversation']}"
            items.append(
                LabelledItem(
                    dataset="vera-mh-end-chat-transcripts",
                    id=item_id,
                    split=_split(row["split"], item_id),
                    task="end_chat",
                    gold=bool(row["ended_or_abandoned"]),
                    reply=last,
                    context={
                        "conversation": json.dumps(messages),
                        "risk_level": str(row.get("risk_level", "")),
                    },
                    group=item_id,
                )
            )
    return items
