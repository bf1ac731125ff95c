"""`evalkit report RUN [RUN...]`: rebuild a scored run's HTML report, or report several runs
side by side (through the comparison run of `evalkit compare`)."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.compare import compare, comparison_options


@click.command()
@click.argument("run_refs", nargs=-1, required=True, metavar="RUN [RUN...]")
@comparison_options
@click.pass_context
def report(
    ctx: click.Context,
    run_refs: tuple[str, ...],
    runs_dir: Path,
    out: Path | None,
    baseline: str | None,
    shared_items: bool,
    suites_dir: Path | None,
) -> None:
    """One RUN (a folder, or a run id in --runs-dir): write report.html, summary.csv and
    summary.md into it from its results; nothing is generated or re-scored.

    Several RUNs: one report of all their models on the items they share, with the paired
    statistics of a single run — the comparison run `evalkit compare` writes (no engine
    starts; runs of other suite versions or generation settings are refused).
    """
    if len(run_refs) > 1:  # several runs: their comparison run, and its report
        ctx.invoke(
            compare,
            run_refs=run_refs,
            runs_dir=runs_dir,
            out=out,
            baseline=baseline,
            shared_items=shared_items,
            suites_dir=suites_dir,
            resamples=1000,
        )
        return
    for option, value in (("-o", out), ("--baseline", baseline), ("--shared-items", shared_items)):
        if value:
            raise click.UsageError(f"{option} is for several runs; one run keeps its own")

    from evalkit.outputs import check_output, check_writable_folder
    from evalkit.report import REPORT_FILE, write_report
    from evalkit.scoring.run_folder import scored_files

    run_dir = Path(run_refs[0])
    if not run_dir.is_dir() and (runs_dir / run_refs[0]).is_dir():
        run_dir = runs_dir / run_refs[0]
    scored_files(run_dir)
    check_writable_folder(run_dir, "run folder")
    for name in (REPORT_FILE, "summary.csv", "summary.md"):
        check_output(run_dir / name, "file", overwrite=True)
    # write_report reads and checks every file it uses before it writes anything.
    path = write_report(run_dir, suites_dir)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB), summary.csv, summary.md")
