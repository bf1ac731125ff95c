"""`evalkit compare`: stored runs compared with paired statistics from their generations
alone, and refused — naming both sides — when they ran different suite versions or settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from analysis.planted import PlantedSuite, planted_suite, scored_run
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.history.index import RUN_MARKER, sync_index


@pytest.fixture
def world(tmp_path: Path) -> tuple[PlantedSuite, Path]:
    suite = planted_suite(tmp_path / "suites", 40, 0, seed=4)
    reports = tmp_path / "reports"
    scored_run(reports / "run-a", suite, ["base", "sft"], seed=1)
    scored_run(reports / "run-b", suite, ["base", "chat"], seed=1)
    return suite, reports


def _compare(reports: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["compare", "--runs-dir", str(reports), *args])
    return result.exit_code, result.output


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_compare_pairs_models_of_two_runs_without_an_engine(
    world: tuple[PlantedSuite, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import evalkit.backends.base as backends

    def no_engine(*_: object) -> None:
        raise AssertionError("compare started an engine")

    monkeypatch.setattr(backends, "get_backend", no_engine)
    _, reports = world
    code, output = _compare(reports, "run-a", "run-b")
    assert code == 0, output
    merged = reports / "compare-run-a-run-b"
    summary = json.loads((merged / "summary.json").read_text(encoding="utf-8"))
    # "base" has the same weights in both runs: one model; sft and chat compared with it
    assert [m["name"] for m in summary["models"]] == ["base", "sft", "chat"]
    pairs = {(c["candidate"], c["baseline"]) for c in summary["comparisons"]}
    assert {("sft", "base"), ("chat", "base")} <= pairs
    assert summary["family"]["comparisons"] >= 2
    # the generations are the runs' own, unchanged
    chat = "generations/chat/planted@v1.jsonl"
    assert _rows(merged / chat) == _rows(reports / "run-b" / chat)
    assert "sft" in output and "vs base" in output and (merged / "report.html").is_file()
    # the comparison is registered, and says what it compared
    manifest = json.loads((merged / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["compared"]["items"] == {"planted@v1": 40}
    assert "compare-run-a-run-b" in [r.run_id for r in sync_index(reports).runs]


def test_same_names_with_other_weights_are_told_apart(
    world: tuple[PlantedSuite, Path], tmp_path: Path
) -> None:
    _, reports = world
    path = reports / "run-b" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["models"][0]["fingerprint"] = "sha256:retrained"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    code, output = _compare(reports, "run-a", str(reports / "run-b"), "-o", str(tmp_path / "c"))
    assert code == 0, output
    summary = json.loads((tmp_path / "c" / "summary.json").read_text(encoding="utf-8"))
    assert [m["name"] for m in summary["models"]] == [
        "base.run-a",
        "sft",
        "base.run-b",
        "chat",
    ]


def test_a_different_suite_version_is_refused_naming_both(
    world: tuple[PlantedSuite, Path],
) -> None:
    suite, reports = world
    v2 = planted_suite(suite.version.path.parent.parent, 40, 0, seed=5)  # golds changed
    assert v2.version.ref == "planted@v2"
    scored_run(reports / "run-c", v2, ["base", "chat"], seed=2)
    code, output = _compare(reports, "run-a", "run-c")
    assert code != 0 and len(output.strip().splitlines()) == 1
    assert "planted: run-a ran planted@v1, run-c ran planted@v2" in output
    assert "--shared-items" in output
    assert not (reports / "compare-run-a-run-c").exists()
    # asked for, the items both versions share unchanged are compared
    code, output = _compare(reports, "run-a", "run-c", "--shared-items")
    assert code == 0, output
    manifest = json.loads((reports / "compare-run-a-run-c" / "manifest.json").read_text("utf-8"))
    same = {
        i.id
        for i in suite.version.items
        if i.split == "test" and i.model_dump() == v2.version.by_id[i.id].model_dump()  # type: ignore[index]
    }
    assert 0 < manifest["compared"]["items"]["planted@v2"] == len(same) < 40


def test_other_generation_settings_are_refused(world: tuple[PlantedSuite, Path]) -> None:
    _, reports = world
    path = reports / "run-b" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["config"]["max_new_tokens"] = 64
    path.write_text(json.dumps(manifest), encoding="utf-8")
    code, output = _compare(reports, "run-a", "run-b")
    assert code != 0
    assert "max_new_tokens differs (run-a max_new_tokens=None, run-b max_new_tokens=64)" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run-a", "nope"], "nope: no such run folder (nor a run id in"),
        (
            ["run-a", "killed"],
            "incomplete (killed before it finished); rerun it with run_id=killed",
        ),
        (["run-a", "run-a"], "compare needs at least two different runs"),
        (["run-a", "run-b", "--baseline", "gpt"], "baseline 'gpt' is not a model of this run"),
    ],
)
def test_bad_runs_are_one_line_and_nothing_is_written(
    world: tuple[PlantedSuite, Path], args: list[str], message: str
) -> None:
    _, reports = world
    (reports / "killed").mkdir()
    (reports / "killed" / RUN_MARKER).write_text("k\n", encoding="utf-8")
    before = sorted(p.name for p in reports.iterdir())
    code, output = _compare(reports, *args)
    assert code != 0 and message in output, output
    assert len(output.strip().splitlines()) == 1
    assert sorted(p.name for p in reports.iterdir()) == before


def test_report_of_several_runs_is_their_comparison(world: tuple[PlantedSuite, Path]) -> None:
    _, reports = world
    result = CliRunner().invoke(cli, ["report", "--runs-dir", str(reports), "run-a", "run-b"])
    assert result.exit_code == 0, result.output
    merged = reports / "compare-run-a-run-b"
    summary = json.loads((merged / "summary.json").read_text(encoding="utf-8"))
    assert [m["name"] for m in summary["models"]] == ["base", "sft", "chat"]
    assert (merged / "report.html").is_file() and str(merged / "report.html") in result.output
    # one run by id: its own report rebuilt in place, no comparison
    result = CliRunner().invoke(cli, ["report", "--runs-dir", str(reports), "run-a"])
    assert result.exit_code == 0, result.output
    assert (reports / "run-a" / "report.html").is_file()
    result = CliRunner().invoke(cli, ["report", "--runs-dir", str(reports), "run-a", "-o", "x"])
    assert result.exit_code != 0 and "-o is for several runs" in result.output
