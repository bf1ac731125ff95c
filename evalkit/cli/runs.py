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
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="TAG=RUN",
    help="Name a scored run (e.g. prod=20261201-0930) for gate.baseline=TAG.",
)
def runs(runs_dir: Path, suite_name: str | None, tags: tuple[str, ...]) -> None:
    """List the scored runs: when, which suite versions and models, headline scores.

    Brings the run index (index.sqlite in the runs folder) in line with the folders first.
    Folders of runs killed before they finished are listed apart, never as results; rerun
    with the same run_id= to complete one.
    """
    from evalkit.errors import UsageError
    from evalkit.history.index import RunIndex, sync_index
    from evalkit.history.listing import listing_lines

    listing = sync_index(runs_dir)
    if tags:
        with RunIndex(runs_dir) as index:
            for spec in tags:
                tag, _, run_id = spec.partition("=")
                if not tag or not run_id:
                    raise UsageError(f"--tag {spec}: expected TAG=RUN, e.g. prod=20261201-0930")
                index.tag(tag, run_id)
                click.echo(f"tagged {run_id} as {tag}")
        listing = sync_index(runs_dir)
    for line in listing_lines(listing, suite_name):
        click.echo(line)
