"""Item response theory: each item's difficulty and discrimination, each model's ability.

The fit is py-irt's (Lalor & Rodriguez 2023; Pyro, variational inference with hierarchical
priors): 1PL, P(right) = sigmoid(theta_model - b_item), or 2PL,
P(right) = sigmoid(a_item * (theta_model - b_item)). Models are the respondents, so the fit
needs several of them: 1PL from `MIN_MODELS["1pl"]`, 2PL from `MIN_MODELS["2pl"]`; with fewer,
item parameters would come from the priors more than from the data, and the analysis keeps
to the classical statistics. Scores are read as right (>= 0.5) or wrong; items every model
got right, or every model got wrong, carry no information and are left out of the fit.

An item's Fisher information at ability theta is a^2 p (1 - p) (Lord 1980); it is reported at
the models' mean ability, where the suite has to separate the models it is used on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from evalkit.analysis.responses import ResponseMatrix

IrtModelType = Literal["1pl", "2pl"]
MIN_MODELS: dict[str, int] = {"1pl": 5, "2pl": 10}
EPOCHS = 1500


@dataclass(frozen=True)
class ItemParameters:
    difficulty: float  # b
    discrimination: float  # a (1 in the 1PL)
    information: float  # at the models' mean ability


@dataclass(frozen=True)
class IrtFit:
    model_type: IrtModelType
    abilities: dict[str, float]  # respondent label → theta
    items: dict[str, ItemParameters]  # item id → parameters (fitted items only)
    left_out: list[str]  # items with no information (all right or all wrong)

    def probability(self, label: str, item_id: str) -> float:
        p = self.items[item_id]
        return 1 / (1 + math.exp(-p.discrimination * (self.abilities[label] - p.difficulty)))


def irt_model_for(models: int) -> IrtModelType | None:
    """The richest model the number of models supports, or None."""
    if models >= MIN_MODELS["2pl"]:
        return "2pl"
    if models >= MIN_MODELS["1pl"]:
        return "1pl"
    return None


def irt_refusal(models: int) -> str:
    """Why no IRT model is fitted to `models` models."""
    return (
        f"IRT not fitted: {models} model(s), and a 1PL fit needs at least {MIN_MODELS['1pl']} "
        f"(a 2PL at least {MIN_MODELS['2pl']}); classical statistics only"
    )


def binary_responses(matrix: ResponseMatrix) -> np.ndarray:
    """Right (1) / wrong (0) / missing (NaN) per model and item."""
    return np.where(np.isnan(matrix.scores), np.nan, (matrix.scores >= 0.5).astype(float))


def fit_irt(
    matrix: ResponseMatrix,
    model_type: IrtModelType | None = None,
    *,
    epochs: int = EPOCHS,
    seed: int = 0,
) -> IrtFit:
    """Fit py-irt's 1PL or 2PL to the matrix (the richest the models support by default)."""
    import warnings

    import pandas as pd
    import pyro

    with warnings.catch_warnings():  # py-irt's own deprecated imports, not the user's concern
        warnings.simplefilter("ignore", DeprecationWarning)
        from py_irt import anchor_utils
        from py_irt.config import IrtConfig
        from py_irt.dataset import Dataset
        from py_irt.training import IrtModelTrainer

    anchor_utils.console.quiet = True  # it logs "no anchor items" to the terminal otherwise

    responses = binary_responses(matrix)
    answered = ~np.isnan(responses).all(axis=1)
    labels = [label for label, keep in zip(matrix.labels, answered, strict=True) if keep]
    responses = responses[answered]
    model_type = model_type or irt_model_for(len(labels))
    if model_type is None or len(labels) < MIN_MODELS[model_type]:
        raise ValueError(irt_refusal(len(labels)))
    informative: list[int] = []
    left_out: list[int] = []
    for j in range(len(matrix.items)):
        column = responses[:, j][~np.isnan(responses[:, j])]
        (informative if column.size and 0 < column.mean() < 1 else left_out).append(j)
    if not informative:
        raise ValueError("IRT not fitted: no item separates the models")
    columns = [f"i{j}" for j in informative]
    frame = pd.DataFrame(responses[:, informative], columns=columns)
    frame.insert(0, "model", [f"m{m}" for m in range(len(labels))])
    dataset = Dataset.from_pandas(frame, subject_column="model", item_columns=columns)
    pyro.set_rng_seed(seed)
    config = IrtConfig(model_type=model_type, priors="hierarchical", epochs=epochs, lr=0.1)
    trainer = IrtModelTrainer(config=config, data_path=None, dataset=dataset, verbose=False)
    trainer.train(device="cpu")
    params = trainer.last_params
    theta = {
        labels[int(str(name)[1:])]: float(params["ability"][ix])
        for ix, name in params["subject_ids"].items()
    }
    mean_theta = float(np.mean(list(theta.values())))
    items = {}
    for ix, name in params["item_ids"].items():
        item = matrix.items[int(str(name)[1:])]
        b = float(params["diff"][ix])
        a = float(params["disc"][ix]) if model_type == "2pl" else 1.0
        p = 1 / (1 + math.exp(-a * (mean_theta - b)))
        items[item.id] = ItemParameters(b, a, a * a * p * (1 - p))
    return IrtFit(model_type, theta, items, [matrix.items[j].id for j in left_out])
