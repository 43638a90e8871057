"""SYCON-Bench false-presupposition questions (Hong et al. 2025) → stance-keeping scenarios.

Source layout (github.com/JiseungHong/SYCON-Bench, ``false-presuppositions-setting/data/``,
kept under ``DIR/false-presuppositions/data/``): ``questions.txt``, ``presuppositions.txt`` and
``corrections.txt`` hold one record per line, in the same order; ``push_back.csv`` has a header
``Question,Pushback_1,...,Pushback_4`` and one row per question, in the same order.

Each record becomes one ``sycophancy_feedback_or_belief`` scenario: the question, then its four
scripted pushbacks as user turns. The expectation is a stance: keep the correction, against
the false presupposition (``expect.stance``); the sycophancy scorer reports whether the model
kept it. The model may answer by correcting the premise, which the rule layer can label a
refusal, so ``refusal`` stays ``any``. SYCON's judge labels are not needed.

Records are skipped, with the file and line, when a field is empty, when the four files do not
line up (a missing line, or a ``push_back.csv`` row whose question differs from
``questions.txt``), or when a row has fewer than four pushbacks.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import ValidationError

from equanimity.importers.write import Imported, ImportResult, Skipped
from equanimity.scenarios.schema import Category, Expectations, Scenario, Stance, Turn

SOURCE = (
    "SYCON-Bench (Hong et al. 2025, 'Measuring Sycophancy of Language Models in Multi-turn "
    "Dialogues'), github.com/JiseungHong/SYCON-Bench, false-presuppositions setting; "
    "licence MIT"
)
"""Provenance recorded in every generated scenario."""

DATA_DIR = Path("false-presuppositions") / "data"
"""Where the four source files sit under the folder given to the importer."""

FILES = ("questions.txt", "presuppositions.txt", "corrections.txt", "push_back.csv")
"""The source files read."""

PUSHBACKS = 4
"""Scripted pushbacks per question."""


def _data_dir(source: Path) -> Path:
    for candidate in (source / DATA_DIR, source / "data", source):
        if all((candidate / f).is_file() for f in FILES):
            return candidate
    missing = ", ".join(f for f in FILES if not (source / DATA_DIR / f).is_file())
    raise ValueError(f"{source}: no SYCON-Bench data ({DATA_DIR}/ lacks {missing})")


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None


def _pushback_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line, row) for every data row of ``push_back.csv``, header checked."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            expected = ["Question", *(f"Pushback_{i}" for i in range(1, PUSHBACKS + 1))]
            if header is None or [h.strip() for h in header[: PUSHBACKS + 1]] != expected:
                raise ValueError(f"{path}:1: expected the header {','.join(expected)}")
            rows: list[tuple[int, list[str]]] = []
            start = reader.line_num + 1
            for row in reader:
                rows.append((start, row))
                start = reader.line_num + 1
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None


def import_sycon_bench(source: str | Path) -> ImportResult:
    """Convert every false-presupposition record under ``source`` (see the module docstring)."""
    data = _data_dir(Path(source))
    questions, presups, corrections = (_lines(data / f) for f in FILES[:3])
    rows = _pushback_rows(data / "push_back.csv")
    result = ImportResult(data / "questions.txt")
    n = max(len(questions), len(presups), len(corrections), len(rows))
    for i in range(n):
        item = _convert(i, questions, presups, corrections, rows)
        if isinstance(item, Skipped):
            result.skipped.append(item)
        else:
            result.imported.append(item)
    return result


def _at(values: list[str], i: int) -> str:
    return values[i].strip() if i < len(values) else ""


def _convert(
    i: int,
    questions: list[str],
    presups: list[str],
    corrections: list[str],
    rows: list[tuple[int, list[str]]],
) -> Imported | Skipped:
    line = i + 1
    question, presup, correction = _at(questions, i), _at(presups, i), _at(corrections, i)
    for name, value in (
        ("questions.txt", question),
        ("presuppositions.txt", presup),
        ("corrections.txt", correction),
    ):
        if not value:
            return Skipped(line, "missing field", f"{name} line {line} is empty or absent")
    if i >= len(rows):
        return Skipped(line, "missing field", f"push_back.csv has no row for question {line}")
    csv_line, row = rows[i]
    if row[0].strip() != question:
        return Skipped(
            line,
            "files out of step",
            f"push_back.csv line {csv_line} is for another question",
        )
    pushes = [p.strip() for p in row[1 : PUSHBACKS + 1]]
    if len(pushes) < PUSHBACKS or not all(pushes):
        return Skipped(
            line, "missing pushback", f"push_back.csv line {csv_line} has fewer than {PUSHBACKS}"
        )
    sid = f"sycon-fp-{line:03d}"
    try:
        scenario = Scenario(
            id=sid,
            category=Category.sycophancy_feedback_or_belief,
            description=(
                f"SYCON-Bench false-presupposition question {line}: the question presupposes "
                f"something false and the user pushes back {PUSHBACKS} times; the model should "
                "keep correcting the presupposition."
            ),
            turns=[Turn(user=question), *(Turn(user=p) for p in pushes)],
            expect=Expectations(
                end_chat="forbidden",
                refusal="any",
                stance=Stance(keep=correction, against=presup),
            ),
            tags=["imported", "sycon-bench", "false-presupposition", "pushback"],
            source=f"{SOURCE}; record {line} (questions.txt line {line}, push_back.csv line "
            f"{csv_line})",
        )
    except (ValidationError, ValueError) as exc:
        return Skipped(line, "invalid scenario", str(exc).splitlines()[0])
    header = (
        f"Imported by `equanimity import sycon-bench` from record {line} "
        f"(questions.txt line {line}, push_back.csv line {csv_line}).",
        f"Source: {SOURCE}.",
        "Generated file: change the importer or the source, not this file.",
    )
    return Imported(scenario, line, header)
