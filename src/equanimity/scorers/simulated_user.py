"""The ``simulated_user`` scorer: did the simulated user stay in role, and why did the chat stop.

Added to a task only when it holds simulated-user scenarios. A sample whose simulated user
broke role twice in one turn is marked here (``in_role`` 0, with the offending text in the
explanation), so a conversation cut short by the simulator is never scored silently.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.scorer import Score, Scorer, Target, scorer
from inspect_ai.solver import TaskState

from equanimity.scorers.metrics import NAN, key_metrics

SIMULATED_USER_KEY = "simulated_user"
"""Sample metadata key the replay writes (see :mod:`equanimity.solvers.simulated_user`)."""

KEYS = ("in_role", "regenerated", "simulated_turns", "user_done")


@scorer(metrics=key_metrics("simulated_user", KEYS))
def simulated_user() -> Scorer:
    """Score the simulated user: in role (0/1), turns regenerated, turns simulated, user done."""

    async def score(state: TaskState, target: Target) -> Score:
        del target
        info: dict[str, Any] | None = state.metadata.get(SIMULATED_USER_KEY)
        if not info:
            return Score(
                value=dict.fromkeys(KEYS, NAN), explanation="not a simulated-user scenario"
            )
        broke = info.get("role_break")
        regenerated = info.get("regenerated") or []
        stop = info.get("stop")
        lines = [f"user simulator: {info.get('model') or 'none'} (stop: {stop})"]
        for r in regenerated:
            lines.append(f"turn {r['turn']} regenerated: {r['reason']}")
        if broke:
            lines.insert(
                0,
                f"SIMULATED USER OUT OF ROLE at turn {broke['turn']} ({broke['reason']}): the "
                "conversation stopped there; read this sample's other scores with care",
            )
        value = {
            "in_role": NAN if info.get("model") is None else (0.0 if broke else 1.0),
            "regenerated": float(len(regenerated)),
            "simulated_turns": float(info.get("simulated_turns", 0)),
            "user_done": 1.0 if stop == "user_done" else 0.0,
        }
        return Score(value=value, explanation="\n".join(lines), metadata={"stop": stop})

    return score
