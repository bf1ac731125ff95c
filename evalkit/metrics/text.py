"""CJK character ranges, shared by answer matching, QA metrics and contamination checks."""

from __future__ import annotations

import re

_CJK = (
    r"\u3040-\u30ff"  # kana
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    r"\uac00-\ud7af"  # hangul
)
CJK_CHAR_CLASS = _CJK  # the ranges above, for tokenisers (QA segmentation, n-gram checks)
_CJK_CHAR = re.compile(f"[{_CJK}]")


def is_cjk(text: str) -> bool:
    """Whether the text holds a CJK character."""
    return bool(_CJK_CHAR.search(text))


def cjk_characters(text: str) -> list[str]:
    """The CJK characters of the text, in order."""
    return _CJK_CHAR.findall(text)
