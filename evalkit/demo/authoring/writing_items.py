"""The demo-writing suite: what an article of the Code says, in a sentence (open-ended,
judged): the question names the article, its subject and act; the answer must state the
penalty as the Code does.

Articles of acts 2-5 (never asked about by demo-law's closed-book questions, acts 0-1) from
every area; the first area's gives the dev exemplars, one per language.
"""

from __future__ import annotations

from evalkit.demo.authoring.norvale import Article, Code, provision_en, provision_zh
from evalkit.demo.authoring.records import Record, base_record

WRITING_ACTS = (2, 3)  # per area: one article asked in English, one in Chinese


def _item(article: Article, language: str, split: str) -> Record:
    n = article.number
    role, act = article.role, article.act
    if language == "en":
        who = role.en[0].lower() + role.en[1:]
        prompt = f"What does Article {n} say happens to {who} who {act.en}?"
        reference = provision_en(role.en, act.en, article.fine)
    else:
        prompt = f"第{n}条：{act.zh}的{role.zh}会受到什么处罚？"
        reference = provision_zh(role.zh, act.zh, article.fine)
    return {
        **base_record(f"write-{language}-{n}", "generation", language, split, [article.area]),
        "prompt": prompt,
        "references": [reference],
    }


def writing_items(code: Code) -> list[Record]:
    """Test items from every area but the first, dev items from the first."""
    records = []
    for k, area in enumerate(code.areas):
        chapter = {a.act_index: a for a in code.chapter(area)}
        en, zh = (chapter[act] for act in WRITING_ACTS)
        split = "dev" if k == 0 else "test"
        records += [_item(en, "en", split), _item(zh, "zh", split)]
    return records
