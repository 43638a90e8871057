"""One row per sample from an inspect log, read from sample summaries (fast, no transcripts).

Memory stays flat as a log grows: for a finished local ``.eval`` log the summaries are parsed
one at a time from the zip's ``summaries.json`` member (streamed, never the whole list) and only
the frame's columns are kept; the header is read from ``header.json`` alone, without the
per-sample reductions inspect's header-only read parses and nothing here uses. Any other log
(``.json``, remote, or still running, without ``summaries.json``) goes through inspect's own
readers. Both paths give the same frame.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import inspect_ai._util.zipfile  # noqa: F401  (registers zstd, which .eval members use)
import pandas as pd
from inspect_ai._util.constants import DESERIALIZING
from inspect_ai.log import (
    EvalLog,
    EvalSampleSummary,
    read_eval_log,
    read_eval_log_sample_summaries,
)
from inspect_ai.log._recorders.eval import HEADER_JSON, SUMMARIES_JSON, _read_header

from equanimity.analysis.headline import Headline
from equanimity.scorers.metrics import interval95

BASE_COLUMNS = (
    "sample_id",
    "epoch",
    "scenario_id",
    "scenario_version",
    "category",
    "locale",
    "branch_of",
    "is_branch",
    "error",
    "outcome",
    "input_tokens",
    "output_tokens",
)


@dataclass
class Run:
    """A run: its log header and a per-sample frame."""

    path: str
    """Where the log was read from."""
    header: EvalLog
    """The log without samples."""
    samples: pd.DataFrame
    """One row per sample (see :data:`BASE_COLUMNS`, plus ``scorer.key`` value columns)."""

    @property
    def model(self) -> str:
        """The evaluated model's name."""
        return self.header.eval.model

    @property
    def status(self) -> str:
        """The log status (success, error, cancelled, started)."""
        return str(self.header.status)

    @property
    def label(self) -> str:
        """A short label: model and run time."""
        return f"{self.model} ({self.header.eval.created[:16].replace('T', ' ')})"


def _float(v: Any) -> float:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    return math.nan


HEADER_MEMBER = HEADER_JSON
"""The finished log's header inside an ``.eval`` zip (inspect's layout)."""

SUMMARIES_MEMBER = SUMMARIES_JSON
"""The finished log's consolidated sample summaries inside an ``.eval`` zip (inspect's layout)."""

READ_CHUNK = 1 << 20
"""Bytes of a zip member decompressed at a time while streaming it."""

_WHITESPACE = re.compile(r"[ \t\n\r]*")


def json_array_items(stream: IO[bytes], chunk: int = READ_CHUNK) -> Iterator[Any]:
    """Yield each element of the JSON array in ``stream``, parsing one element at a time.

    Same parser as ``json.loads`` (so ``NaN`` and ``Infinity`` are accepted, as inspect writes
    them), but only one element and one ``chunk`` of text are in memory at once. Raises
    ``ValueError`` when the stream is not a JSON array.
    """
    decode = json.JSONDecoder().raw_decode
    utf8 = codecs.getincrementaldecoder("utf-8")()
    buf, pos, eof = "", 0, False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        data = stream.read(chunk)
        eof = not data
        buf = buf[pos:] + utf8.decode(data, final=eof)
        pos = 0
        return True

    def significant() -> str:
        nonlocal pos
        while True:
            match = _WHITESPACE.match(buf, pos)
            pos = match.end() if match else pos
            if pos < len(buf):
                return buf[pos]
            if not more():
                return ""

    if significant() != "[":
        raise ValueError("expected a JSON array")
    pos += 1
    if significant() == "]":
        return
    while True:
        significant()
        while True:
            try:
                item, end = decode(buf, pos)
            except json.JSONDecodeError:
                if more():  # the element runs past the text read so far
                    continue
                raise
            follow = _WHITESPACE.match(buf, end)
            nxt = follow.end() if follow else end
            # a number cut by the chunk ("2." of "2.5") decodes as a shorter one: only an element
            # followed by ',' or ']' is complete
            if (nxt >= len(buf) or buf[nxt] not in ",]") and more():
                continue
            break
        yield item
        pos = end
        sep = significant()
        if sep == "]":
            return
        if sep != ",":
            raise ValueError(f"expected ',' or ']' in a JSON array, got {sep[:1]!r}")
        pos += 1


def _finished_eval_zip(path: str) -> zipfile.ZipFile | None:
    """The log's zip when it is a local, finished ``.eval`` log (has header and summaries)."""
    if not path.endswith(".eval") or not os.path.isfile(path):
        return None
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return None
    names = set(zf.namelist())
    if HEADER_MEMBER in names and SUMMARIES_MEMBER in names:
        return zf
    zf.close()
    return None


METADATA_KEYS = (
    "scenario_id",
    "scenario_version",
    "category",
    "locale",
    "branch_of",
    "branch_from",
    "end_offer",
    "user_simulator",
)
"""The sample metadata keys the frame reads."""


