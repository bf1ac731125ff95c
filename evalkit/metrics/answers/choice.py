"""Multiple choice: which letter an output picks.

Letters: an uppercase letter standing alone ("C", "**C**", "C。", "C) ...", "选C", "C项"), any
letter in brackets ("(c)", "（Ｃ）") or before a list delimiter ("c) ...", "b."), and in a
statement any standalone letter ("answer: c"). Never a letter: one inside a word ("CAT"),
an abbreviation ("U.S.", "e.g."), "A"/"a"/"I" used as a word ("A counter-offer", "a
contract", "I think"), "I'd", "X-ray". A letter beyond the choices counts only when stated
("The answer is E": a readable, wrong answer). An option's text ("Counter-offer", "开封")
names its letter; a letter inside a matched option text ("Both A and B") is part of that
text. Letters, when any are named, decide over option texts mentioned in passing. An output
that lists the options ("A. 长安 / B. 南京 / ...") states no answer by that list, nor by a
letter alone on a line after it; only a statement ("The answer is D") can still give one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from evalkit.metrics.answers.decide import Grammar, decide
from evalkit.metrics.answers.mentions import (
    Mention,
    compile_phrases,
    covered,
    find_phrases,
    negated_mentions,
    prepare,
)
from evalkit.metrics.answers.result import EMPTY_OUTPUT, ParsedAnswer, unreadable

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_LETTER = re.compile(
    r"(?<![0-9A-Za-z)\]])[(\[【]\s*(?P<b>[A-Za-z])\s*[)\]】]"
    r"|(?<![0-9A-Za-z])(?P<l>[A-Za-z])(?![0-9A-Za-z])"
)
_ABBREVIATION_AFTER = re.compile(r"\.[A-Za-z]|['-][a-z]")
_ONE_LETTER = re.compile(r"\s*[A-Za-z]\s*")
_WORD_AFTER = re.compile(r"\s+([A-Za-z]+)")
# Words that follow a letter but never the article "a" or the pronoun "I" ("A is wrong",
# "A and C", "I or J"); any other word makes "a"/"A"/"I" a word ("A contract", "I think").
_AFTER_I = frozenset(
    {"is", "isn", "was", "and", "or", "nor", "but", "because", "seems", "appears", "looks"}
    | {"vs", "versus", "plus", "then", "also", "too", "only", "alone"}
)
_AFTER_A = _AFTER_I | {"are", "since", "seemed", "would", "could", "should", "might", "must"}
_AFTER_A |= {"can", "will", "may", "has", "had", "does", "did", "as", "if", "so", "while", "which"}
_DELIMITER_AFTER = re.compile(r"\s*[.)\]】:、]")
_OPTION_BEFORE = re.compile(r"(?:option|choice|选项)\s*$", re.IGNORECASE)

GRAMMAR = Grammar(
    cues=re.compile(
        r"\b(?:(?:final|correct|right|best|my|the)\s+)*(?:answer|option|choice)s?"
        r"(?:\s+(?:to|for)\s+(?:this|the)\s+(?:question|item|problem))?"
        r"\s*(?:(?:is|are|would\s+be|should\s+be|must\s+be|will\s+be|has\s+to\s+be"
        r"|seems\s+to\s+be)\b|[:=]|[-–—](?=\s))"
        r"|\b(?:go(?:ing)?\s+with|choose|chose|pick(?:ed)?|select(?:ed)?|opt\s+for)\b"
        r"|\bI(?:'d|\s+would)\s+say\b"
        r"|(?:\bnot\b|n't\b)[^.;!?\n。；！？]{0,60}?\bbut(?:\s+rather)?\b"
        r"|(?:正确|最终|最佳)?答案(?:应该|应当|应|就|肯定|显然)?(?:是|为|选|:)?"
        r"|(?<!不)选(?:择)?(?!项|题|择题)|而是|(?:应该|应当|应)(?:是|为|选)",
        re.IGNORECASE,
    ),
    filler=re.compile(
        r"(?:[\s*_`\"'“”‘’「」『』【】\[\]()<>:=\-–—]"
        r"|\b(?:the|an?|option|choice|letter|probably|likely|most|definitely|clearly"
        r"|certainly|surely|maybe|perhaps|possibly|either|is|be|would|should|must)\b"
        r"|大概|大约|可能|应该|应当|应|也许|或许|肯定|显然|就|是|为|选项|选择|选|第)*",
        re.IGNORECASE,
    ),
    verdict=re.compile(
        r"\s*\)?\s*(?:"
        r"(?:is|was|seems|appears|looks)\s+(?:to\s+be\s+)?(?:the\s+)?(?:correct|right|best|true)"
        r"\b(?!\s*\?)"
        r"|(?:is|would\s+be)\s+the\s+(?:correct\s+|right\s+|best\s+)?answer\b"
        r"|are\s+(?:the\s+)?(?:correct|right)\b"
        r"|(?:项|选项)?(?:是|为)?(?:正确答案|正确选项|正确的|正确|对的)(?![吗么?])"
        r")",
        re.IGNORECASE,
    ),
    lone_line=re.compile(
        r"^[ \t*_`#>\"'“”‘’「」【\[(]*(?:(?:option|choice|answer)\s*:?\s*|选项|答案\s*:?\s*)?"
        r"(?P<x>[A-Za-z])(?:\s*项)?[ \t*_`\"'“”‘’」】\])。.:!]*$",
        re.IGNORECASE | re.MULTILINE,
    ),
)


@lru_cache(maxsize=4096)
def _option_texts(choices: tuple[str, ...]) -> list[tuple[re.Pattern[str], str]]:
    """A pattern per option text, paired with its letter; a one-letter text is no text."""
    out = []
    for k, choice in enumerate(choices):
        if not _ONE_LETTER.fullmatch(choice):
            out += [(pattern, LETTERS[k]) for pattern, _ in compile_phrases([choice])]
    return out


def _abbreviation_before(text: str, at: int) -> bool:
    return at >= 2 and text[at - 1] == "." and text[at - 2].isascii() and text[at - 2].isalpha()


def _letters(text: str, n_choices: int) -> list[Mention]:
    found = []
    for m in _LETTER.finditer(text):
        if m["b"]:
            letter, strong = m["b"], True
        else:
            letter, at, end = m["l"], m.start(), m.end()
            if _ABBREVIATION_AFTER.match(text, end) or _abbreviation_before(text, at):
                continue
            word = _WORD_AFTER.match(text, end) if letter in "AaIi" else None
            if word and word[1].lower() not in (_AFTER_A if letter in "Aa" else _AFTER_I):
                continue
            strong = letter.isupper() or bool(
                _DELIMITER_AFTER.match(text, end) or _OPTION_BEFORE.search(text, max(0, at - 8), at)
            )
        index = LETTERS.index(letter.upper())
        found.append(
            Mention(m.start(), m.end(), letter.upper(), True, strong and index < n_choices)
        )
    return found


_LISTED_OPTION = re.compile(r"^[ \t*_`#>(\[【]*([A-Z])\s*[.)）、:：]\s*\S", re.MULTILINE)


def lists_options(text: str) -> bool:
    """Whether the output lists options: lines starting "A. ...", "B. ..." (two letters or
    more), as a model does that repeats the question instead of answering it."""
    return len(set(_LISTED_OPTION.findall(text))) >= 2


def parse_choice(output: str, choices: Sequence[str]) -> ParsedAnswer:
    """The letter an output picks among `choices` (shown as A, B, ...), or why none is read."""
    if not output.strip():
        return unreadable(EMPTY_OUTPUT)
    text = prepare(output)
    texts = find_phrases(text, _option_texts(tuple(choices)))
    starts = [t.start for t in texts]
    letters = [m for m in _letters(text, len(choices)) if not covered(m, texts, starts)]
    mentions = sorted(letters + texts, key=lambda m: m.start)
    negated = negated_mentions(text, mentions)
    return decide(text, mentions, negated, GRAMMAR, lone_lines=not lists_options(text))
