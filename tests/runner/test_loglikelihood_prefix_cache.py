"""Option log-likelihoods reuse vLLM's prefix cache only where no scored log-probability can
be lost, and score exactly what a prompt computed from scratch scores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from evalkit.backends.vllm_engine import _prefix_block_size, hits_stop_before_continuation

from .conftest import requires_vllm


@pytest.mark.parametrize(
    ("length", "continuation", "block", "safe"),
    [
        (101, 1, 128, True),  # no block boundary after the context
        (128, 1, 128, True),  # a hit is at most 127 tokens: the context's last row is computed
        (129, 1, 128, False),  # context of 128: a whole cached block would cover its last token
        (130, 1, 128, True),  # context of 129: a hit of 128 stops before its last token
        (131, 3, 128, False),  # the continuation starts at 128: its first row is 127's
        (140, 10, 128, True),  # context of 130
        (135, 10, 128, False),  # a continuation across a boundary (another option may share it)
        (257, 1, 128, False),
        (258, 2, 128, False),
        (259, 2, 128, True),
        (17, 1, 16, False),
        (18, 1, 16, True),
    ],
)
def test_prefix_cache_hits_stop_before_the_scored_rows(
    length: int, continuation: int, block: int, safe: bool
) -> None:
    assert hits_stop_before_continuation(length, continuation, block) is safe


def _config(**overrides: Any) -> SimpleNamespace:
    model = {
        "is_hybrid": False,
        "is_attention_free": False,
        "hf_text_config": SimpleNamespace(),
        "window": None,
        **overrides.pop("model", {}),
    }
    cache = {
        "enable_prefix_caching": True,
        "prefix_match_unit": None,
        "block_size": 128,
        **overrides.pop("cache", {}),
    }
    window = model.pop("window")
    return SimpleNamespace(
        cache_config=SimpleNamespace(**cache),
        model_config=SimpleNamespace(**model, get_sliding_window=lambda: window),
        parallel_config=SimpleNamespace(decode_context_parallel_size=1),
        kv_transfer_config=overrides.pop("kv_transfer_config", None),
    )


@pytest.mark.parametrize(
    ("config", "block"),
    [
        (_config(), 128),
        (_config(cache={"block_size": 16}), 16),
        (_config(cache={"enable_prefix_caching": False}), None),
        (_config(cache={"prefix_match_unit": 64}), None),
        (_config(model={"is_hybrid": True}), None),
        (_config(model={"window": 4096}), None),
        (
            _config(
                model={
                    "hf_text_config": SimpleNamespace(
                        layer_types=["sliding_attention", "full_attention"]
                    )
                }
            ),
            None,
        ),
        (_config(model={"hf_text_config": SimpleNamespace(attention_chunk_size=8192)}), None),
        (_config(kv_transfer_config=object()), None),
    ],
)
def test_the_cache_is_read_only_where_hits_are_whole_blocks(
    config: SimpleNamespace, block: int | None
) -> None:
    assert _prefix_block_size(config) == block


# Prompts whose contexts end just before, on and after block boundaries, three options each
# (sharing the context), one and three continuation tokens: scored as evalkit sends them (one
# batch, reading the prefix cache where it is safe), then again with the cache never read.
SCRIPT = """
import json, sys
from evalkit.backends.base import BackendOptions
from evalkit.backends.vllm_engine import VLLMBackend, loglikelihood_result
from evalkit.runner.models import ModelSpec
from vllm.inputs import TokensPrompt

spec = ModelSpec(
    name="base", path=sys.argv[1], kind="base", dtype="float32", engine={"enforce_eager": True}
)
backend = VLLMBackend(spec, BackendOptions(seed=0))
block = backend._prefix_block
text = " ".join(f"clause {i} of the agreement binds the parties" for i in range(200))
ids = backend.tokenizer(text)["input_ids"]
prompts = []
for context in (block - 1, block, block + 1, 2 * block - 1, 2 * block, 2 * block + 1):
    for n in (1, 3):
        for option in range(3):
            continuation = [ids[context + option + 50]] + ids[context + 1 : context + n]
            prompts.append((ids[:context] + continuation, n))

def score(params):
    outs = backend.llm.generate(
        [TokensPrompt(prompt_token_ids=p) for p, _ in prompts], params, use_tqdm=False
    )
    return [
        (r.logprob, r.greedy, o.num_cached_tokens or 0)
        for (p, n), o in zip(prompts, outs)
        for r in [loglikelihood_result(o, n)]
    ]

cached = score([backend.loglikelihood_params(len(p), n) for p, n in prompts])
backend._prefix_block = None  # vLLM's default: prompt log-probabilities never read the cache
fresh = score([backend.loglikelihood_params(len(p), n) for p, n in prompts])
print(json.dumps({"block": block, "cached": cached, "fresh": fresh}))
"""


@requires_vllm
def test_scores_with_the_prefix_cache_equal_scores_without(models_dir: Path) -> None:
    env = {**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(models_dir / "weights-base")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["block"] is not None
    for (lp, greedy, _), (fresh_lp, fresh_greedy, fresh_hit) in zip(
        result["cached"], result["fresh"], strict=True
    ):
        assert lp == pytest.approx(fresh_lp, abs=1e-4)
        assert greedy == fresh_greedy
        assert fresh_hit == 0
    assert sum(hit > 0 for _, _, hit in result["cached"]) >= 12  # the cache was really read
