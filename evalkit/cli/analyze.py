"""`evalkit suite analyze NAME@vN [runs=[...]]`: item analysis across stored runs;
`evalkit suite subset NAME@vN k=K -o FILE`: anchor items that estimate the full suite."""

from __future__ import annotations

import json
from pathlib import Path

import click

from evalkit.cli.keys import KeysCommand


def _keys() -> list[tuple[str, str, str]]:
    from evalkit.analysis.config import AnalysisConfig
    from evalkit.overrides import keys_help

    return keys_help(AnalysisConfig)


def _subset_keys() -> list[tuple[str, str, str]]:
    from evalkit.analysis.config import SubsetConfig
    from evalkit.overrides import keys_help

    return keys_help(SubsetConfig)


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


@click.command(
    cls=KeysCommand,
    keys=_subset_keys,
    example="evalkit suite subset legal@v2 k=50 -o legal-v2-anchors.json",
)
@click.argument("ref")
@click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The subset file that `evalkit run ... subset=FILE` reads.",
)
@click.pass_context
def subset(ctx: click.Context, ref: str, overrides: tuple[str, ...], out: Path) -> None:
    """Choose K anchor items whose results estimate a model's score on the whole suite,
    and validate the estimate by leaving each analysed model out in turn.

    Needs scored runs of at least six models on exactly that version. Prints the
    leave-one-model-out error beside that of K random items, and warns when the anchors do
    no better.
    """
    from evalkit.analysis.config import SubsetConfig
    from evalkit.analysis.responses import find_runs, gather_responses
    from evalkit.analysis.subset import choose_subset, subset_lines
    from evalkit.outputs import atomic_output, check_output
    from evalkit.overrides import compose_config
    from evalkit.suite.store import SuiteStore

    config = compose_config(SubsetConfig, list(overrides), command="suite subset", example="k=50")
    check_output(out, "file", overwrite=True, option="-o")
    version = (ctx.find_object(SuiteStore) or SuiteStore()).load(ref)
    runs = [Path(r) for r in config.runs] or find_runs(Path(config.runs_dir), version)
    chosen = choose_subset(gather_responses(version, runs), config.k, seed=config.seed)
    for line in subset_lines(chosen):
        click.echo(line)
    with atomic_output(out) as staging:
        text = json.dumps(chosen.as_dict(), ensure_ascii=False, indent=1)
        staging.write_text(text + "\n", encoding="utf-8")
    click.echo(f"wrote {out}")
