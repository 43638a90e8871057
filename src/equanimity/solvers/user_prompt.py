"""The simulated user's prompt (``prompts/simulated_user.yaml``) and the in-role check.

The prompt is data: its text, stop token, default settings and the in-role patterns all live
in the YAML file; :func:`user_prompt` loads and validates it once, and its sha256 identifies
it in every log (:func:`equanimity.solvers.simulated_user.simulated_user_identity`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from equanimity.paths import prompts_dir
from equanimity.scenarios.simulated import SimulatedUser

PROMPT_FILE = "simulated_user.yaml"
"""File name of the simulated user's prompt under ``prompts/``."""


class RoleCheckPatterns(BaseModel):
    """Patterns of a turn that is not a user message."""

    model_config = ConfigDict(extra="forbid")

    assistant_style: list[str] = Field(default_factory=list)
    """The turn answers as an assistant would."""
    meta: list[str] = Field(default_factory=list)
    """The turn talks about the test, the role or being an AI."""


class UserPromptFile(BaseModel):
    """The contents of ``prompts/simulated_user.yaml``."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    """Bumped whenever the prompt changes."""
    stop_token: str = Field(min_length=3)
    """What the simulated user writes when it is done."""
    temperature: float = Field(ge=0)
    """User-model temperature unless the role binding sets one."""
    seed: int = 0
    """User-model seed unless the role binding sets one (offset by the epoch)."""
    max_tokens: int = Field(default=300, ge=1)
    """Length limit of one user turn unless the role binding sets one."""
    system: str = Field(min_length=1)
    """System prompt template (placeholders listed in the file)."""
    start: str = Field(min_length=1)
    """Message shown to the user model when it writes the very first turn."""
    retry_note: str = Field(min_length=1)
    """Appended when a turn failed the in-role check (placeholder ``{reason}``)."""
    role_check: RoleCheckPatterns
    """The in-role check's patterns."""


@dataclass(frozen=True)
class UserPrompt:
    """A loaded prompt file with its hash and compiled in-role patterns."""

    path: Path
    """Where it was read from."""
    data: UserPromptFile
    """Its validated contents."""
    sha256: str
    """sha256 of the file's bytes."""
    checks: tuple[tuple[str, re.Pattern[str]], ...]
    """(kind, compiled pattern) of the in-role check."""

    def system_text(self, sim: SimulatedUser, locale: str) -> str:
        """The system message for one scenario's simulated user."""
        return self.data.system.format(
            persona=sim.persona,
            goal=sim.goal,
            on_refusal=sim.on_refusal,
            on_referral=sim.on_referral,
            style=sim.style,
            locale=locale,
            max_turns=sim.max_turns,
            stop_token=self.data.stop_token,
        )

    def out_of_role(self, text: str) -> str | None:
        """Why ``text`` is not a user message (``assistant-style: ...``), or None when it is."""
        if not text.strip():
            return "empty message"
        for kind, pattern in self.checks:
            m = pattern.search(text)
            if m is not None:
                label = "assistant-style answer" if kind == "assistant_style" else "meta comment"
                return f"{label}: {m.group(0).strip()!r}"
        return None


def load_user_prompt(path: str | Path) -> UserPrompt:
    """Load and validate a prompt file; ``ValueError`` naming the file and field when invalid."""
    p = Path(path)
    raw = p.read_bytes()
    try:
        data = UserPromptFile.model_validate(yaml.safe_load(raw.decode("utf-8")))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ValueError(f"{p}: {where}: {err['msg']}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{p}: not valid YAML ({exc})") from None
    checks: list[tuple[str, re.Pattern[str]]] = []
    for kind in ("assistant_style", "meta"):
        for i, pattern in enumerate(getattr(data.role_check, kind)):
            try:
                checks.append((kind, re.compile(pattern, re.IGNORECASE | re.MULTILINE)))
            except re.error as exc:
                raise ValueError(f"{p}: role_check.{kind}.{i}: bad pattern ({exc})") from None
    return UserPrompt(p, data, hashlib.sha256(raw).hexdigest(), tuple(checks))


@lru_cache(maxsize=4)
def user_prompt(path: str | None = None) -> UserPrompt:
    """The simulated user's prompt: ``path``, or the shipped ``prompts/simulated_user.yaml``."""
    return load_user_prompt(path or prompts_dir() / PROMPT_FILE)
