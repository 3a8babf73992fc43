"""Sentiment: the tone of a message or review, as negative / neutral / positive (or two classes).

The label is a numeric rating cut into classes by thresholds declared in config, or given as
class names. The gate's reference is the VADER lexicon rule on the same holdout rows, stored
with the holdout when the model is trained: a model must beat it before it may be champion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from growthlab.data.dataset import Columns
from growthlab.data.split import stratified_split
from growthlab.errors import UserError
from growthlab.metrics.sentiment import class_metrics, confusion, intensity_correlation, per_class
from growthlab.models import diagnostics
from growthlab.models.text import as_text, check_not_blank, lexicon_scores
from growthlab.plots.classification import confusion_figure
from growthlab.tasks import LABEL, Evaluation, Part, Prepared, Task, part_to_frame

DEFAULT_CLASSES = {2: ["negative", "positive"], 3: ["negative", "neutral", "positive"]}
KNOWN = ["negative", "neutral", "positive"]  # label names the lexicon rule can answer with
VADER = "__vader__"  # the lexicon's class per holdout row, stored at training time
VADER_CUT = 0.05  # VADER's own rule: compound above +0.05 positive, below -0.05 negative
MIN_PER_CLASS = 5
EXAMPLE = "The delivery was quick and the support team was friendly."  # never a real message


class Sentiment(Task):
    """Classes from ratings or labels; stratified split; F1 metrics; VADER as the baseline."""

    output = "sentiment"
    output_column = "label"  # the gate compares predicted classes with the true ones
    headline = ("weighted_f1", "macro_f1", "accuracy", "vader_weighted_f1")

    def __init__(
        self,
        name: str = "sentiment",
        text: Sequence[str] | None = None,
        scale: Sequence[float] | None = (-4.0, 4.0),
        thresholds: Sequence[float] = (-0.2, 0.2),
        classes: Sequence[str] | None = None,
        objective: str = "weighted_f1",
        floors: Mapping[str, float] | None = None,
        valid_size: float = 0.2,
        test_size: float = 0.2,
        seed: int = 0,
    ) -> None:
        if objective not in self.metric_names():
            raise UserError(f"task.objective={objective!r}; use {', '.join(self.metric_names())}")
        thresholds = [float(t) for t in thresholds]
        if not thresholds or any(b <= a for a, b in zip(thresholds, thresholds[1:], strict=False)):
            raise UserError(
                f"task.thresholds={thresholds} must be increasing cut points (e.g. [-0.2, 0.2]); "
                "out of order, a class between them would be empty"
            )
        if scale is not None and not (scale[0] < thresholds[0] and thresholds[-1] < scale[1]):
            raise UserError(
                f"task.thresholds={thresholds} must lie inside task.scale={list(scale)}, "
                "or the lowest or highest class is empty"
            )
        names = list(classes) if classes else DEFAULT_CLASSES.get(len(thresholds) + 1)
        if names is None or len(names) != len(thresholds) + 1:
            raise UserError(
                f"{len(thresholds)} thresholds make {len(thresholds) + 1} classes: "
                "name them in task.classes (lowest first)"
            )
        self.name = name
        self.text = list(text or ())
        self.scale = None if scale is None else [float(s) for s in scale]
        self.thresholds = thresholds
        self.classes = [str(c) for c in names]
        self.objective = objective
        self.floors = dict(floors or {})
        self.valid_size = valid_size
        self.test_size = test_size
        self.seed = seed

    # --- data ---------------------------------------------------------------------------------

    def prepare(self, frame: pd.DataFrame, columns: Columns) -> Prepared:
        self.require_rows(frame)
        if not columns.target:
            raise UserError(f"{self.name} needs a label: set dataset.columns.target (a rating)")
        if not self.text:
            raise UserError(f"{self.name} reads free text: set dataset.columns.text=[column]")
        columns.check(frame, "the data")
        for column in self.text:
            check_not_blank(frame[column], column)
        labels, rating, classes = self.labels(frame[columns.target])
        y = np.array([classes.index(c) for c in labels])
        positions = stratified_split(y, self.valid_size, self.test_size, self.seed)
        features = columns.features(frame)
        parts, info = {}, {"split": "stratified", "classes": ", ".join(classes)}
        for split, rows in positions.items():
            # The rated intensity rides in Part.oracle: the truth behind the label.
            parts[split] = Part(
                features.iloc[rows], y[rows], None if rating is None else rating[rows]
            )
            info[f"{split}_rows"] = len(rows)
        schema = {"classes": classes, "text": self.text, "rating": rating is not None}
        return Prepared(parts, info, schema)

    def labels(self, target: pd.Series) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
        """Class names per row, the rating (None for labels given as classes), the classes."""
        name = target.name
        if target.isna().any():
            raise UserError(
                f"target {name!r} is missing in {int(target.isna().sum())} rows; "
                "drop or fill them before training"
            )
        if not pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
            values = set(target.astype(str))
            found = [c for c in KNOWN if c in values] + sorted(values - set(KNOWN))
            if len(found) < 2:
                raise UserError(f"target {name!r} has a single class; sentiment needs two or more")
            self._enough(target.astype(str).to_numpy(), found, name)
            return target.astype(str).to_numpy(), None, found
        rating = target.to_numpy(dtype=float)
        if self.scale is not None:
            outside = np.flatnonzero((rating < self.scale[0]) | (rating > self.scale[1]))
            if len(outside):
                raise UserError(
                    f"target {name!r} is outside task.scale={self.scale} in {len(outside)} rows "
                    f"(first: row {int(outside[0])}); fix the data or declare the scale"
                )
        labels = np.array(self.classes, dtype=object)[self.cut(rating)]
        self._enough(labels, self.classes, name)
        return labels, rating, list(self.classes)

    def cut(self, rating: np.ndarray) -> np.ndarray:
        """Class index per rating: on a threshold counts as the class above the lowest cut."""
        index = (rating >= self.thresholds[0]).astype(int)
        for t in self.thresholds[1:]:
            index += rating > t
        return index

    def _enough(self, labels: np.ndarray, classes: list[str], name: object) -> None:
        for c in classes:
            count = int((labels == c).sum())
            if count < MIN_PER_CLASS:
                raise UserError(
                    f"class {c!r} of target {name!r} has {count} rows with "
                    f"task.thresholds={self.thresholds}; every class needs {MIN_PER_CLASS}+ "
                    "(move the thresholds or add rows)"
                )

    # --- training and judging -----------------------------------------------------------------

    def fit(self, model: Any, data: Prepared, report: Callable | None = None) -> Any:
        train = data.parts["train"]
        return model.fit(train.X, train.y)

    def validate(
        self, new_model: Callable[[], Any], data: Prepared, report: Callable | None = None
    ) -> dict[str, float]:
        metrics = self.score(self.fit(new_model(), data), data.parts["valid"], data.schema)
        if report is not None:
            report(0, metrics[self.objective])
        return metrics

    def score(self, model: Any, part: Part, schema: Mapping[str, Any]) -> dict[str, float]:
        predicted = self.predict_frame(model, part.X, schema)["label"].to_numpy()
        return self.metrics_of(self._names(part.y, schema), predicted)

    def metric_names(self) -> list[str]:
        return ["weighted_f1", "macro_f1", "accuracy"]

    def metrics_of(self, y: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
        return class_metrics(y, predictions)

    def evaluate(self, model: Any, data: Prepared, splits: Sequence[str]) -> Evaluation:
        """Per split: F1s, accuracy, per-class precision / recall, intensity; VADER beside."""
        result = Evaluation(metrics=diagnostics(model))  # a stacked model: members, weights
        classes = list(data.schema["classes"])
        for split in dict.fromkeys([*splits, "test"]):
            part = data.parts[split]
            truth = self._names(part.y, data.schema)
            served = self.predict_frame(model, part.X, data.schema)
            predicted = served["label"].to_numpy()
            metrics = {**self.metrics_of(truth, predicted), **per_class(truth, predicted, classes)}
            if part.oracle is not None:
                polarity = served[f"p_{classes[-1]}"] - served[f"p_{classes[0]}"]
                metrics["intensity_correlation"] = intensity_correlation(part.oracle, polarity)
            rule = self.vader_labels(part.X, classes)
            if rule is not None:
                metrics.update({f"vader_{k}": v for k, v in self.metrics_of(truth, rule).items()})
            if split in splits:
                result.metrics.update({f"{split}_{k}": v for k, v in metrics.items()})
            if split == "test":
                counts = confusion(truth, predicted, classes)
                result.figures["test_confusion_matrix"] = confusion_figure(counts, classes)
                result.tables["test_confusion_matrix"] = pd.DataFrame(
                    counts, index=pd.Index(classes, name="true"), columns=classes
                ).reset_index()
        return result

    # --- the holdout and its baseline -----------------------------------------------------------

    def input_example(self, data: Prepared) -> pd.DataFrame:
        """Training rows with invented text: reviews may name people, so none is logged."""
        example = data.parts["train"].X.head(5).copy()
        for column in self.text:
            example[column] = EXAMPLE
        return example

    def holdout(self, data: Prepared) -> pd.DataFrame:
        """The test rows, with the lexicon's class per row computed now (the gate's baseline)."""
        test = data.parts["test"]
        frame = part_to_frame(test)
        rule = self.vader_labels(test.X, list(data.schema["classes"]))
        if rule is not None:
            frame[VADER] = rule
        return frame

    def outcomes(
        self, holdout: pd.DataFrame, schema: Mapping[str, Any]
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Model input (with the stored baseline column, which the model ignores) and classes."""
        y = self._names(holdout[LABEL].to_numpy(), schema)
        return holdout.drop(columns=[LABEL]), y

    def baselines(self, y: np.ndarray, X: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
        if X is None or VADER not in X:
            return {}
        return {"vader": X[VADER].astype(str).to_numpy()}

    def vader_labels(self, X: pd.DataFrame, classes: list[str]) -> np.ndarray | None:
        """The lexicon rule's class per row, in this task's classes (None when it has none)."""
        if not self.text or any(c not in X for c in self.text):
            return None
        text = as_text(X[self.text[0]])
        for column in self.text[1:]:
            text = text + ". " + as_text(X[column])
        compound = lexicon_scores(text)[:, 3]
        if classes == self.classes and self.scale is not None:
            low, high = self.scale  # compound -1..1 onto the rating scale, then the same cuts
            return np.array(classes, dtype=object)[
                self.cut(low + (compound + 1) / 2 * (high - low))
            ]
        if set(classes) <= set(KNOWN) and len(classes) >= 2:
            index = np.where(compound > VADER_CUT, 2, np.where(compound < -VADER_CUT, 0, 1))
            rule = np.array(KNOWN, dtype=object)[index]
            if "neutral" not in classes:  # two classes: the sign decides
                rule = np.where(compound >= 0, "positive", "negative").astype(object)
            return rule
        return None

    @staticmethod
    def _names(y: np.ndarray, schema: Mapping[str, Any]) -> np.ndarray:
        classes = np.array(schema["classes"], dtype=object)
        return classes[np.asarray(y, dtype=int)] if np.asarray(y).dtype.kind in "iu" else y
