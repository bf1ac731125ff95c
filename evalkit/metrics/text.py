"""Tokenisation for answer matching: CJK by character, other scripts by word.

Follows the SQuAD evaluation for Latin text (lower-case, drop punctuation and English
articles, split on whitespace); Chinese, Japanese and Korean characters are tokens on their
own, since those languages do not separate words with spaces.
"""

from __future__ import annotations

import re
import unicodedata

from evalkit.textnorm import normalize_text

_CJK = (
    r"\u3040-\u30ff"  # kana
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    r"\uac00-\ud7af"  # hangul
)
CJK_CHAR_CLASS = _CJK  # the ranges above, for other tokenisers (n-gram contamination checks)
_CJK_CHAR = re.compile(f"[{_CJK}]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith(("P", "S"))


def normalize_answer(text: str) -> str:
    """SQuAD-style normalisation, applied after NFKC (full-width to half-width) and case-folding."""
    text = normalize_text(text)
    text = "".join(" " if _is_punct(ch) else ch for ch in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str) -> list[str]:
    """Tokens for token-level F1: each CJK character alone, other text split on whitespace."""
    spaced = _CJK_CHAR.sub(lambda m: f" {m.group(0)} ", normalize_answer(text))
    return spaced.split()


def is_cjk(text: str) -> bool:
    return bool(_CJK_CHAR.search(text))
