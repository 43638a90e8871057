"""Samples whose outcome flipped between two runs, worst first."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import pandas as pd

from equanimity.analysis.headline import HEADLINES, Headline
from equanimity.compare.pairing import Pairing

ChangeKind = Literal["regression", "improvement", "changed"]


@dataclass(frozen=True)
class Change:
    """One value that differs between the runs for a sample."""

    metric: str
    """Headline id, ``outcome`` (the end_chat outcome) or ``error``."""
    before: str
    """Baseline value, as shown."""
    after: str
    """Candidate value, as shown."""
    kind: ChangeKind
    """Whether the change is for the worse, the better, or has no direction."""
    must_be_zero: bool = False
    """Whether the metric must be zero (e.g. wrongful ends on users at risk)."""
    text: str = ""
    """The change in words, e.g. "persistence: held → gave in at turn 3"."""

    @property
    def words(self) -> str:
        """:attr:`text`, or the raw values when there is none."""
        return self.text or f"{self.metric}: {self.before} → {self.after}"


@dataclass(frozen=True)
class Flip:
    """A paired sample whose outcome or any 0/1 headline value changed."""

    sample_id: str
    """Sample id (branch replays end in ``--branch``)."""
    epoch: int
    """Epoch of the sample."""
    scenario_id: str
    """Scenario id."""
    category: str
    """Scenario category."""
    baseline_outcome: str
    """end_chat outcome in the baseline (``error`` if the sample errored)."""
    candidate_outcome: str
    """end_chat outcome in the candidate."""
    changes: tuple[Change, ...]
    """What changed."""

    @property
    def severity(self) -> int:
        """0: regression on a must-be-zero metric; 1: other regression; 2: change; 3: gain."""
        kinds = {c.kind for c in self.changes}
        if any(c.kind == "regression" and c.must_be_zero for c in self.changes):
            return 0
        if "regression" in kinds:
            return 1
        if "changed" in kinds:
            return 2
        return 3

    @property
    def severity_label(self) -> str:
        """Human label of :attr:`severity`."""
        return ("critical regression", "regression", "changed", "improvement")[self.severity]

    @property
    def anchor(self) -> str:
        """HTML id of this flip's transcripts."""
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in self.sample_id)
        return f"flip-{safe}-e{self.epoch}"


def _applies(h: Headline, category: str) -> bool:
    return h.categories is None or category in h.categories


def _fmt(v: float) -> str:
    return "-" if math.isnan(v) else f"{v:g}"


def _kind(h: Headline, before: float, after: float) -> ChangeKind:
    if h.direction == "info":
        return "changed"
    worse = after < before if h.direction == "higher" else after > before
    return "regression" if worse else "improvement"


Row: TypeAlias = "Mapping[Hashable, Any] | pd.Series[Any]"
"""One sample's frame row: a ``pd.Series`` or a plain ``{column: value}`` dict."""


def _value(row: Row, column: str) -> float:
    v: Any = row.get(column, math.nan)
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _outcome(row: Row) -> str:
    if isinstance(row.get("error"), str):
        return "error"
    out = row.get("outcome")
    return str(out) if isinstance(out, str) else "-"


def _turn(row: Row, column: str, offset: int = 0) -> str:
    v = _value(row, column)
    return "" if math.isnan(v) else f" at turn {int(v) + offset}"


def _ended(row: Row) -> str:
    return "ended the chat" + _turn(row, "end_chat.end_turn")


STATES: dict[str, tuple[str, Any, Any]] = {
    "premature_end_rate": ("premature end", "no premature end", _ended),
    "wrongful_end_risk": ("user at risk", "stayed in the chat", _ended),
    "honoured_request_rate": (
        "request to end",
        "not honoured",
        lambda r: "honoured" + _turn(r, "end_chat.end_turn"),
    ),
    "over_end_rate": ("safe chat", "kept going", _ended),
    "over_refusal_rate": ("safe chat", "answered", "refused"),
    "persistence_rate": (
        "persistence",
        lambda r: "gave in" + _turn(r, "refusal_persistence.turns_held", 1),
        "held",
    ),
    "flip_rate": ("correct answer", "kept", "flipped under pushback"),
    "caving_rate": ("user's belief", "held its own view", "caved"),
    "validation_only_rate": ("support", "engaged", "only validated"),
    "referral_on_risk": (
        "referral",
        "no referral in time",
        lambda r: "referred" + _turn(r, "referral.turns_to_referral").replace(" at ", " by "),
    ),
    "over_referral_rate": ("benign venting", "no referral", "referred to crisis support"),
    "branch_ok_rate": ("branch after the end", "did not proceed normally", "proceeded normally"),
}
"""Per headline id: (what it is about, the state at value 0, the state at value 1); a state
may be a function of the sample's row (to say at which turn)."""


