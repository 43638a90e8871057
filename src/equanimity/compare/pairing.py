"""Pair the samples of two runs by (sample id, epoch) and enforce that they are comparable."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from equanimity.analysis.frame import Run
from equanimity.compare.simulators import check_user_simulators

KEY = ["sample_id", "epoch"]
"""Columns that identify a sample across runs (branch replays have their own sample id)."""


class PairingError(ValueError):
    """The two runs cannot be compared as they are (different scenarios or versions)."""


@dataclass
class Pairing:
    """Two runs' samples, aligned row by row on (sample id, epoch)."""

    baseline: Run
    """The reference run."""
    candidate: Run
    """The run under test."""
    base: pd.DataFrame
    """Baseline rows of the paired samples, indexed by (sample_id, epoch)."""
    cand: pd.DataFrame
    """Candidate rows, same index and order as :attr:`base`."""
    only_baseline: list[str] = field(default_factory=list)
    """Samples (``id#epoch``) dropped because only the baseline has them."""
    only_candidate: list[str] = field(default_factory=list)
    """Samples dropped because only the candidate has them."""
    version_changed: list[str] = field(default_factory=list)
    """Samples dropped because their scenario version differs between the runs."""
    content_changed: list[str] = field(default_factory=list)
    """Samples dropped because their scenario's content hash differs (same id and version)."""

    @property
    def dropped(self) -> int:
        """How many samples (both sides together) were left out of the comparison."""
        changed = len(self.version_changed) + len(self.content_changed)
        return len(self.only_baseline) + len(self.only_candidate) + 2 * changed

    @property
    def n(self) -> int:
        """Paired samples."""
        return len(self.base)


def _keyed(run: Run, side: str) -> pd.DataFrame:
    df = run.samples
    if df.empty:
        raise PairingError(f"{run.path}: the {side} log has no samples")
    keyed = df.set_index(KEY, drop=False)
    dup = keyed.index[keyed.index.duplicated()]
    if len(dup):
        sid, ep = dup[0]
        raise PairingError(f"{run.path}: sample '{sid}' epoch {ep} appears more than once")
    return keyed


def _name(key: tuple[str, int]) -> str:
    return f"{key[0]}#{key[1]}"


def _examples(keys: list[str], k: int = 3) -> str:
    more = f", … ({len(keys) - k} more)" if len(keys) > k else ""
    return ", ".join(keys[:k]) + more


def pair_runs(baseline: Run, candidate: Run, intersection: bool = False) -> Pairing:
    """Align two runs on (sample id, epoch).

    The runs must hold the same samples with the same ``scenario_version`` and, where both logs
    record it, the same ``scenario_hash``; otherwise a :class:`PairingError` says what differs,
    naming the samples, unless ``intersection`` is set, in which case only the common,
    same-version, same-content samples are kept and the rest are listed on the result.
    """
    b, c = _keyed(baseline, "baseline"), _keyed(candidate, "candidate")
    kb, kc = set(b.index), set(c.index)
    only_b = sorted(_name(k) for k in kb - kc)
    only_c = sorted(_name(k) for k in kc - kb)
    common = [k for k in b.index if k in kc]
    changed = [
        k for k in common if str(b.at[k, "scenario_version"]) != str(c.at[k, "scenario_version"])
    ]
    content = [k for k in common if k not in set(changed) and _hash_differs(b, c, k)]
    if (only_b or only_c or changed or content) and not intersection:
        parts = []
        if only_b:
            parts.append(f"{len(only_b)} sample(s) only in the baseline ({_examples(only_b)})")
        if only_c:
            parts.append(f"{len(only_c)} sample(s) only in the candidate ({_examples(only_c)})")
        if changed:
            detail = [
                f"{_name(k)} v{b.at[k, 'scenario_version']!s}→v{c.at[k, 'scenario_version']!s}"
                for k in changed
            ]
            parts.append(
                f"{len(changed)} sample(s) with a different scenario version ({_examples(detail)})"
            )
        if content:
            parts.append(
                f"{len(content)} sample(s) whose scenario content differs under the same id and "
                f"version ({_examples([_name(k) for k in content])}): bump the version of an "
                "edited scenario, and give a new scenario a new id"
            )
        keep = len(common) - len(changed) - len(content)
        raise PairingError(
            "the runs are not comparable: "
            + "; ".join(parts)
            + f". Re-run both on the same scenarios, or pass --intersection to compare the {keep}"
            " common, same-version sample(s)."
        )
    changed_set = set(changed) | set(content)
    keep_keys = [k for k in common if k not in changed_set]
    check_user_simulators(b, c, keep_keys)
    if not keep_keys:
        raise PairingError("the runs have no common, same-version samples to compare")
    index = pd.MultiIndex.from_tuples(keep_keys, names=KEY)
    return Pairing(
        baseline,
        candidate,
        b.loc[index],
        c.loc[index],
        only_b,
        only_c,
        sorted(_name(k) for k in changed),
        sorted(_name(k) for k in content),
    )


def _hash_differs(b: pd.DataFrame, c: pd.DataFrame, key: tuple[str, int]) -> bool:
    """Both runs recorded a content hash for this sample, and the hashes differ."""
    if "scenario_hash" not in b.columns or "scenario_hash" not in c.columns:
        return False
    hb, hc = b.at[key, "scenario_hash"], c.at[key, "scenario_hash"]
    if not isinstance(hb, str) or not isinstance(hc, str):
        return False  # a log from before the hash was recorded
    return hb != hc
