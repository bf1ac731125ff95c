"""From mentions to one answer: explicit statements first, else the options named, no guessing.

- Mentions joined by connectors form a group ("B or C", "A、C", "C) Counter-offer"): a comma
  joins only a listed item ("A, C and D"), not the subject of a new clause ("C, A is...").
- A statement is a group stated as the answer: right after a cue ("answer is", "答案是",
  "选", filler such as "probably" or "the" allowed in between), before a verdict ("C is
  correct", "选项C正确"), or a line holding only a letter ("C", "**C**", "(C)"). The last
  statement wins over earlier reasoning. A negated mention states nothing.
- Without a statement, the answer is the one option named, negated mentions left out:
  letters anywhere; option texts and labels only in the opening sentence, since one named
  later, in an explanation ("... is grammatically incorrect. It is a grammatical error"), is
  mentioned in passing, not given as the answer.
- A line that is only an answer is a statement, unless the output lists the options (two or
  more lines "A. ...", "B. ..."): a letter alone after such a list is the list starting
  again (cut off by the token limit), not a choice.
- Two or more different answers in the deciding group: a hedge when joined by "or", "/",
  "maybe", 或, 还是, 可能..., else several answers. Nothing left: negated when something was
  negated, else no answer.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from evalkit.metrics.answers.mentions import Mention
from evalkit.metrics.answers.result import (
    HEDGE,
    NEGATED,
    NO_ANSWER,
    SEVERAL_ANSWERS,
    ParsedAnswer,
    answer,
    unreadable,
)

_FILL = (
    r"(?:[\s*_`\"'“”‘’「」『』【】\[\]()<>]"
    r"|\b(?:option|choice|maybe|perhaps|possibly|probably|also|either)\b|选项)*"
)
_CONNECTED = re.compile(
    _FILL + r"(?:(?P<conn>\bor\b|\band\b|&|\+|/|、|,|或者?|还是|也可能是?|要么|和|与|以及|及)"
    r"(?:是)?" + _FILL + r")?",
    re.IGNORECASE,
)
_LISTED_NEXT = re.compile(r"\s*(?:$|[.;:!?。；！？,、)\]】*]|(?:and|or)\b|[和或及与])", re.I)
_HEDGE = re.compile(
    r"\b(?:or|either|maybe|perhaps|possibly)\b|/|或(?!许)|还是|可能|也许|要么", re.I
)
_MAX_GAP = 40  # characters between a cue and its answer, or between grouped mentions


@dataclass(frozen=True)
class Grammar:
    """How a task states an answer: cues before it, a verdict after it, a bare line."""

    cues: re.Pattern[str]
    filler: re.Pattern[str]  # what may stand between a cue and the answer
    verdict: re.Pattern[str] | None = None  # "C is correct": states the group it ends
    lone_line: re.Pattern[str] | None = None  # a line that is only an answer (group "x")
    lone_phrase: bool = False  # a line that is only an option text or label is a statement


@dataclass(frozen=True)
class _Statement:
    anchor: int
    members: tuple[int, ...]
    lone: bool = False


def _groups(text: str, mentions: Sequence[Mention], negated: Sequence[bool]) -> list[list[int]]:
    """Runs of non-negated mentions joined by connectors, as lists of mention indices."""
    groups: list[list[int]] = []
    previous: int | None = None
    for k, m in enumerate(mentions):
        if negated[k]:
            previous = None
            continue
        if previous is not None:
            gap = text[mentions[previous].end : m.start]
            joined = _CONNECTED.fullmatch(gap) if len(gap) <= _MAX_GAP else None
            if joined and (joined["conn"] != "," or _LISTED_NEXT.match(text, m.end)):
                groups[-1].append(k)
                previous = k
                continue
        groups.append([k])
        previous = k
    return groups


_LINE_BEFORE = re.compile(r"[ \t*_`#>\"'“”‘’「【\[(:\-]*")
_LINE_AFTER = re.compile(r"[ \t*_`\"'“”‘’」】\])。.!！:]*")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|[。！？\n]")


def _alone_on_its_line(text: str, m: Mention) -> bool:
    start = text.rfind("\n", 0, m.start) + 1
    end = text.find("\n", m.end)
    end = len(text) if end < 0 else end
    return bool(
        _LINE_BEFORE.fullmatch(text, start, m.start) and _LINE_AFTER.fullmatch(text, m.end, end)
    )


def opening_end(text: str) -> int:
    """Where the output's first sentence (or line) with any words in it ends."""
    start = 0
    for end in _SENTENCE_END.finditer(text):
        if any(ch.isalnum() for ch in text[start : end.start()]):
            return end.start()
        start = end.end()
    return len(text)


