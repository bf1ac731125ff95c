"""A world of good inputs, built once, copied into each test to be spoiled."""

from __future__ import annotations

from pathlib import Path

import pytest
from badkit import World, build_world, copy_world


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("bad-inputs") / "world")


@pytest.fixture
def world(world_template: World, tmp_path: Path) -> World:
    return copy_world(world_template, tmp_path / "world")
