"""`evalkit score RUN_DIR`: re-score stored generations without touching an engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from evalkit.cli.keys import KeysCommand


def print_summary(summary: dict[str, Any]) -> None:
    from evalkit.scoring import summary_lines

    for line in summary_lines(summary):
        click.echo(line)


def _keys() -> list[tuple[str, str, str]]:
    from evalkit.overrides import keys_help
    from evalkit.scoring.config import ScoringConfig

    return keys_help(ScoringConfig)


@click.command(
    cls=KeysCommand,
    keys=_keys,
    example="evalkit score reports/RUN metrics.qa=[exact_match,token_f1] bleu_tokenize=char",
    context_settings={"show_default": True},
)
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")
@click.option(
    "--suites-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the run's suites are published (default: as recorded in the run).",
)
@click.option("--baseline", help="Model to compare the others with (default: the base model).")
@click.option("--resamples", type=click.IntRange(100, 100_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--fail-on-regression",
    type=click.FloatRange(0, 1),
    help="Exit 1 if a model is significantly worse than the baseline by more than this.",
)
def score(
    run_dir: Path,
    overrides: tuple[str, ...],
    suites_dir: Path | None,
    baseline: str | None,
    resamples: int,
    seed: int,
    fail_on_regression: float | None,
) -> None:
    """Score a run's generations: writes results.jsonl and summary.json into RUN_DIR.

    The run is scored with the metric choices it recorded; KEY=VALUE changes them, e.g.
    metrics.qa=[exact_match,token_f1] or bleu_tokenize=char.
    """
    from evalkit.history.index import register_run
    from evalkit.outputs import check_output, check_writable_folder
    from evalkit.overrides import compose_config
    from evalkit.scoring import (
        RESULTS_FILE,
        SUMMARY_FILE,
        check_gate,
        read_manifest,
        recorded_scoring,
        score_run,
    )
    from evalkit.scoring.config import ScoringConfig

    check_writable_folder(run_dir, "run folder")
    for name in (RESULTS_FILE, SUMMARY_FILE):
        check_output(run_dir / name, "file", overwrite=True)
    config = None
    if overrides:  # on top of what the run recorded
        recorded = recorded_scoring(read_manifest(run_dir))
        config = compose_config(ScoringConfig, list(overrides), command="score", base=recorded)
    summary = score_run(run_dir, suites_dir, baseline, resamples, seed, config)
    print_summary(summary)
    click.echo(f"wrote {run_dir / 'results.jsonl'} and {run_dir / 'summary.json'}")
    registered = register_run(run_dir)
    if registered is not None:
        click.echo(registered, err=True)
    check_gate(summary, fail_on_regression)
