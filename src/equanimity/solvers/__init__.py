"""Solvers: the multi-turn replay of a scenario."""

from equanimity.solvers.replay import REPLAY_STORE_KEY, ReplayRecord, TurnRecord, replay_scenario

__all__ = ["REPLAY_STORE_KEY", "ReplayRecord", "TurnRecord", "replay_scenario"]
