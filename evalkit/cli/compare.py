"""`evalkit compare RUN_A RUN_B [...]`: models of stored runs compared, without an engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from evalkit.history.compare import ComparisonRun


def comparison_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of a comparison of stored runs (`compare`, and `report` of several)."""
    options = [
        click.option(
            "--runs-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("reports"),
            show_default=True,
            help="Where run ids are looked up, and where the comparison run is written.",
        ),
        click.option(
            "-o",
            "--out",
            type=click.Path(file_okay=False, path_type=Path),
            help="The comparison run folder (default: RUNS_DIR/compare-RUN_A-RUN_B).",
        ),
        click.option(
            "--baseline", help="Model the others are compared with (default: the first base)."
        ),
        click.option(
            "--shared-items",
            is_flag=True,
            help="Compare runs of different versions of a suite on the items the versions share.",
        ),
        click.option(
            "--suites-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Where the suites are published (default: as the first run recorded).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@click.argument("run_refs", nargs=-1, required=True, metavar="RUN_A RUN_B [RUN...]")
@comparison_options
@click.option("--resamples", type=click.IntRange(100, 100_000), default=1000, show_default=True)
def compare(
    run_refs: tuple[str, ...],
    runs_dir: Path,
    out: Path | None,
    baseline: str | None,
    shared_items: bool,
    suites_dir: Path | None,
    resamples: int,
) -> None:
    """Compare the models of several scored runs on the items they share, with the paired
    statistics of a single run; reuses their generations (no engine starts).

    RUN is a run folder or a run id in --runs-dir. Refuses runs of different suite versions
    (unless --shared-items) or generation settings, naming both sides. Writes a comparison
    run folder, scored and with its report.
    """
    from evalkit.history.compare import compare_runs

    compared = compare_runs(
        list(run_refs),
        runs_dir,
        out=out,
        baseline=baseline,
        shared_items=shared_items,
        suites_dir=suites_dir,
        resamples=resamples,
    )
    echo_comparison(compared, suites_dir)


def echo_comparison(compared: ComparisonRun, suites_dir: Path | None) -> None:
    """Print a comparison run's summary and write its report."""
    from evalkit.cli.score import print_summary
    from evalkit.report import write_report

    print_summary(compared.summary)
    if compared.registered is not None:
        click.echo(compared.registered, err=True)
    click.echo(f"report: {write_report(compared.run_dir, suites_dir)}")
