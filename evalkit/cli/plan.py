"""`evalkit plan memory MODEL [KEY=VALUE]...`: GPU memory a model needs, from its config.json."""

from __future__ import annotations

import click

from evalkit.cli.keys import KeysCommand


def _keys() -> list[tuple[str, str, str]]:
    from evalkit.overrides import keys_help
    from evalkit.planning.memory import MemoryPlanConfig

    return keys_help(MemoryPlanConfig)


@click.group()
def plan() -> None:
    """Plan a run before starting it."""


@plan.command(
    cls=KeysCommand,
    keys=_keys,
    example="evalkit plan memory models/Llama-2-7b-hf mode=full gpus=8 zero=3",
)
@click.argument("model")
@click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")
def memory(model: str, overrides: tuple[str, ...]) -> None:
    """GPU memory MODEL needs to run (mode=inference, vLLM) or to fine-tune (full, lora,
    qlora), per GPU, from its config.json alone: weights, gradients, optimizer states,
    activations, KV cache; whether it fits, and if not the smallest change that does.
    MODEL is a model folder, its config.json, or a name in models_dir (NAME.yaml).
    """
    from evalkit.overrides import compose_config
    from evalkit.planning.memory import MemoryPlanConfig
    from evalkit.planning.model_shape import find_config_json, read_model_shape
    from evalkit.planning.verdict import plan_memory, report_lines

    config = compose_config(
        MemoryPlanConfig, list(overrides), command="plan memory", example="mode=full"
    )
    config_json = find_config_json(model, config.models_dir)
    memory_plan = plan_memory(read_model_shape(config_json), config)
    for line in report_lines(memory_plan, config_json):
        click.echo(line)
