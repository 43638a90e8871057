"""Thin task file: ``inspect eval evals/equanimity_suite.py --model equanimity/steady``.

The same tasks are registered by the package, so ``inspect eval equanimity/suite`` works too.
"""

# ruff: noqa: F401
from equanimity.tasks import risk, suite, sycophancy, welfare
