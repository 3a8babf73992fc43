"""Simulated customer reviews: invented sentences with a known tone and a mean human rating.

Small and fast, for the sentiment task's tests and demo without ../shared: each review joins
a product, an opinion phrase of known polarity and sometimes a negation or an intensifier; the
rating is the mean of ten noisy raters on -4..+4, as in VADER's ground-truth files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from growthlab.data.dataset import Columns, Dataset
from growthlab.errors import UserError

PRODUCTS = ["headphones", "blender", "phone case", "delivery", "support team", "app", "jacket"]
OPINIONS = {  # phrase -> polarity on -4..+4
    "is excellent": 3.0,
    "works great": 2.5,
    "is really good": 2.0,
    "is fine": 0.8,
    "arrived on tuesday": 0.0,
    "comes in a box": 0.0,
    "is blue": 0.0,
    "is a bit slow": -1.2,
    "is disappointing": -2.0,
    "broke after a week": -2.5,
    "is terrible": -3.0,
}
ENDINGS = ["", "", " :)", "!", " :(", " honestly"]


def simulate_reviews(n_rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """review_id, text and mean_rating (-4..+4) for n_rows invented reviews."""
    rng = np.random.default_rng(seed)
    phrases = list(OPINIONS)
    product = rng.choice(PRODUCTS, n_rows)
    opinion = rng.choice(phrases, n_rows)
    polarity = np.array([OPINIONS[o] for o in opinion])
    negated = rng.random(n_rows) < 0.1
    strong = rng.random(n_rows) < 0.2
    said = np.where(negated & (polarity > 0), "is not really good", opinion)
    text = [
        f"the {p} {o}{' really' if s else ''}{rng.choice(ENDINGS)}"
        for p, o, s in zip(product, said, strong, strict=True)
    ]
    polarity = np.where(negated & (polarity > 0), -1.0, polarity) * np.where(strong, 1.3, 1.0)
    raters = polarity[:, None] + rng.normal(0, 1.0, (n_rows, 10))
    rating = np.clip(raters, -4, 4).mean(axis=1).round(4)
    return pd.DataFrame(
        {"review_id": np.arange(1, n_rows + 1), "text": text, "mean_rating": rating}
    )


class SimulatedReviews(Dataset):
    """The simulated reviews as a dataset (``_target_`` of a Hydra config)."""

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        n_rows: int = 600,
        seed: int = 0,
        allow_undeclared_identifiers: bool = False,
    ) -> None:
        super().__init__(name, columns, allow_undeclared_identifiers)
        if n_rows < 100:
            raise UserError(f"dataset.n_rows={n_rows}; simulated reviews need at least 100")
        self.n_rows = n_rows
        self.seed = seed

    def read(self) -> pd.DataFrame:
        return simulate_reviews(self.n_rows, self.seed)
