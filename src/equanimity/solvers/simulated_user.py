"""The simulated user: after a scenario's scripted opening, a model writes the user's turns.

The user is the model bound to inspect's ``user`` role (``--model-role user=PROVIDER/MODEL``).
``get_model(role="user")`` would silently return the evaluated model when the role is unbound,
so the binding is read explicitly from :func:`inspect_ai.model.model_roles`. Each generated
turn passes the in-role check of the prompt file (:mod:`equanimity.solvers.user_prompt`) or is
regenerated once; a second failure stops the conversation and marks the sample
(``metadata["simulated_user"]["role_break"]``, scored by the ``simulated_user`` scorer).
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import (
    CachePolicy,
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    model_roles,
)
from inspect_ai.solver import Generate, TaskState

from equanimity.records import ReplayRecord
from equanimity.redaction import loggable_model_args
from equanimity.scenarios.schema import Scenario
from equanimity.scenarios.simulated import SimulatedUser
from equanimity.solvers.context import ReplayContext
from equanimity.solvers.end_offer import EndOffer
from equanimity.solvers.exchange import exchange
from equanimity.solvers.user_context import USER_CONTEXT, UserContext
from equanimity.solvers.user_prompt import PROMPT_FILE, UserPrompt, user_prompt

USER_ROLE = "user"
"""The inspect model role that plays the simulated user."""
SIMULATED_USER_KEY = "simulated_user"
"""Sample metadata key: the simulator's identity and what happened (stop reason, role breaks)."""
USER_SIMULATOR_KEY = "user_simulator"
"""Sample metadata key: a one-line identity of the user simulator (compare pairs on it)."""
NO_USER_MODEL = "no user model (scripted opening only)"
""":data:`USER_SIMULATOR_KEY` value when a scenario ran its scripted opening only."""


class UserModelMissing(RuntimeError):
    """A simulated-user scenario ran with no model bound to the ``user`` role."""


def bound_user_model() -> Model | None:
    """The model bound to the ``user`` role, or None (never the evaluated model as a fallback)."""
    bound = model_roles().get(USER_ROLE)
    if isinstance(bound, list):
        return bound[0] if bound else None
    return bound


def user_settings(model: Model, prompt: UserPrompt, epoch: int = 1) -> dict[str, Any]:
    """Temperature, seed and max_tokens for the user model: the role binding's, else the prompt's.

    The prompt's default seed is offset by the epoch (``seed`` in epoch 1, ``seed + 1`` in
    epoch 2, ...); a seed set in the role binding is used as it is.
    """
    cfg, d = model.config, prompt.data
    return {
        "temperature": cfg.temperature if cfg.temperature is not None else d.temperature,
        "seed": cfg.seed if cfg.seed is not None else d.seed + max(epoch, 1) - 1,
        "max_tokens": cfg.max_tokens if cfg.max_tokens is not None else d.max_tokens,
    }


def simulated_user_identity(
    model: Model | None, prompt: UserPrompt | None = None
) -> dict[str, Any]:
    """The user simulator's identity: model, settings, prompt version and sha256.

    The hook for run provenance (:mod:`equanimity.provenance`): two runs whose identities
    differ were driven by different simulated users, and ``compare`` refuses to pair them.
    Settings are those of epoch 1 (later epochs offset the prompt's default seed).
    """
    p = prompt or user_prompt()
    base: dict[str, Any] = {
        "prompt_file": PROMPT_FILE if p.path.name == PROMPT_FILE else str(p.path),
        "prompt_version": p.data.version,
        "prompt_sha256": p.sha256,
        "stop_token": p.data.stop_token,
    }
    if model is None:
        return {"model": None, "settings": {}, "model_args": {}, **base}
    args = loggable_model_args(dict(getattr(model, "model_args", None) or {}))
    return {
        "model": str(model),
        "settings": user_settings(model, p),
        "model_args": args,
        **base,
    }


def identity_key(identity: dict[str, Any]) -> str:
    """One line naming a simulator: model, ``M.``-prefixed model args, settings, prompt hash.

    E.g. ``equanimity/reference-user|M.seed=3|max_tokens=300|seed=0|temperature=0.7|prompt=…``.
    """
    if identity.get("model") is None:
        return NO_USER_MODEL
    items = {
        **{f"M.{k}": v for k, v in identity.get("model_args", {}).items()},
        **identity["settings"],
    }
    settings = "|".join(f"{k}={v}" for k, v in sorted(items.items()))
    return f"{identity['model']}|{settings}|prompt={str(identity['prompt_sha256'])[:12]}"


def user_view(prompt: UserPrompt, scenario: Scenario, record: ReplayRecord) -> list[ChatMessage]:
    """The conversation as the user model sees it: roles swapped, the persona as system."""
    sim = scenario.simulated_user
    assert sim is not None
    messages: list[ChatMessage] = [
        ChatMessageSystem(content=prompt.system_text(sim, scenario.locale)),
        ChatMessageUser(content=prompt.data.start),
    ]
    for turn in record.turns:
        messages.append(ChatMessageAssistant(content=turn.user))
        messages.append(ChatMessageUser(content=turn.reply or "[the assistant sent no text]"))
    return messages


