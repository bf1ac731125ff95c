"""`evalkit suite ...` in-process (click's CliRunner), plus one real subprocess run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from drafts import ITEMS, snapshot, write_draft
from evalkit.cli import cli

BROKEN = Path(__file__).parents[1] / "suite" / "data" / "broken_items.jsonl"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def suites(tmp_path: Path) -> Path:
    return tmp_path / "suites"


def test_validate_ok_and_broken(draft_dir: Path) -> None:
    code, out, _ = run("suite", "validate", draft_dir)
    assert code == 0 and "ok, draft of 'mini', 3 items (extraction 1, mcq 2)" in out
    before = snapshot(BROKEN.parent)
    code, out, err = run("suite", "validate", BROKEN)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 13 and lines[-1] == "error: 12 problem(s) found; nothing was written"
    assert all(line.startswith(f"{BROKEN}:") for line in lines[:-1])
    assert "Traceback" not in err
    assert snapshot(BROKEN.parent) == before


def test_publish_list_show_diff_export(draft_dir: Path, suites: Path, tmp_path: Path) -> None:
    code, out, _ = run(
        "suite", "--suites-dir", suites, "publish", draft_dir, "--author", "li.na", "-m", "First."
    )
    assert code == 0 and out.startswith("published mini@v1: 3 items")
    code, _, err = run(
        "suite", "--suites-dir", suites, "publish", draft_dir, "--author", "li.na", "-m", "Again."
    )
    assert code == 1 and "nothing to publish: the draft's content equals mini@v1" in err
    fixed = [{**ITEMS[0], "answer": "B", "tags": ["offer"]}, *ITEMS[1:]]
    write_draft(draft_dir, items=fixed)
    assert (
        run(
            "suite", "--suites-dir", suites, "publish", draft_dir, "--author", "a", "-m", "Tag m1."
        )[0]
        == 0
    )

    code, out, _ = run("suite", "--suites-dir", suites, "list")
    assert code == 0 and out.split()[:3] == ["mini", "v2", "[v1,"]
    code, out, _ = run("suite", "--suites-dir", suites, "show", "mini@v1")
    assert code == 0 and "mini@v1  sha256:" in out and "mcq             dev 1, test 1" in out
    code, out, _ = run("suite", "--suites-dir", suites, "diff", "mini@v1", "mini@v2")
    assert code == 0 and '    tags: [] -> ["offer"]' in out and "added (0): -" in out
    out_file = tmp_path / "x.jsonl"
    code, out, _ = run("suite", "--suites-dir", suites, "export", "mini@v1", "--out", out_file)
    assert code == 0 and len(out_file.read_text(encoding="utf-8").splitlines()) == 3
    code, _, err = run("suite", "--suites-dir", suites, "export", "mini@v1", "--out", out_file)
    assert code == 1 and "already exists" in err


def test_show_tells_the_smallest_difference_the_suite_can_resolve() -> None:
    from evalkit.stats import binary_difference_sd, items_for_mde, planned_mde

    suites = Path(__file__).parents[2] / "suites"
    code, out, _ = run("suite", "--suites-dir", suites, "show", "legal@v2")
    assert code == 0 and "power:" in out
    mdes = [planned_mde(108, binary_difference_sd(d)) for d in (0.1, 0.2, 0.3)]
    assert f"suite           108 items    MDE {mdes[0]:.3f} / {mdes[1]:.3f} / {mdes[2]:.3f}" in out
    assert "mcq             25 items" in out  # and per task
    needed = items_for_mde(0.05, binary_difference_sd(0.2))
    assert f"for an MDE of 5%: {needed}" in out and 500 < needed < 800
    # and the thinnest slices, at the same 20% disagreement
    assert "coverage, thinnest slices" in out
    thinnest = out.split("coverage, thinnest slices")[1].splitlines()[1]
    assert "tag consumer: 1 items (1 units), no MDE (fewer than 2 units)" in thinnest


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["show", "mini@v7"], 1, "error: no suite 'mini' in"),
        (["show", "Mini"], 2, "error: bad suite reference 'Mini'"),
        (["show", "mini@7"], 2, "error: bad version '7' in 'mini@7': versions are v1, v2, ..."),
        (["validate", "no/such/path"], 1, "error: no/such/path: no such file or folder"),
        (
            ["export", "mini", "--format", "xml", "--out", "x"],
            2,
            "Invalid value for '--to' / '--format'",
        ),
    ],
)
def test_bad_input_is_one_line_and_nonzero(
    args: list[str], code: int, message: str, suites: Path
) -> None:
    got, _, err = run("suite", "--suites-dir", suites, *args)
    assert got == code and message in err and "Traceback" not in err


def test_import_writes_nothing_on_problems_unless_asked(tmp_path: Path) -> None:
    src = tmp_path / "src.csv"
    src.write_text("Q,Ans\nWhat is an offer?,a proposal\n,\n", encoding="utf-8")
    out = tmp_path / "items.jsonl"
    args = [
        "suite",
        "import",
        src,
        "--out",
        out,
        "--column",
        "question",
        "Q",
        "--column",
        "answers",
        "Ans",
        "--task",
        "qa",
        "--language",
        "en",
        "--author",
        "li.na",
    ]
    code, _, err = run(*args)
    assert code == 1 and f"{src}:3: question: missing" in err and not out.exists()
    code, out_text, err = run(*args, "--skip-invalid")
    assert code == 0 and "wrote" in out_text and f"skipped: {src}:3" in err
    assert '"answers": ["a proposal"]' in out.read_text(encoding="utf-8")
    code, _, err = run(*args)
    assert code == 2 and "already exists; use --force" in err


def test_console_script_runs_as_a_real_process(draft_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "evalkit", "suite", "validate", str(BROKEN)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert sum(line.startswith(f"{BROKEN}:") for line in lines) == 12
