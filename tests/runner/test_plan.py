"""Cache keys: everything that changes an output is in the key, nothing else is."""

from __future__ import annotations

from evalkit.runner.config import RunConfig
from evalkit.runner.models import ModelSpec
from evalkit.runner.plan import plan_requests, select_items
from evalkit.suite.store import SuiteStore

from .conftest import SUITES_DIR


def _keys(model: ModelSpec, backend: str = "vllm") -> list[str]:
    version = SuiteStore(SUITES_DIR).load("legal")
    config = RunConfig(suite=["legal"], model=[model.name], mcq_mode="both", limit=20)
    items = select_items(version, config)
    planned = plan_requests(model, "sha256:weights", backend, version, items, config).requests
    return [p.key for p in planned]


def test_dtype_engine_options_and_backend_change_every_key() -> None:
    base = ModelSpec(name="m", path="p", kind="base", dtype="float32")
    keys = _keys(base)
    assert len(set(keys)) == len(keys) > 20  # generation and option-scoring requests
    for changed in (
        base.model_copy(update={"dtype": "bfloat16"}),
        base.model_copy(update={"engine": {"max_model_len": 512}}),
    ):
        assert not set(_keys(changed)) & set(keys)
    assert not set(_keys(base, backend="hf")) & set(keys)


def test_renaming_a_model_config_keeps_its_cache() -> None:
    base = ModelSpec(name="m", path="p", kind="base", dtype="float32")
    renamed = base.model_copy(update={"name": "other", "env": {"OMP_NUM_THREADS": "1"}})
    assert _keys(renamed) == _keys(base)
