"""`evalkit runs`: the scored runs of a runs folder, from its index."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--runs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="The runs folder (where evalkit run writes, out=).",
)
@click.option("--suite", "suite_name", help="Only runs of this suite (NAME or NAME@VERSION).")
def runs(runs_dir: Path, suite_name: str | None) -> None:
    """List the scored runs: when, which suite versions and models, headline scores.

    Brings the run index (index.sqlite in the runs folder) in line with the folders first.
    Folders of runs killed before they finished are listed apart, never as results; rerun
    with the same run_id= to complete one.
    """
    from evalkit.history.index import sync_index
    from evalkit.history.listing import listing_lines

    for line in listing_lines(sync_index(runs_dir), suite_name):
        click.echo(line)
