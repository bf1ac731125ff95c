"""`evalkit compare RUN_A RUN_B [...]`: models of stored runs compared, without an engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import click


@click.command()
@click.argument("run_refs", nargs=-1, required=True, metavar="RUN_A RUN_B [RUN...]")
@click.option(
    "--runs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Where run ids are looked up, and where the comparison run is written.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The comparison run folder (default: RUNS_DIR/compare-RUN_A-RUN_B).",
)
@click.option("--baseline", help="Model the others are compared with (default: the first base).")
@click.option(
    "--shared-items",
    is_flag=True,
    help="Compare runs of different versions of a suite on the items the versions share.",
)
@click.option(
    "--suites-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the suites are published (default: as the first run recorded).",
)
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
    from evalkit.cli.score import print_summary
    from evalkit.history.compare import merge_runs, resolve_run
    from evalkit.history.index import register_run
    from evalkit.outputs import check_output
    from evalkit.report import write_report
    from evalkit.scoring import score_run

    run_dirs = [resolve_run(ref, runs_dir) for ref in run_refs]
    out = out or runs_dir / "compare-{}".format("-".join(p.name for p in run_dirs))
    check_output(out, "folder", option="-o")
    merged = merge_runs(run_dirs, out, suites_dir=suites_dir, shared_items=shared_items)
    try:
        summary = score_run(merged, suites_dir, baseline, resamples)
    except BaseException:  # a bad --baseline, say: no half-made comparison is left behind
        shutil.rmtree(merged, ignore_errors=True)
        raise
    print_summary(summary)
    registered = register_run(merged)
    if registered is not None:
        click.echo(registered, err=True)
    click.echo(f"report: {write_report(merged, suites_dir)}")
