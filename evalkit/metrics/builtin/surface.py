"""Checks on the surface of an answer: its language, and whether it meets the format spec."""

from __future__ import annotations

from evalkit.metrics.answers import follows_format
from evalkit.metrics.registry import metric
from evalkit.metrics.text import cjk_characters
from evalkit.suite.items import ItemBase


@metric("language_match", tasks=("qa", "generation", "dialogue"))
def language_match(item: ItemBase, output: str) -> float | None:
    """1 if a free-text answer is written in the language asked (Chinese vs Latin script)."""
    letters = sum(map(str.isalpha, output))
    if not letters:
        return None  # nothing to judge: a number, or an empty answer
    cjk = sum(map(str.isalpha, cjk_characters(output))) / letters
    expected = item.expected_language
    if expected.startswith(("zh", "ja", "ko")):
        return float(cjk >= 0.5)
    if expected in ("en", "fr", "de", "es", "it", "pt", "nl"):
        return float(cjk < 0.2)
    return None  # a script check says nothing reliable about other languages


@metric(
    "format_adherence",
    tasks=("mcq", "classification", "extraction", "qa", "generation", "dialogue"),
)
def format_adherence(item: ItemBase, output: str) -> float | None:
    """1 if the whole output meets the item's strict format spec; None without a spec."""
    ok = follows_format(item, output)
    return None if ok is None else float(ok)
