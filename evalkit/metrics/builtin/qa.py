"""Question answering: exact match and token F1, by the two reference definitions.

- English (and every language but Chinese): the SQuAD v1.1 evaluation script
  (`evaluate-v1.1.py`): `normalize_answer` lower-cases, deletes ASCII punctuation
  (`string.punctuation`, deleted, not replaced by a space: "U.S." equals "US"), removes the
  articles a/an/the and collapses whitespace; F1 counts common tokens (a multiset overlap),
  0 when none. We apply it after Unicode NFKC, so full-width "ＵＳ" or "６" read as "US", "6".
- Chinese (the item's `expected_language` starts with "zh"; Japanese, also written without
  spaces, is treated the same): the CMRC 2018 evaluation script
  (`cmrc2018_evaluate.py`): EM compares the texts with punctuation removed; F1 is the longest
  common substring of the two token sequences ("mixed segmentation": each CJK character a
  token, other runs split into words), as precision and recall. Our deviations, on purpose:
  NFKC and lower-casing first; every punctuation and symbol character (Unicode categories
  P* and S*: "，", "。", "《", ",", "(", "%", "￥", "+") is deleted, where CMRC deletes a
  fixed list of 32, except a decimal point between digits, which CMRC keeps too (its list has
  no "."), so "3.5亿" is not "35亿"; EM also deletes all whitespace ("12 个月" equals
  "12个月"); CJK means every CJK ideograph, kana and hangul (CMRC: U+4E00-U+9FA5); other
  runs split on whitespace, where CMRC uses nltk's word tokenizer, which also splits "cannot" into
  "can not" (punctuation is already gone, so that is the only difference).

Both take the best score over an item's reference answers, as both scripts do.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from difflib import SequenceMatcher
from functools import lru_cache

from evalkit.metrics.registry import metric
from evalkit.metrics.text import CJK_CHAR_CLASS
from evalkit.suite.items import ItemBase, QAItem

_ASCII_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MIXED_SEGMENT = re.compile(f"[{CJK_CHAR_CLASS}]|[^\\s{CJK_CHAR_CLASS}]+")


def squad_normalize(text: str) -> str:
    """SQuAD v1.1 `normalize_answer`, after NFKC."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_ASCII_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def squad_exact_match(prediction: str, reference: str) -> float:
    """SQuAD v1.1 `exact_match_score` (after NFKC)."""
    return float(squad_normalize(prediction) == squad_normalize(reference))


def squad_f1(prediction: str, reference: str) -> float:
    """SQuAD v1.1 `f1_score` (after NFKC): token overlap as a multiset; 0 when none."""
    pred, ref = squad_normalize(prediction).split(), squad_normalize(reference).split()
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


@lru_cache(maxsize=1)
def _punctuation_and_symbols() -> dict[int, None]:
    """A `str.translate` table deleting every character of Unicode category P* or S*.

    No code point from U+20000 up is punctuation or a symbol, so the scan stops there.
    """
    return {cp: None for cp in range(0x20000) if unicodedata.category(chr(cp))[0] in "PS"}


_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_KEPT_POINT = "\x00"  # a decimal point, protected from the punctuation deletion


def cmrc_clean(text: str) -> str:
    """NFKC, lower-cased, with every punctuation and symbol character deleted except a decimal
    point between digits ("3.5亿" stays apart from "35亿")."""
    text = _DECIMAL_POINT.sub(_KEPT_POINT, unicodedata.normalize("NFKC", text).lower())
    return text.translate(_punctuation_and_symbols()).replace(_KEPT_POINT, ".")


def cmrc_tokens(text: str) -> list[str]:
    """CMRC 2018 mixed segmentation of the cleaned text: CJK characters alone, other words."""
    return _MIXED_SEGMENT.findall(cmrc_clean(text))


def cmrc_exact_match(prediction: str, reference: str) -> float:
    """CMRC 2018 `calc_em_score` for one reference, also ignoring whitespace."""
    return float("".join(cmrc_clean(prediction).split()) == "".join(cmrc_clean(reference).split()))


def cmrc_f1(prediction: str, reference: str) -> float:
    """CMRC 2018 `calc_f1_score` for one reference: longest common token substring."""
    pred, ref = cmrc_tokens(prediction), cmrc_tokens(reference)
    if not pred or not ref:
        return 0.0
    common = SequenceMatcher(None, ref, pred, autojunk=False).find_longest_match().size
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _is_chinese(item: ItemBase) -> bool:
    """Chinese, and Japanese: written without spaces between words, so compared by character."""
    return item.expected_language.startswith(("zh", "ja"))


@metric("exact_match", tasks=("qa",))
def exact_match(item: ItemBase, output: str) -> float:
    """Exact match: SQuAD v1.1's (after NFKC); CMRC 2018's for Chinese answers (see module)."""
    assert isinstance(item, QAItem)
    match = cmrc_exact_match if _is_chinese(item) else squad_exact_match
    return max(match(output, ref) for ref in item.answers)


@metric("token_f1", tasks=("qa",))
def token_f1(item: ItemBase, output: str) -> float:
    """Token F1: SQuAD v1.1's (after NFKC); CMRC 2018's for Chinese answers (see module)."""
    assert isinstance(item, QAItem)
    f1 = cmrc_f1 if _is_chinese(item) else squad_f1
    return max(f1(output, ref) for ref in item.answers)
