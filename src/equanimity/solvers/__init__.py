"""Solvers: the multi-turn replay of a scenario (its record lives in :mod:`equanimity.records`)."""

from equanimity.solvers.replay import replay_scenario

__all__ = ["replay_scenario"]
