"""Tasks: one module per business question, all with the same small interface.

prepare(frame, columns) -> Prepared     check the data, split it, say what to log about it
fit(model, data, report) -> model       train on the training split (report: validation curve)
score(model, part) -> metrics           metrics on one split, cheap enough for tuning trials
evaluate(model, data, splits)           metrics per split, figures, tables
predict_frame(model, X) -> DataFrame    what the logged model returns for raw input rows
metric_names(), objective, direction    what tuning may optimise, and the default
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
