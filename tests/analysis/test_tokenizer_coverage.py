"""Tokenizer coverage: fertility counted as defined, the evidence pointing the right way (a
tokenizer that never saw legal text costs more tokens on it and splits its terms more), the
glossary used when a suite has one, and bad input refused in one line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from drafts import SPEC, write_draft
from evalkit.analysis.tokenizer_coverage import (
    CJK_RUN,
    domain_terms,
    fertility,
    suite_texts,
    tokenizer_coverage,
)
from evalkit.cli import cli
from evalkit.demo.tiny import train_tokenizer
from evalkit.suite.draft import read_draft
from evalkit.suite.store import SuiteStore, SuiteVersion

SUITES_DIR = Path(__file__).parents[2] / "suites"
CJK_CHAR = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


@pytest.fixture(scope="module")
def store() -> SuiteStore:
    return SuiteStore(SUITES_DIR)


def _char_and_word_tokenizer(texts: list[str]) -> Any:
    """One token per Chinese character and per whitespace-separated piece of anything else."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    pre = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(CJK_CHAR), "isolated")]
    )
    pieces = {p for t in texts for p, _ in pre.pre_tokenize_str(t)}
    vocab = {p: i for i, p in enumerate(["[UNK]", *sorted(pieces)])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]")


def test_fertility_is_tokens_per_chinese_character_and_per_english_word(
    store: SuiteStore,
) -> None:
    texts = suite_texts(store.load("legal"))
    assert texts["zh"] and texts["en"]
    tokenizer = _char_and_word_tokenizer(texts["zh"] + texts["en"])
    rates = fertility(tokenizer, texts)

    # counted by hand: each Chinese character is a token, and so is each run of other
    # non-space characters (an English word, punctuation between Chinese characters)
    def by_hand(text: str) -> int:
        return len(re.findall(CJK_CHAR, text)) + len(re.findall(rf"(?:(?!{CJK_CHAR})\S)+", text))

    chars = sum(len(re.findall(CJK_CHAR, t)) for t in texts["zh"])
    assert rates.zh_per_char == pytest.approx(sum(map(by_hand, texts["zh"])) / chars)
    words = sum(len(t.split()) for t in texts["en"])
    assert rates.en_per_word == pytest.approx(sum(map(by_hand, texts["en"])) / words)
    assert 1.0 < rates.en_per_word < 1.2  # English items hold a few Chinese characters


def test_a_tokenizer_that_never_saw_the_domain_costs_more_on_it(store: SuiteStore) -> None:
    legal, general = store.load("legal"), store.load("general")
    legal_text = [t for ts in suite_texts(legal).values() for t in ts]
    general_text = [t for ts in suite_texts(general).values() for t in ts]
    tokenizers = [
        ("domain", train_tokenizer(legal_text + general_text, vocab_size=1000)),
        ("general-only", train_tokenizer(general_text, vocab_size=1000)),
    ]
    domain, general_only = tokenizer_coverage(tokenizers, legal, general)
    assert domain.domain.zh_per_char is not None and general_only.domain.zh_per_char is not None
    assert general_only.domain.zh_per_char > domain.domain.zh_per_char
    assert general_only.general is not None and general_only.general.zh_per_char is not None
    # the general-only tokenizer pays more on legal text than on the general text it learnt
    assert general_only.domain.zh_per_char > general_only.general.zh_per_char
    assert general_only.mean_term_pieces > domain.mean_term_pieces  # type: ignore[operator]
    # terms are the legal suite's own: frequent there, absent from the general suite
    general_all = "\n".join(general_text)
    terms = domain_terms(legal, general)
    assert any(CJK_RUN.fullmatch(t) for t in terms) and any(" " in t for t in terms)
    assert all(t not in general_all for t in terms if CJK_RUN.fullmatch(t))
    assert "书面通知" in terms  # "written notice": in many legal items, no general one


def test_a_glossary_is_used_as_written(tmp_path: Path, store: SuiteStore) -> None:
    spec = {**SPEC, "glossary": ["consideration", "不可抗力"]}
    draft, problems = read_draft(write_draft(tmp_path / "draft", spec))
    assert problems == [] and draft is not None
    version: SuiteVersion = SuiteStore(tmp_path / "suites").publish(
        draft, author="a", changelog="glossary"
    )
    assert domain_terms(version, store.load("general")) == ["consideration", "不可抗力"]
    [coverage] = tokenizer_coverage(
        [("t", train_tokenizer(["consideration 不可抗力"] * 3, vocab_size=300))], version, None
    )
    assert {t.term for t in coverage.terms} == {"consideration", "不可抗力"}


def test_a_bad_glossary_is_a_validation_problem(tmp_path: Path) -> None:
    spec = {**SPEC, "glossary": ["term", "term"]}
    _, problems = read_draft(write_draft(tmp_path / "draft", spec))
    assert any("glossary" in str(p) for p in problems)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["legal"], "missing model=... (required)"),
        (["legal", "model=/no/such/model"], "unknown model '/no/such/model'"),
        (["nosuch", "model=x"], "no suite 'nosuch'"),
        (["legal", "model=x", "colour=red"], "colour"),
    ],
)
def test_bad_input_is_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["suite", "--suites-dir", str(SUITES_DIR), "tokens", *args])
    assert result.exit_code != 0 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
