"""`evalkit demo`: tiny models trained on this CPU, evaluated end to end with vLLM."""

from __future__ import annotations

import time
from pathlib import Path

import click


@click.command()
@click.option(
    "--fast",
    is_flag=True,
    help="Smaller models and fewer steps: about 30 s of training (what the tests use).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Folder for the run.",
)
@click.option("--run-id", help="Run folder name (default: demo-<time>).")
@click.option(
    "--models-root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".evalkit/demo/models"),
    show_default=True,
    help="Cache of built checkpoints, one folder per training recipe.",
)
@click.option(
    "--cache",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".evalkit/cache.sqlite"),
    show_default=True,
    help="Generation cache.",
)
@click.option(
    "--suites-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("suites"),
    show_default=True,
    help="Folder of published suites (demo-law, demo-general and demo-writing).",
)
@click.option("--rebuild", is_flag=True, help="Train the models again even if cached.")
def demo(
    fast: bool,
    out: Path,
    run_id: str | None,
    models_root: Path,
    cache: Path,
    suites_dir: Path,
    rebuild: bool,
) -> None:
    """Train tiny base, chat and SFT models here, then evaluate them end to end.

    The first run trains four small Llama checkpoints on the shipped demo data (a few
    minutes on 2 cores) and caches them; later runs reuse them and the generation cache.
    See docs/demo.md.
    """
    from evalkit.demo.pipeline import DemoOptions, run_demo

    began = time.perf_counter()
    options = DemoOptions(
        schedule="short" if fast else "full",
        out=out,
        models_root=models_root,
        cache=cache,
        suites_dir=suites_dir,
        run_id=run_id,
        rebuild=rebuild,
    )
    result = run_demo(options, echo=click.echo)
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in result.seconds.items())
    click.echo(f"demo finished in {time.perf_counter() - began:.0f} s ({parts})")
