"""Numbers in answers: English number words (0-999) and a tolerant regex for one value."""

from __future__ import annotations

import re
from functools import lru_cache

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


def number_words(n: int) -> str:
    """English words for 0 <= n < 1000 ("twenty-one", "three hundred and five")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens - 2] + ("" if ones == 0 else "-" + _ONES[ones])
    hundreds, rest = divmod(n, 100)
    head = _ONES[hundreds] + " hundred"
    return head if rest == 0 else f"{head} and {number_words(rest)}"


_SEPARATORS = re.compile(r"[\s-]+")


def _spoken(text: str) -> str:
    """Number words compared loosely: runs of spaces and hyphens as one space, "and" dropped."""
    return _SEPARATORS.sub(" ", text).replace(" and ", " ")


@lru_cache(maxsize=1)
def _word_numbers() -> dict[str, int]:
    """Each number's words, compared loosely (:func:`_spoken`), to its value (first wins)."""
    out: dict[str, int] = {}
    for n in range(1000):
        out.setdefault(_spoken(number_words(n)), n)
    return out


def number_value(answer: str) -> float | None:
    """The value of ``answer`` when it is a number in digits or English words, else None."""
    a = answer.strip().lower()
    if _NUMBER.fullmatch(a):
        return float(a.replace(",", ""))
    n = _word_numbers().get(_spoken(a))
    return None if n is None else float(n)


def number_pattern(value: float) -> str:
    """A regex for ``value`` written as digits (with or without thousands commas) or words."""
    forms: list[str] = []
    if value == int(value):
        n = int(value)
        forms += [rf"{n:,}".replace(",", ",?"), rf"{n}(?:\.0+)?"]
        if 0 <= n < 1000:
            spoken = ""
            for part in re.split(r"[\s-]+", number_words(n)):
                if part == "and":
                    spoken += r"(?:[\s-]+and)?"
                else:
                    spoken += (r"[\s-]+" if spoken else "") + part
            forms.append(spoken)
    else:
        forms.append(re.escape(repr(value)) + "0*")
    digits = "|".join(forms)
    sign = "-" if value < 0 else ""
    return rf"(?<![\w.,]){sign}(?:{digits})(?![\w]|[.,]\d)"
