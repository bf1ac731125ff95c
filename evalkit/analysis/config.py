"""The settings of `evalkit suite analyze` and `evalkit suite subset` (KEY=VALUE)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RunsConfig(BaseModel):
    """Which stored runs to read."""

    model_config = ConfigDict(extra="forbid")

    runs: list[str] = Field(
        default_factory=list,
        description="Scored run folders to analyse (default: the version's runs in runs_dir).",
    )
    runs_dir: str = Field(default="reports", description="Where runs are looked for.")


class AnalysisConfig(RunsConfig):
    irt_epochs: int = Field(default=1500, ge=10, le=100_000, description="Epochs of the IRT fit.")


class SubsetConfig(RunsConfig):
    k: int = Field(default=50, ge=2, le=100_000, description="Anchor items to choose.")
    seed: int = Field(default=0, ge=0, description="Seed of the clustering.")
