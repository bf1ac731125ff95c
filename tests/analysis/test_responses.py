"""Who the respondents are: the same weights and prompts count once, whatever their names."""

from __future__ import annotations

from pathlib import Path

from run_folders import write_run_folder
from scoring.synthetic import model, synthetic_suite

from evalkit.analysis.responses import gather_responses
from evalkit.scoring import score_run


def test_same_weights_and_prompts_under_two_names_count_once(tmp_path: Path) -> None:
    suite = synthetic_suite(tmp_path / "suites", 12)
    templates = {suite.ref: {"sha256": "t"}}
    records = [
        model("sft", fingerprint="sha256:w", templates=templates),
        model("sft-sweep-200", fingerprint="sha256:w", templates=templates),  # the same model
        model("other", fingerprint="sha256:v", templates=templates),
        model("hand-a", fingerprint="sha256:x"),  # no templates recorded: told apart by name
        model("hand-b", fingerprint="sha256:x"),
    ]

    def output(name: str, version, item, k: int) -> str:  # type: ignore[no-untyped-def]
        return "C"

    run = write_run_folder(tmp_path / "run", tmp_path / "suites", [suite], records, output)
    score_run(run, tmp_path / "suites", resamples=100)
    matrix = gather_responses(suite, [run])
    assert matrix.labels == ["sft", "other", "hand-a", "hand-b"]
