"""Metrics against independent references: sacrebleu's CLI, hand-computed SQuAD F1 and macro F1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evalkit.errors import UsageError
from evalkit.metrics.answers import follows_format, parse_choice, parse_label
from evalkit.metrics.registry import get_metric, metric
from evalkit.suite.items import ITEM_ADAPTER

BASE: dict[str, Any] = {"language": "en", "provenance": {"author": "t"}}


def item(task: str, **fields: Any):
    return ITEM_ADAPTER.validate_python({"id": "x", "task": task, **BASE, **fields})


MCQ = item(
    "mcq", question="q", choices=["Offer", "Acceptance", "Counter-offer", "Invitation"], answer="C"
)


@pytest.mark.parametrize(
    ("output", "letter"),
    [
        ("C", "C"),
        ("(C)", "C"),
        ("Answer: C", "C"),
        ("答案：C", "C"),
        ("答案是C。", "C"),
        ("The answer is (c).", "C"),
        ("ｃ", "C"),
        ("Counter-offer", "C"),
        ("c) Counter-offer", "C"),
        ("A counter-offer.", "C"),
        ("B. Acceptance", "B"),
        ("I cannot tell", None),
    ],
)
def test_choice_extraction(output: str, letter: str | None) -> None:
    assert parse_choice(output, MCQ.choices).value == letter


def test_accuracy_and_format_are_separate_numbers() -> None:
    mcq = MCQ.model_copy(
        update={
            "format": item(
                "qa",
                question="q",
                answers=["a"],
                format={"kind": "choice", "choices": list("ABCD")},
            ).format
        }
    )
    accuracy, fmt = get_metric("accuracy").fn, get_metric("format_adherence").fn
    assert (accuracy(mcq, "Answer: C"), fmt(mcq, "Answer: C")) == (1.0, 0.0)
    assert (accuracy(mcq, "C"), fmt(mcq, " C\n")) == (1.0, 1.0)
    assert (accuracy(mcq, "D"), fmt(mcq, "D")) == (0.0, 1.0)
    assert fmt(MCQ, "C") is None  # no format spec: not applicable


LABELS = ["governing_law", "termination", "payment"]


def test_label_extraction_whole_words() -> None:
    assert parse_label("Governing_Law.", LABELS).value == "governing_law"
    assert parse_label("It is about payment terms", LABELS).value == "payment"
    assert parse_label("law", LABELS).value is None


def test_macro_f1_hand_computed() -> None:
    gold = ["a", "a", "b", "b", "c"]
    outputs = ["a", "b", "b", "b", "a"]
    items = [
        item("classification", text=f"t{i}", labels=["a", "b", "c"], label=g)
        for i, g in enumerate(gold)
    ]
    # a: P=1/2 R=1/2 F=.5; b: P=2/3 R=1 F=.8; c: P=0 R=0 F=0  -> macro (0.5+0.8+0)/3
    assert get_metric("macro_f1").fn(items, outputs).value == pytest.approx((0.5 + 0.8 + 0.0) / 3)


@pytest.mark.parametrize(
    ("output", "answers", "language", "em", "f1"),
    [
        ("Six years", ["6 years", "six years"], "en", 1.0, 1.0),
        ("the six years", ["six years"], "en", 1.0, 1.0),  # articles dropped
        ("six", ["six years"], "en", 0.0, 2 / 3),  # P=1 R=1/2
        ("six years ago", ["six years"], "en", 0.0, 0.8),  # P=2/3 R=1
        ("三年", ["三年"], "zh", 1.0, 1.0),
        ("诉讼时效为三年", ["三年"], "zh", 0.0, 2 * (2 / 7) * 1 / ((2 / 7) + 1)),  # by character
        ("３年", ["3年"], "zh", 1.0, 1.0),  # full-width digit
        ("", ["three"], "en", 0.0, 0.0),
    ],
)
def test_qa_exact_match_and_token_f1(
    output: str, answers: list[str], language: str, em: float, f1: float
) -> None:
    qa = item("qa", question="q", answers=answers, language=language)
    assert get_metric("exact_match").fn(qa, output) == em
    assert get_metric("token_f1").fn(qa, output) == pytest.approx(f1)


def test_extraction_fields() -> None:
    ext = item(
        "extraction", text="t", fields={"party_a": "Acme Ltd", "amount": 1200000, "currency": None}
    )
    f = get_metric("field_f1").fn
    assert f(ext, '{"party_a": "ACME  Ltd", "amount": "1,200,000", "currency": null}') == 1.0
    assert f(
        ext, '```json\n{"party_a": "Acme Ltd", "amount": 5, "currency": "USD"}\n```'
    ) == pytest.approx(2 / 5)
    assert f(ext, "not json") == 0.0


def test_format_specs() -> None:
    qa = item("qa", question="q", answers=["6"], format={"kind": "regex", "pattern": r"\d+"})
    assert follows_format(qa, " 6 \n") and not follows_format(qa, "6 years")
    schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}
    ext = item(
        "extraction",
        text="t",
        fields={"a": "x"},
        format={"kind": "json_schema", "json_schema": schema},
    )
    assert follows_format(ext, '{"a": "x"}') and not follows_format(ext, '{"a": 1}')
    assert not follows_format(ext, 'Sure: {"a": "x"}')


def _sacrebleu_cli(tmp: Path, hyps: list[str], refs: list[str], *args: str) -> Any:
    (tmp / "hyp.txt").write_text("\n".join(hyps) + "\n", encoding="utf-8")
    (tmp / "ref.txt").write_text("\n".join(refs) + "\n", encoding="utf-8")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sacrebleu",
            str(tmp / "ref.txt"),
            "-i",
            str(tmp / "hyp.txt"),
            "-b",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    scores = [float(line) for line in out.stdout.split()]
    return scores if "-sl" in args else scores[0]


@pytest.mark.parametrize(
    ("lang", "hyps", "refs", "tok"),
    [
        (
            "en",
            [
                "The Seller shall deliver the goods within thirty days.",
                "This Agreement is governed by English law.",
            ],
            [
                "The Seller shall deliver the Goods within thirty (30) days.",
                "This Agreement shall be governed by the laws of England.",
            ],
            "13a",
        ),
        (
            "zh",
            ["卖方应在三十日内交付货物。", "本协议受英国法律管辖。"],
            ["卖方应于三十（30）日内交付货物。", "本协议受英格兰法律管辖。"],
            "zh",
        ),
    ],
)
def test_bleu_and_chrf_equal_sacrebleu_cli(
    tmp_path: Path, lang: str, hyps: list[str], refs: list[str], tok: str
) -> None:
    items = [
        item("generation", prompt=f"p{i}", references=[r], answer_language=lang)
        for i, r in enumerate(refs)
    ]
    assert get_metric("bleu").fn(items, hyps).value == pytest.approx(
        _sacrebleu_cli(tmp_path, hyps, refs, "-tok", tok), abs=0.05
    )
    from sacrebleu.metrics import CHRF

    for i, h in zip(
        items, hyps, strict=True
    ):  # the shared statistics give sacrebleu's sentence chrF
        expected = CHRF().sentence_score(h, i.reference_texts()).score / 100
        assert get_metric("sentence_chrf").fn(i, h) == pytest.approx(expected)
    assert get_metric("chrf").fn(items, hyps).value == pytest.approx(
        _sacrebleu_cli(tmp_path, hyps, refs, "-m", "chrf"), abs=0.05
    )


def test_several_and_varying_references_equal_sacrebleu() -> None:
    from sacrebleu.metrics import BLEU, CHRF

    hyps = ["The Seller delivers the goods.", "Governed by English law.", "卖方交付货物。"]
    refs = [
        ["The Seller shall deliver the goods.", "The goods are delivered by the Seller."],
        ["This Agreement is governed by English law."],
        ["卖方应交付货物。", "货物由卖方交付。"],
    ]
    items = [item("generation", prompt=f"p{i}", references=r) for i, r in enumerate(refs)]
    streams = [[r[k] if k < len(r) else None for r in refs] for k in range(2)]
    bleu = get_metric("bleu").fn(items, hyps)
    assert bleu.value == pytest.approx(BLEU().corpus_score(hyps, streams).score)
    assert "nrefs:var" in (bleu.signature or "")
    chrf = get_metric("chrf").fn(items, hyps)
    assert chrf.value == pytest.approx(CHRF().corpus_score(hyps, streams).score)
    again = get_metric("bleu").fn(items[:1] * 2, hyps[:1] * 2)  # cached references reused
    assert again.value == pytest.approx(
        BLEU().corpus_score(hyps[:1] * 2, [[refs[0][0]] * 2, [refs[0][1]] * 2]).score
    )
    assert "nrefs:2" in (again.signature or "")


def test_registry_checks_shape_and_suggests() -> None:
    with pytest.raises(TypeError, match="expected \\(item, output\\)"):
        metric("bad", tasks=("qa",))(lambda item: 0.0)
    with pytest.raises(TypeError, match="unknown task types"):
        metric("bad2", tasks=("essay",))(lambda item, output: 0.0)
    with pytest.raises(UsageError, match="did you mean 'token_f1'"):
        get_metric("tokn_f1")


def test_macro_f1_equals_scikit_learn_on_random_labels() -> None:
    import numpy as np
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    labels = ["governing_law", "termination", "payment", "force_majeure"]
    gold = rng.choice(labels, 300)
    outputs = [
        str(g) if rng.random() < 0.6 else str(rng.choice([*labels, "no idea"])) for g in gold
    ]
    items = [
        item("classification", text=f"clause {i}", labels=labels, label=str(g))
        for i, g in enumerate(gold)
    ]
    predicted = [o if o in labels else "<none>" for o in outputs]
    expected = f1_score(
        list(gold), predicted, labels=sorted(set(gold)), average="macro", zero_division=0
    )
    assert get_metric("macro_f1").fn(items, outputs).value == pytest.approx(expected)


def test_language_match() -> None:
    to_zh = item(
        "generation",
        prompt="Translate: the Seller shall deliver.",
        references=["卖方应交付。"],
        answer_language="zh",
    )
    check = get_metric("language_match").fn
    assert check(to_zh, "卖方应当交付货物。") == 1.0
    assert check(to_zh, "The Seller shall deliver.") == 0.0
    qa = item("qa", question="q", answers=["six years"])
    assert check(qa, "Six years (Limitation Act 1980 s.5)") == 1.0 and check(qa, "六年") == 0.0
    assert check(qa, "42") is None  # no letters: nothing to judge


def test_bleu_records_sacrebleu_signature() -> None:
    items = [
        item("generation", prompt="p", references=["本协议受英国法律管辖。"], answer_language="zh")
    ]
    signature = get_metric("bleu").fn(items, ["本协议受英国法律管辖。"]).signature
    assert signature is not None and "tok:zh" in signature and "nrefs:1" in signature


SENTENCES = [
    ("en", "The Seller shall deliver the goods.", "The Seller shall deliver the Goods in 30 days."),
    ("zh", "卖方应在三十日内交付货物。", "卖方应于三十（30）日内交付货物。"),
    ("en", "Governed by English law.", "This Agreement is governed by English law."),
]


@pytest.mark.parametrize("tok", [None, "char", "intl"])
def test_bleu_tokenizer_override_and_sentence_bleu_equal_sacrebleu_cli(
    tmp_path: Path, tok: str | None
) -> None:
    items = [
        item("generation", prompt=f"p{i}", references=[ref], answer_language=lang)
        for i, (lang, _, ref) in enumerate(SENTENCES)
    ]
    hyps = [h for _, h, _ in SENTENCES]
    refs = [r for _, _, r in SENTENCES]
    options = {"tokenize": tok} if tok else {}
    corpus = get_metric("bleu").fn(items, hyps, **options)
    # Default: mostly English targets, so 13a; an override is used as given.
    assert f"tok:{tok or '13a'}" in corpus.signature
    assert corpus.value == pytest.approx(
        _sacrebleu_cli(tmp_path, hyps, refs, "-tok", tok or "13a"), abs=0.05
    )
    # Sentence BLEU picks its tokenizer per item (zh for the Chinese target) unless overridden.
    for k, (lang, hyp, ref) in enumerate(SENTENCES):
        one_tok = tok or ("zh" if lang == "zh" else "13a")
        expected = _sacrebleu_cli(tmp_path, [hyp], [ref], "-sl", "-tok", one_tok)[0]
        got = get_metric("sentence_bleu").fn(items[k], hyp, **options)
        assert got == pytest.approx(expected / 100, abs=0.0005)


def test_micro_f1_equals_scikit_learn_and_accuracy_when_all_answers_read() -> None:
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(1)
    labels = ["违约", "解除", "付款", "不可抗力"]
    gold = [str(g) for g in rng.choice(labels, 200)]
    outputs = [g if rng.random() < 0.5 else str(rng.choice([*labels, "不知道"])) for g in gold]
    items = [
        item("classification", text=f"条款 {i}", labels=labels, label=g, language="zh")
        for i, g in enumerate(gold)
    ]
    predicted = [o if o in labels else "<none>" for o in outputs]
    expected = f1_score(gold, predicted, labels=sorted(set(gold)), average="micro")
    micro = get_metric("micro_f1").fn(items, outputs).value
    assert micro == pytest.approx(expected)
    assert micro > accuracy_score(gold, predicted)  # unreadable answers are misses only
    readable = [o if o in labels else labels[0] for o in outputs]
    assert get_metric("micro_f1").fn(items, readable).value == pytest.approx(
        accuracy_score(gold, readable)
    )
