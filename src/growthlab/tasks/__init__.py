"""Tasks: one module per business question, each a subclass of `Task` (tasks/base.py).

`Task` is the contract the runner, the tuning objective, the gate and batch scoring type
against; this module holds the plain data that moves between them: the splits (`Part`,
`Prepared`, whose `schema` is what prepare learned and what a served model keeps) and what
an evaluation produces (`Evaluation`).
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
    # What prepare learned that predictions need (column roles, frequency, catalogue, ...):
    # plain values only, kept in the served model instead of the task object.
    schema: dict[str, Any] = field(default_factory=dict)

    def with_valid_in_train(self) -> Prepared:
        """Train on train + valid (the refit after tuning); valid and test stay as they are."""
        train, valid = self.parts["train"], self.parts["valid"]
        oracle = None
        if train.oracle is not None and valid.oracle is not None:
            oracle = np.concatenate([train.oracle, valid.oracle])
        merged = Part(pd.concat([train.X, valid.X]), np.concatenate([train.y, valid.y]), oracle)
        info = {**self.info, "refit_on": "train+valid"}
        return Prepared({**self.parts, "train": merged}, info, self.schema)


@dataclass
class SparkPrepared:
    """The splits as Spark DataFrames (engine=spark): raw feature columns plus the label (and
    the oracle, for simulated data) per split, lazily evaluated; only counts are known."""

    parts: dict[str, Any]  # split -> pyspark DataFrame
    features: list[str]
    label: str
    oracle: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    schema: dict[str, Any] = field(default_factory=dict)

    def with_valid_in_train(self) -> SparkPrepared:
        """Train on train + valid (the refit after tuning); valid and test stay as they are."""
        merged = self.parts["train"].unionByName(self.parts["valid"])
        info = {**self.info, "refit_on": "train+valid"}
        parts = {**self.parts, "train": merged}
        return SparkPrepared(parts, self.features, self.label, self.oracle, info, self.schema)


@dataclass
class Evaluation:
    """Numbers, pictures and tables, named as they will appear in MLflow."""

    metrics: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


from growthlab.tasks.base import Task  # noqa: E402 - the contract, beside the data it moves

__all__ = [
    "LABEL",
    "Evaluation",
    "Part",
    "Prepared",
    "SparkPrepared",
    "Task",
    "part_from_frame",
    "part_to_frame",
]
