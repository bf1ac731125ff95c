"""The demo-law suite's items and the domain SFT set, from the Code and the acts outside it."""

from __future__ import annotations

import itertools
import random
from typing import Any

from evalkit.demo.authoring.norvale import (
    FINES,
    QA_TEST_ACTS,
    SFT_ACTS,
    TEST_ACTS,
    Article,
    Code,
    provision_en,
    provision_zh,
)
from evalkit.demo.authoring.records import LETTERS, Record, base_record
from evalkit.demo.authoring.tables import LANGUAGES, Language

ARTICLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"article": {"type": "integer"}, "fine": {"type": "integer"}},
    "required": ["article", "fine"],
    "additionalProperties": False,
}
SFT_PER_TASK = 160  # reading-task SFT records per task
QA_SFT_REPEATS = 4  # times each Code article outside the test questions is asked in the SFT set


def reading_item(
    code: Code,
    task: str,
    area: str,
    act_index: int,
    lang: Language,
    rng: random.Random,
    item_id: str,
    split: str,
) -> Record:
    """A classification, extraction or mcq item over a provision that is not in the Code."""
    spec = code.areas[area]
    role = rng.choice(spec.roles).text(lang)
    act = spec.acts[act_index].text(lang)
    fine = rng.choice(FINES)
    text = (provision_en if lang == "en" else provision_zh)(role, act, fine)
    record = base_record(item_id, task, lang, split, [area, "reading"])
    if task == "classification":
        labels = list(code.areas)
        record["format"] = {"kind": "choice", "choices": labels}
        return {**record, "text": text, "labels": labels, "label": area}
    if task == "extraction":
        article = rng.randint(100, 399)
        prefix = f"Article {article}. " if lang == "en" else f"第{article}条 "
        record["format"] = {"kind": "json_schema", "json_schema": ARTICLE_SCHEMA}
        return {**record, "text": prefix + text, "fields": {"article": article, "fine": fine}}
    if task != "mcq":
        raise ValueError(f"no reading items for task {task!r}")
    options = [*rng.sample([f for f in FINES if f != fine], 3), fine]
    rng.shuffle(options)
    unit = " crowns" if lang == "en" else "克朗"
    question = (
        f"Provision: {text}\nWhat fine does this provision set?"
        if lang == "en"
        else f"条文：{text}\n该条文规定的罚款是多少？"
    )
    record["format"] = {"kind": "choice", "choices": list(LETTERS)}
    return {
        **record,
        "question": question,
        "choices": [f"{o}{unit}" for o in options],
        "answer": LETTERS[options.index(fine)],
    }


def knowledge_item(article: Article, lang: Language, item_id: str, split: str) -> Record:
    """A closed-book question about a fine in the Code (answer: the number of crowns)."""
    record = base_record(item_id, "qa", lang, split, [article.area, "knowledge"])
    role, act = article.role, article.act
    if lang == "en":
        question = f"{role.en} {act.en}. How many crowns is the fine under the Code of Norvale?"
    else:
        question = f"{role.zh}{act.zh}，按诺瓦勒法典罚款多少克朗？"
    record["format"] = {"kind": "regex", "pattern": r"\d+"}
    return {**record, "question": question, "answers": [str(article.fine)]}


def law_items(code: Code, rng: random.Random) -> tuple[list[Record], list[Record]]:
    """(suite items: test + dev, SFT set)."""
    suite: list[Record] = []
    sft: list[Record] = []
    labels = list(code.areas)
    for task, acts in TEST_ACTS.items():
        for lang, area, a in itertools.product(LANGUAGES, labels, acts):
            number = sum(1 for i in suite if i["task"] == task) + 1
            item_id = f"law-{task[:3]}-{lang}-{number:03d}"
            suite.append(reading_item(code, task, area, a, lang, rng, item_id, "test"))
        for lang in LANGUAGES:  # two dev exemplars per task and language, from SFT acts
            for k, area in enumerate(rng.sample(labels, 2), start=1):
                item_id = f"law-{task[:3]}-{lang}-dev-{k}"
                act = rng.choice(SFT_ACTS)
                suite.append(reading_item(code, task, area, act, lang, rng, item_id, "dev"))
        for n in range(SFT_PER_TASK):  # same acts as dev, new roles, fines and numbers
            lang = rng.choice(LANGUAGES)
            area = rng.choice(labels)
            act, item_id = rng.choice(SFT_ACTS), f"sft-{task[:3]}-{n:03d}"
            sft.append(reading_item(code, task, area, act, lang, rng, item_id, "test"))
    others = [a for a in code.articles if a.act_index not in QA_TEST_ACTS]
    for lang in LANGUAGES:
        tested = (a for a in code.articles if a.act_index in QA_TEST_ACTS)
        for number, art in enumerate(tested, start=1):
            suite.append(knowledge_item(art, lang, f"law-qa-{lang}-{number:03d}", "test"))
        for art in rng.sample(others, 2):
            suite.append(knowledge_item(art, lang, f"law-qa-{lang}-dev-{art.number}", "dev"))
    # The SFT set's closed-book questions: the other Code articles, several times each.
    repeated = (a for a in others for _ in range(QA_SFT_REPEATS))
    for n, art in enumerate(repeated):
        sft.append(knowledge_item(art, "en" if n % 2 else "zh", f"sft-qa-{n:03d}", "test"))
    rng.shuffle(sft)
    return suite, sft