def _statements(
    text: str,
    mentions: Sequence[Mention],
    negated: Sequence[bool],
    grammar: Grammar,
    lone_lines: bool,
) -> list[_Statement]:
    groups = _groups(text, mentions, negated)
    group_of = {k: g for g in groups for k in g}
    starts = [m.start for m in mentions]
    out = []
    for cue in grammar.cues.finditer(text):
        k = bisect_left(starts, cue.end())
        if k == len(mentions) or negated[k]:
            continue
        gap = text[cue.end() : mentions[k].start]
        if len(gap) <= _MAX_GAP and grammar.filler.fullmatch(gap):
            group = group_of[k]
            out.append(_Statement(cue.start(), tuple(group[group.index(k) :])))
    if grammar.verdict is not None:
        for k, m in enumerate(mentions):
            if not negated[k] and grammar.verdict.match(text, m.end):
                group = group_of[k]
                out.append(_Statement(m.start, tuple(group[: group.index(k) + 1])))
    if grammar.lone_phrase and lone_lines:
        for k, m in enumerate(mentions):
            if not negated[k] and not m.letter and _alone_on_its_line(text, m):
                out.append(_Statement(m.start, (k,), lone=True))
    if grammar.lone_line is not None and lone_lines:
        for line in grammar.lone_line.finditer(text):
            k = bisect_left(starts, line.start("x") + 1) - 1
            if k >= 0 and mentions[k].end > line.start("x") and not negated[k]:
                out.append(_Statement(mentions[k].start, (k,), lone=True))
    return out


def one_answer(text: str, named: Sequence[Mention]) -> ParsedAnswer:
    """The single value named, or why there is not one (hedge or several answers)."""
    values = {m.value for m in named}
    if len(values) == 1:
        return answer(named[0].value)
    for a, b in pairwise(named):
        gap = text[a.end : b.start]
        if a.value != b.value and len(gap) <= 60 and _HEDGE.search(gap):
            return unreadable(HEDGE)
    return unreadable(SEVERAL_ANSWERS)


def decide(
    text: str,
    mentions: Sequence[Mention],
    negated: Sequence[bool],
    grammar: Grammar,
    lone_lines: bool = True,
) -> ParsedAnswer:
    """The answer the mentions give (see the module docstring); `lone_lines` False when the
    output lists the options, so that a line alone is not a statement."""
    statements = _statements(text, mentions, negated, grammar, lone_lines)
    if statements:
        if all(s.lone for s in statements):
            lone = sorted({k for s in statements for k in s.members})
            if len({mentions[k].value for k in lone}) > 1:
                return unreadable(SEVERAL_ANSWERS)
        last = max(statements, key=lambda s: s.anchor)
        return one_answer(text, [mentions[k] for k in last.members])
    named = [m for m, neg in zip(mentions, negated, strict=True) if m.strong and not neg]
    letters = [m for m in named if m.letter]
    if letters:
        return one_answer(text, letters)
    opening = opening_end(text)
    phrases = [m for m in named if m.start < opening]
    if phrases:
        return one_answer(text, phrases)
    if named:
        return unreadable(NO_ANSWER)  # named only in passing, after the opening sentence
    return unreadable(NEGATED if any(negated) else NO_ANSWER)