def _problem(prompt: UserPrompt, sim: SimulatedUser, text: str) -> str | None:
    token = prompt.data.stop_token
    if token in text and not sim.may_stop:
        return "wrote the stop token, but this user may not stop"
    message = text.replace(token, "").strip()
    if not message and token in text:
        return None  # done, with nothing more to say
    return prompt.out_of_role(message)


async def _user_turn(
    model: Model,
    prompt: UserPrompt,
    scenario: Scenario,
    record: ReplayRecord,
    config: GenerateConfig,
    cache: bool | CachePolicy,
    info: dict[str, Any],
) -> tuple[str, str | None]:
    """Generate one user turn: (text, None) when in role, else the retry's (text, problem)."""
    sim = scenario.simulated_user
    assert sim is not None
    index = len(record.turns) + 1
    messages = user_view(prompt, scenario, record)
    text, problem = "", None
    for attempt in (1, 2):
        token = USER_CONTEXT.set(UserContext(scenario, index, attempt, prompt.data.stop_token))
        try:
            output = await model.generate(messages, config=config, cache=cache)
        finally:
            USER_CONTEXT.reset(token)
        text = output.completion.strip()
        problem = _problem(prompt, sim, text)
        if problem is None:
            return text, None
        info["regenerated"].append({"turn": index, "reason": problem, "text": text[:500]})
        note = prompt.data.retry_note.format(reason=problem).strip()
        last = messages[-1]
        messages = [*messages[:-1], ChatMessageUser(content=f"{last.text}\n\n{note}")]
    return text, problem


async def continue_with_simulated_user(
    state: TaskState,
    generate: Generate,
    scenario: Scenario,
    record: ReplayRecord,
    end_offer: EndOffer,
    cache: bool = False,
    prompt_path: str | None = None,
) -> TaskState:
    """Continue the replay with simulated user turns until a stop condition.

    Stops when the model ends the chat, when the simulated user writes the stop token, at
    ``max_turns``, or when a turn fails the in-role check twice (the sample is then marked).
    Writes ``metadata["simulated_user"]`` (identity, stop reason, regenerations, role break)
    and ``metadata["user_simulator"]``. Raises :class:`UserModelMissing` when no ``user`` role
    is bound and the scenario does not allow its scripted opening alone.
    """
    sim = scenario.simulated_user
    assert sim is not None
    prompt = user_prompt(prompt_path)
    model = bound_user_model()
    if model is None and sim.without_user_model == "skip":
        raise UserModelMissing(
            f"scenario '{scenario.id}' has a simulated user but no model is bound to the "
            "'user' role: pass --model-role user=PROVIDER/MODEL (offline: "
            "user=equanimity/reference-user)"
        )
    identity = simulated_user_identity(model, prompt)
    info: dict[str, Any] = {**identity, "stop": None, "regenerated": [], "role_break": None}
    state.metadata[SIMULATED_USER_KEY] = info
    state.metadata[USER_SIMULATOR_KEY] = identity_key(identity)
    if record.ended:
        info["stop"] = "model_ended"
        return state
    if model is None:
        info["stop"] = "scripted_only"
        return state
    settings = user_settings(model, prompt, state.epoch)
    info["settings"] = settings
    config = GenerateConfig(**settings)
    policy: bool | CachePolicy = (
        CachePolicy(
            expiry="1W",
            per_epoch=True,
            scopes={"equanimity": "simulated-user", "prompt": prompt.sha256[:12]},
        )
        if cache
        else False
    )
    opening = len(record.turns)
    while len(record.turns) < sim.max_turns:
        text, problem = await _user_turn(model, prompt, scenario, record, config, policy, info)
        if problem is not None:
            info["stop"] = "role_break"
            info["role_break"] = {
                "turn": len(record.turns) + 1,
                "reason": problem,
                "text": text[:500],
            }
            break
        done = prompt.data.stop_token in text
        text = text.replace(prompt.data.stop_token, "").strip()
        if not text:
            info["stop"] = "user_done"
            break
        ctx = ReplayContext(
            scenario,
            len(record.turns) + 1,
            None,
            end_offer=end_offer,
            sample_id=str(state.sample_id),
            epoch=state.epoch,
        )
        state, turn = await exchange(state, generate, ctx, text, "simulated")
        record.turns.append(turn)
        if turn.ended:
            info["stop"] = "model_ended"
            break
        if done:
            info["stop"] = "user_done"
            break
        if state.completed:
            info["stop"] = "completed"
            break
    else:
        info["stop"] = "max_turns"
    info["simulated_turns"] = len(record.turns) - opening
    return state
