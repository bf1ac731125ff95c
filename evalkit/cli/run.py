"""`evalkit run KEY=VALUE ...`: generate answers for suites × models."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.keys import KeysCommand
from evalkit.runner.config import RunConfig, compose_run_config, config_help


def check_outputs(config: RunConfig) -> None:
    """Where the run will write, checked before anything is loaded or generated."""
    from evalkit.history.index import run_status
    from evalkit.outputs import check_creatable, check_output

    out = Path(config.out)
    check_creatable(out)
    if config.run_id is not None and run_status(out / config.run_id) != "incomplete":
        check_output(out / config.run_id, "folder", option="run_id=")
    if config.cache:
        check_output(Path(config.cache), "file", overwrite=True, option="cache=")


@click.command(
    cls=KeysCommand,
    keys=config_help,
    example="evalkit run suite=[legal,general] model=[base,chat] max_new_tokens=64",
    context_settings={"ignore_unknown_options": True},
)
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file of keys; KEY=VALUE arguments override it.",
)
def run(overrides: tuple[str, ...], config_file: Path | None) -> None:
    """Generate answers for suites × models, cached, and record the run.

    Models are names of configs in models_dir (models/NAME.yaml) or model folders. Exits 3
    when the run finished but some items were not answered (too long for a model's context,
    or their request failed); 1 on a regression beyond fail_on_regression.
    """
    from evalkit.cli.score import print_summary
    from evalkit.history.index import register_run
    from evalkit.history.stored_gate import gate_against_stored, resolve_stored_baseline
    from evalkit.report import write_report
    from evalkit.runner.run import check_answered, execute_run
    from evalkit.scoring import check_gate, score_run
    from evalkit.scoring.gate import RegressionFound
    from evalkit.sensitivity.scores import read_sensitivity, sensitivity_lines

    config = compose_run_config(list(overrides), config_file)
    check_outputs(config)
    stored = resolve_stored_baseline(config)  # a bad gate.* setting costs no engine time
    result = execute_run(config)
    if config.judge.model is not None:
        from evalkit.judging.run import judge_run

        judge_run(result.run_dir, config, echo=click.echo)
    summary = score_run(
        result.run_dir,
        Path(config.suites_dir),
        config.baseline,
        config.resamples,
        config.seed,
        config.scoring_only(),
    )
    print_summary(summary)
    for line in sensitivity_lines(read_sensitivity(result.run_dir)):
        click.echo(line)
    registered = register_run(result.run_dir)
    if registered is not None:
        click.echo(registered, err=True)
    path = write_report(result.run_dir, Path(config.suites_dir))
    click.echo(f"report: {path}")
    if stored is not None:
        outcome = gate_against_stored(result.run_dir, stored, config, Path(config.suites_dir))
        verdict = "FAIL" if outcome.regressions else "PASS"
        click.echo(
            f"gate against {stored.model} of {stored.run_dir}: {verdict} ({outcome.markdown})"
        )
        if outcome.regressions:
            raise RegressionFound(
                "regression against the stored run: " + "; ".join(outcome.regressions)
            )
    check_gate(summary, config.fail_on_regression)
    check_answered(result)
