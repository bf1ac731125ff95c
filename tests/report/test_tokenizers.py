"""The report's tokenizer table: one row per distinct tokenizer (models sharing one share the
row), the figures `evalkit suite tokens` computes, and a note for a model whose folder is
gone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_folders import write_run_folder
from scoring.synthetic import model

from evalkit.analysis.tokenizer_coverage import suite_texts, tokenizer_coverage
from evalkit.demo.tiny import train_tokenizer
from evalkit.report import write_report
from evalkit.report.data import build_report_data
from evalkit.scoring import score_run
from evalkit.suite.store import SuiteStore

SUITES_DIR = Path(__file__).parents[2] / "suites"


def test_the_report_shows_each_tokenizer_once_with_its_coverage(tmp_path: Path) -> None:
    store = SuiteStore(SUITES_DIR)
    legal, general = store.load("legal"), store.load("general")
    text = [t for v in (legal, general) for ts in suite_texts(v).values() for t in ts]
    general_text = [t for ts in suite_texts(general).values() for t in ts]
    domain_tok = train_tokenizer(text, vocab_size=800)
    general_tok = train_tokenizer(general_text, vocab_size=600)
    for name, tokenizer in (("base", domain_tok), ("sft", domain_tok), ("other", general_tok)):
        tokenizer.save_pretrained(tmp_path / "models" / name)
    models = [
        model("base", path=str(tmp_path / "models" / "base")),
        model("sft", "sft", starting_point="base", path=str(tmp_path / "models" / "sft")),
        model("other", "chat", path=str(tmp_path / "models" / "other")),
        model("gone", "chat", path=str(tmp_path / "models" / "gone")),
    ]
    run = tmp_path / "run"
    write_run_folder(run, SUITES_DIR, [legal, general], models, lambda *_: "A")
    score_run(run, SUITES_DIR, resamples=100)

    data = build_report_data(run, SUITES_DIR)["tokenizers"]
    [table] = data["tables"]  # legal only: general is the comparison
    assert table["suite"] == legal.ref and table["general"] == general.ref
    rows = {r["models"]: r for r in table["rows"]}
    assert set(rows) == {"base, sft", "other"}
    expected = tokenizer_coverage([("other", general_tok)], legal, general)[0]
    assert rows["other"]["vocabulary"] == 600
    assert rows["other"]["zh"] == f"{expected.domain.zh_per_char:.2f}"
    assert float(rows["other"]["zh"]) > float(rows["base, sft"]["zh"])
    assert any("gone: no tokenizer files" in note for note in data["notes"])

    page = write_report(run, SUITES_DIR).read_text(encoding="utf-8")
    assert 'id="tokenizers"' in page and "base, sft" in page


def test_a_report_written_again_loads_only_tokenizers_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transformers

    store = SuiteStore(SUITES_DIR)
    legal, general = store.load("legal"), store.load("general")
    text = [t for v in (legal, general) for ts in suite_texts(v).values() for t in ts]
    for name, size in (("base", 700), ("chat", 500)):
        train_tokenizer(text, vocab_size=size).save_pretrained(tmp_path / "models" / name)
    models = [
        model("base", path=str(tmp_path / "models" / "base")),
        model("chat", "chat", path=str(tmp_path / "models" / "chat")),
    ]
    run = tmp_path / "run"
    write_run_folder(run, SUITES_DIR, [legal, general], models, lambda *_: "A")
    score_run(run, SUITES_DIR, resamples=100)
    first = build_report_data(run, SUITES_DIR)["tokenizers"]
    assert (run / "tokenizers.json").is_file()

    loads: list[str] = []
    real = transformers.AutoTokenizer.from_pretrained

    def counted(path: str, **kwargs: object) -> object:
        loads.append(Path(path).name)
        return real(path, **kwargs)

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", counted)
    assert build_report_data(run, SUITES_DIR)["tokenizers"] == first
    assert loads == []  # every row from tokenizers.json

    train_tokenizer(text, vocab_size=400).save_pretrained(tmp_path / "models" / "chat")
    again = build_report_data(run, SUITES_DIR)["tokenizers"]
    assert loads == ["chat"]  # only the tokenizer whose files changed
    rows = {r["models"]: r for r in again["tables"][0]["rows"]}
    assert rows["chat"]["vocabulary"] == 400 and rows["base"] == first["tables"][0]["rows"][0]
    kept = json.loads((run / "tokenizers.json").read_text(encoding="utf-8"))["rows"]
    assert len(kept) == 2  # the replaced tokenizer's row is gone: one per tokenizer shown

    (run / "tokenizers.json").write_text("{not json", encoding="utf-8")  # computed again
    assert build_report_data(run, SUITES_DIR)["tokenizers"] == again
    assert sorted(loads) == ["base", "chat", "chat"]
