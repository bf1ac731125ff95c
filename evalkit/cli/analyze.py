"""`evalkit suite analyze NAME@vN [runs=[...]]`: item analysis across stored runs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from evalkit.cli.keys import KeysCommand


def _keys() -> list[tuple[str, str, str]]:
    from evalkit.analysis.config import AnalysisConfig
    from evalkit.overrides import keys_help

    return keys_help(AnalysisConfig)


@click.command(
    cls=KeysCommand,
    keys=_keys,
    example="evalkit suite analyze legal@v2 runs=[reports/run-a,reports/run-b] -o analysis.json",
)
@click.argument("ref")
@click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the whole analysis as JSON (every item, flag and slice).",
)
@click.pass_context
def analyze(ctx: click.Context, ref: str, overrides: tuple[str, ...], out: Path | None) -> None:
    """What the scored runs of a suite version say about its items: difficulty,
    discrimination, IRT, suspected wrong gold answers, near-duplicates and coverage.

    REF is NAME (latest) or NAME@VERSION. Runs are the scored run folders under runs_dir that
    ran exactly that version, or those named with runs=[...].
    """
    from evalkit.analysis.config import AnalysisConfig
    from evalkit.analysis.lines import analysis_lines
    from evalkit.analysis.responses import find_runs
    from evalkit.analysis.suite_analysis import analyze_suite
    from evalkit.outputs import atomic_output, check_output
    from evalkit.overrides import compose_config
    from evalkit.suite.store import SuiteStore

    config = compose_config(
        AnalysisConfig, list(overrides), command="suite analyze", example="runs=[reports/RUN]"
    )
    if out is not None:
        check_output(out, "file", overwrite=True, option="-o")
    version = (ctx.find_object(SuiteStore) or SuiteStore()).load(ref)
    runs = [Path(r) for r in config.runs] or find_runs(Path(config.runs_dir), version)
    analysis = analyze_suite(version, runs, irt_epochs=config.irt_epochs)
    for line in analysis_lines(analysis):
        click.echo(line)
    if out is not None:
        with atomic_output(out) as staging:
            text = json.dumps(analysis.as_dict(), ensure_ascii=False, indent=1)
            staging.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}")
