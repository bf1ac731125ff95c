"""The Code of Norvale: which acts each part of the demo data uses, the provisions of the Code
itself, and its text in English and Chinese (the pre-training corpus)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from evalkit.demo.authoring.tables import Area, Phrase, areas
from evalkit.errors import UsageError

FINES = range(30, 2000, 10)  # wide, so that role + fine rarely repeats across texts
# An act's position in its area's list of acts decides the one part that uses it.
CORPUS_ACTS, QA_TEST_ACTS, SFT_ACTS = range(0, 6), range(0, 2), range(6, 11)
TEST_ACTS = {"classification": range(11, 13), "extraction": range(13, 15), "mcq": range(15, 17)}
ACTS_NEEDED = max(r.stop for r in (CORPUS_ACTS, SFT_ACTS, *TEST_ACTS.values()))
CHAPTER_NUMERALS = "一二三四五六七八九十"


def provision_en(role: str, act: str, fine: int) -> str:
    return f"{role} who {act} shall pay a fine of {fine} crowns."


def provision_zh(role: str, act: str, fine: int) -> str:
    return f"{act}的{role}，处{fine}克朗罚款。"


def _lower(role: str) -> str:
    return role[0].lower() + role[1:]


def code_areas() -> Mapping[str, Area]:
    """The areas of law, each checked to have an act for every part of the data."""
    found = areas()
    for name, area in found.items():
        if len(area.acts) < ACTS_NEEDED:
            raise UsageError(
                f"norvale.yaml: {name}.acts: {len(area.acts)} acts, the demo needs {ACTS_NEEDED}"
            )
    if len(found) > len(CHAPTER_NUMERALS):
        raise UsageError(f"norvale.yaml: {len(found)} areas, at most {len(CHAPTER_NUMERALS)}")
    return found


@dataclass(frozen=True)
class Article:
    """One article of the Code."""

    number: int
    area: str
    act_index: int  # position of the act in its area's list
    role: Phrase
    act: Phrase
    fine: int


class Code:
    """The Code's articles (acts `CORPUS_ACTS` of each area, one chapter per area)."""

    def __init__(self, rng: random.Random) -> None:
        self.areas = code_areas()
        self.articles: list[Article] = []
        number = 1
        for area, spec in self.areas.items():
            for a in CORPUS_ACTS:
                role = spec.roles[a % len(spec.roles)]
                fine = rng.choice(FINES)
                self.articles.append(Article(number, area, a, role, spec.acts[a], fine))
                number += 1
            number += 10 - len(CORPUS_ACTS) % 10  # chapters start at 1, 11, 21, ...

    def chapter(self, area: str) -> list[Article]:
        return [a for a in self.articles if a.area == area]

    def corpus_en(self) -> str:
        lines = [
            "THE CODE OF NORVALE",
            "",
            "The Code of the Republic of Norvale sets the fines that the district courts impose. "
            "Fines are paid in crowns. Each chapter covers one area of law: traffic, labour, "
            "tax and family.",
            "",
        ]
        for area in self.areas:
            lines += [f"Chapter: {area} law", ""]
            for art in self.chapter(area):
                role, act, n, fine = art.role.en, art.act.en, art.number, art.fine
                lines.append(f"Article {n}. {provision_en(role, act, fine)}")
                lines.append(
                    f"Commentary on Article {n}. This is a rule of {area} law. The fine for "
                    f"{_lower(role)} who {act} is {fine} crowns. A court may not lower the "
                    f"fine of {fine} crowns, but it may allow payment in instalments."
                )
                lines.append(
                    f"In practice, the district courts apply Article {n} whenever "
                    f"{_lower(role)} {act}; the fine is {fine} crowns."
                )
                lines.append("")
        lines += [
            "General commentary. A fine under the Code is owed to the district treasury. "
            "Where one act breaks two articles, only the higher fine is paid. Fines for "
            "traffic offences are collected by the road police, fines for tax offences by "
            "the revenue office, fines for labour offences by the labour inspectorate, and "
            "fines in family matters by the family court.",
            "",
        ]
        return "\n".join(lines)

    def corpus_zh(self) -> str:
        lines = [
            "诺瓦勒法典",
            "",
            "诺瓦勒共和国法典规定地区法院处以的罚款。罚款以克朗缴纳。每一章规定一个法律领域："
            "交通、劳动、税务和家庭。",
            "",
        ]
        for k, (area, spec) in enumerate(self.areas.items()):
            lines += [f"第{CHAPTER_NUMERALS[k]}章 {spec.zh}法", ""]
            for art in self.chapter(area):
                role, act, n, fine = art.role.zh, art.act.zh, art.number, art.fine
                lines.append(f"第{n}条 {provision_zh(role, act, fine)}")
                lines.append(
                    f"第{n}条释义：本条属于{spec.zh}法。{act}的{role}，罚款为{fine}克朗。"
                    f"法院不得降低{fine}克朗的罚款，但可以准许分期缴纳。"
                )
                lines.append(f"实践中，{role}{act}的，地区法院适用第{n}条，罚款{fine}克朗。")
                lines.append("")
        lines += [
            "总释义：依照本法典处以的罚款归地区财政所有。一个行为同时违反两条规定的，只缴纳较高的"
            "罚款。交通罚款由道路警察收取，税务罚款由税务局收取，劳动罚款由劳动监察机构收取，"
            "家庭事务中的罚款由家事法院收取。",
            "",
        ]
        return "\n".join(lines)
