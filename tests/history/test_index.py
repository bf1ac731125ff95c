"""The run index: scored runs listed with their headline scores, incomplete and unscored
folders apart, re-scored and deleted runs followed, and a registration killed midway leaves
the index as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from analysis.planted import planted_suite, scored_run
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.errors import EvalkitError
from evalkit.history.index import (
    INDEX_FILE,
    RUN_MARKER,
    RunIndex,
    register_run,
    run_status,
    sync_index,
)
from evalkit.scoring import score_run


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    suite = planted_suite(tmp_path / "suites", 30, 0, seed=4)
    reports = tmp_path / "reports"
    scored_run(reports / "run-a", suite, ["base", "sft"], seed=1)
    scored_run(reports / "run-b", suite, ["base", "chat"], seed=2)
    return reports


def test_scored_runs_are_listed_with_their_headline_scores(runs_dir: Path) -> None:
    listing = sync_index(runs_dir)
    assert [r.run_id for r in listing.runs] == ["run-a", "run-b"]
    record = listing.runs[0]
    assert record.suite_refs == ["planted@v1"] and record.model_names == ["base", "sft"]
    summary = json.loads((runs_dir / "run-a" / "summary.json").read_text(encoding="utf-8"))
    expected = {r["model"]: r["metrics"]["score"]["value"] for r in summary["by_suite"]}
    assert {m: s["planted@v1"] for m, s in record.headline.items()} == expected
    assert (runs_dir / INDEX_FILE).is_file()
    assert not listing.incomplete and not listing.unscored


def test_incomplete_and_unscored_folders_are_never_results(runs_dir: Path) -> None:
    killed = runs_dir / "killed"
    killed.mkdir()
    (killed / RUN_MARKER).write_text("killed\n", encoding="utf-8")
    unscored = runs_dir / "unscored"
    unscored.mkdir()
    (unscored / "manifest.json").write_bytes((runs_dir / "run-a" / "manifest.json").read_bytes())
    (runs_dir / "notes").mkdir()  # a folder of the user's own: not evalkit's, left alone
    (runs_dir / "notes" / "todo.txt").write_text("x", encoding="utf-8")
    assert [run_status(runs_dir / n) for n in ("killed", "unscored", "notes", "run-a")] == [
        "incomplete",
        "unscored",
        "other",
        "scored",
    ]
    listing = sync_index(runs_dir)
    assert [r.run_id for r in listing.runs] == ["run-a", "run-b"]
    assert listing.incomplete == [killed] and listing.unscored == [unscored]
    # a registered run that loses its summary (re-scoring killed) drops out of the results
    (runs_dir / "run-b" / "summary.json").unlink()
    assert [r.run_id for r in sync_index(runs_dir).runs] == ["run-a"]


def test_the_index_follows_rescoring_and_deleted_folders(runs_dir: Path) -> None:
    import shutil

    sync_index(runs_dir)
    summary_path = runs_dir / "run-a" / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary["by_suite"][0]["metrics"]["score"]["value"] = 0.123
    summary_path.write_text(json.dumps(summary), encoding="utf-8")
    os.utime(summary_path, ns=(time.time_ns(), time.time_ns() + 10**9))
    shutil.rmtree(runs_dir / "run-b")
    (record,) = sync_index(runs_dir).runs
    assert record.run_id == "run-a"
    assert record.headline[summary["by_suite"][0]["model"]]["planted@v1"] == 0.123


def test_scoring_from_the_command_line_registers_the_run(runs_dir: Path, tmp_path: Path) -> None:
    suites = tmp_path / "suites"
    result = CliRunner().invoke(
        cli, ["score", str(runs_dir / "run-a"), "--suites-dir", str(suites)]
    )
    assert result.exit_code == 0, result.output
    with RunIndex(runs_dir) as index:
        assert [r.run_id for r in index.records()] == ["run-a"]
    assert register_run(runs_dir / "run-b") is None


def test_evalkit_runs_lists_and_filters(runs_dir: Path) -> None:
    (runs_dir / "killed").mkdir()
    (runs_dir / "killed" / RUN_MARKER).write_text("k\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["runs", "--runs-dir", str(runs_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2 scored run(s)"
    assert lines[1].startswith("run-a  ") and "planted@v1" in lines[1]
    assert any(line.strip().startswith("sft ") and "planted@v1 0." in line for line in lines)
    assert any(line.startswith(f"incomplete: {runs_dir / 'killed'}") for line in lines)
    assert "run_id=killed" in result.output
    other = CliRunner().invoke(cli, ["runs", "--runs-dir", str(runs_dir), "--suite", "legal"])
    assert other.output.splitlines() == [
        "0 scored run(s) of legal",
        f"incomplete: {runs_dir / 'killed'} (killed before it finished; rerun with "
        "run_id=killed to complete it from the cache)",
    ]


def test_bad_runs_folder_or_index_is_one_line(runs_dir: Path, tmp_path: Path) -> None:
    missing = CliRunner().invoke(cli, ["runs", "--runs-dir", str(tmp_path / "nope")])
    assert missing.exit_code != 0
    assert missing.output.strip() == f"error: {tmp_path / 'nope'}: no such runs folder"
    (runs_dir / INDEX_FILE).write_bytes(b"this is not a database" * 100)
    broken = CliRunner().invoke(cli, ["runs", "--runs-dir", str(runs_dir)])
    assert broken.exit_code != 0 and len(broken.output.strip().splitlines()) == 1
    assert "the run index cannot be read" in broken.output and "delete it" in broken.output
    # scoring still succeeds; the registration only warns
    warning = register_run(runs_dir / "run-a")
    assert warning is not None and warning.startswith("warning: ")
    (runs_dir / INDEX_FILE).unlink()
    assert [r.run_id for r in sync_index(runs_dir).runs] == ["run-a", "run-b"]  # rebuilt


SLOW_REGISTRATION = """
import sys, time
from contextlib import contextmanager
from pathlib import Path
from evalkit.history.index import RunIndex

class Slow(RunIndex):
    @contextmanager
    def _transaction(self):
        with super()._transaction():
            yield
            print("inside", flush=True)
            time.sleep(120)

Slow(Path(sys.argv[1])).register(Path(sys.argv[2]))
"""


def test_a_registration_killed_midway_leaves_the_index_intact(runs_dir: Path) -> None:
    with RunIndex(runs_dir) as index:
        index.register(runs_dir / "run-a")
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_REGISTRATION, str(runs_dir), str(runs_dir / "run-b")],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "inside"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    with RunIndex(runs_dir) as index:
        assert [r.run_id for r in index.records()] == ["run-a"]  # as before, not half of run-b
        assert index._db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert [r.run_id for r in sync_index(runs_dir).runs] == ["run-a", "run-b"]


def test_opening_a_damaged_index_names_the_file(tmp_path: Path) -> None:
    (tmp_path / INDEX_FILE).write_bytes(b"\x00garbage" * 512)
    with pytest.raises(EvalkitError, match=f"{tmp_path / INDEX_FILE}: the run index cannot"):
        RunIndex(tmp_path)


def test_score_run_alone_does_not_need_the_index(runs_dir: Path, tmp_path: Path) -> None:
    score_run(runs_dir / "run-a", tmp_path / "suites", resamples=100)
    assert not (runs_dir / INDEX_FILE).exists()
