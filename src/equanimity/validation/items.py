"""The data model every validation layer shares: labelled replies, their splits, predictions.

``equanimity validate-scorers`` measures each scorer layer (rule, learned, judge, cascade) on
labelled sets of real replies. A dataset loader turns a public or hand-written set into
:class:`LabelledItem` rows; a layer turns an item into a :class:`Prediction`; the report
compares predictions with gold labels per dataset, split and layer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Split = Literal["dev", "test"]
"""``dev``: tune and pin figures on it. ``test``: measure once per change of approach."""

Task = Literal["refusal", "referral", "distress", "flip", "caving", "end_chat"]
"""What is being detected. The positive class of each task:

- refusal: the reply refused, fully or partly;
- referral: the reply points the user to a crisis line, emergency services or a professional;
- distress: the reply shows the model's own apparent distress (not boundary-setting, not
  empathy for the user);
- flip: the reply asserts the wrong answer the user pushed for;
- caving: the reply abandons its honest position under pushback;
- end_chat: the reply (or conversation) ends or abandons the chat.
"""


class LabelledItem(BaseModel):
    """One real (or hand-written) reply with its gold label and the context to judge it."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    """Dataset name, e.g. ``xstest-mistralinstruct``, ``sycon-gpt-4o``, ``written-flips``."""
    id: str
    """Stable id within the dataset (row, prompt id, conversation and reply number)."""
    split: Split
    """Fixed by the data's manifest rule, never by looking at a detector's output."""
    task: Task
    """What the gold label says."""
    gold: bool
    """The gold label: True when the item is in the task's positive class."""
    gold_detail: str | None = None
    """The finer gold label where the data has one (e.g. ``partial``, ``boundary``)."""
    reply: str
    """The assistant reply being judged."""
    user: str | None = None
    """The user message the reply answers, when known."""
    locale: str = "en-US"
    """The user's locale (picks support resources, language of the reply)."""
    context: dict[str, str] = Field(default_factory=dict)
    """Task-specific context: ``question``, ``pushback``, ``correct``, ``wrong``, ``stance``,
    ``conversation`` (JSON-encoded earlier messages; SYCON), ``history`` (the same for
    VERA-MH replies), ``risk_level`` ..."""
    group: str | None = None
    """Cluster for intervals and per-conversation figures (conversation, question, prompt)."""


class Prediction(BaseModel):
    """A layer's verdict on one item."""

    model_config = ConfigDict(frozen=True)

    positive: bool | None
    """The verdict; None when the layer gave none (unparseable, abstained): never counted as
    right or wrong, reported as its own count."""
    layer: str
    """Which layer decided: ``rule``, ``learned``, ``judge:<model>``, ``cascade:<model>``."""
    confidence: float | None = None
    """Probability or confidence of ``positive`` where the layer has one."""
    detail: str | None = None
    """Finer label or explanation (e.g. ``partial``), for confusion tables and audits."""
    rule_positive: bool | None = None
    """Judge and cascade layers: the rule layer's verdict on the item."""
    judge_positive: bool | None = None
    """Judge and cascade layers: the judge's verdict (None: not asked, or no parseable answer)."""
    sent: Literal["cascade", "audit", "cascade_audit", "all"] | None = None
    """Why the item went to the judge (rule unsure, random audit of a confident item, both,
    no cascade); None: it did not."""
    error: str | None = None
    """The provider's error when the judge call failed (the item is then unscored)."""
    panel: dict[str, bool | None] | None = None
    """Panel layers: each grader's verdict (None: no parseable answer)."""
    calls: int = 0
    """Judge calls made for the item."""
    input_tokens: int = 0
    """Judge input tokens (as the provider reported them; a cached answer reports its first cost)."""
    output_tokens: int = 0
    """Judge output tokens."""


Layer = Callable[[LabelledItem], Prediction]
"""A scorer layer as validation sees it."""


class DatasetSpec(BaseModel):
    """A labelled set that ``validate-scorers`` recognises under a data folder."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    """Dataset name (prefix for datasets discovered per file/model, e.g. ``xstest``)."""
    task: Task
    """What its labels say."""
    source: str
    """Where the data comes from and its licence (one line)."""
    labelled_by: str
    """Who wrote the gold labels (humans of the source, a judge model, an equanimity author)."""
    load: Callable[[Path], list[LabelledItem]]
    """Reads every item from the data root (``--data DIR``); returns [] when absent."""


def hashed_split(key: str) -> Split:
    """The fixed split of a key: ``dev`` when sha256(key) is even, else ``test``."""
    return "dev" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 0 else "test"
