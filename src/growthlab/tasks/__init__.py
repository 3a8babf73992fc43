"""Tasks: one module per business question, all with the same small interface.

prepare(frame, columns) -> Prepared     check the data, split it, say what to log about it
fit(model, data, report) -> model       train on the training split (report: validation curve)
validate(new_model, data, report)       validation metrics of a fresh model (one tuning trial)
evaluate(model, data, splits)           metrics per split, figures, tables
predict_frame(model, X) -> DataFrame    what the logged model returns for its input rows
input_example(data) -> DataFrame        rows of that input, for the signature (no PII)
predict_params                          keyword options of predict_frame with defaults ({"k": 10})
metric_names(), objective, minimized    what tuning may optimise, the default, the losses
headline                                metric names printed at the end of a run

What the registry needs (promotion re-scores the holdout kept with the model):
holdout(data) -> DataFrame              the table kept with the model (the test split)
outcomes(holdout) -> (X, y)             model input and what the gate compares against;
                                        y has one entry per row of predict_frame's output
output_column                           the predict_frame column the gate judges
metrics_of(y, predictions), metric_function(name)   metrics on the gate's units
baseline_scores(y, X)                   the naive model's predictions (None: no baseline)
floors                                  the minimums a champion must show by default
binary_labels                           y holds 0/1 labels (bootstraps redraw one-class samples)
bootstrap_groups(y)                     a group per unit the gate resamples whole (None: units)
score_column                            numeric output for deciles and drift (None: no deciles)
whole_input                             batch scoring reads the file whole (series, logs)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Part:
    """One split: raw feature columns, the label and, for simulated data, the true probability."""

    X: pd.DataFrame
    y: np.ndarray
    oracle: np.ndarray | None = None


LABEL = "__label__"


def part_to_frame(part: Part) -> pd.DataFrame:
    """A split as one table (features and label), e.g. the holdout kept with a model."""
    return part.X.assign(**{LABEL: part.y}).reset_index(drop=True)


def part_from_frame(frame: pd.DataFrame) -> Part:
    return Part(frame.drop(columns=[LABEL]), frame[LABEL].to_numpy())


def recorded_metrics(tags: dict[str, str], prefix: str = "test_") -> dict[str, float]:
    """The test metrics a version was registered with (tags test_<metric>), by metric name."""
    found = {}
    for key, value in tags.items():
        if key.startswith(prefix):
            try:
                found[key.removeprefix(prefix)] = float(value)
            except ValueError:
                continue
    return found


@dataclass
class Prepared:
    """The splits and the facts about them worth logging (sizes, boundaries, rates)."""

    parts: dict[str, Part]
    info: dict[str, Any] = field(default_factory=dict)

    def with_valid_in_train(self) -> Prepared:
        """Train on train + valid (the refit after tuning); valid and test stay as they are."""
        train, valid = self.parts["train"], self.parts["valid"]
        oracle = None
        if train.oracle is not None and valid.oracle is not None:
            oracle = np.concatenate([train.oracle, valid.oracle])
        merged = Part(pd.concat([train.X, valid.X]), np.concatenate([train.y, valid.y]), oracle)
        return Prepared({**self.parts, "train": merged}, {**self.info, "refit_on": "train+valid"})


@dataclass
class Evaluation:
    """Numbers, pictures and tables, named as they will appear in MLflow."""

    metrics: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
