"""`evalkit judge RUN_DIR judge.model=NAME ...`: an LLM judge rates a run's stored answers."""

from __future__ import annotations

from pathlib import Path

import click

from evalkit.cli.keys import KeysCommand


def _keys() -> list[tuple[str, str, str]]:
    from evalkit.judging.config import JudgeConfig
    from evalkit.overrides import keys_help

    return [(f"judge.{k}", d, t) for k, d, t in keys_help(JudgeConfig)]


@click.command(
    cls=KeysCommand,
    keys=_keys,
    example="evalkit judge reports/RUN judge.model=smollm2 judge.mode=both",
)
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")
def judge(run_dir: Path, overrides: tuple[str, ...]) -> None:
    """Judge RUN_DIR's open-ended answers, then re-score it and rebuild its report.

    The run's recorded settings are used, with KEY=VALUE on top (judge.*, models_dir=,
    cache=, ...). Judgements are cached like generations: judging again costs nothing.
    """
    from evalkit.cli.score import print_summary
    from evalkit.judging.run import judge_run
    from evalkit.overrides import compose_config
    from evalkit.report import write_report
    from evalkit.runner.config import RunConfig
    from evalkit.scoring import read_manifest, score_run

    recorded = read_manifest(run_dir).get("config", {})
    config = compose_config(RunConfig, list(overrides), command="judge", base=recorded)
    judge_run(run_dir, config, echo=click.echo)
    summary = score_run(
        run_dir,
        Path(config.suites_dir),
        config.baseline,
        config.resamples,
        config.seed,
        config.scoring_only(),
    )
    print_summary(summary)
    click.echo(f"report: {write_report(run_dir, Path(config.suites_dir))}")
