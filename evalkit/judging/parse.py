"""Reading a judge's answer: lenient on form, strict on meaning.

Form: the JSON object the prompt asks for may come fenced or not, with prose around it, with
trailing commas, with a bare number per criterion (`{"accuracy": 4}`), wrapped in one more
object (`{"scores": {...}}`), or cut off by the token limit (every score stated before the
cut is read); instead of JSON, plain lines ("Accuracy: 4/5", "**Fluency** - 5", "准确性：4分",
"| relevance | 3 |") are read too. A reasoning model's `<think>...</think>` is skipped.

Meaning: a score is never guessed. It must name its criterion (the criterion's name in any
case, with spaces for underscores, or the Chinese label that starts a segment of its
description, as in "准确性：答案是否正确"); it must be a whole number (4.0 is 4; 4.5 is "not
an integer": rounding would pick 4 or 5 for the judge); "4/5" is 4 only when 5 is the top of
the criterion's scale (8/10 on a 1..5 scale, or 80%, is "out of scale": rescaling would be a
guess too); two different readings of one criterion ("3-4", two lines, a JSON key twice) are
"several scores". Each unreadable score has one of a small fixed vocabulary of problems.

Pairwise verdicts (after MT-Bench's "[[A]]"/"[[B]]"/"[[C]]", Zheng et al. 2023) are read
from JSON's "winner", explicit markers ("Winner: A", "[[B]]", "最终结论：A") or, only when
neither exists, plain phrases ("A is better", "答案A更好", "tie", "平局"); two different
verdicts, or a winner naming both answers, are "several verdicts".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from evalkit.metrics.answers.structured import extract_json_object
from evalkit.suite.rubric import Criterion

# --- problems -------------------------------------------------------------------------------

NO_SCORE = "no score"  # the output was read, but says nothing scorable about this criterion
OUT_OF_SCALE = "out of scale"  # a number outside the criterion's scale, or on another scale
NOT_INTEGER = "not an integer"  # 4.5, "good", true
SEVERAL_SCORES = "several scores"  # two different readings for one criterion
UNREADABLE = "unreadable output"  # nothing in the output scores any criterion / names a winner
RUBRIC_PROBLEMS = (NO_SCORE, OUT_OF_SCALE, NOT_INTEGER, SEVERAL_SCORES, UNREADABLE)

NO_VERDICT = "no verdict"  # a "winner" field that names neither answer nor a tie
SEVERAL_VERDICTS = "several verdicts"  # both answers named, or two different verdicts
PAIR_PROBLEMS = (NO_VERDICT, SEVERAL_VERDICTS, UNREADABLE)


@dataclass(frozen=True)
class CriterionScore:
    """The judge's score on one criterion, or why there is none (`problem`)."""

    score: int | None
    reason: str | None
    problem: str | None


Winner = Literal["a", "b", "tie"]


@dataclass(frozen=True)
class PairVerdict:
    """The judge's verdict on one ordered pair (A first), or why there is none."""

    winner: Winner | None
    reason: str | None
    problem: str | None


# --- shared: thinking, JSON and its place in the text ----------------------------------------

