"""Campaign arms: the treatment column as 0/1, and whether the campaign looks randomised."""

from __future__ import annotations

import numpy as np
import pandas as pd

from growthlab.errors import UserError

PROPENSITY_ROWS = 20_000  # rows the randomisation check fits on: enough for a stable AUC


def treatment_arms(
    values: pd.Series, treated_label: object = None, control_label: object = None
) -> tuple[np.ndarray, np.ndarray]:
    """(1 = treated / 0 = control per row, rows kept): 0/1, booleans, or declared labels.

    With several arms, one treated arm is compared with the control (both labels declared);
    rows of the other arms are left out. More than two arms without labels are refused.
    """
    name = values.name
    if values.isna().any():
        raise UserError(
            f"treatment column {name!r} has {int(values.isna().sum())} missing values; "
            "drop those rows or fill them with the arm"
        )
    text = values.astype(str)
    arms = sorted(pd.unique(text).tolist())
    shown = ", ".join(map(repr, arms[:6]))
    for role, label in (("treated_label", treated_label), ("control_label", control_label)):
        if label is not None and str(label) not in arms:
            raise UserError(
                f"dataset.columns.{role}={label!r} never occurs in treatment column {name!r} "
                f"(arms: {shown}); fix dataset.columns.{role}"
            )
    if len(arms) < 2:
        raise UserError(
            f"treatment column {name!r} holds one arm only: uplift needs treated and control "
            "customers from a randomised campaign"
        )
    if len(arms) > 2 and (treated_label is None or control_label is None):
        raise UserError(
            f"treatment column {name!r} has {len(arms)} arms ({shown}); growthlab compares one "
            "arm with the control: declare dataset.columns.control_label and "
            "dataset.columns.treated_label (one run per arm)"
        )
    if treated_label is not None or control_label is not None:
        treated = text == str(treated_label) if treated_label is not None else None
        control = text == str(control_label) if control_label is not None else None
        treated = ~control if treated is None else treated
        control = ~treated if control is None else control
        keep = (treated | control).to_numpy()
        return treated.to_numpy(dtype=np.int64)[keep], keep
    if pd.api.types.is_bool_dtype(values) or (
        pd.api.types.is_numeric_dtype(values) and set(pd.unique(values).tolist()) <= {0, 1}
    ):
        return values.to_numpy(dtype=np.int64), np.ones(len(values), dtype=bool)
    raise UserError(
        f"treatment column {name!r} is not 0/1 (arms: {shown}); declare "
        f"dataset.columns.treated_label={arms[-1]} (or control_label)"
    )


def propensity_auc(features: pd.DataFrame, arm: np.ndarray, seed: int) -> float:
    """Cross-validated ROC AUC of a logistic regression of the arm on the features.

    About 0.5 in a randomised campaign; well above it, who was contacted depends on who they
    are, and the uplift the model learns mixes the campaign with that choice.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from growthlab.models import tabular_pipeline
    from growthlab.models.preprocessing import FrameEncoder

    if features.shape[1] == 0:
        return 0.5
    rows = np.random.default_rng(seed).permutation(len(arm))[:PROPENSITY_ROWS]
    model = tabular_pipeline(FrameEncoder(one_hot=True), LogisticRegression(max_iter=500))
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    scores = cross_val_score(
        model, features.iloc[rows], arm[rows], cv=folds, scoring="roc_auc", error_score="raise"
    )
    return float(np.mean(scores))
