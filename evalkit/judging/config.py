"""The `judge.*` keys of `evalkit run` and `evalkit judge`: which model judges, and how."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JudgeMode = Literal["rubric", "pairwise", "both"]


class JudgeConfig(BaseModel):
    """An LLM judge for open-ended answers (generation and dialogue items)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        default=None,
        description="Judge model: a config name in models_dir or a model folder (no judge when "
        "unset).",
    )
    kind: Literal["chat"] = Field(
        default="chat", description="How the judge is prompted: chat (its chat template)."
    )
    mode: JudgeMode = Field(
        default="rubric",
        description="rubric (a score per criterion), pairwise (each model against the "
        "reference, both orders), or both.",
    )
    reference: str | None = Field(
        default=None,
        description="Pairwise: the model every other is compared with (default: the baseline).",
    )
    backend: str | None = Field(
        default=None, description="Engine for the judge (default: the run's backend)."
    )
    structured: bool = Field(
        default=True,
        description="Constrain the judge's output to the JSON its prompt asks for (vLLM "
        "structured outputs; response_format on a server; the hf engine cannot).",
    )
    max_new_tokens: int = Field(
        default=512, ge=16, le=4096, description="Tokens for one judgement."
    )

    @property
    def rubric(self) -> bool:
        return self.mode in ("rubric", "both")

    @property
    def pairwise(self) -> bool:
        return self.mode in ("pairwise", "both")
