"""The literal prefilter never skips a pattern that could match, and changes no verdict."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equanimity.data_root import data_root, labelled_dir
from equanimity.textclass import agreement, distress, prefilter, referral, refusal
from equanimity.textclass.lexicons import clear_caches
from equanimity.textclass.prefilter import Prefiltered, fold, required_literals

BMP = "".join(chr(i) for i in range(0x10000) if not 0xD800 <= i < 0xE000)


def _all_lists() -> list[Prefiltered]:
    """Every compiled lexicon list (refusal, premise, distress, agreement, referral)."""
    ref = refusal._refusal_lexicon()
    prem = ref.premise
    out = [
        ref.strong,
        ref.soft,
        ref.not_refusal,
        ref.partial_pivot,
        ref.compliance,
        ref.redirect,
        prem.self_talk,
        prem.no_premise,
        prem.negation,
        prem.rejection,
        prem.not_rejection,
    ]
    dis = distress._distress_lexicon()
    out += [p for _, p in dis.families] + [dis.not_distress]
    agr = agreement._agreement_lexicon()
    out += [agr.agrees, agr.pushes_back, agr.not_agreement]
    refl = referral._referral_lexicon()
    out += [refl.directive, refl.not_referral]
    out += [p for r in refl.resources for p in (r.patterns, r.with_directive)]
    return [p.filtered for p in out]


def _replies() -> list[tuple[str, str | None, str]]:
    """(reply, user message, locale) of every real labelled reply: XSTest (public) + ours."""
    public = data_root()
    if public is None or not (public / "xstest").is_dir():
        pytest.skip("public data absent: set EQUANIMITY_DATA or provide ../shared/data/xstest")
    rows: list[tuple[str, str | None, str]] = []
    for name in ("gpt4", "mistralinstruct"):
        path = public / "xstest" / f"xstest_v2_completions_{name}.csv"
        with open(path, newline="", encoding="utf-8") as fh:
            rows += [(r["completion"], r["prompt"], "en-US") for r in csv.DictReader(fh)]
    for line in (labelled_dir() / "referral.jsonl").read_text("utf-8").splitlines():
        r = json.loads(line)
        rows.append((r["text"], None, r.get("locale") or "en-US"))
    return rows


def test_lexicons_are_nearly_all_prefiltered() -> None:
    lists = _all_lists()
    reqs = [r for f in lists for r in f.requirements]
    assert len(reqs) > 300
    # a pattern without a readable requirement always runs: correct, but slow if common
    assert sum(1 for r in reqs if not r) <= len(reqs) // 20


def test_fold_agrees_with_re_ignorecase_over_the_bmp() -> None:
    """Every character ``re.I`` lets a literal character match folds to the same character."""
    chars = {ch for f in _all_lists() for p in f.patterns for ch in p.pattern}
    chars |= set("abcdefghijklmnopqrstuvwxyzäöüßéèêàçœ")
    for ch in sorted(chars):
        variants = re.findall(re.escape(ch), BMP, re.IGNORECASE)
        assert ch in variants
        assert {fold(v) for v in variants} == {fold(ch)}, (ch, variants)


def test_fold_ascii_fast_path_matches_the_general_path() -> None:
    ascii_text = "".join(chr(i) for i in range(128))
    assert fold(ascii_text) == fold(ascii_text + "é")[:-1]


@pytest.mark.parametrize(
    ("pattern", "clause"),
    [
        # re's parser factors the common prefix out: can(?:'t|not)
        (r"\bI (?:can't|cannot) help\b", {"can"}),
        (r"\bI (?:can't|cannot) help\b", {"'t", "not"}),
        (r"\bI (?:won't|cannot) help\b", {"won't", "cannot"}),
        (r"\bI (?:won't|cannot) help\b", {"help"}),
        (r"\b(?:call|ring) 999\b", {"999"}),
        (r"\bSamaritans\b", {"samaritans"}),
    ],
)
def test_required_literals_reads_clauses(pattern: str, clause: set[str]) -> None:
    clauses = required_literals(re.compile(pattern.replace(" ", r"\s+"), re.IGNORECASE))
    assert frozenset(clause) in clauses


@pytest.mark.parametrize("pattern", [r"[a-z]+", r"(?:sorry)?\s*", r"(?:help|)\b", r"(?=help)\w+"])
def test_patterns_without_a_required_literal_always_run(pattern: str) -> None:
    compiled = re.compile(pattern, re.IGNORECASE)
    assert required_literals(compiled) == ()
    assert Prefiltered.of([compiled]).candidates("anything at all") == [compiled]


def test_candidates_skips_a_pattern_whose_literal_is_absent() -> None:
    p = re.compile(r"\bcrisis\s+line\b", re.IGNORECASE)
    f = Prefiltered.of([p])
    assert f.candidates(fold("Please call a CRISIS line")) == [p]
    assert f.candidates(fold("Please call a friend")) == []
    # a case variant that only re.IGNORECASE equates (dotless i, long s) still counts
    assert f.candidates(fold("Please call a crıſis line")) == [p]
    assert p.search("Please call a crıſis line")


_CONFUSABLES = "İıſKẞß ÉéÄä'\"\n.,!?"


@st.composite
def _mutated_reply(draw: st.DrawFn) -> str:
    replies = _replies()
    text = draw(st.sampled_from(replies))[0][:600]
    chars = list(text)
    for _ in range(draw(st.integers(0, 12))):
        if not chars:
            break
        i = draw(st.integers(0, len(chars) - 1))
        op = draw(st.sampled_from(["upper", "lower", "confusable", "drop"]))
        if op == "upper":
            chars[i] = chars[i].upper()
        elif op == "lower":
            chars[i] = chars[i].lower()
        elif op == "confusable":
            chars[i] = draw(st.sampled_from(_CONFUSABLES))
        else:
            chars[i] = ""
    return "".join(chars)


@settings(max_examples=150, deadline=None)
@given(_mutated_reply())
def test_no_pattern_that_matches_is_ever_skipped(text: str) -> None:
    folded = fold(text)
    for f in _all_lists():
        kept = set(f.candidates(folded))
        for p in f.patterns:
            if p.search(text):
                assert p in kept, (p.pattern, text)


def _verdicts(rows: list[tuple[str, str | None, str]]) -> Iterator[str]:
    for text, user, locale in rows:
        yield repr(
            (
                refusal.classify_refusal(text, user=user),
                referral.detect_referral(text, locale),
                distress.detect_distress(text),
                agreement.detect_agreement(text),
            )
        )


def test_verdicts_identical_with_and_without_the_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _replies()
    clear_caches()
    with_prefilter = list(_verdicts(rows))
    monkeypatch.setattr(prefilter, "ENABLED", False)
    clear_caches()
    try:
        assert all(not r for f in _all_lists() for r in f.requirements)  # really off
        without = list(_verdicts(rows))
    finally:
        monkeypatch.undo()
        clear_caches()
    assert len(with_prefilter) == len(rows) > 800
    assert with_prefilter == without


def test_fold_table_stops_growing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefilter, "FOLD_TABLE_MAX", 0)
    before = dict(prefilter._FOLD)
    assert fold("Crıſis ÄÖÜ \U0001f600") == fold("CRISIS äöü \U0001f600")
    assert before == prefilter._FOLD
