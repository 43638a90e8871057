"""The gate policy file: its schema and loading (errors name the file, line and field)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from equanimity.analysis.headline import HEADLINE_BY_ID
from equanimity.scenarios.schema import Category
from equanimity.yaml_source import SourceError, read_yaml

BUILTIN_POLICIES = ("default",)
"""Policies shipped in the package, selected by name with ``--policy NAME``."""


class RuleError(ValueError):
    """A rule-level check failed on one of the rule's fields."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoRegression(_Strict):
    """Fail the rule when the candidate is significantly worse than the baseline."""

    alpha: float = Field(default=0.05, gt=0, lt=1)
    """Significance level of the paired test over scenarios (McNemar when every scenario is 0/1
    in both runs, else a sign-flip permutation test on the scenario means)."""


class Rule(_Strict):
    """One check on one headline metric, overall or within one category."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    """Test-case name in reports (default: derived from metric, category and threshold)."""
    description: str | None = None
    """Why the rule exists (shown in reports)."""
    metric: str
    """A headline metric id (see ``equanimity.analysis.headline.HEADLINES``)."""
    category: Category | None = None
    """Restrict the metric to one scenario category (must be one the metric covers)."""
    max: float | None = None
    """Pass when the tested value is at most this."""
    min: float | None = None
    """Pass when the tested value is at least this."""
    bound: Literal["point", "upper", "lower"] = "point"
    """Value tested against max/min: the point estimate or an end of its 95% interval."""
    min_samples: int = Field(default=1, ge=1)
    """Fewer applicable (non-errored) scenarios than this is an error, not a pass (the unit is
    the scenario: its epochs and branch replay count once)."""
    no_regression: NoRegression | None = None
    """Also compare with ``--baseline``: fail on a significant change for the worse."""
    when_absent: Literal["skip", "error"] | None = None
    """When none of the run's samples is in a category the rule covers: ``skip`` the rule, or
    ``error`` (exit 2). Unset: error, unless ``gate --only-present`` is given."""
    max_mde: float | None = Field(default=None, gt=0)
    """Require power: error (exit 2) unless the run can detect a change of at most this much
    (the minimum detectable difference at alpha 0.05 and power 0.8 for its scenarios)."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        h = HEADLINE_BY_ID.get(self.metric)
        if h is None:
            known = ", ".join(sorted(HEADLINE_BY_ID))
            raise RuleError("metric", f"unknown metric '{self.metric}' (known: {known})")
        if self.max is not None and self.min is not None:
            raise RuleError("min", "give either max or min, not both (write two rules)")
        if self.max is None and self.min is None and self.no_regression is None:
            raise RuleError("metric", "a rule needs max, min or no_regression")
        if self.max_mde is not None and h.kind == "rate" and self.max_mde >= 1:
            raise RuleError("max_mde", f"max_mde {self.max_mde:g} is not below 1 for a rate")
        if (
            self.category is not None
            and h.categories is not None
            and self.category.value not in h.categories
        ):
            covers = ", ".join(sorted(h.categories))
            raise RuleError(
                "category",
                f"metric '{self.metric}' does not cover category "
                f"'{self.category.value}' (it covers {covers})",
            )
        if self.no_regression is not None and h.direction == "info":
            raise RuleError(
                "no_regression",
                f"metric '{self.metric}' has no better direction; "
                "no_regression does not apply (use max or min)",
            )
        return self

    @property
    def title(self) -> str:
        """The rule's name, or one derived from what it checks."""
        if self.name:
            return self.name
        where = f"[{self.category.value}]" if self.category else ""
        parts = []
        if self.max is not None:
            parts.append(f"{self.bound} <= {self.max:g}")
        if self.min is not None:
            parts.append(f"{self.bound} >= {self.min:g}")
        if self.no_regression is not None:
            parts.append(f"no regression (alpha {self.no_regression.alpha:g})")
        if self.max_mde is not None:
            parts.append(f"max_mde {self.max_mde:g}")
        return f"{self.metric}{where} " + ", ".join(parts)


class Policy(_Strict):
    """A gate policy: rules that must all pass."""

    name: str = Field(default="policy", min_length=1, max_length=80)
    """Name used as the JUnit test-suite name."""
    description: str | None = None
    """What the policy is for."""
    intersection: bool = False
    """For baseline rules: compare only common, same-version samples when the runs differ."""
    rules: list[Rule] = Field(min_length=1)
    """The checks, in report order."""

    @property
    def needs_baseline(self) -> bool:
        """Whether any rule compares against a baseline run."""
        return any(r.no_regression is not None for r in self.rules)


def builtin_policy_path(name: str) -> Path:
    """Return the path of a policy shipped in the package."""
    return Path(str(files("equanimity.gate").joinpath("policies", f"{name}.yaml")))


def resolve_policy_path(spec: str | Path) -> Path:
    """Resolve a built-in policy name (e.g. ``default``) or a file path."""
    if str(spec) in BUILTIN_POLICIES:
        return builtin_policy_path(str(spec))
    return Path(spec)


def load_policy(spec: str | Path) -> Policy:
    """Read and validate a policy; raise :class:`SourceError` naming file, line and field."""
    doc = read_yaml(resolve_policy_path(spec))
    if not isinstance(doc.data, dict):
        raise SourceError(
            doc.path,
            doc.line_of(()),
            None,
            "a policy file must hold one mapping (name, rules, ...)",
        )
    try:
        return Policy.model_validate(doc.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        rule_error = (err.get("ctx") or {}).get("error")
        if isinstance(rule_error, RuleError):
            loc = (*(p for p in err["loc"] if isinstance(p, (str, int))), rule_error.field)
            raise SourceError(
                doc.path, doc.line_of(loc), ".".join(map(str, loc)), str(rule_error)
            ) from None
        raise doc.error_from_validation(exc) from None
