"""The one reader of inspect logs used by analysis, the report and the re-scorer.

A local ``.eval`` log (a zip of JSON members) is read straight from its members, which keeps
memory flat and the CPU cost low at 10,000 samples:

- the header from ``header.json`` alone (inspect's header-only read also parses the
  per-sample reductions, ~14 KiB a sample in memory, which nothing here uses);
- the sample summaries streamed one at a time from ``summaries.json``
  (:func:`json_array_items`), each optionally trimmed before it is validated;
- one sample at a time from its member, parsed with the C ``json`` parser and validated
  without the fields the caller leaves out (inspect's reader with ``exclude_fields`` streams
  through ijson and hashes every message: 3-4x the CPU, measured on 1,000 samples).

Anything else (a ``.json`` log, a remote one, a log still being written without
``summaries.json``) goes through inspect's public readers (``read_eval_log``,
``read_eval_log_sample_summaries``, ``read_eval_log_samples(_by_id)``). Both paths give the
same objects (``tests/test_frame_stream.py``, ``tests/test_report_reading.py``,
``tests/test_inspect_internal.py``).
"""

from __future__ import annotations

import codecs
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from inspect_ai.log import (
    EvalLog,
    EvalSample,
    EvalSampleSummary,
    read_eval_log,
    read_eval_log_sample_summaries,
    read_eval_log_samples,
    read_eval_log_samples_by_id,
)

from equanimity._inspect_internal import (
    HEADER_JSON,
    READ_CONTEXT,
    SAMPLES_DIR,
    SUMMARIES_JSON,
    read_header,
    sample_filename,
)

HEADER_MEMBER = HEADER_JSON
"""The finished log's header inside an ``.eval`` zip (inspect's layout)."""

SUMMARIES_MEMBER = SUMMARIES_JSON
"""The finished log's consolidated sample summaries inside an ``.eval`` zip."""

READ_CHUNK = 1 << 20
"""Bytes of a zip member decompressed at a time while streaming it."""

BATCH = 64
"""Samples read per batch through inspect's reader (``.eval`` logs not read directly)."""

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


def local_eval_zip(path: str, finished: bool = False) -> zipfile.ZipFile | None:
    """The open zip of a local ``.eval`` log, else None (the caller uses inspect's reader).

    ``finished``: only a finished log (one with ``header.json`` and ``summaries.json``).
    """
    if not path.endswith(".eval") or not os.path.isfile(path):
        return None
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return None
    if finished:
        names = set(zf.namelist())
        if HEADER_MEMBER not in names or SUMMARIES_MEMBER not in names:
            zf.close()
            return None
    return zf


def zip_header(zf: zipfile.ZipFile, location: str) -> EvalLog:
    """A log's header from its open zip, as inspect reads it, without the reductions.

    ``header.json`` when the log finished, else the journal's start record.
    """
    return read_header(zf, location)


def sample_members(zf: zipfile.ZipFile) -> list[str]:
    """The sample members of an open log, each name once (a repeated name: the last wins).

    Same selection as inspect's reader: ``samples/*.json``.
    """
    return [
        n
        for n in dict.fromkeys(zf.namelist())
        if n.startswith(f"{SAMPLES_DIR}/") and n.endswith(".json")
    ]


def member_sample_epoch(name: str) -> tuple[str, int]:
    """(sample id as text, epoch) of a member ``samples/<id>_epoch_<n>.json`` (epoch 0: none)."""
    stem = name[len(SAMPLES_DIR) + 1 : -len(".json")]
    sid, _, epoch = stem.rpartition("_epoch_")
    return sid, int(epoch) if epoch.isdigit() else 0


Trim = Callable[[Any], Any]
"""Drops the parts of a raw JSON item the caller never reads, before it is validated."""


def read_summaries(
    path: str, trim: Trim | None = None
) -> tuple[EvalLog, Iterator[EvalSampleSummary]]:
    """A log's header (no reductions) and an iterator over its sample summaries.

    For a finished local ``.eval`` log the summaries are streamed from ``summaries.json``,
    each passed through ``trim`` (a raw JSON dict) before validation; otherwise inspect's
    ``read_eval_log_sample_summaries`` reads them whole (``trim`` unused). The iterator
    closes the log when exhausted.
    """
    zf = local_eval_zip(path, finished=True)
    if zf is None:
        header = read_eval_log(path, header_only=True)
        header.reductions = None  # read even for a header-only read; not kept
        return header, iter(read_eval_log_sample_summaries(path))
    try:
        header = zip_header(zf, path)
    except BaseException:
        zf.close()
        raise

    def summaries() -> Iterator[EvalSampleSummary]:
        with zf, zf.open(SUMMARIES_MEMBER) as fh:
            for item in json_array_items(fh):
                raw = trim(item) if trim is not None else item
                yield EvalSampleSummary.model_validate(raw, context=READ_CONTEXT)

    return header, summaries()


def read_zip_sample(
    zf: zipfile.ZipFile,
    path: str,
    sample_id: str | int,
    epoch: int,
    exclude_fields: Iterable[str] = (),
) -> EvalSample:
    """One sample from an open ``.eval`` zip, without ``exclude_fields``.

    Raises ``IndexError`` (as inspect's reader does) when the log has no such sample.
    """
    try:
        raw = zf.read(sample_filename(sample_id, epoch))
    except KeyError:
        raise IndexError(
            f"Sample id {sample_id} for epoch {epoch} not found in log {path}"
        ) from None
    data = json.loads(raw)
    for name in exclude_fields:
        data.pop(name, None)
    return EvalSample.model_validate(data, context=READ_CONTEXT)


def read_samples(
    path: str,
    order: list[tuple[str, int]] | None,
    exclude_fields: set[str],
) -> Iterator[EvalSample]:
    """Samples of a log one at a time (or one batch), without ``exclude_fields``.

    ``order``: the (sample id, epoch) pairs to read, in that order (``.eval`` logs); None
    reads every sample in log order (needed for ``.json`` logs, which are streamed).
    """
    if path.endswith(".eval") and order is not None:
        zf = local_eval_zip(path)
        if zf is not None:
            with zf:
                for sid, epoch in order:
                    yield read_zip_sample(zf, path, sid, epoch, exclude_fields)
            return
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            yield from read_eval_log_samples_by_id(
                path, batch, concurrency=4, exclude_fields=exclude_fields
            )
        return
    yield from read_eval_log_samples(
        path, all_samples_required=False, exclude_fields=exclude_fields
    )
