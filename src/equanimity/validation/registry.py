"""Every labelled dataset and every scorer layer ``validate-scorers`` knows.

Helpers register datasets by appending :class:`DatasetSpec` lines to :data:`DATASETS` and layers
by adding a factory to :data:`LAYERS`. A dataset's ``source`` and ``labelled_by`` come from
``scorers/validation/manifest.yaml`` (the one place that documents each set: source, licence,
who labelled it, split rule, label meaning).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from inspect_ai.model import Model
from pydantic import BaseModel, ConfigDict, Field

from equanimity.paths import scorers_dir
from equanimity.scorers.judge import AUDIT_RATE
from equanimity.textclass.lexicons import Strict, load
from equanimity.validation import refusal_sets, vera_sets, written_sets
from equanimity.validation.items import DatasetSpec, LabelledItem, Layer, Task
from equanimity.validation.judge_layers import judge_layer, panel_layer
from equanimity.validation.rule_layers import learned_layer, rule_layer
from equanimity.validation.sycophancy_layers import SYCOPHANCY_LAYERS
from equanimity.validation.sycophancy_sets import SYCOPHANCY_DATASETS


class LayerOptions(BaseModel):
    """What the command line passes to every layer factory."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    grader: str | None = None
    """``--model-role grader=MODEL``: the judge model (judge and cascade layers need it)."""
    grader_model: Model | None = None
    """The grader built from :attr:`grader` (the command builds it; else ``get_model``)."""
    panel: list[Model] = Field(default_factory=list)
    """``grader=A,B,...``: every grader of a panel (the first is also :attr:`grader_model`)."""
    audit_rate: float = AUDIT_RATE
    """``--audit-rate``: seeded share of all items drawn for the agreement sample (cascade)."""
    extra: dict[str, str] = Field(default_factory=dict)
    """Further options a layer may read."""


LayerFactory = Callable[[Task, LayerOptions], Layer | None]
"""Builds a layer for a task; None when it does not cover the task or is not configured."""


class ManifestEntry(Strict):
    """One dataset of ``scorers/validation/manifest.yaml``."""

    task: Task
    """What the labels say."""
    files: str
    """Where the data is read from."""
    source: str
    """Where the data comes from."""
    licence: str
    """The data's licence."""
    labelled_by: str
    """Who wrote the gold labels, and when."""
    split: str
    """The split rule, fixed before any detector ran."""
    labels: str
    """What the positive class means."""


class Manifest(Strict):
    """``scorers/validation/manifest.yaml``."""

    datasets: dict[str, ManifestEntry]
    """Dataset name (or prefix of per-file datasets) to its entry."""


def manifest_path() -> Path:
    """Path of the validation manifest."""
    return scorers_dir() / "validation" / "manifest.yaml"


@lru_cache(maxsize=1)
def manifest() -> Manifest:
    """The parsed manifest (raises ``SourceError`` naming the line of a problem)."""
    return load(manifest_path(), Manifest)[1]


def spec(name: str, loader: Callable[[Path], list[LabelledItem]]) -> DatasetSpec:
    """A :class:`DatasetSpec` whose task, source and labeller come from the manifest."""
    entry = manifest().datasets[name]
    return DatasetSpec(
        name=name,
        task=entry.task,
        source=f"{entry.source} Licence: {entry.licence}.",
        labelled_by=entry.labelled_by,
        load=loader,
    )


def _datasets() -> list[DatasetSpec]:
    return [
        spec("xstest", refusal_sets.load_xstest),
        spec("pyrit-refusal", refusal_sets.load_pyrit),
        spec("pyrit-refusal-on-topic", refusal_sets.load_pyrit_on_topic),
        spec("vera-mh-referral", vera_sets.load_referral),
        spec("vera-mh-crisis", vera_sets.load_crisis),
        spec("vera-mh-distress", vera_sets.load_distress),
        spec("vera-mh-end-chat", vera_sets.load_end_chat),
        spec("vera-mh-end-chat-transcripts", vera_sets.load_end_chat_transcripts),
        spec("written-distress", written_sets.load_written_distress),
        spec("written-referral", written_sets.load_written_referral),
        spec("written-refusal", written_sets.load_written_refusal),
    ]


def _rule(task: Task, _options: LayerOptions) -> Layer | None:
    return rule_layer(task)


DATASETS: list[DatasetSpec] = _datasets()
"""Every dataset, in report order."""


def _learned(task: Task, _options: LayerOptions) -> Layer | None:
    return learned_layer(task)


LAYERS: dict[str, LayerFactory] = {"rule": _rule, "learned": _learned}
"""Every layer factory by name (``--layer NAME`` picks some; default all that apply)."""

# The sycophancy sets (SYCON per model and per conversation, written flips and caving) and
# layers (flip rule, caving rule and learned head, rolled up per conversation).
DATASETS += SYCOPHANCY_DATASETS


def _sycophancy_factory(name: str) -> LayerFactory:
    def make(task: Task, options: LayerOptions) -> Layer | None:
        factory = SYCOPHANCY_LAYERS.get((task, name))
        if factory is not None:
            return factory()
        return (
            LAYERS_BEFORE_SYCOPHANCY[name](task, options)
            if name in LAYERS_BEFORE_SYCOPHANCY
            else None
        )

    return make


LAYERS_BEFORE_SYCOPHANCY = dict(LAYERS)
for _name in sorted({n for _, n in SYCOPHANCY_LAYERS}):
    LAYERS[_name] = _sycophancy_factory(_name)


def _grader(options: LayerOptions) -> Model | None:
    if options.grader_model is not None:
        return options.grader_model
    if options.grader is None:
        return None
    from inspect_ai.model import get_model

    return get_model(options.grader)


def _judge(task: Task, options: LayerOptions) -> Layer | None:
    return judge_layer(task, _grader(options), cascade=False, audit_rate=0.0)


def _cascade(task: Task, options: LayerOptions) -> Layer | None:
    return judge_layer(task, _grader(options), cascade=True, audit_rate=options.audit_rate)


def _panel(task: Task, options: LayerOptions) -> Layer | None:
    return panel_layer(task, options.panel)


# judge and cascade: only with --model-role grader=MODEL (no grader, no rows, no cost); panel:
# only with grader=A,B (judge and cascade rows then use the first grader)
LAYERS["judge"] = _judge
LAYERS["cascade"] = _cascade
LAYERS["panel"] = _panel
