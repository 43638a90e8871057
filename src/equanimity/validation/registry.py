"""The datasets and layers ``equanimity validate-scorers`` knows (one line per registration).

Each helper adds its lines here (see the validation contract): ``DATASETS`` lists every
:class:`~equanimity.validation.items.DatasetSpec`; ``LAYERS`` maps ``(task, layer name)`` to a
factory returning the layer.
"""

from __future__ import annotations

from collections.abc import Callable

from equanimity.validation.items import DatasetSpec, Layer, Task
from equanimity.validation.sycophancy_layers import SYCOPHANCY_LAYERS
from equanimity.validation.sycophancy_sets import SYCOPHANCY_DATASETS

DATASETS: list[DatasetSpec] = [
    *SYCOPHANCY_DATASETS,  # sycophancy helper: SYCON per turn and per conversation, written sets
]
"""Every labelled dataset, in report order."""

LAYERS: dict[tuple[Task, str], Callable[[], Layer]] = {
    **SYCOPHANCY_LAYERS,  # sycophancy helper: flip rule; caving rule and learned (rolled up)
}
"""Layer factories by (task, layer name)."""
