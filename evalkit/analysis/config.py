"""The settings of `evalkit suite analyze` (KEY=VALUE on the command line)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AnalysisConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runs: list[str] = Field(
        default_factory=list,
        description="Scored run folders to analyse (default: the version's runs in runs_dir).",
    )
    runs_dir: str = Field(default="reports", description="Where runs are looked for.")
    irt_epochs: int = Field(default=1500, ge=10, le=100_000, description="Epochs of the IRT fit.")
