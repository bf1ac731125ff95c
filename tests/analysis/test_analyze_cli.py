"""`evalkit suite analyze` on scored run folders: planted wrong golds come out on top, the
JSON holds every item, and bad input is one line with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.planted import PlantedSuite, planted_suite, scored_run
from evalkit.cli import cli


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlantedSuite, list[Path]]:
    root = tmp_path_factory.mktemp("analyze")
    suite = planted_suite(root / "suites", 60, 6, seed=11)
    runs = [
        scored_run(root / "reports" / "run-a", suite, [f"a{k}" for k in range(4)], seed=1),
        scored_run(root / "reports" / "run-b", suite, [f"b{k}" for k in range(4)], seed=2),
    ]
    # for the bad-input cases: a run of other content under the same name, an empty folder
    scored_run(root / "others" / "changed", suite, ["c0"], 3, content_hash="sha256:other")
    (root / "others" / "empty").mkdir()
    return suite, runs


def _analyze(suite: PlantedSuite, *args: str) -> tuple[int, str]:
    suites_dir = suite.version.path.parent.parent
    result = CliRunner().invoke(cli, ["suite", "--suites-dir", str(suites_dir), "analyze", *args])
    return result.exit_code, result.output


def test_analyze_finds_the_planted_items_and_writes_every_item(
    scored: tuple[PlantedSuite, list[Path]], tmp_path: Path
) -> None:
    suite, runs = scored
    out = tmp_path / "analysis.json"
    code, output = _analyze(
        suite, "planted@v1", f"runs=[{runs[0]},{runs[1]}]", "irt_epochs=300", "-o", str(out)
    )
    assert code == 0, output
    assert "planted@v1: 8 model(s) from 2 run(s), 60 test items; IRT: 1pl" in output
    analysis = json.loads(out.read_text(encoding="utf-8"))
    assert analysis["format"] == "evalkit.suite-analysis/1"
    assert len(analysis["items"]) == 60 and len(analysis["abilities"]) == 8
    flagged = [s["item_id"] for s in analysis["suspects"] if s["flagged"]]
    assert len(set(flagged[:6]) & suite.planted) >= 4
    assert "suspected wrong gold answers:" in output and "nothing is changed" in output
    assert all(i["irt"] or i["difficulty"] in (0.0, 1.0) for i in analysis["items"])


def test_runs_are_found_in_the_runs_folder(scored: tuple[PlantedSuite, list[Path]]) -> None:
    suite, runs = scored
    code, output = _analyze(suite, "planted", f"runs_dir={runs[0].parent}", "irt_epochs=100")
    assert code == 0, output
    assert "8 model(s) from 2 run(s)" in output


def test_fewer_models_than_irt_needs_gives_the_classical_statistics(
    scored: tuple[PlantedSuite, list[Path]],
) -> None:
    suite, runs = scored
    code, output = _analyze(suite, "planted@v1", f"runs=[{runs[0]}]")
    assert code == 0, output
    assert "IRT not fitted: 4 model(s), and a 1PL fit needs at least 5" in output
    assert "flagged items:" in output and "coverage, thinnest slices:" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["runs=[{root}/nosuch]"], "nosuch: no such run folder"),
        (["runs=[{root}/others/changed]"], "ran a planted@v1 with content hash sha256:other"),
        (["runs_dir={root}/others/empty"], "empty: no scored run of planted@v1"),
        (["planted@v7"], "v7"),
        (["colour=blue"], "colour"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    scored: tuple[PlantedSuite, list[Path]], tmp_path: Path, args: list[str], message: str
) -> None:
    suite, runs = scored
    root = runs[0].parent.parent
    out = tmp_path / "analysis.json"
    ref = [] if args[0].startswith("planted@") else ["planted@v1"]
    code, output = _analyze(suite, *ref, *[a.format(root=root) for a in args], "-o", str(out))
    assert code != 0
    assert message in output
    assert not out.exists()
