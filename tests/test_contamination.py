"""Contamination: planted copies are found (English and Chinese), clean data is clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.contamination import (
    ContaminationConfig,
    check_contamination,
    compose_contamination_config,
    ngram_tokens,
    read_training_texts,
)
from evalkit.errors import NotFoundError, UsageError
from evalkit.suite.draft import SuiteDraft
from evalkit.suite.items import ITEM_ADAPTER
from evalkit.suite.records import LocatedItem
from evalkit.suite.spec import SuiteSpec
from evalkit.suite.store import SuiteStore

EN_CONTEXT = (
    "Under Article 12 of the Harbour Code, a vessel that anchors inside the inner basin "
    "without a permit from the harbour master shall pay a fine of four hundred crowns."
)
ZH_CONTEXT = (
    "根据港口法第十二条，未经港务长许可在内港停泊的船舶，应当缴纳四百克朗的罚款，并在三日内离港。"
)
ITEMS = [
    {"id": "en-1", "question": "What fine applies to the vessel?", "context": EN_CONTEXT},
    {"id": "zh-1", "question": "船舶应缴纳多少罚款？", "context": ZH_CONTEXT},
    {
        "id": "en-2",
        "question": "Which office keeps the register of fishing licences in the northern ports?",
    },
    {"id": "short", "question": "Who signs the permit?"},
    {"id": "dev-1", "question": "Who may lift a harbour ban?", "split": "dev"},
]


@pytest.fixture
def suites_dir(tmp_path: Path) -> Path:
    spec = SuiteSpec.model_validate(
        {
            "name": "harbour",
            "description": "Test suite.",
            "guidelines": "One answer.",
            "goals": [{"capability": "knowledge", "description": "Knows the code."}],
            "tasks": {
                "qa": {
                    "instruction": "Answer.",
                    "prompt": "{{ question }}",
                    "target": "{{ answers[0] }}",
                    "chat": "{{ question }}",
                    "metrics": ["exact_match"],
                }
            },
        }
    )
    items = [
        ITEM_ADAPTER.validate_python(
            {
                "task": "qa",
                "language": "zh" if item["id"].startswith("zh") else "en",
                "provenance": {"author": "t"},
                "answers": ["x"],
                **item,
            }
        )
        for item in ITEMS
    ]
    draft = SuiteDraft(spec, tuple(LocatedItem(i, f"t:{k}") for k, i in enumerate(items)))
    SuiteStore(tmp_path / "suites").publish(draft, author="t", changelog="first")
    return tmp_path / "suites"


def _jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    return path


def _check(suites_dir: Path, data: list[Path], **keys: object) -> dict[str, float]:
    config = ContaminationConfig(
        suite=["harbour"], data=[str(p) for p in data], suites_dir=str(suites_dir), **keys
    )
    report = check_contamination(config)
    return {o.item_id: round(o.ratio, 3) for o in report.contaminated}


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("The Harbour-Master's  FINE.", ["the", "harbour", "master", "s", "fine"]),
        ("港口法第十二条", ["港", "口", "法", "第", "十", "二", "条"]),
        ("Article 12：罚款４００克朗", ["article", "12", "罚", "款", "400", "克", "朗"]),
        ("", []),
    ],
)
def test_tokens_are_words_and_cjk_characters(text: str, tokens: list[str]) -> None:
    assert ngram_tokens(text) == tokens


def test_planted_english_and_chinese_items_are_found(suites_dir: Path, tmp_path: Path) -> None:
    data = _jsonl(
        tmp_path / "sft.jsonl",
        [
            {
                "messages": [
                    {"role": "user", "content": EN_CONTEXT},
                    {"role": "assistant", "content": "400"},
                ]
            },
            # Reformatted (full-width digits, other punctuation) is still the same text.
            {
                "prompt": ZH_CONTEXT.replace("，", ",") + "\n船舶应缴纳多少罚款?",
                "completion": "四百克朗",
            },
        ],
    )
    found = _check(suites_dir, [data])
    assert set(found) == {"en-1", "zh-1"}
    assert found["zh-1"] == 1.0 and 0.7 < found["en-1"] < 1.0  # the question was not planted


def test_clean_data_finds_nothing(suites_dir: Path, tmp_path: Path) -> None:
    data = _jsonl(
        tmp_path / "clean.jsonl",
        [
            {"text": "A vessel that anchors in the outer roads needs no permit at all."},
            {"text": "港务长负责签发许可证，许可证有效期为一年。"},
        ],
    )
    assert _check(suites_dir, [data]) == {}


def test_short_items_match_as_a_whole_and_threshold_decides(
    suites_dir: Path, tmp_path: Path
) -> None:
    text = tmp_path / "corpus.txt"
    text.write_text("Notes.\nWho signs the permit? The harbour master.\n", encoding="utf-8")
    assert _check(suites_dir, [text]) == {"short": 1.0}
    # Half of en-2's n-grams planted: contaminated at 0.2, not at 0.9.
    half = "Which office keeps the register of fishing licences in the"
    _jsonl(tmp_path / "half.jsonl", [{"text": half}])
    assert "en-2" in _check(suites_dir, [tmp_path / "half.jsonl"], n=5, threshold=0.2)
    assert "en-2" not in _check(suites_dir, [tmp_path / "half.jsonl"], n=5, threshold=0.9)


def test_split_and_fields_select_what_is_compared(suites_dir: Path, tmp_path: Path) -> None:
    data = _jsonl(
        tmp_path / "d.jsonl", [{"id": "x", "q": "Who may lift a harbour ban?", "a": "no"}]
    )
    assert _check(suites_dir, [data]) == {}  # dev items are not checked by default
    assert _check(suites_dir, [data], split="dev") == {"dev-1": 1.0}
    assert _check(suites_dir, [data], split="all", fields=["a"]) == {}


def test_metadata_fields_are_not_searched(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "items.jsonl",
        [{"id": "q1", "language": "en", "tags": ["t"], "question": "Q?", "choices": ["a", "b"]}],
    )
    assert read_training_texts(path) == ["Q?\na\nb"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["suite=harbour", "data=missing.jsonl"], "error: missing.jsonl: no such file"),
        (["suite=nosuch", "data=x.jsonl"], "error: no suite 'nosuch'"),
        (["suite=harbour", "data=x.jsonl", "treshold=0.5"], "did you mean 'threshold'?"),
        (["suite=harbour", "data=x.jsonl", "threshold=0"], "error: threshold=0"),
        (["suite=harbour"], "missing data=... (required)"),
        (["suite=harbour", "data=bad.jsonl"], "bad.jsonl:2: -: invalid JSON"),
        (["suite=harbour", "data=x.csv"], "unsupported training file type '.csv'"),
        (["harbour"], "expected KEY=VALUE"),
    ],
)
def test_cli_bad_input_is_one_line_and_nonzero(
    suites_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jsonl").write_text('{"text": "nothing"}\n')
    (tmp_path / "x.csv").write_text("a,b\n")
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n{"text": \n')
    result = CliRunner().invoke(cli, ["contamination", *args, f"suites_dir={suites_dir}"])
    assert result.exit_code == 2  # not 1, which means "contaminated"
    assert message in result.output
    assert "Traceback" not in result.output and result.output.count("error:") == 1


def test_cli_exit_status_says_whether_contaminated(suites_dir: Path, tmp_path: Path) -> None:
    leaked = _jsonl(tmp_path / "leak.jsonl", [{"text": ZH_CONTEXT}])
    clean = _jsonl(tmp_path / "clean.jsonl", [{"text": "Nothing to see."}])
    args = ["contamination", "suite=harbour", f"suites_dir={suites_dir}"]
    result = CliRunner().invoke(cli, [*args, f"data={leaked}"])
    assert result.exit_code == 1
    assert "CONTAMINATED harbour@v1 zh-1" in result.output
    assert "error: 1 of 4 items contaminated" in result.output
    result = CliRunner().invoke(cli, [*args, f"data=[{clean},{leaked}]", "threshold=0.7"])
    assert result.exit_code == 1  # the context is most of zh-1's text
    result = CliRunner().invoke(cli, [*args, f"data={clean}"])
    assert result.exit_code == 0 and "clean: no item reaches the threshold" in result.output


def test_errors_raise_evalkit_errors(suites_dir: Path) -> None:
    with pytest.raises(UsageError, match="unknown key 'nn'; did you mean 'n'"):
        compose_contamination_config(["suite=x", "data=y", "nn=3"])
    with pytest.raises(NotFoundError):
        read_training_texts(Path("/nonexistent/train.jsonl"))
