"""Compare refuses to pair runs whose simulated users differ, and reports exit-offer modes.

A simulated-user sample's conversation depends on the model that played the user, its
settings and its prompt (recorded per sample as ``user_simulator``, see
:func:`equanimity.solvers.simulated_user.identity_key`): two runs driven by different user
simulators did not ask the same questions, so a difference between them is not the models'.
Different exit-offer modes (``end_offer``) are allowed: comparing one model under two modes,
paired by scenario, is how the offer's effect is measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd


class SimulatorMismatch(ValueError):
    """The two runs' simulated users differ (raised as a pairing error)."""


def _parts(key: str) -> dict[str, str]:
    model, *rest = key.split("|")
    out = {"model": model}
    for item in rest:
        name, _, value = item.partition("=")
        out[name] = value
    return out


def describe_difference(baseline: str | None, candidate: str | None) -> str:
    """Name what differs between two user-simulator identities (``seed 0 vs 1``, ...)."""
    if baseline is None or candidate is None:
        return f"{baseline or 'none'} vs {candidate or 'none'}"
    a, b = _parts(baseline), _parts(candidate)
    diffs = [
        f"{k} {a.get(k, '-')} vs {b.get(k, '-')}"
        for k in dict.fromkeys([*a, *b])
        if a.get(k) != b.get(k)
    ]
    return ", ".join(diffs) or "identical"


def _value(df: pd.DataFrame, key: Any, column: str) -> str | None:
    if column not in df.columns:
        return None
    v = df.at[key, column]
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)


def check_user_simulators(base: pd.DataFrame, cand: pd.DataFrame, keys: Sequence[Any]) -> None:
    """Raise :class:`SimulatorMismatch` when a paired sample had a different user simulator."""
    for key in keys:
        a, b = _value(base, key, "user_simulator"), _value(cand, key, "user_simulator")
        if a != b:
            sid = f"{key[0]}#{key[1]}" if isinstance(key, tuple) else str(key)
            raise SimulatorMismatch(
                f"the runs are not comparable: sample {sid} was driven by different simulated "
                f"users ({describe_difference(a, b)}). Re-run both with the same "
                "--model-role user=... settings and prompt."
            )


def end_offers(df: pd.DataFrame) -> str:
    """The exit-offer mode(s) of a run's samples, e.g. ``tool`` or ``tag, tool``."""
    if "end_offer" not in df.columns or df.empty:
        return "tool"
    return ", ".join(sorted({str(v) for v in df["end_offer"].dropna()})) or "tool"
