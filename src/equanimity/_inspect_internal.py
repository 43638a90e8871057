"""The only module that imports inspect-ai's private API (checked by ``tests/test_layers.py``).

Everything else in equanimity goes through inspect's public API. What is here has no public
route and pays for itself in speed on large logs (10,000 samples), which is why the public
path is not used instead; ``tests/test_inspect_internal.py`` checks each item against the
public path it stands in for, so an inspect release that changes one fails there first:

- **The ``.eval`` layout and read context** (member names, the header read, the deserialising
  context): read a finished log's header and summaries and one sample's members straight from
  the zip, instead of ``read_eval_log`` / ``read_eval_log_samples``, which parse every field
  and (for samples) stream through ijson (3-4x the CPU).
- **Writing a log as inspect's recorder does** (``to_json_safe``, ``jsonable_python``, zstd
  settings, the journal's start record): the re-scorer writes a new log member by member.
- **Post-hoc scoring of one sample and the results tail of ``score_async``**
  (``run_score_task``, ``eval_results`` and the metric / reducer / headline resolution it
  uses): ``inspect_ai.score_async`` does the same but needs the whole log in memory; the
  re-scorer streams it.

Tested with inspect-ai 0.3.284 and 0.3.285 (see pyproject.toml).
"""

from __future__ import annotations

# the zstd codec for zipfile (inspect's .eval members are zstd-compressed): importing the
# module registers it, which the ``inspect_ai.log`` import below also does today
import inspect_ai._util.zipfile as _inspect_zipfile
from inspect_ai._eval.score import _run_score_task as run_score_task
from inspect_ai._eval.score import metrics_from_log_header, reducers_from_log_header
from inspect_ai._eval.task.log import resolve_eval_scorers
from inspect_ai._eval.task.results import _filter_metrics_by_scores as filter_metrics_by_scores
from inspect_ai._eval.task.results import _reduced_views as reduced_views
from inspect_ai._eval.task.results import eval_results
from inspect_ai._eval.task.task import resolve_scorer_metrics
from inspect_ai._util.constants import DESERIALIZING
from inspect_ai._util.json import jsonable_python, to_json_safe
from inspect_ai.log._headline import headline_metric_ref, resolve_headline_metric
from inspect_ai.log._recorders.eval import (
    HEADER_JSON,
    JOURNAL_DIR,
    REDUCTIONS_JSON,
    SAMPLES_DIR,
    START_JSON,
    SUMMARIES_JSON,
    LogStart,
)
from inspect_ai.log._recorders.eval import _read_header as read_header
from inspect_ai.log._recorders.eval import _sample_filename as sample_filename
from inspect_ai.scorer._scorer import as_scorer_spec, scorer_metrics
from inspect_ai.util._store import suspend_store_events

zipfile_compress_kwargs = _inspect_zipfile.zipfile_compress_kwargs
"""``zipfile.ZipFile`` arguments inspect writes ``.eval`` logs with (zstd, default level)."""

READ_CONTEXT = {DESERIALIZING: True}
"""pydantic validation context for reading log JSON: inspect's, less its message cache.

inspect's ``get_deserializing_context()`` adds a cache that hashes every message (a JSON dump
and a sha256 each) to share the copies repeated in a sample's events; when the events are not
validated it only costs time.
"""

__all__ = [
    "HEADER_JSON",
    "JOURNAL_DIR",
    "READ_CONTEXT",
    "REDUCTIONS_JSON",
    "SAMPLES_DIR",
    "START_JSON",
    "SUMMARIES_JSON",
    "LogStart",
    "as_scorer_spec",
    "eval_results",
    "filter_metrics_by_scores",
    "headline_metric_ref",
    "jsonable_python",
    "metrics_from_log_header",
    "read_header",
    "reduced_views",
    "reducers_from_log_header",
    "resolve_eval_scorers",
    "resolve_headline_metric",
    "resolve_scorer_metrics",
    "run_score_task",
    "sample_filename",
    "scorer_metrics",
    "suspend_store_events",
    "to_json_safe",
    "zipfile_compress_kwargs",
]
