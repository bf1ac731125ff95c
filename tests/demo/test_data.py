"""The demo's shipped data: valid, decontaminated, and rendered as the evaluator prompts."""

from __future__ import annotations

import json

import pytest
from conftest import SUITES_DIR

from evalkit.contamination import ContaminationConfig, check_contamination
from evalkit.demo.paths import CHAT_FILE, CORPUS_FILES, DOMAIN_SUITE, GENERAL_SUITE, LAW_SFT_FILE
from evalkit.demo.sft import base_example, chat_example
from evalkit.demo.tiny import train_tokenizer
from evalkit.demo.train import IGNORE, chat_turns, corpus_blocks, prompt_completion
from evalkit.prompts import build_prompts
from evalkit.suite.items import ITEM_ADAPTER
from evalkit.suite.store import SuiteStore

STORE = SuiteStore(SUITES_DIR)


def _sft_items() -> list:
    lines = LAW_SFT_FILE.read_text(encoding="utf-8").splitlines()
    return [ITEM_ADAPTER.validate_json(line) for line in lines]


def test_suites_cover_four_tasks_in_two_languages() -> None:
    for name in (DOMAIN_SUITE, GENERAL_SUITE):
        version = STORE.load(name)
        tests = [i for i in version.items if i.split == "test"]
        assert {(i.task, i.language) for i in tests} == {
            (t, lang)
            for t in ("mcq", "classification", "extraction", "qa")
            for lang in ("en", "zh")
        }
        assert all(i.format is not None for i in version.items), name
        dev = [i for i in version.items if i.split == "dev"]
        for task, config in version.spec.tasks.items():
            for lang in ("en", "zh"):
                have = [i for i in dev if i.task == task and i.language == lang]
                assert len(have) >= config.fewshot, (name, task, lang)


def test_training_data_is_valid_and_bilingual() -> None:
    items = _sft_items()
    assert len(items) > 400 and {i.task for i in items} == {
        "mcq",
        "classification",
        "extraction",
        "qa",
    }
    assert {i.language for i in items} == {"en", "zh"}
    dialogues = [json.loads(line)["messages"] for line in CHAT_FILE.read_text().splitlines()]
    assert len(dialogues) > 1000
    assert all(d[-1]["role"] == "assistant" and d[0]["role"] == "user" for d in dialogues)
    assert "诺瓦勒" in CORPUS_FILES[1].read_text(encoding="utf-8")


def test_training_data_contains_no_test_item() -> None:
    report = check_contamination(
        ContaminationConfig(
            suite=[DOMAIN_SUITE, GENERAL_SUITE],
            data=[str(LAW_SFT_FILE), str(CHAT_FILE)],
            suites_dir=str(SUITES_DIR),
        )
    )
    assert report.items_checked == {f"{DOMAIN_SUITE}@v1": 64, f"{GENERAL_SUITE}@v1": 96}
    assert report.contaminated == []


def test_a_test_item_planted_in_the_sft_data_is_caught(tmp_path) -> None:
    leaked = STORE.load(DOMAIN_SUITE).by_id["law-ext-zh-011"]
    planted = tmp_path / "sft.jsonl"
    planted.write_text(
        LAW_SFT_FILE.read_text(encoding="utf-8")
        + json.dumps({"prompt": leaked.input_text(), "completion": "{}"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    report = check_contamination(
        ContaminationConfig(suite=[DOMAIN_SUITE], data=[str(planted)], suites_dir=str(SUITES_DIR))
    )
    assert [o.item_id for o in report.contaminated] == ["law-ext-zh-011"]


def test_sft_examples_are_the_evaluator_prompts() -> None:
    version = STORE.load(DOMAIN_SUITE)
    dev = [i for i in version.items if i.split == "dev"]
    item = next(i for i in _sft_items() if i.task == "mcq" and i.language == "zh")
    prompt, completion = base_example(version.spec, item, dev)
    (expected,) = build_prompts(version.spec, [item], dev, "base")
    assert prompt == expected.text and prompt.endswith("Answer:")
    assert completion == f" {item.answer}\n"
    messages = chat_example(version.spec, item)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[-1]["content"] == item.answer


@pytest.fixture(scope="module")
def tokenizer():
    from evalkit.demo.tiny import CHAT_TEMPLATE

    tok = train_tokenizer([p.read_text(encoding="utf-8") for p in CORPUS_FILES], vocab_size=600)
    tok.chat_template = CHAT_TEMPLATE
    return tok


def test_only_answers_are_learned(tokenizer) -> None:
    ids, labels = chat_turns(
        tokenizer,
        [{"role": "user", "content": "Which area?"}, {"role": "assistant", "content": "traffic"}],
    )
    learned = [i for i, label in zip(ids, labels, strict=True) if label != IGNORE]
    assert tokenizer.decode(learned) == "traffic</s>"
    assert ids[0] == tokenizer.bos_token_id and ids[1] != tokenizer.bos_token_id  # one BOS
    ids, labels = prompt_completion(tokenizer, "Area:", " tax\n", bos=True)
    assert ids[0] == tokenizer.bos_token_id
    assert (
        tokenizer.decode([i for i, lab in zip(ids, labels, strict=True) if lab != IGNORE])
        == " tax\n"
    )


def test_corpus_blocks_cover_the_corpus(tokenizer) -> None:
    texts = [p.read_text(encoding="utf-8") for p in CORPUS_FILES]
    blocks = corpus_blocks(tokenizer, texts, 64)
    assert all(len(ids) == 64 and ids == labels for ids, labels in blocks[:-1])
    tokens = sum(len(tokenizer(t)["input_ids"]) + 1 for t in texts)
    assert len(blocks) * 32 >= tokens - 64  # half-overlapping blocks of 64 reach the end


def test_a_recipe_change_builds_new_models() -> None:
    from evalkit.demo.build import recipe_hash
    from evalkit.demo.train import SCHEDULES

    domain = STORE.load(DOMAIN_SUITE)
    full, short = recipe_hash(SCHEDULES["full"], domain), recipe_hash(SCHEDULES["short"], domain)
    assert full == recipe_hash(SCHEDULES["full"], domain) and full != short
