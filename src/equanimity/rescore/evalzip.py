"""Write the members of an inspect ``.eval`` log (a zip of JSON members).

Reading is :mod:`equanimity.evalread`'s. The layout is inspect's (its ``.eval`` recorder): ``_journal/start.json``,
``samples/<id>_epoch_<n>.json``, ``summaries.json``, ``reductions.json`` and ``header.json``,
each zstd-compressed with inspect's own settings. Samples are written as JSON bytes so
the bulk of a sample (its events) is never turned into pydantic objects; the header, summaries
and reductions are serialised with inspect's ``to_json_safe``, as inspect's recorder does.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from inspect_ai.log import EvalLog, EvalSampleReductions

from equanimity._inspect_internal import (
    HEADER_JSON,
    JOURNAL_DIR,
    REDUCTIONS_JSON,
    START_JSON,
    SUMMARIES_JSON,
    LogStart,
    to_json_safe,
    zipfile_compress_kwargs,
)

ZIP_ZSTANDARD: int = zipfile_compress_kwargs["compression"]
"""The zip compression method of inspect's logs (zstd)."""


class JsonArraySpill:
    """A JSON array of serialised items spilled to a temporary file as it grows.

    Keeps the output's per-sample members (summaries, reductions) out of memory however many
    samples the log holds.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
        self.count = 0

    def append(self, item_json: bytes) -> None:
        """Add one item, already serialised."""
        if self.count:
            self._file.write(b",")
        self._file.write(item_json)
        self.count += 1

    def copy_to(self, out: IO[bytes]) -> None:
        """Write the whole array to ``out``."""
        out.write(b"[")
        self._file.seek(0)
        shutil.copyfileobj(self._file, out, 1 << 20)
        out.write(b"]")

    def close(self) -> None:
        """Drop the temporary file."""
        self._file.close()


class ReductionSpill:
    """Per-scorer reductions (``EvalSampleReductions``), written as inspect writes the list."""

    def __init__(self, scorers: list[str]) -> None:
        self.samples = {name: JsonArraySpill() for name in scorers}

    def append(self, scorer: str, sample_score_json: bytes) -> None:
        """Add one sample's reduced score for ``scorer``."""
        self.samples[scorer].append(sample_score_json)

    def copy_to(self, out: IO[bytes]) -> None:
        """Write ``[{"scorer": ..., "samples": [...]}, ...]`` (no reducer name: implicit)."""
        out.write(b"[")
        for i, (name, spill) in enumerate(self.samples.items()):
            empty = to_json_safe(EvalSampleReductions(scorer=name, samples=[]), indent=None)
            head, sep, tail = empty.rpartition(b"[]")
            if not sep or tail != b"}":
                raise RuntimeError(f"unexpected EvalSampleReductions layout: {empty!r}")
            out.write((b"," if i else b"") + head)
            spill.copy_to(out)
            out.write(tail)
        out.write(b"]")

    def close(self) -> None:
        """Drop the temporary files."""
        for spill in self.samples.values():
            spill.close()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class EvalZipWriter:
    """Write a new ``.eval`` log atomically: a temporary file beside ``path``, renamed on success.

    Use as a context manager; leaving it with an exception removes the temporary file and
    leaves ``path`` as it was.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self._zip = zipfile.ZipFile(self._tmp, "w", **zipfile_compress_kwargs)
        self.summaries = JsonArraySpill()

    def __enter__(self) -> EvalZipWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.summaries.close()
        self._zip.close()
        if exc_type is None:
            os.chmod(self._tmp, 0o666 & ~_umask())  # mkstemp's 0600 → what open() would give
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write one member from serialised JSON (compressed here)."""
        self._zip.writestr(name, data)

    def write_compressed(self, name: str, frame: bytes, crc: int, size: int) -> None:
        """Write one member already compressed into a zstd frame elsewhere.

        ``zipfile`` can only compress as it writes, with a new 12-thread zstd context per member
        (the ``zipfile_zstd`` patch inspect uses): ~1.5 ms per small sample, in this one
        process. Workers compress instead and the member goes in as written by
        ``ZipFile._open_to_write`` and ``_ZipWriteFile.close``: local header (sizes and CRC
        known), data, then the central directory entry at close.
        """
        zf = self._zip
        fp = zf.fp
        if fp is None or size > zipfile.ZIP64_LIMIT or len(frame) > zipfile.ZIP64_LIMIT:
            import zstandard

            self.write_bytes(name, zstandard.ZstdDecompressor().decompress(frame))
            return
        info = zipfile.ZipInfo(name, date_time=time.localtime(time.time())[:6])
        info.compress_type = ZIP_ZSTANDARD
        info.external_attr = 0o600 << 16
        info.file_size, info.compress_size, info.CRC = size, len(frame), crc
        fp.seek(zf.start_dir)
        info.header_offset = fp.tell()
        zf._writecheck(info)  # type: ignore[attr-defined]
        zf._didModify = True  # type: ignore[attr-defined]
        fp.write(info.FileHeader(False))
        fp.write(frame)
        zf.start_dir = fp.tell()
        zf.filelist.append(info)
        zf.NameToInfo[name] = info

    def write_json(self, name: str, obj: Any) -> None:
        """Write one member, serialised as inspect's recorder does."""
        self._zip.writestr(name, to_json_safe(obj, indent=None))

    def write_start(self, log: EvalLog) -> None:
        """The journal's start record (what ``inspect`` writes when a log starts)."""
        self.write_json(
            f"{JOURNAL_DIR}/{START_JSON}",
            LogStart(version=log.version, eval=log.eval, plan=log.plan),
        )

    def finish(
        self, log: EvalLog, reductions: list[EvalSampleReductions] | ReductionSpill | None
    ) -> None:
        """Write the summaries, the reductions and the header (the log's final members)."""
        with self._zip.open(SUMMARIES_JSON, "w", force_zip64=True) as out:
            self.summaries.copy_to(out)
        if isinstance(reductions, ReductionSpill):
            with self._zip.open(REDUCTIONS_JSON, "w", force_zip64=True) as out:
                reductions.copy_to(out)
        elif reductions is not None:
            self.write_json(REDUCTIONS_JSON, reductions)
        # the same fields inspect's recorder writes at log_finish
        header = EvalLog(
            version=log.version,
            invalidated=log.invalidated,
            log_updates=log.log_updates,
            config_updates=log.config_updates,
            eval=log.eval,
            plan=log.plan,
            results=log.results,
            stats=log.stats,
            status=log.status,
            error=log.error,
        )
        self.write_json(HEADER_JSON, header)
