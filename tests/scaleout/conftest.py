"""The runner tests' tiny models, for the replica tests."""

from runner.conftest import models_dir  # noqa: F401 (a fixture, shared)
