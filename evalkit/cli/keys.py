"""A click command whose --help lists the KEY=VALUE keys it accepts, with their defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

KeysHelp = Callable[[], list[tuple[str, str, str]]]  # (key, default, description) rows


class KeysCommand(click.Command):
    """`@click.command(cls=KeysCommand, keys=..., example=...)`: keys listed under --help.

    `keys` is called only when help is shown, so the CLI's start-up imports nothing for it.
    """

    def __init__(self, *args: Any, keys: KeysHelp, example: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys = keys
        self.example = example

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Keys (KEY=VALUE; lists as [a,b])"):
            formatter.write_dl(
                [(key, f"{text} [default: {default}]") for key, default, text in self.keys()]
            )
        formatter.write_paragraph()
        formatter.write_text(f"Example: {self.example}")
