"""Where an output names an option: phrase matching and negation, shared by choices and labels.

- Text is NFKC-normalised first (full-width `Ｃ`, `（Ｃ）`, `：` become `C`, `(C)`, `:`) and
  curly apostrophes become straight ones; positions refer to that text.
- A phrase (an option's text, a label) matches case-insensitively, with `_`, `-` and spaces
  interchangeable between its words. A Latin or digit edge must not touch another Latin
  letter or digit ("law" is not in "lawful", "3年" is not in "13年", "2" is not in "1.2");
  a CJK edge may touch anything ("违约" is in "构成违约").
- Overlapping matches: the longest wins ("不违约" over "违约", "no breach" over "breach").
- A mention is negated when a negation precedes it in the same clause (not, n't, no, never,
  none, non-, rather than, instead of, except, unlike; 不, 没, 无, 非, 未) or a verdict
  follows it ("A is wrong", "A is not correct", "A错误", "A不正确"). Words that only look
  negative do not count: "not sure", "no doubt", 非常, 无论, 不仅, 不过, 毫无疑问, 不确定,
  不可抗力 and a few more (`_NOT_NEGATION`). Other mentions inside the window are ignored,
  so a negation that belongs to a longer label ("不违约") negates nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

# Latin-like word characters: an edge of a Latin phrase must not touch one.
_WORD = r"0-9A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_SEPARATORS = re.compile(r"[\s_\-\u2010\u2011\u2013\u2014]+")
_TRAILING = " \t\n.。!！?？;；:：,，、"

_CLAUSE_BREAK = re.compile(
    r"[.;!?。；！？\n:,]"
    r"|\b(?:but|however|whereas|although|though|so|therefore|thus|hence)\b"
    r"|但是?|而是|所以|因此|然而|不过",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|neither|nor|none|cannot|except|excluding|unlike)\b|n't\b|\bnon-"
    r"|\brather\s+than\b|\binstead\s+of\b|\bother\s+than\b|\brul(?:e|ed|ing)\s+out\b"
    r"|不|没|无|非|未",
    re.IGNORECASE,
)
_NOT_NEGATION = re.compile(
    r"\bnot\s+(?:\S+\s+)?(?:sure|certain|confident)\b|n't\s+(?:\S+\s+)?(?:sure|certain)\b"
    r"|\bno\s+(?:doubt|question)\b"
    r"|非常|无论|不仅|不但|不过|不管|无疑|毫无疑问|不得不|不久|不少|不断|不错"
    r"|不(?:太|很)?确定|不敢肯定|不可抗力|不动产|未来",
    re.IGNORECASE,
)
_NEGATED_AFTER = re.compile(
    r"\s*\)?\s*(?:"
    r"(?:is|was|are|were|seems|would\s+be)\s+(?:not\b|wrong|incorrect|false|invalid)"
    r"|isn't|aren't|wasn't"
    r"|(?:is|was|can\s+be|should\s+be)\s+(?:ruled\s+out|eliminated|excluded)"
    r"|(?:项|选项)?(?:是|也)?(?:错误|错的|错|不正确|不对|不是|不符合|不成立|不选|排除|可以排除)"
    r")",
    re.IGNORECASE,
)
_WINDOW = 200  # a clause longer than this is cut: negation is looked for nearby only


@dataclass(frozen=True)
class Mention:
    """One place where the output names an option: `value` is the letter or label."""

    start: int
    end: int
    value: str
    letter: bool = False  # a letter ("C", "(c)") rather than an option's text
    strong: bool = True  # may decide an answer on its own, not only inside a statement


def prepare(output: str) -> str:
    """NFKC with straight apostrophes; positions in this text are 1:1 with its characters."""
    return unicodedata.normalize("NFKC", output).translate(_APOSTROPHES)


def phrase_pattern(phrase: str) -> str | None:
    """Regex for a phrase: words joined by any run of spaces, `_` or `-`; Latin edges bounded."""
    text = unicodedata.normalize("NFKC", phrase).strip(_TRAILING)
    words = [w for w in _SEPARATORS.split(text) if w]
    if not words:
        return None
    body = r"[\s_\-]+".join(re.escape(w) for w in words)
    first, last = words[0][0], words[-1][-1]
    if re.match(f"[{_WORD}]", first):
        body = rf"(?<![{_WORD}])(?<!\d[.,])" + body
    if re.match(f"[{_WORD}]", last):
        body += rf"(?![{_WORD}])(?![.,]\d)"
    return body


def compile_phrases(phrases: Sequence[str]) -> list[tuple[re.Pattern[str], str]]:
    """One compiled pattern per phrase, paired with the value a match stands for."""
    out = []
    for phrase in phrases:
        pattern = phrase_pattern(phrase)
        if pattern is not None:
            out.append((re.compile(pattern, re.IGNORECASE), phrase))
    return out


def find_phrases(text: str, patterns: Sequence[tuple[re.Pattern[str], str]]) -> list[Mention]:
    """Non-overlapping phrase mentions (the longest of overlapping ones), in text order."""
    found = [Mention(m.start(), m.end(), value) for p, value in patterns for m in p.finditer(text)]
    return longest_first(found)


def longest_first(found: list[Mention]) -> list[Mention]:
    """Keep the longest of overlapping mentions (earliest on ties), in text order."""
    chosen: list[Mention] = []
    starts: list[int] = []
    for m in sorted(found, key=lambda m: (m.start - m.end, m.start)):
        if not covered(m, chosen, starts):
            k = bisect_right(starts, m.start)
            starts.insert(k, m.start)
            chosen.insert(k, m)
    return chosen


def covered(m: Mention, spans: Sequence[Mention], starts: Sequence[int]) -> bool:
    """Whether `m` overlaps one of `spans` (non-overlapping, in text order, `starts` theirs)."""
    k = bisect_right(starts, m.start) - 1
    return any(
        0 <= j < len(spans) and spans[j].start < m.end and m.start < spans[j].end
        for j in (k, k + 1)
    )


def clause_starts(text: str) -> list[int]:
    """Offsets where clauses begin (just after each clause break)."""
    return [m.end() for m in _CLAUSE_BREAK.finditer(text)]


def negated_mentions(text: str, mentions: Sequence[Mention]) -> list[bool]:
    """For each mention (in text order), whether it is negated (see the module docstring)."""
    starts = clause_starts(text)
    out = []
    for i, m in enumerate(mentions):
        k = bisect_right(starts, m.start)
        begin = max(starts[k - 1] if k else 0, m.start - _WINDOW)
        window = text[begin : m.start]
        j = i - 1
        while j >= 0 and mentions[j].end > begin:  # blank earlier mentions: not negations
            a, b = max(mentions[j].start, begin) - begin, mentions[j].end - begin
            window = window[:a] + " " * (b - a) + window[b:]
            j -= 1
        clause = _NOT_NEGATION.sub(lambda x: " " * len(x.group(0)), window)
        out.append(bool(_NEGATION.search(clause)) or bool(_NEGATED_AFTER.match(text, m.end)))
    return out
