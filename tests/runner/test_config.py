"""`evalkit run` configuration: Hydra-style overrides, validation, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.errors import UsageError
from evalkit.runner.config import RunConfig, compose_run_config
from evalkit.scoring.config import ScoringConfig

SUITES_DIR = Path(__file__).parents[2] / "suites"


def test_overrides_single_and_lists() -> None:
    config = compose_run_config(
        ["suite=[legal@v1,general]", "model=[base,chat]", "seed=3", "tags=[limitation]", "limit=5"]
    )
    assert config.suite == ["legal@v1", "general"] and config.model == ["base", "chat"]
    assert (config.seed, config.tags, config.limit) == (3, ["limitation"], 5)
    assert compose_run_config(["suite=legal", "model=ckpt"]).suite == ["legal"]


def test_config_file_is_overridden_by_arguments(tmp_path: Path) -> None:
    file = tmp_path / "run.yaml"
    file.write_text("suite: [legal]\nmodel: [base]\nmax_new_tokens: 64\nseed: 1\n")
    config = compose_run_config(["seed=2"], file)
    assert (config.max_new_tokens, config.seed) == (64, 2)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["suite=legal", "model=x", "sede=1"], "unknown key 'sede'; did you mean 'seed'?"),
        (["suite=legal"], "missing model=... (required)"),
        (["suite=legal", "model=x", "max_new_tokens=0"], "max_new_tokens=0: input should be"),
        (["suite=legal", "model=x", "temperature=-1"], "temperature=-1"),
        (["suite=legal", "model=x", "mcq_mode=ll"], "mcq_mode='ll'"),
        (["suite=legal", "model=x", "limit=abc"], "limit='abc'"),
        (["suite=[legal", "model=x"], "cannot parse 'suite=[legal'"),
        (["legal"], "bad argument 'legal': expected KEY=VALUE"),
        (["suite=legal", "model=[a,a]"], "names repeat"),
        (["suite=legal", "model=x", "metrics.mcq=[acuracy]"], "did you mean 'accuracy'"),
        (["suite=legal", "model=x", "bleu_tokenize=mecab"], "unknown tokenizer"),
    ],
)
def test_bad_configuration_is_a_usage_error(overrides: list[str], message: str) -> None:
    with pytest.raises(UsageError) as e:
        compose_run_config(overrides)
    assert message.lower() in str(e.value).lower()


def test_scoring_keys_are_run_keys() -> None:
    config = compose_run_config(
        [
            *["suite=legal", "model=x", "metrics.generation=[bleu,sentence_bleu]"],
            *["bleu_tokenize=char", "correction=bh", "headline=macro", "cluster_by=item"],
            "starting_model.x=y",
        ]
    )
    scoring = config.scoring_only().model_dump()
    assert set(scoring) == set(ScoringConfig.model_fields)
    assert scoring["metrics"] == {"generation": ["bleu", "sentence_bleu"]}
    assert (scoring["bleu_tokenize"], scoring["correction"], scoring["headline"]) == (
        "char",
        "bh",
        "macro",
    )
    assert (scoring["cluster_by"], scoring["starting_model"]) == ("item", {"x": "y"})


def test_help_lists_every_key_with_its_default() -> None:
    out = CliRunner().invoke(cli, ["run", "--help"]).output
    for key in RunConfig.model_fields:
        assert f"\n  {key} " in out, key
    assert "[default: 'vllm']" in out and "[default: 256]" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["suite=nosuch", "model=x"], "error: no suite 'nosuch' in "),
        (
            ["suite=legal@v9", "model=x"],
            "error: suite 'legal' has no version 'v9' (versions: v1, v2)",
        ),
        (["suite=legal", "model=nosuch"], "error: unknown model 'nosuch': no models/nosuch.yaml"),
        (
            ["suite=legal", "model=x", "backend=vlm"],
            "error: unknown backend 'vlm'; did you mean 'vllm'?",
        ),
        (["suite=legal", "model=x", "max_new_tokens=-5"], "error: max_new_tokens=-5"),
        (["suite=legal", "model=/nonexistent/ckpt"], "error: unknown model '/nonexistent/ckpt'"),
    ],
)
def test_cli_bad_input_is_one_line_nonzero_no_traceback(args: list[str], message: str) -> None:
    suites = f"suites_dir={SUITES_DIR}"
    result = CliRunner().invoke(cli, ["run", *args, suites, "out=/nonexistent-never-written"])
    assert result.exit_code != 0
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
