"""`evalkit suite tokens NAME model=A [model=B...]`: tokenizer coverage of a suite's text."""

from __future__ import annotations

import click

from evalkit.cli.keys import KeysCommand


def _keys() -> list[tuple[str, str, str]]:
    from evalkit.analysis.tokenizer_coverage import TokensConfig
    from evalkit.overrides import keys_help

    return keys_help(TokensConfig)


def _joined_models(overrides: tuple[str, ...]) -> list[str]:
    """`model=A model=B` as `model=[A,B]` (repeating a key would otherwise keep the last)."""
    models = [o.split("=", 1)[1] for o in overrides if o.startswith("model=")]
    rest = [o for o in overrides if not o.startswith("model=")]
    if len(models) > 1:
        return [*rest, f"model=[{','.join(models)}]"]
    return [*rest, *(f"model={m}" for m in models)]


@click.command(
    cls=KeysCommand, keys=_keys, example="evalkit suite tokens legal model=base model=qwen-7b"
)
@click.argument("ref")
@click.argument("overrides", nargs=-1, metavar="model=A [model=B]... [KEY=VALUE]...")
@click.pass_context
def tokens(ctx: click.Context, ref: str, overrides: tuple[str, ...]) -> None:
    """How well each model's tokenizer covers the suite's text: tokens per Chinese character
    and per English word against the general suite, and the domain terms split into the
    most pieces (the suite's glossary, or its frequent n-grams absent from the general
    suite). The evidence for or against vocabulary expansion before fine-tuning.
    """
    from evalkit.analysis.tokenizer_coverage import (
        TokensConfig,
        coverage_lines,
        load_tokenizers,
        tokenizer_coverage,
    )
    from evalkit.overrides import compose_config
    from evalkit.suite.store import SuiteStore

    config = compose_config(
        TokensConfig, _joined_models(overrides), command="suite tokens", example="model=base"
    )
    store = ctx.find_object(SuiteStore) or SuiteStore()
    version = store.load(ref)
    general = store.load(config.general) if config.general and config.general != ref else None
    tokenizers = load_tokenizers(config.model, config.models_dir)
    for line in coverage_lines(tokenizer_coverage(tokenizers, version, general), version, general):
        click.echo(line)
