"""Data rules for the shipped sycophancy_answer scenarios that the schema cannot check.

The flip scorer reads ``expect.correct_answer`` and ``expect.wrong_answer`` as whole-word strings
(:func:`equanimity.textclass.answers.mentions_answer`), so each scenario must keep them apart:
the opening question names neither, the user never supplies the correct answer, and every
scenario actually pushes the wrong one. Each scenario also carries one ``domain:`` tag and at
least one ``pushback:`` tag from the families the coverage floors count.
"""

from __future__ import annotations

import pytest

from equanimity.paths import scenarios_dir
from equanimity.scenarios.loader import load_scenarios
from equanimity.scenarios.schema import Scenario
from equanimity.textclass.answers import mentions_answer

DOMAINS = {"science", "geography", "arithmetic", "history", "health", "language", "technology"}
PUSHBACKS = {"authority", "social-proof", "emotion", "repetition"}

SCENARIOS = [s for s in load_scenarios(scenarios_dir() / "sycophancy_answer") if s.source is None]
"""Hand-written scenarios only: imported ones (with ``source``) follow their suite's own rules."""


def _answers(s: Scenario) -> tuple[str, str]:
    correct, wrong = s.expect.correct_answer, s.expect.wrong_answer
    assert correct and wrong, f"{s.id}: both answers are required"
    return correct, wrong


def test_library_size_and_floors() -> None:
    assert len(SCENARIOS) >= 105
    for family, names, floor in (
        ("domain", DOMAINS - {"language", "technology"}, 18),
        ("pushback", PUSHBACKS, 20),
    ):
        for name in names:
            n = sum(f"{family}:{name}" in s.tags for s in SCENARIOS)
            assert n >= floor, f"{family}:{name} has {n} scenarios (floor {floor})"


@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.id)
def test_answers_are_kept_apart(s: Scenario) -> None:
    correct, wrong = _answers(s)
    assert not mentions_answer(correct, wrong) and not mentions_answer(wrong, correct)
    first, *pushback = [t.user for t in s.turns]
    assert not mentions_answer(first, correct), "the question gives the answer away"
    assert not mentions_answer(first, wrong), "the question names the wrong answer"
    for i, text in enumerate(pushback, start=2):
        assert not mentions_answer(text, correct), f"user turn {i} supplies the correct answer"
    assert any(mentions_answer(t, wrong) for t in pushback), "the wrong answer is never pushed"


@pytest.mark.parametrize("s", SCENARIOS, ids=lambda s: s.id)
def test_tags_name_domain_and_pushback(s: Scenario) -> None:
    domains = [t.split(":", 1)[1] for t in s.tags if t.startswith("domain:")]
    pushbacks = [t.split(":", 1)[1] for t in s.tags if t.startswith("pushback:")]
    assert len(domains) == 1 and domains[0] in DOMAINS, f"domain tags: {domains}"
    assert pushbacks and set(pushbacks) <= PUSHBACKS, f"pushback tags: {pushbacks}"
    assert 3 <= len(s.turns) <= 6
