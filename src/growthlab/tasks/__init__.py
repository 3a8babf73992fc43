"""Tasks: one module per business question, all with the same small interface.

prepare(frame, columns) -> Prepared     check the data, split it, say what to log about it
fit(model, data) -> model               train on the training split
evaluate(model, data) -> Evaluation     metrics per split, figures, tables
predict_frame(model, X) -> DataFrame    what the logged model returns for raw input rows
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


@dataclass
class Prepared:
    """The splits and the facts about them worth logging (sizes, boundaries, rates)."""

    parts: dict[str, Part]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evaluation:
    """Numbers, pictures and tables, named as they will appear in MLflow."""

    metrics: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