_THINK_END = re.compile(r"</think\s*>", re.IGNORECASE)
_THINK_START = re.compile(r"<think\s*>", re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_MAX_STARTS = 50
_PLAIN = json.JSONDecoder()


class _Several(tuple[Any, ...]):
    """All values of a key that a JSON object repeats."""


def _keep_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            before = out[key]
            out[key] = _Several(
                (*before, value) if isinstance(before, _Several) else (before, value)
            )
        else:
            out[key] = value
    return out


_REPEATS = json.JSONDecoder(object_pairs_hook=_keep_repeats)


def _visible(output: str) -> str:
    """The output without a reasoning model's thinking (all up to the last `</think>`; an
    unclosed `<think>` hides everything after it)."""
    ends = list(_THINK_END.finditer(output))
    if ends:
        output = output[ends[-1].end() :]
    start = _THINK_START.search(output)
    return output[: start.start()] if start else output


def _find_json(text: str) -> tuple[dict[str, Any], str] | None:
    """The first JSON object (as `extract_json_object` finds it, trailing commas allowed),
    with repeated keys kept, and the text around it (the object replaced by a line break)."""
    try:
        return _find_json_in(text)
    except RecursionError:  # json's decoder recurses per nesting level: a judge that loops
        return None  # '{"a": {"a": ...' is read as prose


def _find_json_in(text: str) -> tuple[dict[str, Any], str] | None:
    for candidate in (text, _TRAILING_COMMA.sub(r"\1", text)):
        found = extract_json_object(candidate)
        if found is None:
            continue
        start = candidate.find("{")
        for _ in range(_MAX_STARTS):
            if start < 0:
                break
            try:
                value, end = _PLAIN.raw_decode(candidate, start)
            except ValueError:
                value, end = None, start
            if value == found:
                with_repeats = _REPEATS.decode(candidate[start:end])
                return with_repeats, candidate[:start] + "\n" + candidate[end:]
            start = candidate.find("{", start + 1)
        return found, candidate
    return None


def _field(obj: dict[str, Any], names: Iterable[str], suffixes: Sequence[str] = ("",)) -> list[Any]:
    """Values of the keys that are one of `names` (case-insensitive, spaces trimmed), each
    optionally followed by one of `suffixes`."""
    wanted = {n.lower() + s for n in names for s in suffixes}
    out: list[Any] = []
    for key, value in obj.items():
        if key.strip().lower() in wanted:
            out.extend(value if isinstance(value, _Several) else [value])
    return out


_REASON_KEYS = ("reason", "reasons", "explanation", "rationale", "理由", "原因", "解释")


def _reason(obj: dict[str, Any]) -> str | None:
    for value in _field(obj, _REASON_KEYS):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


# --- rubric ---------------------------------------------------------------------------------

_CJK_LABEL = re.compile(r"(?:^|/)\s*([\u3400-\u9fff]{1,8})\s*[：:]")
_SCORE_KEYS = ("score", "rating", "分数", "得分", "评分")
_LABEL_SUFFIXES = ("", "_score", " score", "得分", "评分")  # "accuracy_score": 4, "准确性得分": 4

# A score after a criterion's label: "Accuracy: 4/5", "**accuracy** - 4", "准确性：4分",
# "| fluency | 5 |", '"relevance": {"score": 3', "Accuracy (1-5): [[4]]", "accuracy: 3-4".
_VALUE = r"""
    (?P<sep>
      (?:[ \t]{0,8}[\(（][^)）\n]{0,20}[\)）])?      # "(1-5)", "（accuracy）"
      [\s"'*`_]{0,40}
      (?:(?:score|rating|得分|评分|分数)[\s"'*`]{0,40})?
      (?:[:：=|]|[-–—]{1,2})
      [\s"'*`]{0,40}
      (?:\{[\s"']{0,8}(?:score|rating)["']?[ \t]{0,8}[:：][\s"']{0,8})?
      (?:\[\[[ \t]{0,8})?
    )
    (?P<neg>-)?(?P<num>\d+(?:\.\d+)?)
    \**
    (?:[ \t]{0,8}(?:/|／|out[ \t]+of)[ \t]{0,8}(?P<den>\d+(?:\.\d+)?))?
    (?P<pct>[ \t]{0,8}%)?
    (?:[ \t]{0,8}(?:分|points?|pts)(?![A-Za-z]))?
    (?:[ \t]{0,8}(?:-|–|~|～|to|or|或|到|至)[ \t]{0,8}(?P<num2>\d+(?:\.\d+)?)(?!\d)
       (?:[ \t]{0,8}(?:/|／|out[ \t]+of)[ \t]{0,8}\d+)?
       (?:[ \t]{0,8}(?:分|points?|pts)(?![A-Za-z]))?)?
    (?![\d.]*\d)
"""
_JSON_REASON = re.compile(
    r"""(?:\]\])?["']?[ \t]{0,8},[\s]{0,40}["']?(?:reason|explanation|理由)["']?[ \t]{0,8}[:：]"""
    r"""[ \t]{0,8}"((?:[^"\\\n]|\\.)*)\"""",
    re.IGNORECASE,
)
_LEADING = " \t\r\n-–—:：,，;；.。|*])）"  # stripped from a line's reason
_TRAILING = " \t\r\n|*"

Reading = int | str  # a score, or the problem with what was written


def criterion_labels(criterion: Criterion) -> tuple[str, ...]:
    """How an answer may name the criterion: its name, with spaces for underscores, and the
    Chinese label that starts a segment of its description ("准确性：...")."""
    labels = [criterion.name]
    if "_" in criterion.name:
        labels.append(criterion.name.replace("_", " "))
    labels.extend(m.group(1) for m in _CJK_LABEL.finditer(criterion.description))
    return tuple(dict.fromkeys(labels))


@lru_cache(maxsize=256)
def _mention_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(re.escape(label).replace(r"\ ", r"[\s_]+") for label in labels)
    return re.compile(
        rf"(?<![A-Za-z0-9_])(?:{names})(?![A-Za-z0-9]){_VALUE}", re.IGNORECASE | re.VERBOSE
    )


def _check(value: float, criterion: Criterion, top: float | None = None) -> Reading:
    """A number read for `criterion` (`top`: the denominator of "4/5"), as a score or problem."""
    low, high = criterion.scale
    if top is not None and top != high:
        return OUT_OF_SCALE  # "8/10" on a 1..5 scale
    if isinstance(value, float):
        if not math.isfinite(value):
            return OUT_OF_SCALE  # more digits than a float holds
        if not value.is_integer():
            return NOT_INTEGER
        value = int(value)
    return value if low <= value <= high else OUT_OF_SCALE


_NUMBER = re.compile(
    r"(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)(?:\s{0,8}(?:/|／|out\s+of)\s{0,8}(\d+(?:\.\d+)?))?(\s{0,8}%)?",
    re.IGNORECASE,
)


def _number_text(text: str, criterion: Criterion) -> Reading:
    """A score written as a string in JSON: "4", "4/5", "4分", "4 (good)", "4.5"."""
    if text.strip().lower() in ("", "n/a", "na", "none", "null", "-", "无"):
        return NO_SCORE
    readings: set[Reading] = set()
    for m in _NUMBER.finditer(text):
        top = float(m.group(2)) if m.group(2) else None
        readings.add(OUT_OF_SCALE if m.group(3) else _check(float(m.group(1)), criterion, top))
    if not readings:
        return NOT_INTEGER
    return readings.pop() if len(readings) == 1 else SEVERAL_SCORES


def _json_reading(value: Any, criterion: Criterion) -> tuple[list[Reading], str | None]:
    """Readings (and the reason, if any) of one criterion's value in the judge's JSON."""
    if isinstance(value, dict):
        scores = _field(value, _SCORE_KEYS)
        readings = [r for s in scores for r in _json_reading(s, criterion)[0]]
        return readings or [NO_SCORE], _reason(value)
    if value is None:
        return [NO_SCORE], None
    if isinstance(value, bool):
        return [NOT_INTEGER], None
    if isinstance(value, (int, float)):
        return [_check(value, criterion)], None
    if isinstance(value, str):
        return [_number_text(value, criterion)], None
    if isinstance(value, list) and value:
        return [r for v in value for r in _json_reading(v, criterion)[0]], None
    return [NOT_INTEGER], None


def _scores_object(obj: dict[str, Any], labels: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """The object that holds the scores: `obj`, or the one object inside it that does."""

    def holds(o: dict[str, Any]) -> bool:
        return any(_field(o, names, _LABEL_SUFFIXES) for names in labels.values())

    if holds(obj):
        return obj
    inner = [v for v in obj.values() if isinstance(v, dict) and holds(v)]
    return inner[0] if len(inner) == 1 else {}


def _line_reason(text: str, start: int, stop: int) -> str | None:
    line_end = text.find("\n", start)
    end = min(stop, line_end if line_end >= 0 else len(text))
    reason = text[start:end].lstrip(_LEADING).rstrip(_TRAILING)
    return reason or None


def _text_readings(
    text: str, criteria: Sequence[Criterion], labels: dict[str, tuple[str, ...]]
) -> dict[str, list[tuple[Reading, str | None]]]:
    """Scores written as text, per criterion, each with the rest of its line as the reason."""
    found: list[tuple[int, int, str, re.Match[str]]] = []
    for c in criteria:
        for m in _mention_pattern(labels[c.name]).finditer(text):
            found.append((m.start(), m.end(), c.name, m))
    found.sort()
    by_name = {c.name: c for c in criteria}
    out: dict[str, list[tuple[Reading, str | None]]] = {c.name: [] for c in criteria}
    for i, (_start, end, name, m) in enumerate(found):
        criterion = by_name[name]
        value = -float(m["num"]) if m["neg"] else float(m["num"])
        if m["pct"]:
            reading: Reading = OUT_OF_SCALE
        else:
            reading = _check(value, criterion, float(m["den"]) if m["den"] else None)
        if m["num2"] is not None and float(m["num2"]) != value:
            reading = SEVERAL_SCORES
        json_reason = _JSON_REASON.match(text, end)
        if json_reason:
            try:
                reason: str | None = json.loads(f'"{json_reason.group(1)}"').strip() or None
            except ValueError:
                reason = json_reason.group(1).strip() or None
        elif any(ch in m["sep"] for ch in "{\"'"):
            reason = None  # JSON-like text without a reason (cut off, or a bare number)
        else:
            stop = found[i + 1][0] if i + 1 < len(found) else len(text)
            reason = _line_reason(text, end, stop)
        out[name].append((reading, reason))
    return out


def parse_rubric(output: str, criteria: Sequence[Criterion]) -> dict[str, CriterionScore]:
    """The judge's score on each criterion (keyed by name, in the criteria's order)."""
    labels = {c.name: criterion_labels(c) for c in criteria}
    text = _visible(output)
    readings: dict[str, list[tuple[Reading, str | None]]] = {c.name: [] for c in criteria}
    found = _find_json(text)
    if found is not None:
        obj, rest = found
        scores = _scores_object(obj, labels)
        if scores:
            text = rest  # the object's own text is read once, as JSON
            shared = _reason(scores) or _reason(obj)
            for c in criteria:
                for value in _field(scores, labels[c.name], _LABEL_SUFFIXES):
                    values, reason = _json_reading(value, c)
                    readings[c.name].extend((v, reason or shared) for v in values)
    for name, more in _text_readings(text, criteria, labels).items():
        readings[name].extend(more)
    if not any(readings.values()):
        return {c.name: CriterionScore(None, None, UNREADABLE) for c in criteria}
    return {c.name: _decide(readings[c.name]) for c in criteria}


def _decide(readings: list[tuple[Reading, str | None]]) -> CriterionScore:
    reason = next((r for _, r in readings if r), None)
    distinct = {r for r, _ in readings}
    if not distinct:
        return CriterionScore(None, None, NO_SCORE)
    if len(distinct) > 1:
        return CriterionScore(None, reason, SEVERAL_SCORES)
    (only,) = distinct
    if isinstance(only, int):
        return CriterionScore(only, reason, None)
    return CriterionScore(None, reason, only)


# --- pairwise -------------------------------------------------------------------------------

_WINNER_KEYS = ("winner", "verdict", "better", "better_answer", "胜者", "获胜者", "结论")
_TIE_WORDS = r"tie|draw|equal|平局|平手|持平|两者相当|不相上下"
_LETTER = r"(?<![A-Za-z])([AB])(?![A-Za-z])"

# Explicit verdicts: "[[A]]" (MT-Bench; [[C]] is its tie), "Winner: B", "最终结论：A".
_MARKERS = (
    re.compile(r"\[\[\s*(A|B|C|tie)\s*\]\]", re.IGNORECASE),
    re.compile(
        r"(?:(?<![A-Za-z])(?:final\s+)?(?:winner|verdict|decision)|胜者|获胜者|获胜方|最终结论"
        r"|结论|最终判断|判定)[\"'*`]{0,4}(?:[ \t]{0,8}[:：]|\s{1,8}is\b)[\s\"'*`]{0,40}"
        r"(?:(?:answer|assistant|response|答案|回答)[ \t]{0,8})?(A|B|tie|平局|平手)(?![A-Za-z])",
        re.IGNORECASE,
    ),
)
# Plain phrases, read only when no explicit verdict exists (group 1: the letter; none: tie).
# A quoted "tie" is the prompt's own word, echoed: only a marker ('verdict: "tie"') reads it.
_PHRASES = (
    re.compile(
        _LETTER + r"(?:'s\s+(?:answer|response))?\s+(?:is|was)\s+"
        r"(?:(?:clearly|slightly|much|far|significantly|somewhat|overall|definitely|marginally"
        r"|a\s+bit|therefore|thus)\s+)?(?:the\s+)?(?:better|superior|preferable|stronger|winner)"
    ),
    re.compile(_LETTER + r"\s+wins\b"),
    re.compile(
        r"(?<![A-Za-z])([AB])[ \t]{0,8}(?:(?:的回答|的答案)[ \t]{0,8})?"
        r"(?:(?:明显|略|稍|要|更加)[ \t]{0,8})?(?:更好|更优|更佳|较好|较优|胜出|获胜|优于|更胜一筹)"
    ),
    re.compile(
        r"(?<![A-Za-z])([AB])[ \t]{0,8}比[ \t]{0,8}[AB][ \t]{0,8}(?:(?:更|要)[ \t]{0,8})?好"
    ),
    re.compile(r"(?<![A-Za-z])[AB][ \t]{0,8}不如[ \t]{0,8}([AB])(?![A-Za-z])"),
    re.compile(
        r"(?<![A-Za-z\"'])(?:tie|draw)(?![A-Za-z\"'])|equally\s+(?:good|bad|strong|weak)"
        r"|neither\s+(?:answer\s+|one\s+)?is\s+better|平局|平手|不相上下|同样好|一样好"
        r"|难分高下|两者相当|水平相当|势均力敌",
        re.IGNORECASE,
    ),
)


def _verdict_word(word: str) -> Winner:
    word = word.strip().lower()
    if word in ("a", "b"):
        return word  # type: ignore[return-value]
    return "tie"  # c (MT-Bench's tie), tie, 平局, ...


def _json_winner(value: Any) -> list[Winner] | str:
    """The verdicts a JSON "winner" value names, or the problem with it."""
    if not isinstance(value, str) or not value.strip():
        return NO_VERDICT
    named: list[Winner] = [_verdict_word(m) for m in re.findall(_LETTER, value.upper())]
    if re.search(_TIE_WORDS, value, re.IGNORECASE):
        named.append("tie")
    named = list(dict.fromkeys(named))
    if not named:
        return NO_VERDICT
    return named if len(named) == 1 else SEVERAL_VERDICTS


def _prose_reason(text: str) -> str | None:
    for pattern in _MARKERS:
        text = pattern.sub("", text)
    text = re.sub(r"\s+", " ", text).strip(" \t\n*#`-")
    return text or None


def parse_pairwise(output: str) -> PairVerdict:
    """The judge's verdict on a pair: "a", "b" or "tie", or why none could be read."""
    text = _visible(output)
    verdicts: list[Winner] = []
    found = _find_json(text)
    winners = _field(found[0], _WINNER_KEYS) if found else []
    if found and winners:
        text, reason = found[1], _reason(found[0])  # JSON: its own reason, or none
        for value in winners:
            named = _json_winner(value)
            if isinstance(named, str):
                return PairVerdict(None, reason, named)
            verdicts.extend(named)
    else:
        reason = _prose_reason(text)  # prose: all of it but the verdict markers
    for pattern in _MARKERS:
        verdicts.extend(_verdict_word(m) for m in pattern.findall(text))
    if not verdicts:
        for pattern in _PHRASES:
            for m in pattern.finditer(text):
                verdicts.append(_verdict_word(m.group(1)) if m.groups() else "tie")
    distinct = list(dict.fromkeys(verdicts))
    if not distinct:
        return PairVerdict(None, reason, UNREADABLE)
    if len(distinct) > 1:
        return PairVerdict(None, reason, SEVERAL_VERDICTS)
    return PairVerdict(distinct[0], reason, None)
