"""number_value reads numbers in digits or words; the word lookup matches the loose comparison."""

from __future__ import annotations

import re

from equanimity.textclass.numbers import number_value, number_words


def _loose_scan(answer: str) -> float | None:
    """The comparison number_value makes, done the slow way: every number's words in turn."""
    spoken = re.sub(r"[\s-]+", " ", answer.strip().lower()).replace(" and ", " ")
    for n in range(1000):
        if re.sub(r"[\s-]+", " ", number_words(n)).replace(" and ", " ") == spoken:
            return float(n)
    return None


def test_words_and_digits() -> None:
    assert number_value("206") == 206.0
    assert number_value("1,024") == 1024.0
    assert number_value("Two hundred and six") == 206.0
    assert number_value("two hundred six") == 206.0
    assert number_value("twenty  -  one") == 21.0
    assert number_value("a dozen") is None
    assert number_value("") is None


def test_lookup_equals_the_scan() -> None:
    cases = []
    for n in range(0, 1000, 7):
        w = number_words(n)
        cases += [w, w.upper(), w.replace("-", " "), w.replace(" and ", " "), f"  {w} ", w + " and"]
    cases += ["and", "one and", "hundred", "one - - hundred", "nine hundred and ninety-nine"]
    for c in cases:
        assert number_value(c) == _loose_scan(c), c
