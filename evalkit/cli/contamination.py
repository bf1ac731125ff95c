"""`evalkit contamination suite=NAME data=FILE`: which suite items a training file contains."""

from __future__ import annotations

import click

from evalkit.cli.keys import KeysCommand


def _keys() -> list[tuple[str, str, str]]:
    from evalkit.contamination import ContaminationConfig
    from evalkit.overrides import keys_help

    return keys_help(ContaminationConfig)


@click.command(
    cls=KeysCommand,
    keys=_keys,
    example="evalkit contamination suite=legal data=[sft.jsonl,corpus.txt] n=13",
    context_settings={"ignore_unknown_options": True},
)
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
def contamination(overrides: tuple[str, ...]) -> None:
    """Report suite items that overlap a training file (n-gram overlap).

    Exits 1 when any item reaches the threshold, so a CI step fails before a contaminated
    score is trusted; items with a smaller overlap are listed but do not fail. Bad input
    (unknown suite, missing or unreadable file, bad key) exits 2.
    """
    from evalkit.contamination import (
        ContaminationFound,
        check_contamination,
        compose_contamination_config,
    )
    from evalkit.errors import EvalkitError, ProblemsFound, UsageError

    try:
        report = check_contamination(compose_contamination_config(list(overrides)))
    except UsageError:
        raise
    except ProblemsFound as e:  # exit 1 means "contaminated"; a bad input must not read so
        raise ProblemsFound(e.problems, e.summary, exit_code=UsageError.exit_code) from None
    except EvalkitError as e:
        raise UsageError(str(e)) from None
    for line in report.lines()[:-1]:
        click.echo(line)
    if report.contaminated:
        raise ContaminationFound(report.lines()[-1])
    click.echo(report.lines()[-1])
