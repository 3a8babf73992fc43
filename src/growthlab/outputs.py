"""What a served model returns: one output adapter per kind of answer, named in the model.

A registered model keeps the fitted pipeline, the schema its task's `prepare` learned (plain
values) and the NAME of one adapter below; never the task object. So a task class can be
renamed or refactored without breaking a model already in the registry. An adapter is a
published contract: change what it returns only together with a new name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from growthlab.errors import UserError

Adapter = Callable[..., pd.DataFrame]


def scores(model: Any, X: pd.DataFrame, schema: Mapping[str, Any]) -> pd.DataFrame:
    """A probability per row (lead scoring, churn): `score`."""
    return pd.DataFrame({"score": model.predict_proba(X)[:, 1]}, index=X.index)


def sentiment(model: Any, X: pd.DataFrame, schema: Mapping[str, Any]) -> pd.DataFrame:
    """The class of each text and the probability of every class: `label`, `p_<class>`."""
    classes = np.array(schema["classes"], dtype=object)
    proba = model.predict_proba(X)
    known = classes[np.asarray(model.classes_, dtype=int)]  # the model's columns, as names
    out = pd.DataFrame({"label": known[np.argmax(proba, axis=1)]}, index=X.index)
    for c in classes:
        hits = np.flatnonzero(known == c)
        out[f"p_{c}"] = proba[:, hits[0]] if len(hits) else 0.0
    return out


def segments(model: Any, X: pd.DataFrame, schema: Mapping[str, Any]) -> pd.DataFrame:
    """A segment per customer and its readable name: `segment`, `segment_name`."""
    found = np.asarray(model.predict(X)).astype(np.int64)
    names = (
        model.name_of(found)
        if hasattr(model, "name_of")
        else np.array([f"segment {s}" for s in found], dtype=object)
    )
    return pd.DataFrame({"segment": found, "segment_name": names}, index=X.index)


def recommendations(
    model: Any, X: pd.DataFrame, schema: Mapping[str, Any], k: int | None = None
) -> pd.DataFrame:
    """One row per input row: the user and their ranked list of k item ids (`items`)."""
    column = schema["user"]
    if column not in X:
        raise UserError(f"the input needs the user column {column!r}")
    users = X[column].to_numpy()
    recommender = model[-1] if isinstance(model, Pipeline) else model
    lists = recommender.recommend(users, int(schema["k"] if k is None else k))
    return pd.DataFrame({column: users, "items": lists}, index=X.index)


def forecast(model: Any, X: pd.DataFrame, schema: Mapping[str, Any]) -> pd.DataFrame:
    """Per future row (a blank target after the series' history): series, time, `forecast`.

    A series given without future rows is forecast `horizon` periods ahead, which needs no
    drivers; with known drivers declared their planned values must be given.
    """
    from growthlab.data import panel
    from growthlab.data.panel import FUTURE, SERIES, TIME

    series, known = list(schema["series"]), list(schema["known"])
    if X.empty:
        raise UserError("the input has no rows: give each series its history rows")
    canonical = panel_input(X, schema, training=False)
    keys = canonical[SERIES]
    extra = sorted(set(keys) - set(keys[canonical[FUTURE]]))
    if extra and known:
        raise UserError(
            f"series {extra[0]!r} has no rows to forecast: add its future rows with blank "
            f"{schema['target']!r} and the planned {', '.join(map(repr, known))}"
        )
    full = panel.with_future_rows(canonical, extra, int(schema["horizon"]), schema["frequency"])
    predicted = np.asarray(model.predict(full), dtype=float)
    future = full[FUTURE].to_numpy(bool)
    # Series ids as given: from the row itself, or for added rows the series' first row.
    first_row = pd.Series(np.arange(len(keys))).groupby(keys.to_numpy()).first()
    rows = np.arange(len(full))
    rows[len(X) :] = first_row.reindex(full[SERIES].to_numpy()[len(X) :]).to_numpy()
    out = X[series].iloc[rows[future]].reset_index(drop=True)
    out[schema["time"]] = full[TIME].to_numpy()[future]
    out["forecast"] = predicted
    return out


def uplift(model: Any, X: pd.DataFrame, schema: Mapping[str, Any]) -> pd.DataFrame:
    """Per customer: `uplift`, `p_treated` and `p_control` (S, T, X learners) and `treat`.

    `treat` is whether contacting pays: value per conversion x uplift > cost per contact.
    """
    learner = model[-1] if isinstance(model, Pipeline) else model
    encoded = model[:-1].transform(X) if isinstance(model, Pipeline) else X
    effect = np.asarray(learner.predict_uplift(encoded), dtype=float)
    out = pd.DataFrame({"uplift": effect}, index=X.index)
    if hasattr(learner, "predict_response"):
        out["p_treated"], out["p_control"] = learner.predict_response(encoded)
    value, cost = float(schema["value_per_conversion"]), float(schema["contact_cost"])
    out["treat"] = value * effect - cost > 0
    return out


def value(model: Any, X: pd.DataFrame, schema: Mapping[str, Any]) -> pd.DataFrame:
    """Per customer, the next horizon: expected spend `value`, expected `purchases`, `tier`.

    The tier compares the value with cut points the model learned on its training customers
    (top shares schema["tier_cuts"]), so it does not depend on the other rows scored with it.
    """
    values = np.asarray(model.predict(X), dtype=np.float64)
    return pd.DataFrame(
        {"value": values, "purchases": model.predict_purchases(X), "tier": model.tiers(values)},
        index=X.index,
    )


def panel_input(frame: pd.DataFrame, schema: Mapping[str, Any], training: bool) -> pd.DataFrame:
    """A forecaster's view of a user table: the declared columns only, parsed and flagged."""
    from growthlab.data import panel
    from growthlab.data.dataset import Columns

    roles = Columns(
        series=list(schema["series"]),
        time=schema["time"],
        target=schema["target"],
        known=list(schema["known"]),
    )
    roles.check(frame, "the input")
    return panel.to_canonical(
        frame, schema["series"], schema["time"], schema["target"], schema["known"], training
    )


ADAPTERS: dict[str, Adapter] = {
    "scores": scores,
    "sentiment": sentiment,
    "segments": segments,
    "recommendations": recommendations,
    "forecast": forecast,
    "uplift": uplift,
    "value": value,
}


def predict(
    output: str, model: Any, X: pd.DataFrame, schema: Mapping[str, Any], **params: Any
) -> pd.DataFrame:
    """The named adapter's answer for the rows of X."""
    if output not in ADAPTERS:
        raise UserError(
            f"this model answers with {output!r}, which this growthlab does not know; "
            f"upgrade growthlab (known: {', '.join(ADAPTERS)})"
        )
    return ADAPTERS[output](model, X, schema, **params)
