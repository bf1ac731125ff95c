"""The `evalkit` command line."""

from __future__ import annotations

import sys
from typing import Any

import click

from evalkit import __version__
from evalkit.cli.analyze import analyze, subset
from evalkit.cli.app import app
from evalkit.cli.compare import compare
from evalkit.cli.contamination import contamination
from evalkit.cli.demo import demo
from evalkit.cli.judge import judge
from evalkit.cli.plan import plan
from evalkit.cli.report import report
from evalkit.cli.run import run
from evalkit.cli.runs import runs
from evalkit.cli.score import score
from evalkit.cli.suite import suite
from evalkit.cli.tokens import tokens
from evalkit.errors import EvalkitError, ProblemsFound


class EvalkitGroup(click.Group):
    """A click group that turns evalkit's own errors into one-line messages and exit codes.

    Bugs are not EvalkitError and keep their traceback.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProblemsFound as e:
            for problem in e.problems:
                click.echo(str(problem), err=True)
            click.echo(f"error: {e.summary}", err=True)
            sys.exit(e.exit_code)
        except EvalkitError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)


@click.group(cls=EvalkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evalkit")
def cli() -> None:
    """Build versioned domain evaluation suites and benchmark LLMs on them."""


suite.add_command(analyze)
suite.add_command(subset)
suite.add_command(tokens)
cli.add_command(suite)
cli.add_command(run)
cli.add_command(runs)
cli.add_command(score)
cli.add_command(compare)
cli.add_command(judge)
cli.add_command(contamination)
cli.add_command(report)
cli.add_command(app)
cli.add_command(demo)
cli.add_command(plan)


def main() -> None:
    cli(prog_name="evalkit")
