"""The content check: scenario text must not contain instructions (scenarios/README.md).

Scenario text may *describe* a harmful request; it never holds a method, quantity, recipe,
code or step list. This check flags text that looks like instructions, in every string a model
is sent (system prompt, prefill, each turn and its variants, the branch) and in the
description and notes:

- ``steps``: a numbered or bulleted list (two or more lines) or "step 1"-style wording;
- ``quantity``: an amount with a unit within a few words of a chemical, explosive, weapon or
  drug word;
- ``dosage``: a medicine amount (mg, ml, units, a count of pills or tablets);
- ``code``: a code block, a shell prompt or command, or code syntax;
- ``url``: a web address or a bare domain name.

It is a tripwire, not a proof: it looks for the shapes instructions take. A justified exception
is listed with its reason in an allow-list (``tests/content_allow.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from equanimity.scenarios.schema import Scenario

RULES = ("steps", "quantity", "dosage", "code", "url")
"""Rule names, as used in findings and in the allow-list."""

_UNIT = (
    r"(?:mg|mcg|µg|g|kg|grams?|kilos?|kilograms?|ml|cl|l|litres?|liters?|oz|ounces?|lbs?|"
    r"pounds?|gallons?|%|percent|per ?cent|mm|cm|inch(?:es)?|psi|°\s?[cf]|degrees|parts)"
)
_HAZARD = (
    r"(?:explosi\w*|bomb\w*|detonat\w*|gunpowder|black powder|thermite|napalm|nitrat\w*|"
    r"nitro\w*|chlorine|bleach|ammonia|acid|cyanide|ricin|sarin|anthrax|toxin\w*|poison\w*|"
    r"pesticide\w*|fertili[sz]er\w*|propane|gasoline|petrol|accelerant\w*|fuse|primer|"
    r"ammunition|ammo|bullet\w*|barrel|rifle\w*|pistol\w*|guns?|firearm\w*|silencer|suppressor|"
    r"meth\w*|fentanyl|cocaine|heroin|precursor\w*|reagent\w*|solvent\w*|lye|sprengstoff\w*|"
    r"explosif\w*|explosivo\w*|p[óo]lvora|poudre|veneno\w*|giftig\w*|waffe\w*|arme\w*|arma\w*)"
)
_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "steps": (
        re.compile(
            r"(?:^|\n)[ \t]*(?:\d{1,2}[.):]|[-*•·])[ \t]+\S[^\n]*\n[ \t]*(?:\d{1,2}[.):]|[-*•·])[ \t]+\S"
        ),
        re.compile(r"\b(?:step|schritt|étape|etapa|paso)\s*(?:\d+|one|two|three)\b", re.I),
    ),
    "quantity": (
        re.compile(
            rf"\b\d+(?:[.,]\d+)?\s?{_UNIT}(?![\w])(?:\W+\w+){{0,6}}?\W+{_HAZARD}\b"
            rf"|\b{_HAZARD}(?:\W+\w+){{0,6}}?\W+\d+(?:[.,]\d+)?\s?{_UNIT}(?![\w])",
            re.I,
        ),
    ),
    "dosage": (
        re.compile(
            r"\b\d+(?:[.,]\d+)?\s?(?:mg|mcg|µg|milligrams?|micrograms?|ml|millilit(?:re|er)s?|"
            r"iu|units? of)(?![\w])",
            re.I,
        ),
        re.compile(
            r"\b(?:\d+|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|a hundred)\s+"
            r"(?:pills?|tablets?|capsules?|tabs?|doses?|tabletten|comprim[ée]s|pastillas)\b",
            re.I,
        ),
    ),
    "code": (
        re.compile(r"```|~~~"),
        re.compile(r"(?:^|\n)[ \t]*[$#>][ \t]+\w"),
        re.compile(
            r"\b(?:sudo|rm\s+-rf|chmod|chown|curl\s+-|wget\s|pip\s+install|apt-get|npm\s+install|"
            r"powershell|cmd\.exe|nmap\s|sqlmap|msfconsole|netcat|nc\s+-)",
            re.I,
        ),
        re.compile(
            r"\b(?:def|function|fn)\s+\w+\s*\(|\bimport\s+[a-z_]+\s*(?:\n|;|$)|#include\s*<|"
            r"<script\b|\bSELECT\s+[\w*,\s]+\s+FROM\b|\b(?:eval|exec|system)\s*\(|=>\s*\{|"
            r"\w+\([^()\n]*\)\s*;|\{\s*\n\s+\w+\s*[=:]",
        ),
    ),
    "url": (
        re.compile(r"\bhttps?://|\bwww\.|\bftp://", re.I),
        re.compile(
            r"\b[\w-]+\.(?:com|org|net|io|ru|onion|xyz|info|biz|co\.uk|gov|edu)\b(?:/\S*)?", re.I
        ),
    ),
}


@dataclass(frozen=True)
class Finding:
    """One piece of scenario text that looks like instructions."""

    scenario_id: str
    """The scenario (an expanded id for a template)."""
    field: str
    """Dotted path of the string (``turns.2.user``, ``description``)."""
    rule: str
    """Which rule matched (one of :data:`RULES`)."""
    excerpt: str
    """The matched text, shortened."""

    def __str__(self) -> str:
        return f"{self.scenario_id}: {self.field}: {self.rule}: '{self.excerpt}'"


def scenario_texts(s: Scenario) -> Iterator[tuple[str, str]]:
    """(field path, text) of every string the check reads."""
    yield "description", s.description
    if s.system:
        yield "system", s.system
    for i, m in enumerate(s.prefill):
        yield f"prefill.{i}.{m.role}", m.text
    for i, t in enumerate(s.turns):
        yield f"turns.{i}.user", t.user
        if t.if_previous_refused:
            yield f"turns.{i}.if_previous_refused", t.if_previous_refused
        if t.if_previous_not_refused:
            yield f"turns.{i}.if_previous_not_refused", t.if_previous_not_refused
        if t.note:
            yield f"turns.{i}.note", t.note
    if s.branch is not None:
        yield "branch.user", s.branch.user
        for i, text in enumerate(s.branch.then):
            yield f"branch.then.{i}", text


def check_content(s: Scenario) -> list[Finding]:
    """Every instruction-like piece of text in ``s`` (an empty list when it is clean)."""
    out: list[Finding] = []
    for path, text in scenario_texts(s):
        for rule in RULES:
            for pattern in _PATTERNS[rule]:
                m = pattern.search(text)
                if m:
                    excerpt = " ".join(m.group(0).split())[:80]
                    out.append(Finding(s.id, path, rule, excerpt))
                    break
    return out
