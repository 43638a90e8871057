"""Part 4: judge cost — grader calls per scored turn with the cascade on and off.

The shipped library is replayed by reference personas with a stub grader (``mockllm`` answering
valid JSON for each rubric schema) bound as the ``grader`` role; the counts come from each
score's ``judge_calls`` metadata.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.measure import run_child


@dataclass
class JudgeRow:
    """One persona's judge calls with the cascade on and off."""

    persona: str
    """Reference persona replayed."""
    on: dict[str, Any]
    """Counts with ``default_scorers(cascade=True)``."""
    off: dict[str, Any]
    """Counts with ``default_scorers(cascade=False)``."""

    @property
    def saving(self) -> float:
        """Share of judge calls the cascade avoids."""
        off = float(self.off["judge_calls"])
        return 1 - float(self.on["judge_calls"]) / off if off else float("nan")


@dataclass
class JudgeResults:
    """All personas, and the totals over them."""

    rows: list[JudgeRow] = field(default_factory=list)
    """One row per persona."""

    def total(self, side: str, key: str) -> int:
        """Sum of ``key`` (judge_calls or turns) over personas, cascade ``on`` or ``off``."""
        return sum(int(getattr(r, side)[key]) for r in self.rows)


def measure_judge(personas: list[str], log: Callable[[str], None]) -> JudgeResults:
    """Replay the library once per persona and cascade setting, counting grader calls."""
    res = JudgeResults()
    with tempfile.TemporaryDirectory(prefix="eqbench-judge-") as tmp:
        for p in personas:
            on = run_child("judge", p, "on", tmp)
            off = run_child("judge", p, "off", tmp)
            for side, r in (("on", on), ("off", off)):
                if r.get("status") != "success":
                    raise RuntimeError(f"judge run {p} cascade {side}: status {r.get('status')}")
            row = JudgeRow(p, on, off)
            res.rows.append(row)
            log(
                f"  {p:12s} turns {on['turns']:4d}  calls on {on['judge_calls']:5d}"
                f" ({on['calls_per_turn']:.2f}/turn)  off {off['judge_calls']:5d}"
                f" ({off['calls_per_turn']:.2f}/turn)  saving {row.saving:.0%}"
            )
    return res
