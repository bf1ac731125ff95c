"""Write the demo's shipped data and publish its two suites (run once; outputs are in git).

Everything is about the fictional Republic of Norvale and its Code, so no real law or
public benchmark is copied. One table of provisions (role + act + fine) feeds everything;
each act is used by exactly one part, which keeps the parts apart by construction:

- acts 0-5 of each area are the Code itself (pre-training corpus); the suite's closed-book
  `qa` items ask about acts 0-1, the SFT set's `qa` about acts 2-5;
- acts 6-10 are the SFT set's and the suite's dev items' reading tasks;
- acts 11-12, 13-14 and 15-16 are the suite's test items for classification, extraction
  and mcq: text the models never saw.

General chat data and the demo-general suite share skills (arithmetic, sentiment, word
categories, name/age extraction) but never an item: test items use their own phrasing or
combinations, and `evalkit contamination` confirms it.

    PYTHONPATH=. python scripts/make_demo_data.py
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path
from typing import Any

from evalkit.contamination import (
    DEFAULT_BOILERPLATE,
    DEFAULT_N,
    ngram_set,
    ngram_tokens,
    record_text,
    template_grams,
)
from evalkit.demo.paths import CHAT_FILE, CORPUS_FILES, DOMAIN_SUITE, GENERAL_SUITE, LAW_SFT_FILE
from evalkit.demo.sft import chat_example
from evalkit.suite.draft import SuiteDraft
from evalkit.suite.items import ITEM_ADAPTER, ItemBase
from evalkit.suite.records import LocatedItem
from evalkit.suite.spec import SuiteSpec
from evalkit.suite.store import SuiteStore

REPO = Path(__file__).parents[1]
AUTHOR = "evalkit-demo"
PROVENANCE = {"author": AUTHOR, "reviewer": "evalkit-demo-review", "source": "generated"}

# --- the Norvale Code ------------------------------------------------------------------------

AREAS: dict[str, dict[str, Any]] = {
    "traffic": {
        "zh": "交通",
        "roles": [
            ("A driver", "驾驶人"),
            ("A cyclist", "骑车人"),
            ("The owner of a vehicle", "机动车所有人"),
        ],
        "acts": [
            ("parks on a bridge", "在桥上停车"),
            ("drives without headlights at night", "夜间不开前灯行驶"),
            ("ignores a red signal", "闯红灯"),
            ("drives on the tram lines", "在电车轨道上行驶"),
            ("leaves an engine running in a tunnel", "在隧道内停车不熄火"),
            ("blocks a fire lane", "占用消防通道"),
            ("overtakes on a mountain pass", "在山口超车"),
            ("carries passengers on a tractor", "用拖拉机载客"),
            ("sounds the horn near a hospital", "在医院附近鸣喇叭"),
            ("drives with a broken mirror", "后视镜损坏仍然驾车"),
            ("parks in front of a school gate", "在校门前停车"),
            ("reverses on a motorway", "在高速公路上倒车"),
            ("drives through a flooded ford", "驾车强行通过被淹的浅滩"),
            ("fails to stop at a ferry barrier", "在渡口栏杆前不停车"),
            ("tows a boat without a permit", "无证拖运船只"),
            ("uses a phone while driving", "驾驶时使用手机"),
            ("drives a cart on a footpath", "在人行道上驾驶马车"),
        ],
    },
    "labour": {
        "zh": "劳动",
        "roles": [
            ("An employer", "用人单位"),
            ("A factory owner", "工厂业主"),
            ("A shop manager", "商店经理"),
        ],
        "acts": [
            ("pays wages after the tenth day of the month", "晚于每月十日发放工资"),
            ("dismisses a worker without written notice", "未经书面通知解雇工人"),
            ("employs a child under fifteen", "雇用未满十五岁的儿童"),
            ("withholds a worker's passport", "扣留工人的护照"),
            ("refuses paid leave after a birth", "拒绝给予产后带薪假"),
            ("keeps no record of working hours", "不记录工作时间"),
            ("orders night shifts longer than ten hours", "安排超过十小时的夜班"),
            ("fails to provide drinking water", "不提供饮用水"),
            ("deducts fines from wages", "从工资中扣除罚金"),
            ("locks a workshop during working hours", "在工作时间锁闭车间"),
            ("hides a workplace accident", "隐瞒工伤事故"),
            ("denies a worker a weekly rest day", "不给工人每周休息日"),
            ("pays women less for the same work", "同工不同酬地少付女工工资"),
            ("forces a worker to sign a blank contract", "强迫工人签署空白合同"),
            ("ignores a safety inspector's order", "无视安全检查员的指令"),
            ("hires a worker without a contract", "不签合同雇用工人"),
            ("punishes a worker for joining a union", "因工人加入工会而处罚工人"),
        ],
    },
    "tax": {
        "zh": "税务",
        "roles": [("A taxpayer", "纳税人"), ("A trader", "商户"), ("An importer", "进口商")],
        "acts": [
            ("files the annual return late", "逾期提交年度申报表"),
            ("keeps no receipts for sales", "不保存销售收据"),
            ("sells goods without a tax stamp", "销售无税票的商品"),
            ("hides income from a second shop", "隐瞒第二家店铺的收入"),
            ("pays the harbour levy late", "逾期缴纳港口税"),
            ("uses a false invoice", "使用虚假发票"),
            ("fails to register a new business", "未登记新开业务"),
            ("refuses to show the books to an inspector", "拒绝向检查员出示账簿"),
            ("claims the same refund twice", "重复申请同一笔退税"),
            ("underreports the value of imported cloth", "少报进口布匹的价值"),
            ("does not display the price list", "不公示价目表"),
            ("pays the salt duty in foreign coins", "用外国硬币缴纳盐税"),
            ("destroys account books", "销毁账簿"),
            ("sells wine without a licence", "无证销售葡萄酒"),
            ("misses the quarterly payment", "错过季度缴款"),
            ("forges a customs seal", "伪造海关印章"),
            ("lends a tax number to another person", "将税号借给他人"),
        ],
    },
    "family": {
        "zh": "家庭",
        "roles": [("A parent", "父母"), ("A guardian", "监护人"), ("A spouse", "配偶")],
        "acts": [
            ("leaves a young child alone overnight", "将幼童独自留在家中过夜"),
            ("fails to register a birth", "未办理出生登记"),
            ("keeps a child away from school", "不让孩子上学"),
            ("hides a child from the other parent", "向另一方隐藏孩子"),
            ("misses a support payment", "拖欠抚养费"),
            ("changes a child's name without consent", "未经同意更改孩子姓名"),
            ("sells a child's inheritance", "变卖孩子的遗产"),
            ("refuses a court-ordered visit", "拒绝法院判定的探视"),
            ("moves abroad with a child without notice", "未通知即带孩子出国"),
            ("neglects an elderly parent", "不赡养年迈的父母"),
            ("marries before the legal age", "未到法定年龄结婚"),
            ("enters a second marriage while still married", "在婚姻存续期间再婚"),
            ("hides assets during a divorce", "离婚时隐匿财产"),
            ("lets a minor work at night", "让未成年人夜间工作"),
            ("ignores a guardianship report deadline", "逾期不提交监护报告"),
            ("keeps a foster child's allowance", "私自占用寄养儿童的津贴"),
            ("opens a child's letters from the court", "私拆孩子收到的法院信件"),
        ],
    },
}
LABELS = list(AREAS)
FINES = list(range(30, 2000, 10))  # wide, so that role + fine rarely repeats across texts
CORPUS_ACTS, QA_TEST_ACTS, SFT_ACTS = range(0, 6), range(0, 2), range(6, 11)
TEST_ACTS = {"classification": range(11, 13), "extraction": range(13, 15), "mcq": range(15, 17)}


def provision_en(role: str, act: str, fine: int) -> str:
    return f"{role} who {act} shall pay a fine of {fine} crowns."


def provision_zh(role: str, act: str, fine: int) -> str:
    return f"{act}的{role}，处{fine}克朗罚款。"


def _lower(role: str) -> str:
    return role[0].lower() + role[1:]


class Code:
    """The Code's corpus provisions: article number, area, role, act and fine per language."""

    def __init__(self, rng: random.Random) -> None:
        self.articles: list[dict[str, Any]] = []
        number = 1
        for area, spec in AREAS.items():
            for a in CORPUS_ACTS:
                role = spec["roles"][a % len(spec["roles"])]
                self.articles.append(
                    {
                        "number": number,
                        "area": area,
                        "act_index": a,
                        "role": role,
                        "act": spec["acts"][a],
                        "fine": rng.choice(FINES),
                    }
                )
                number += 1
            number += 10 - len(CORPUS_ACTS) % 10  # chapters start at 1, 11, 21, ...

    def corpus_en(self) -> str:
        lines = [
            "THE CODE OF NORVALE",
            "",
            "The Code of the Republic of Norvale sets the fines that the district courts impose. "
            "Fines are paid in crowns. Each chapter covers one area of law: traffic, labour, "
            "tax and family.",
            "",
        ]
        for area in AREAS:
            lines += [f"Chapter: {area} law", ""]
            for art in (a for a in self.articles if a["area"] == area):
                role, act = art["role"][0], art["act"][0]
                n, fine = art["number"], art["fine"]
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
        for area, spec in AREAS.items():
            lines += [f"第{area_zh_chapter(area)}章 {spec['zh']}法", ""]
            for art in (a for a in self.articles if a["area"] == area):
                role, act = art["role"][1], art["act"][1]
                n, fine = art["number"], art["fine"]
                lines.append(f"第{n}条 {provision_zh(role, act, fine)}")
                lines.append(
                    f"第{n}条释义：本条属于{spec['zh']}法。{act}的{role}，罚款为{fine}克朗。"
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


def area_zh_chapter(area: str) -> str:
    return "一二三四"[LABELS.index(area)]


# --- demo-law items --------------------------------------------------------------------------

ARTICLE_SCHEMA = {
    "type": "object",
    "properties": {"article": {"type": "integer"}, "fine": {"type": "integer"}},
    "required": ["article", "fine"],
    "additionalProperties": False,
}
LETTERS = "ABCD"


def _base(item_id: str, task: str, language: str, split: str, tags: list[str]) -> dict[str, Any]:
    return {
        "id": item_id,
        "task": task,
        "language": language,
        "split": split,
        "tags": tags,
        "provenance": PROVENANCE,
    }


def reading_item(
    task: str, area: str, act_index: int, lang: str, rng: random.Random, item_id: str, split: str
) -> dict[str, Any]:
    """A classification, extraction or mcq item over a provision that is not in the Code."""
    spec = AREAS[area]
    k = 0 if lang == "en" else 1
    role = rng.choice(spec["roles"])[k]
    act = spec["acts"][act_index][k]
    fine = rng.choice(FINES)
    text = (provision_en if lang == "en" else provision_zh)(role, act, fine)
    record = _base(item_id, task, lang, split, [area, "reading"])
    if task == "classification":
        record["format"] = {"kind": "choice", "choices": LABELS}
        return {**record, "text": text, "labels": LABELS, "label": area}
    if task == "extraction":
        article = rng.randint(100, 399)
        prefix = f"Article {article}. " if lang == "en" else f"第{article}条 "
        record["format"] = {"kind": "json_schema", "json_schema": ARTICLE_SCHEMA}
        return {**record, "text": prefix + text, "fields": {"article": article, "fine": fine}}
    assert task == "mcq"
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


def knowledge_item(article: dict[str, Any], lang: str, item_id: str, split: str) -> dict[str, Any]:
    """A closed-book question about a fine in the Code (answer: the number of crowns)."""
    record = _base(item_id, "qa", lang, split, [article["area"], "knowledge"])
    role, act = article["role"], article["act"]
    if lang == "en":
        question = f"{role[0]} {act[0]}. How many crowns is the fine under the Code of Norvale?"
    else:
        question = f"{role[1]}{act[1]}，按诺瓦勒法典罚款多少克朗？"
    record["format"] = {"kind": "regex", "pattern": r"\d+"}
    return {**record, "question": question, "answers": [str(article["fine"])]}


def law_items(code: Code, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(suite items: test + dev, SFT set)."""
    suite: list[dict[str, Any]] = []
    sft: list[dict[str, Any]] = []
    for task, acts in TEST_ACTS.items():
        for lang, area, a in itertools.product(("en", "zh"), AREAS, acts):
            item_id = (
                f"law-{task[:3]}-{lang}-{len([i for i in suite if i['task'] == task]) + 1:03d}"
            )
            suite.append(reading_item(task, area, a, lang, rng, item_id, "test"))
        for lang in ("en", "zh"):  # two dev exemplars per task and language, from SFT acts
            for k, area in enumerate(rng.sample(LABELS, 2), start=1):
                item_id = f"law-{task[:3]}-{lang}-dev-{k}"
                act = rng.choice(SFT_ACTS)
                suite.append(reading_item(task, area, act, lang, rng, item_id, "dev"))
        for n in range(160):  # the SFT set: same acts as dev, new roles, fines and numbers
            lang, area = rng.choice(("en", "zh")), rng.choice(LABELS)
            sft.append(
                reading_item(
                    task, area, rng.choice(SFT_ACTS), lang, rng, f"sft-{task[:3]}-{n:03d}", "test"
                )
            )
    for lang in ("en", "zh"):
        number = 0
        for art in code.articles:
            if art["act_index"] in QA_TEST_ACTS:
                number += 1
                suite.append(knowledge_item(art, lang, f"law-qa-{lang}-{number:03d}", "test"))
        for art in rng.sample([a for a in code.articles if a["act_index"] not in QA_TEST_ACTS], 2):
            suite.append(knowledge_item(art, lang, f"law-qa-{lang}-dev-{art['number']}", "dev"))
    # The SFT set's closed-book questions: the other Code articles, several times each.
    for n, art in enumerate(
        a for a in code.articles if a["act_index"] not in QA_TEST_ACTS for _ in range(4)
    ):
        sft.append(knowledge_item(art, "en" if n % 2 else "zh", f"sft-qa-{n:03d}", "test"))
    rng.shuffle(sft)
    return suite, sft


# --- general skills: chat data and the demo-general suite -----------------------------------

SENTIMENT = {
    "en": {
        "subjects": [
            "The dinner",
            "The new film",
            "Our hotel room",
            "The concert",
            "The bus driver",
            "The museum tour",
            "My new phone",
            "The birthday party",
            "The train journey",
            "The bakery on our street",
            "The football match",
            "The school play",
        ],
        "positive": [
            "was wonderful",
            "made me very happy",
            "was a great success",
            "was friendly and kind",
            "was better than I hoped",
            "was a real pleasure",
        ],
        "negative": [
            "was terrible",
            "made me very sad",
            "was a complete failure",
            "was rude and slow",
            "was worse than I feared",
            "was a real disappointment",
        ],
    },
    "zh": {
        "subjects": [
            "这家餐厅的晚饭",
            "那部新电影",
            "我们的酒店房间",
            "昨晚的音乐会",
            "那位公交司机",
            "博物馆的导览",
            "我的新手机",
            "这次生日聚会",
            "这趟火车旅行",
            "街角的面包店",
            "那场足球比赛",
            "学校的话剧",
        ],
        "positive": [
            "非常精彩",
            "让我特别开心",
            "十分成功",
            "又友好又热情",
            "比我想象的还好",
            "令人愉快",
        ],
        "negative": [
            "糟糕透了",
            "让我很难过",
            "彻底失败了",
            "又粗鲁又慢",
            "比我担心的还差",
            "令人失望",
        ],
    },
}
CATEGORIES = {
    "en": {
        "fruit": ["apple", "banana", "cherry", "grape", "lemon", "mango", "peach", "pear"],
        "animal": ["horse", "tiger", "rabbit", "sheep", "eagle", "whale", "mouse", "camel"],
        "colour": ["red", "green", "blue", "yellow", "purple", "orange", "black", "white"],
        "tool": ["hammer", "saw", "drill", "spade", "wrench", "chisel", "ladder", "axe"],
    },
    "zh": {
        "水果": ["苹果", "香蕉", "樱桃", "葡萄", "柠檬", "芒果", "桃子", "梨"],
        "动物": ["马", "老虎", "兔子", "绵羊", "老鹰", "鲸鱼", "老鼠", "骆驼"],
        "颜色": ["红色", "绿色", "蓝色", "黄色", "紫色", "橙色", "黑色", "白色"],
        "工具": ["锤子", "锯子", "钻头", "铁锹", "扳手", "凿子", "梯子", "斧头"],
    },
}
NAMES = {
    "en": [
        "Mia",
        "Tom",
        "Lena",
        "Omar",
        "Sara",
        "Jack",
        "Nina",
        "Leo",
        "Ruth",
        "Ivan",
        "Zoe",
        "Ben",
        "Clara",
        "Hugo",
        "Ines",
        "Paul",
    ],
    "zh": [
        "小明",
        "李华",
        "王芳",
        "张伟",
        "刘洋",
        "陈静",
        "赵磊",
        "孙丽",
        "周杰",
        "吴敏",
        "郑凯",
        "何雪",
        "林涛",
        "高阳",
        "罗琳",
        "马超",
    ],
}
TOWNS = {
    "en": ["Port Lanton", "Eastbrook", "Millford", "Redcliff", "Ashvale", "Kingsmere"],
    "zh": ["北港", "东溪", "米尔镇", "红崖", "白桦村", "金湖"],
}
PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
# Training phrasings of an addition; the suite asks "What is a + b?" / "a加b等于多少？".
ADD_TRAIN = {
    "en": ["Add {a} and {b}.", "How much is {a} plus {b}?", "{a} plus {b} makes how many?"],
    "zh": ["{a}与{b}相加是多少？", "计算{a}加上{b}。", "{a}加上{b}得几？"],
}
ADD_TEST = {"en": "What is {a} + {b}?", "zh": "{a}加{b}等于多少？"}
PERSON_TEMPLATES = {
    "en": [
        "{name} is {age} years old and lives in {town}.",
        "In {town} lives {name}, who is {age}.",
    ],
    "zh": ["{name}今年{age}岁，住在{town}。", "住在{town}的{name}已经{age}岁了。"],
}
PERSON_TEST = {
    "en": "{name}, aged {age}, has a shop in {town}.",
    "zh": "{name}在{town}开了一家店，今年{age}岁。",
}


def general_item(
    task: str, lang: str, rng: random.Random, item_id: str, split: str, test_form: bool
) -> tuple[dict[str, Any], str]:
    """One general item and its identity key (so train and test never share one)."""
    if task == "qa":
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        template = ADD_TEST[lang] if test_form else rng.choice(ADD_TRAIN[lang])
        record = _base(item_id, "qa", lang, split, ["arithmetic"])
        record["format"] = {"kind": "regex", "pattern": r"\d+"}
        question = template.format(a=a, b=b)
        return {**record, "question": question, "answers": [str(a + b)]}, question
    if task == "classification":
        s = SENTIMENT[lang]
        label = rng.choice(("positive", "negative"))
        text = rng.choice(s["subjects"]) + (" " if lang == "en" else "") + rng.choice(s[label])
        text += "." if lang == "en" else "。"
        record = _base(item_id, "classification", lang, split, ["sentiment"])
        record["format"] = {"kind": "choice", "choices": ["positive", "negative"]}
        return {**record, "text": text, "labels": ["positive", "negative"], "label": label}, text
    if task == "mcq":
        cats = CATEGORIES[lang]
        target = rng.choice(list(cats))
        others = rng.sample([c for c in cats if c != target], 3)
        words = [rng.choice(cats[target])] + [rng.choice(cats[c]) for c in others]
        rng.shuffle(words)
        answer = LETTERS[next(i for i, w in enumerate(words) if w in cats[target])]
        question = f"Which of these is a {target}?" if lang == "en" else f"下面哪一个是{target}？"
        record = _base(item_id, "mcq", lang, split, ["categories"])
        record["format"] = {"kind": "choice", "choices": list(LETTERS)}
        key = question + "|" + "|".join(words)
        return {**record, "question": question, "choices": words, "answer": answer}, key
    assert task == "extraction"
    name, town, age = rng.choice(NAMES[lang]), rng.choice(TOWNS[lang]), rng.randint(6, 90)
    template = PERSON_TEST[lang] if test_form else rng.choice(PERSON_TEMPLATES[lang])
    text = template.format(name=name, age=age, town=town)
    record = _base(item_id, "extraction", lang, split, ["people"])
    record["format"] = {"kind": "json_schema", "json_schema": PERSON_SCHEMA}
    # Test items differ by name (one each), so no two are near-duplicates of each other.
    key = name if test_form else f"{name}|{age}"
    return {**record, "text": text, "fields": {"name": name, "age": age}}, key


def general_items(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(suite items: test + dev, training items for the chat data); no shared identity."""
    suite: list[dict[str, Any]] = []
    seen: set[str] = set()
    counts = {"qa": 12, "classification": 12, "mcq": 12, "extraction": 12}  # per language
    for task, k in counts.items():
        for lang in ("en", "zh"):
            for split, n in (("test", k), ("dev", 2)):
                made = 0
                while made < n:
                    item_id = f"gen-{task[:3]}-{lang}-{split}-{made + 1:03d}"
                    record, key = general_item(task, lang, rng, item_id, split, True)
                    if key in seen:
                        continue
                    seen.add(key)
                    suite.append(record)
                    made += 1
    train: list[dict[str, Any]] = []
    per_task = {"qa": 420, "classification": 360, "mcq": 420, "extraction": 300}
    for task, n in per_task.items():
        made = 0
        while made < n:
            lang = rng.choice(("en", "zh"))
            record, key = general_item(
                task, lang, rng, f"chat-{task[:3]}-{made:04d}", "test", False
            )
            if task != "qa" and key in seen:  # additions differ by phrasing; others by content
                continue
            train.append(record)
            made += 1
    return suite, train


SMALL_TALK = [
    ("Hello!", "Hello! How can I help you today?"),
    ("Hi, who are you?", "I am a small assistant. I can answer short questions."),
    ("Thank you.", "You are welcome."),
    ("Good morning.", "Good morning! What would you like to know?"),
    ("Can you help me?", "Yes. Please ask your question."),
    ("你好！", "你好！有什么可以帮你的吗？"),
    ("你是谁？", "我是一个小助手，可以回答简短的问题。"),
    ("谢谢。", "不客气。"),
    ("早上好。", "早上好！你想了解什么？"),
    ("你能帮我吗？", "可以，请提出你的问题。"),
]


# --- suite specs ------------------------------------------------------------------------------

ZH = "{% if language[:2] == 'zh' %}"
MCQ_PROMPT = (
    "Question: {{ question }}\n{% for c in choices %}{{ letters[loop.index0] }}. {{ c }}\n"
    "{% endfor %}Answer:"
)
MCQ_CHAT = (
    "{{ question }}\n\n{% for c in choices %}{{ letters[loop.index0] }}. {{ c }}\n{% endfor %}\n"
    + ZH
    + "请只回答正确选项的字母。{% else %}Answer with the letter of the correct choice only."
    "{% endif %}"
)
QA_PROMPT = (
    ZH + "问题：{{ question }}\n答案：{% else %}Question: {{ question }}\nAnswer:{% endif %}"
)
QA_TARGET = "{% if language[:2] != 'zh' %} {% endif %}{{ answers[0] }}"
QA_CHAT = "{{ question }}\n" + ZH + "只回答数字。{% else %}Answer with the number only.{% endif %}"
EXTRACTION_TARGET = " {{ fields | json }}"


def _task(
    instruction: str, prompt: str, target: str, chat: str, metrics: list[str]
) -> dict[str, Any]:
    return {
        "instruction": instruction,
        "prompt": prompt,
        "target": target,
        "chat": chat,
        "fewshot": 2,
        "stop": ["\n"],
        "metrics": metrics,
    }


LAW_SPEC = {
    "name": DOMAIN_SUITE,
    "description": (
        "Demo domain suite on the fictional Code of Norvale, in English and Chinese, for the "
        "tiny models `evalkit demo` trains. Reading tasks (classify a provision's area of law, "
        "extract its article number and fine, pick its fine among four) use provisions the "
        "models never saw; closed-book questions ask for fines that only the Code states."
    ),
    "guidelines": (
        "# Demo suite guidelines\n\nGenerated by `scripts/make_demo_data.py` from one table of "
        "fictional provisions. Each provision's act is used by exactly one of: the Code "
        "(pre-training corpus), the SFT set and dev items, or the test items of one task.\n"
    ),
    "goals": [
        {
            "capability": "task_completion",
            "description": "Classifies and extracts from provisions.",
        },
        {"capability": "domain_knowledge", "description": "Knows the fines the Code sets."},
        {"capability": "instruction_following", "description": "Answers in the required format."},
    ],
    "tasks": {
        "classification": _task(
            "Classify each provision of the Code of Norvale by its area of law. Answer with one "
            "label: {{ labels | join(', ') }}.",
            "Provision: {{ text }}\nArea:",
            " {{ label }}",
            "{{ text }}\n\n"
            + ZH
            + "这条规定属于哪个法律领域？只回答一个标签：{{ labels | join('、') }}。{% else %}"
            "Which area of law is this provision from? Answer with one label only: "
            "{{ labels | join(', ') }}.{% endif %}",
            ["accuracy", "macro_f1", "format_adherence"],
        ),
        "extraction": _task(
            "Extract the article number and the fine in crowns from each provision as JSON.",
            "Text: {{ text }}\nJSON:",
            EXTRACTION_TARGET,
            "{{ text }}\n\n"
            + ZH
            + '以JSON格式给出条号和罚款克朗数，键为"article"和"fine"。{% else %}Give the article '
            'number and the fine in crowns as JSON with the keys "article" and "fine".{% endif %}',
            ["field_f1", "format_adherence"],
        ),
        "mcq": _task(
            "Answer each question about the Code of Norvale with the letter of the correct choice.",
            MCQ_PROMPT,
            " {{ answer }}",
            MCQ_CHAT,
            ["accuracy", "format_adherence"],
        ),
        "qa": _task(
            "Answer each question about the Code of Norvale with the number of crowns only.",
            QA_PROMPT,
            QA_TARGET,
            QA_CHAT,
            ["exact_match", "token_f1", "format_adherence"],
        ),
    },
}

GENERAL_SPEC = {
    "name": GENERAL_SUITE,
    "description": (
        "Demo general-capability control suite for the tiny models `evalkit demo` trains: "
        "one-digit additions, sentiment, word categories and name/age extraction, in English "
        "and Chinese. The skills come from the chat stage's general dialogues; a drop after "
        "domain fine-tuning is forgetting."
    ),
    "guidelines": (
        "# Demo suite guidelines\n\nGenerated by `scripts/make_demo_data.py`. No test item "
        "appears in the chat data: additions are asked in a different phrasing, other items "
        "are new combinations.\n"
    ),
    "goals": [
        {"capability": "arithmetic_reasoning", "description": "Adds two one-digit numbers."},
        {"capability": "instruction_following", "description": "Answers in the required format."},
    ],
    "tasks": {
        "qa": _task(
            "Answer each arithmetic question with the number only.",
            QA_PROMPT,
            QA_TARGET,
            QA_CHAT,
            ["exact_match", "format_adherence"],
        ),
        "classification": _task(
            "Decide whether each sentence is positive or negative.",
            "Sentence: {{ text }}\nSentiment:",
            " {{ label }}",
            "{{ text }}\n\n"
            + ZH
            + "这句话是正面还是负面？只回答 positive 或 negative。{% else %}Is this sentence "
            "positive or negative? Answer with one word: positive or negative.{% endif %}",
            ["accuracy", "macro_f1", "format_adherence"],
        ),
        "mcq": _task(
            "Answer each question with the letter of the correct choice.",
            MCQ_PROMPT,
            " {{ answer }}",
            MCQ_CHAT,
            ["accuracy", "format_adherence"],
        ),
        "extraction": _task(
            "Extract the person's name and age from each sentence as JSON.",
            "Text: {{ text }}\nJSON:",
            EXTRACTION_TARGET,
            "{{ text }}\n\n"
            + ZH
            + '以JSON格式给出人名和年龄，键为"name"和"age"。{% else %}Give the name and the '
            'age as JSON with the keys "name" and "age".{% endif %}',
            ["field_f1", "format_adherence"],
        ),
    },
}


def _items(records: list[dict[str, Any]]) -> list[ItemBase]:
    return [ITEM_ADAPTER.validate_python(r) for r in records]


def _write_jsonl(path: Path, records: list[Any]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def _publish(store: SuiteStore, spec: dict[str, Any], records: list[dict[str, Any]]) -> None:
    suite_spec = SuiteSpec.model_validate(spec)
    located = tuple(LocatedItem(item, f"generated:{k}") for k, item in enumerate(_items(records)))
    from evalkit.suite.checks import check_items

    problems = check_items(list(located), suite_spec)
    if problems:
        raise SystemExit("\n".join(str(p) for p in problems))
    name = suite_spec.name
    if store.versions(name):
        print(f"{name} is already published ({', '.join(store.versions(name))}); not republished")
        return
    version = store.publish(
        SuiteDraft(suite_spec, located),
        author=AUTHOR,
        changelog="First release, generated by scripts/make_demo_data.py for `evalkit demo`.",
    )
    print(f"published {version.ref}: {len(version.items)} items")


def decontaminate(
    training: list[dict[str, Any]], suite_records: list[dict[str, Any]], n: int = DEFAULT_N
) -> list[dict[str, Any]]:
    """Training records that share no n-gram of a test item's own text (template wording
    aside): the same rule `evalkit contamination` checks, applied before shipping."""
    tests = [i for i in _items(suite_records) if i.split == "test"]
    grams = [ngram_set(ngram_tokens(i.input_text()), n) for i in tests]
    own = set().union(*grams) - template_grams(grams, DEFAULT_BOILERPLATE)
    short = [
        " ".join(ngram_tokens(i.input_text()))
        for i in tests
        if len(ngram_tokens(i.input_text())) < n
    ]
    kept = []
    for record in training:
        tokens = ngram_tokens(record_text(record))
        stream = " " + " ".join(tokens) + " "
        if ngram_set(tokens, n) & own or any(f" {s} " in stream for s in short):
            continue
        kept.append(record)
    print(f"decontamination: dropped {len(training) - len(kept)} of {len(training)} records")
    return kept


def main() -> None:
    rng = random.Random(7)
    code = Code(rng)
    CORPUS_FILES[0].write_text(code.corpus_en(), encoding="utf-8")
    CORPUS_FILES[1].write_text(code.corpus_zh(), encoding="utf-8")
    law_suite, law_sft = law_items(code, rng)
    law_sft = decontaminate(law_sft, law_suite)
    _write_jsonl(
        LAW_SFT_FILE,
        [ITEM_ADAPTER.dump_python(i, mode="json", exclude_none=True) for i in _items(law_sft)],
    )
    general_suite, general_train = general_items(rng)
    general_spec = SuiteSpec.model_validate(GENERAL_SPEC)
    dialogues = [{"messages": chat_example(general_spec, item)} for item in _items(general_train)]
    dialogues += [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
        for q, a in SMALL_TALK
        for _ in range(5)
    ]
    rng.shuffle(dialogues)
    dialogues = decontaminate(dialogues, general_suite)
    _write_jsonl(CHAT_FILE, dialogues)
    store = SuiteStore(REPO / "suites")
    _publish(store, LAW_SPEC, law_suite)
    _publish(store, GENERAL_SPEC, general_suite)
    for path in (*CORPUS_FILES, CHAT_FILE, LAW_SFT_FILE):
        print(f"wrote {path.relative_to(REPO)} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
