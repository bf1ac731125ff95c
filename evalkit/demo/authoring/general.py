"""General skills: the demo-general suite's items and the chat data's dialogues.

Both draw on the same tables (additions, sentiment, word categories, name/age extraction) but
never share an item: the suite's test items use their own phrasing or new combinations.
"""

from __future__ import annotations

import random
from typing import Any, Literal

from evalkit.demo.authoring import tables
from evalkit.demo.authoring.records import LETTERS, Record, as_items, base_record
from evalkit.demo.authoring.tables import LANGUAGES, Exchange, Language
from evalkit.demo.sft import chat_example
from evalkit.suite.spec import SuiteSpec

PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
SUITE_TEST_ITEMS = {"qa": 12, "classification": 12, "mcq": 12, "extraction": 12}  # per language
SUITE_DEV_ITEMS = 2  # per task and language
CHAT_ITEMS = {"qa": 420, "classification": 360, "mcq": 420, "extraction": 300}
SMALL_TALK_REPEATS = 5


def _addition(
    lang: Language, rng: random.Random, record: Record, test_form: bool
) -> tuple[Record, str]:
    a, b = rng.randint(1, 9), rng.randint(1, 9)
    phrasing = tables.arithmetic()[lang]
    template = phrasing.test if test_form else rng.choice(phrasing.training)
    record["format"] = {"kind": "regex", "pattern": r"\d+"}
    question = template.format(a=a, b=b)
    return {**record, "question": question, "answers": [str(a + b)]}, question


def _sentiment(lang: Language, rng: random.Random, record: Record) -> tuple[Record, str]:
    s = tables.sentiment()[lang]
    label: Literal["positive", "negative"] = rng.choice(("positive", "negative"))
    text = rng.choice(s.subjects) + (" " if lang == "en" else "") + rng.choice(s.endings(label))
    text += "." if lang == "en" else "。"
    record["format"] = {"kind": "choice", "choices": ["positive", "negative"]}
    return {**record, "text": text, "labels": ["positive", "negative"], "label": label}, text


def _category(lang: Language, rng: random.Random, record: Record) -> tuple[Record, str]:
    cats = tables.categories()[lang]
    target = rng.choice(list(cats))
    others = rng.sample([c for c in cats if c != target], 3)
    words = [rng.choice(cats[target])] + [rng.choice(cats[c]) for c in others]
    rng.shuffle(words)
    answer = LETTERS[next(i for i, w in enumerate(words) if w in cats[target])]
    question = f"Which of these is a {target}?" if lang == "en" else f"下面哪一个是{target}？"
    record["format"] = {"kind": "choice", "choices": list(LETTERS)}
    key = question + "|" + "|".join(words)
    return {**record, "question": question, "choices": words, "answer": answer}, key


def _person(
    lang: Language, rng: random.Random, record: Record, test_form: bool
) -> tuple[Record, str]:
    p = tables.people()[lang]
    name, town, age = rng.choice(p.names), rng.choice(p.towns), rng.randint(6, 90)
    template = p.test if test_form else rng.choice(p.training)
    text = template.format(name=name, age=age, town=town)
    record["format"] = {"kind": "json_schema", "json_schema": PERSON_SCHEMA}
    # Test items differ by name (one each), so no two are near-duplicates of each other.
    key = name if test_form else f"{name}|{age}"
    return {**record, "text": text, "fields": {"name": name, "age": age}}, key


TAGS = {
    "qa": "arithmetic",
    "classification": "sentiment",
    "mcq": "categories",
    "extraction": "people",
}


def general_item(
    task: str, lang: Language, rng: random.Random, item_id: str, split: str, test_form: bool
) -> tuple[Record, str]:
    """One general item and its identity key (so train and test never share one)."""
    if task not in TAGS:
        raise ValueError(f"no general items for task {task!r}")
    record = base_record(item_id, task, lang, split, [TAGS[task]])
    if task == "qa":
        return _addition(lang, rng, record, test_form)
    if task == "classification":
        return _sentiment(lang, rng, record)
    if task == "mcq":
        return _category(lang, rng, record)
    return _person(lang, rng, record, test_form)


def general_items(rng: random.Random) -> tuple[list[Record], list[Record]]:
    """(suite items: test + dev, training items for the chat data); no shared identity."""
    suite: list[Record] = []
    seen: set[str] = set()
    for task, k in SUITE_TEST_ITEMS.items():
        for lang in LANGUAGES:
            for split, n in (("test", k), ("dev", SUITE_DEV_ITEMS)):
                made = 0
                while made < n:
                    item_id = f"gen-{task[:3]}-{lang}-{split}-{made + 1:03d}"
                    record, key = general_item(task, lang, rng, item_id, split, True)
                    if key in seen:
                        continue
                    seen.add(key)
                    suite.append(record)
                    made += 1
    train: list[Record] = []
    for task, n in CHAT_ITEMS.items():
        made = 0
        while made < n:
            lang = rng.choice(LANGUAGES)
            item_id = f"chat-{task[:3]}-{made:04d}"
            record, key = general_item(task, lang, rng, item_id, "test", False)
            if task != "qa" and key in seen:  # additions differ by phrasing; others by content
                continue
            train.append(record)
            made += 1
    return suite, train


def _messages(turn: Exchange) -> list[dict[str, str]]:
    return [
        {"role": "user", "content": turn.user},
        {"role": "assistant", "content": turn.assistant},
    ]


def chat_dialogues(spec: SuiteSpec, train: list[Record], rng: random.Random) -> list[Record]:
    """The chat data: training items as the suite's chat prompts and answers, plus small talk,
    shuffled."""
    dialogues: list[Record] = [{"messages": chat_example(spec, item)} for item in as_items(train)]
    dialogues += [
        {"messages": _messages(turn)}
        for turn in tables.small_talk()
        for _ in range(SMALL_TALK_REPEATS)
    ]
    rng.shuffle(dialogues)
    return dialogues
