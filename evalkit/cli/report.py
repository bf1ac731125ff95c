"""`evalkit report RUN_DIR`: rebuild the HTML report of a scored run."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--suites-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the run's suites are published (default: as recorded in the run).",
)
def report(run_dir: Path, suites_dir: Path | None) -> None:
    """Write report.html, summary.csv and summary.md into a scored RUN_DIR.

    Reads results.jsonl, summary.json and manifest.json; nothing is generated or re-scored.
    """
    from evalkit.outputs import check_output, check_writable_folder
    from evalkit.report import REPORT_FILE, write_report
    from evalkit.scoring.run_folder import scored_files

    scored_files(run_dir)
    check_writable_folder(run_dir, "run folder")
    for name in (REPORT_FILE, "summary.csv", "summary.md"):
        check_output(run_dir / name, "file", overwrite=True)
    # write_report reads and checks every file it uses before it writes anything.
    path = write_report(run_dir, suites_dir)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), summary.csv, summary.md")
