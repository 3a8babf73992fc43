"""Retention economics: what contacting the top-scored share of customers is worth.

Contacting the top `fraction` of customers uses the ranking of growthlab.metrics.classification
(stable sort on descending score; ties keep row order) and the same count, ceil(fraction * n),
so a value curve agrees with top_mask, lift and capture at every fraction.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from growthlab.errors import UserError, whole_number
from growthlab.metrics.classification import _CEIL_SLACK, _order, check_binary

VALUE_CURVE_COLUMNS = ["fraction", "contacted", "churners_reached", "expected_saved", "value"]


def value_curve(
    y_churned: ArrayLike,
    scores: ArrayLike,
    value_per_saved_customer: float,
    contact_cost: float,
    save_rate: float,
    steps: int = 100,
    *,
    where: str = "y_churned",
) -> pd.DataFrame:
    """Value of contacting the top fraction 0, 1/steps, ..., 1 of customers by churn score."""
    labels, ranked_scores = check_binary(y_churned, scores, where)
    whole_number(steps, "steps")
    if not 0.0 <= save_rate <= 1.0:
        raise UserError(
            f"save_rate must be in [0, 1] (share of contacted churners kept), got {save_rate!r}"
        )
    for name, amount in (
        ("value_per_saved_customer", value_per_saved_customer),
        ("contact_cost", contact_cost),
    ):
        if not (math.isfinite(amount) and amount >= 0):
            raise UserError(f"{name} must be a finite amount >= 0, got {amount!r}")
    n = labels.size
    fraction = np.arange(steps + 1) / steps
    # ceil(f * n) as in top_mask, but 0 at f = 0: contacting nobody is the baseline.
    contacted = np.clip(np.ceil(fraction * n - _CEIL_SLACK), 0, n).astype(np.int64)
    reached = np.concatenate([[0], np.cumsum(labels[_order(ranked_scores)])])[contacted]
    saved = reached * save_rate
    return pd.DataFrame(
        {
            "fraction": fraction,
            "contacted": contacted,
            "churners_reached": reached,
            "expected_saved": saved,
            "value": saved * value_per_saved_customer - contacted * contact_cost,
        }
    )


def best_contact(curve: pd.DataFrame) -> tuple[float, float]:
    """(fraction, value) of the most valuable row of a value curve; the first such row on ties."""
    missing = [c for c in ("fraction", "value") if c not in curve.columns]
    if missing or curve.empty:
        raise UserError(
            f"best_contact needs a non-empty value curve with 'fraction' and 'value' columns "
            f"(missing: {', '.join(missing) or 'rows'}); build it with value_curve"
        )
    best = int(np.argmax(curve["value"].to_numpy()))  # argmax returns the first maximum
    return float(curve["fraction"].iloc[best]), float(curve["value"].iloc[best])