def _slim(item: Any) -> Any:
    """Drop the parts of a raw summary the frame never reads, before it is validated.

    Validating a summary thins its text (``textwrap.shorten`` on every score explanation,
    a size check on every metadata value), which was most of the cost of reading summaries.
    Thinning is per key, so dropping score explanations and metadata and the unused sample
    metadata keys leaves every value the frame reads exactly as a full validation gives it.
    """
    if not isinstance(item, dict):
        return item
    md = item.get("metadata")
    if isinstance(md, dict):
        item["metadata"] = {k: md[k] for k in METADATA_KEYS if k in md}
    scores = item.get("scores")
    if isinstance(scores, dict):
        for score in scores.values():
            if isinstance(score, dict):
                score.pop("explanation", None)
                score.pop("metadata", None)
    return item


def _stream_summaries(zf: zipfile.ZipFile) -> Iterator[EvalSampleSummary]:
    with zf.open(SUMMARIES_MEMBER) as fh:
        for item in json_array_items(fh):
            # inspect's read context, less its message cache (it hashes every input message)
            yield EvalSampleSummary.model_validate(_slim(item), context={DESERIALIZING: True})


def _read_log(p: str) -> tuple[EvalLog, Iterator[EvalSampleSummary]]:
    zf = _finished_eval_zip(p)
    if zf is None:
        header = read_eval_log(p, header_only=True)
        # inspect reads the per-sample reductions even for a header-only read (~14 KiB a sample
        # in memory); nothing here uses them, so they are not kept for the life of the Run
        header.reductions = None
        return header, iter(read_eval_log_sample_summaries(p))
    try:
        header = _read_header(zf, p)  # inspect's: header.json alone, no reductions
    except BaseException:
        zf.close()
        raise

    def summaries() -> Iterator[EvalSampleSummary]:
        with zf:
            yield from _stream_summaries(zf)

    return header, summaries()


def _row(s: EvalSampleSummary) -> dict[str, Any]:
    md = s.metadata or {}
    row: dict[str, Any] = {
        "sample_id": str(s.id),
        "epoch": s.epoch,
        "scenario_id": md.get("scenario_id", str(s.id)),
        "scenario_version": md.get("scenario_version", 1),
        "category": md.get("category", "unknown"),
        "locale": md.get("locale", ""),
        "branch_of": md.get("branch_of"),
        "is_branch": md.get("branch_from") is not None,
        # logs written before exit-offer modes always offered the tool
        "end_offer": md.get("end_offer") or "tool",
        "user_simulator": md.get("user_simulator"),
        "error": s.error,
        "outcome": None,
        "input_tokens": sum(u.input_tokens for u in s.model_usage.values()),
        "output_tokens": sum(u.output_tokens for u in s.model_usage.values()),
    }
    for scorer_name, score in (s.scores or {}).items():
        if scorer_name == "end_chat" and isinstance(score.answer, str):
            row["outcome"] = score.answer
        if isinstance(score.value, dict):
            for k, v in score.value.items():
                row[f"{scorer_name}.{k}"] = _float(v)
    return row


def load_run(path: str | Path) -> Run:
    """Read a log's header and sample summaries into a :class:`Run`.

    Summaries are read one at a time and only the frame's columns kept (see the module
    docstring). Raises ``ValueError`` naming the file if it is not a readable inspect log.
    """
    p = str(path)
    # keyed like inspect's own summary reader: the last row of a (sample id, epoch) wins, in
    # the position of its first row (a requeued sample's re-run supersedes its prior attempt)
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        header, summaries = _read_log(p)
        for s in summaries:
            rows[(str(s.id), s.epoch)] = _row(s)
    except FileNotFoundError:
        raise ValueError(f"{p}: no such log file") from None
    except Exception as exc:  # inspect raises many types for unreadable files
        raise ValueError(f"{p}: not a readable inspect log ({type(exc).__name__}: {exc})") from None
    frame = pd.DataFrame(list(rows.values()), columns=None if rows else list(BASE_COLUMNS))
    return Run(p, header, frame)


def headline_values(df: pd.DataFrame, h: Headline) -> pd.Series:
    """The applicable, scored values of one headline metric in ``df``."""
    if h.column not in df.columns:
        return pd.Series(dtype=float)
    sub = df
    if h.categories is not None:
        sub = sub[sub["category"].isin(h.categories)]
    if "error" in sub.columns:
        sub = sub[sub["error"].isna()]
    return sub[h.column].dropna().astype(float)


@dataclass(frozen=True)
class Estimate:
    """A rate or mean with its 95% interval."""

    value: float
    """Point value (NaN when no sample applies)."""
    low: float
    """Lower 95% bound."""
    high: float
    """Upper 95% bound."""
    n: int
    """Samples it is computed over."""


def estimate(values: pd.Series) -> Estimate:
    """Mean and 95% interval (Wilson for 0/1 values)."""
    vals = [float(v) for v in values]
    if not vals:
        return Estimate(math.nan, math.nan, math.nan, 0)
    lo, hi = interval95(vals)
    return Estimate(sum(vals) / len(vals), lo, hi, len(vals))


def headline_table(run: Run, headlines: tuple[Headline, ...]) -> dict[str, Estimate]:
    """Each headline metric's estimate for a run."""
    return {h.id: estimate(headline_values(run.samples, h)) for h in headlines}


def category_table(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per-category mean of each column (applicable samples only), plus the sample count."""
    ok = df[df["error"].isna()] if "error" in df.columns else df
    present = [c for c in columns if c in ok.columns]
    table = ok.groupby("category")[present].mean()
    table.insert(0, "samples", ok.groupby("category").size())
    return table
