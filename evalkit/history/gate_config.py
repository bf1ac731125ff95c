"""The `gate.*` keys of `evalkit run`: compare the run with a stored baseline run."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StoredGateConfig(BaseModel):
    """A stored run to gate against, without regenerating it."""

    model_config = ConfigDict(extra="forbid")

    baseline_run: str | None = Field(
        default=None,
        description="A stored run (folder, or run id in out=) whose model the run's models "
        "must not be significantly worse than.",
    )
    baseline: str | None = Field(
        default=None,
        description="The same, by tag in the run index (evalkit runs --tag prod=RUN).",
    )
    model: str | None = Field(
        default=None,
        description="The stored run's model to gate against (default: its only model, else "
        "its baseline).",
    )

    @property
    def active(self) -> bool:
        return self.baseline_run is not None or self.baseline is not None
