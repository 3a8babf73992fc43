"""The lead-scoring task's own logic: labels, small-data cross-validation, calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from growthlab.data.dataset import Columns
from growthlab.data.simulator import MarketingSimulator
from growthlab.errors import UserError
from growthlab.models import tabular_pipeline
from growthlab.models.calibration import CalibratedModel
from growthlab.models.preprocessing import FrameEncoder
from growthlab.tasks.lead_scoring import LeadScoring, binary_target

ROLES = Columns(
    id="lead_id", target="converted", time="created_at", oracle="p_convert", pii=["email"]
)


class RecordingModel(ClassifierMixin, BaseEstimator):
    """Remembers which rows (by index label) every instance was fitted on."""

    fitted_on: list[set[int]] = []

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> RecordingModel:
        RecordingModel.fitted_on.append(set(X.index))
        self.classes_ = np.array([0, 1])
        self.rate_ = float(np.mean(y))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        score = X["pages_viewed"].to_numpy(float) / 100
        return np.column_stack([1 - score, score])


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return MarketingSimulator(1).leads(3000)


@pytest.mark.parametrize(
    ("values", "label", "expected"),
    [
        ([0, 1, 1, 0], None, [0, 1, 1, 0]),
        ([True, False, True, False], None, [1, 0, 1, 0]),
        (["won", "lost", "lost", "won"], "won", [1, 0, 0, 1]),
        ([1.0, 0.0, 0.0, 1.0], None, [1, 0, 0, 1]),
    ],
)
def test_binary_target_accepts_numbers_booleans_and_labels(values, label, expected) -> None:
    assert binary_target(pd.Series(values, name="y"), label).tolist() == expected


def test_small_data_is_cross_validated_on_train_and_valid_only(frame: pd.DataFrame) -> None:
    task = LeadScoring(cv_below_rows=10_000, cv_folds=4, cv_repeats=2, seed=3)
    data = task.prepare(frame, ROLES)
    RecordingModel.fitted_on = []
    steps: list[int] = []
    metrics = task.validate(RecordingModel, data, lambda step, auc: steps.append(step))
    assert len(RecordingModel.fitted_on) == 8 and steps == list(range(8))
    test_rows = set(data.parts["test"].X.index)
    pooled = set(data.parts["train"].X.index) | set(data.parts["valid"].X.index)
    for rows in RecordingModel.fitted_on:
        assert not rows & test_rows
        assert rows < pooled and len(rows) == pytest.approx(len(pooled) * 3 / 4, abs=2)
    assert 0.5 < metrics["roc_auc"] < 1


def test_large_data_validates_on_the_validation_split(frame: pd.DataFrame) -> None:
    task = LeadScoring(cv_below_rows=100)
    data = task.prepare(frame, ROLES)
    RecordingModel.fitted_on = []
    metrics = task.validate(RecordingModel, data)
    assert RecordingModel.fitted_on == [set(data.parts["train"].X.index)]
    expected = task.score(
        RecordingModel().fit(data.parts["train"].X, data.parts["train"].y), data.parts["valid"]
    )
    assert metrics == expected


def test_calibration_wraps_the_final_fit_and_plots_before_and_after(frame: pd.DataFrame) -> None:
    task = LeadScoring(calibration="auto", importance_rows=300)
    data = task.prepare(frame, ROLES)
    model = task.fit(tabular_pipeline(FrameEncoder(one_hot=True), LogisticRegression(C=0.01)), data)
    assert isinstance(model, CalibratedModel) and model.method_ in ("isotonic", "sigmoid")
    figure = task.evaluate(model, data).figures["test_calibration"]
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert any("before calibration" in label for label in labels)
    assert any("after calibration" in label for label in labels)


def test_unknown_calibration_is_refused() -> None:
    with pytest.raises(UserError, match="task.calibration"):
        LeadScoring(calibration="platt")
