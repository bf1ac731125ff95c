"""From mentions to one answer: explicit statements first, else the options named, no guessing.

- Mentions joined by connectors form a group ("B or C", "A、C", "C) Counter-offer"): a comma
  joins only a listed item ("A, C and D"), not the subject of a new clause ("C, A is...").
- A statement is a group stated as the answer: right after a cue ("answer is", "答案是",
  "选", filler such as "probably" or "the" allowed in between), before a verdict ("C is
  correct", "选项C正确"), or a line holding only a letter ("C", "**C**", "(C)"). The last
  statement wins over earlier reasoning. A negated mention states nothing.
- Without a statement, the answer is the one option named (letters, if any, else option
  texts or labels), negated mentions left out.
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


def _statements(
    text: str, mentions: Sequence[Mention], negated: Sequence[bool], grammar: Grammar
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
    if grammar.lone_line is not None:
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
    text: str, mentions: Sequence[Mention], negated: Sequence[bool], grammar: Grammar
) -> ParsedAnswer:
    """The answer the mentions give (see the module docstring)."""
    statements = _statements(text, mentions, negated, grammar)
    if statements:
        if all(s.lone for s in statements):
            lone = sorted({k for s in statements for k in s.members})
            if len({mentions[k].value for k in lone}) > 1:
                return unreadable(SEVERAL_ANSWERS)
        last = max(statements, key=lambda s: s.anchor)
        return one_answer(text, [mentions[k] for k in last.members])
    named = [m for m, neg in zip(mentions, negated, strict=True) if m.strong and not neg]
    letters = [m for m in named if m.letter]
    if letters or named:
        return one_answer(text, letters or named)
    return unreadable(NEGATED if any(negated) else NO_ANSWER)
