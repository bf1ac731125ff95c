"""The `prompts.*` keys of `evalkit run`: prompt sensitivity."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PromptVariantsConfig(BaseModel):
    """How many prompt variants every item is run under."""

    model_config = ConfigDict(extra="forbid")

    variants: int = Field(
        default=1,
        ge=1,
        le=16,
        description="K: run every item under K instruction wordings (the suite's own and K-1 "
        "others) and, for MCQ, K circular option orders; 1 = the suite's prompts only.",
    )
