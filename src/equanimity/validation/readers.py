"""Reading labelled data files with one-line errors that name the file and line."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any


class DataError(ValueError):
    """A labelled data file is missing or malformed (the message names the file and line)."""


def read_csv(
    path: Path, required: tuple[str, ...], skip_comments: bool = False
) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts; ``required`` columns must exist.

    With ``skip_comments`` leading lines starting with ``#`` are skipped (PyRIT's version line).
    Each row gets ``__line__`` (its 1-based line number of the first physical line).
    """
    try:
        with path.open(newline="", encoding="utf-8") as f:
            offset = 0
            if skip_comments:
                while True:
                    pos = f.tell()
                    line = f.readline()
                    if not line.startswith("#"):
                        f.seek(pos)
                        break
                    offset += 1
            reader = csv.DictReader(f)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"{path}:{offset + 1}: missing column(s) {', '.join(missing)}")
            rows = []
            for row in reader:
                if None in row.values() and any(row.get(c) is None for c in required):
                    raise DataError(f"{path}:{offset + reader.line_num}: row has too few fields")
                row["__line__"] = str(offset + reader.line_num)
                rows.append(row)
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None


def read_jsonl(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Objects of a JSON Lines file (blank lines skipped); ``required`` keys must exist.

    Each object gets ``__line__`` (its line number).
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    out: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{number}: expected a JSON object")
        missing = [k for k in required if k not in obj]
        if missing:
            raise DataError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
        obj["__line__"] = number
        out.append(obj)
    return out