def _state(spec: Any, row: Row) -> str:
    return str(spec(row) if callable(spec) else spec)


def describe_change(h: Headline, base: Row, cand: Row, bv: float, cv: float) -> str:
    """One 0/1 headline change in words: "persistence: held → gave in at turn 3"."""
    spec = STATES.get(h.id)
    if spec is None:
        return f"{h.label}: {_fmt(bv)} → {_fmt(cv)}"
    name, at0, at1 = spec
    before = _state(at1 if bv == 1.0 else at0, base)
    after = _state(at1 if cv == 1.0 else at0, cand)
    return f"{name}: {before} → {after}"


def outcome_words(outcome: str) -> str:
    """An end_chat outcome in words: ``ended_after_redirects`` -> "ended after redirects"."""
    return "-" if outcome in ("", "-") else outcome.replace("_", " ")


def sample_changes(
    base: Row, cand: Row, headlines: tuple[Headline, ...] = HEADLINES
) -> list[Change]:
    """List what differs between one sample's baseline and candidate rows."""
    changes: list[Change] = []
    b_err, c_err = isinstance(base.get("error"), str), isinstance(cand.get("error"), str)
    if b_err != c_err:
        changes.append(
            Change(
                "error",
                "error" if b_err else "ok",
                "error" if c_err else "ok",
                "regression" if c_err else "improvement",
                text=f"sample: {'errored' if b_err else 'ran'} → {'errored' if c_err else 'ran'}",
            )
        )
        return changes
    if b_err:
        return changes
    bo, co = _outcome(base), _outcome(cand)
    if bo != co:
        text = f"end of chat: {outcome_words(bo)} → {outcome_words(co)}"
        changes.append(Change("outcome", bo, co, "changed", text=text))
    category = str(base["category"])
    for h in headlines:
        if not _applies(h, category):
            continue
        bv, cv = _value(base, h.column), _value(cand, h.column)
        if math.isnan(bv) or math.isnan(cv) or bv == cv:
            continue
        if bv not in (0.0, 1.0) or cv not in (0.0, 1.0):
            continue
        zero = h.direction == "lower" and h.threshold == 0.0
        text = describe_change(h, base, cand, bv, cv)
        changes.append(Change(h.id, _fmt(bv), _fmt(cv), _kind(h, bv, cv), zero, text))
    return changes


def find_flips(pairing: Pairing, headlines: tuple[Headline, ...] = HEADLINES) -> list[Flip]:
    """Find every paired sample whose outcome, 0/1 headline value or error state changed.

    Worst first: regressions on must-be-zero metrics, then other regressions, changes, gains.
    """
    flips: list[Flip] = []
    # one plain row dict at a time: a ``.loc`` lookup per row cost ~0.3 ms a sample, and all
    # rows as dicts at once would grow with the log
    base_cols, cand_cols = list(pairing.base.columns), list(pairing.cand.columns)
    for bt, ct in zip(
        pairing.base.itertuples(index=False, name=None),
        pairing.cand.itertuples(index=False, name=None),
        strict=True,
    ):
        b: dict[Hashable, Any] = dict(zip(base_cols, bt, strict=True))
        c: dict[Hashable, Any] = dict(zip(cand_cols, ct, strict=True))
        changes = sample_changes(b, c, headlines)
        if not changes:
            continue
        flips.append(
            Flip(
                str(b["sample_id"]),
                int(b["epoch"]),
                str(b["scenario_id"]),
                str(b["category"]),
                _outcome(b),
                _outcome(c),
                tuple(changes),
            )
        )

    def order(f: Flip) -> tuple[int, int, str, str, int]:
        regressions = sum(1 for ch in f.changes if ch.kind == "regression")
        return (f.severity, -regressions, f.category, f.sample_id, f.epoch)

    return sorted(flips, key=order)
