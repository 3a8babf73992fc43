"""Blend several full pipelines (each with its own preprocessing) into one lead score.

With more than two classes (sentiment), only stacking applies: the meta-model is a multinomial
logistic regression on the members' log-probabilities of every class. Its class weights may be
given, or chosen (class_weight="cv") by cross-validating the meta-model on the out-of-fold
predictions of the training rows: nothing the model is later judged on picks them.

Every member is scored out of fold first, so whatever combines the members (percentile
references, learned weights, Platt curve, stacking meta-model) learns from predictions on rows
the member never saw; then every member is refitted on all rows for scoring.

Over 300 lines: both ways of combining and the class-weight search read the same out-of-fold
predictions, so they are reviewed as one unit.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import nnls
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import PredefinedSplit, StratifiedKFold, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from growthlab.metrics.sentiment import class_metrics

METHODS = ("rank_average", "stacking")
PLATT_C = 1e4  # near-unpenalised Platt scaling; a little penalty keeps separable data finite
CLIP = 1e-6  # probabilities are clipped before logits so a confident member stays finite
# class_weight="cv": each class's weight relative to the first class's, every combination tried
WEIGHT_GRID = (0.5, 0.7, 1.0, 1.4, 2.0)
WEIGHT_METRICS = ("weighted_f1", "macro_f1", "accuracy")
MAX_SEARCHED_CLASSES = 5  # the grid grows as 5 ** (classes - 1)

Members = Mapping[str, BaseEstimator] | Sequence[tuple[str, BaseEstimator]]


class Ensemble(ClassifierMixin, BaseEstimator):
    """Rank-average or stack named member pipelines, combined on out-of-fold predictions.

    Nested parameters are addressed as members__<name>__<param>, e.g.
    set_params(members__xgboost__model__max_depth=3).
    """

    def __init__(
        self,
        members: Members,
        method: str = "rank_average",
        weights: Sequence[float] | str | None = None,
        cv: int = 5,
        seed: int = 0,
        class_weight: Mapping[int, float] | str | None = None,
        class_weight_metric: str = "weighted_f1",
    ) -> None:
        self.members = members
        self.method = method
        self.weights = weights
        self.cv = cv
        self.seed = seed
        # Stacking's meta-model only, e.g. {1: 1.5} (class positions as fitted): weighted F1
        # rewards predicting a small class (neutral) more often than its bare probability would.
        # "cv": the grid's weights with the best class_weight_metric, cross-validated on the
        # out-of-fold predictions (training rows only); "balanced" as in scikit-learn.
        self.class_weight = class_weight
        self.class_weight_metric = class_weight_metric

    # --- parameters: sklearn's nested params, for a dict (Hydra) or a list of pairs ----------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = super().get_params(deep=False)
        if deep:
            for name, member in _named(self.members):
                params[f"members__{name}"] = member
                for key, value in member.get_params(deep=True).items():
                    params[f"members__{name}__{key}"] = value
        return params

    def set_params(self, **params: Any) -> Ensemble:
        if "members" in params:
            self.members = params.pop("members")
        members = dict(_named(self.members))
        replaced: dict[str, BaseEstimator] = {}
        nested: dict[str, dict[str, Any]] = {}
        for key in [k for k in params if k.startswith("members__")]:
            name, _, sub = key.removeprefix("members__").partition("__")
            if name not in members:
                raise ValueError(f"no ensemble member {name!r}; members are {sorted(members)}")
            if sub:
                nested.setdefault(name, {})[sub] = params.pop(key)
            else:
                replaced[name] = params.pop(key)
        if replaced:  # a new collection, so the caller's dict or list is left as it was
            members.update(replaced)
            self.members = members if isinstance(self.members, Mapping) else list(members.items())
        # Whole members are replaced first, then their own params set, whatever the order given.
        for name, sub_params in nested.items():
            members[name].set_params(**sub_params)
        return super().set_params(**params)

    # --- fit and predict --------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> Ensemble:
        """Score members out of fold, learn the combination on those scores, refit members."""
        named = _named(self.members)
        if not named:
            raise ValueError("an Ensemble needs at least one member")
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}; use one of {', '.join(METHODS)}")
        self.classes_, target = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("an Ensemble needs two or more classes")
        if len(self.classes_) > 2 and self.method != "stacking":
            raise ValueError(f"{len(self.classes_)} classes: use method=stacking")
        self._check_class_weight()  # before the members' costly out-of-fold fits
        width = 1 if len(self.classes_) == 2 else len(self.classes_)  # columns per member
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.seed)
        self.fold_ = np.empty(len(target), dtype=int)
        self.oof_ = np.empty((len(target), len(named) * width))
        for k, (train, test) in enumerate(folds.split(np.zeros(len(target)), target)):
            self.fold_[test] = k
            for j, (_, member) in enumerate(named):
                fitted = clone(member).fit(_take(X, train), target[train])
                self.oof_[test, j * width : (j + 1) * width] = _member_proba(fitted, _take(X, test))
        self.member_scores_ = {
            name: _auc(target, self.oof_[:, j * width : (j + 1) * width])
            for j, (name, _) in enumerate(named)
        }
        if self.method == "rank_average":
            self._fit_rank_average(target)
        else:
            self._fit_stacking(target)
        self.members_ = {name: clone(member).fit(X, target) for name, member in named}
        return self

    def diagnostics(self) -> dict[str, float]:
        """Per member: out-of-fold ROC AUC and weight, so a run shows why the blend won."""
        found = {f"member_{k}_oof_roc_auc": v for k, v in self.member_scores_.items()}
        found.update({f"member_{k}_weight": v for k, v in self.weights_.items()})
        if isinstance(getattr(self, "class_weight_", None), Mapping):
            found.update({f"meta_class_weight_{k}": v for k, v in self.class_weight_.items()})
        return found

    def blended_score(self, X: Any) -> np.ndarray:
        """The combined score before it becomes a probability: mean percentile or meta logit."""
        scores = self.member_probabilities(X)
        if self.method == "rank_average":
            return self.percentiles(scores) @ np.array(list(self.weights_.values()))
        return self.meta_.decision_function(self._meta_input(scores))

    def member_probabilities(self, X: Any) -> np.ndarray:
        """Each refitted member's positive-class probability (every class's, beyond two)."""
        check_is_fitted(self, "members_")
        return np.column_stack([_member_proba(m, X) for m in self.members_.values()])

    def _meta_input(self, scores: np.ndarray) -> np.ndarray:
        # Two classes: logits of the positive class; more: log-probabilities of every class.
        if len(self.classes_) == 2:
            return _logit(scores)
        return np.log(np.clip(scores, CLIP, 1.0))

    def percentiles(self, scores: np.ndarray) -> np.ndarray:
        """Each member's scores as mid-rank percentiles of that member's own OOF scores."""
        # Fixed references (not the batch) make a row's score independent of its batch.
        n = len(self.reference_)
        return np.column_stack(
            [
                (np.searchsorted(ref, s, "left") + np.searchsorted(ref, s, "right")) / (2 * n)
                for ref, s in zip(self.reference_.T, np.asarray(scores).T, strict=True)
            ]
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        if len(self.classes_) > 2:
            return self.meta_.predict_proba(self._meta_input(self.member_probabilities(X)))
        blend = self.blended_score(X)
        if self.method == "rank_average":
            p = self.platt_.predict_proba(blend[:, None])[:, 1]
        else:
            p = expit(blend)  # the meta-model's own probability
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # --- the two ways of combining ----------------------------------------------------------

    def _fit_rank_average(self, target: np.ndarray) -> None:
        self.reference_ = np.sort(self.oof_, axis=0)
        percentiles = self.percentiles(self.oof_)
        weights = self._choose_weights(percentiles, target)
        self.weights_ = dict(zip(self.member_scores_, map(float, weights), strict=True))
        # Platt on the OOF blend: monotone, so it sets the probability scale, not the ranking.
        blend = (percentiles @ weights)[:, None]
        self.platt_ = LogisticRegression(C=PLATT_C).fit(blend, target)
        if self.platt_.coef_[0, 0] <= 0:
            # A blend that anti-predicts out of fold must not be silently reversed: keep its
            # order with a near-flat curve at the base rate (the constrained optimum, slope 0+).
            self.platt_.coef_[:] = 1e-6
            self.platt_.intercept_[:] = _logit(np.array([target.mean()]))[0] - 1e-6 * blend.mean()

    def _fit_stacking(self, target: np.ndarray) -> None:
        weight = self.class_weight
        if isinstance(weight, Mapping):  # Hydra gives a DictConfig: sklearn wants a plain dict
            weight = {int(k): float(v) for k, v in weight.items()}
        elif weight == "cv":
            weight = self._searched_class_weight(target)
        self.class_weight_ = weight
        self.meta_ = LogisticRegression(class_weight=weight).fit(
            self._meta_input(self.oof_), target
        )
        # A member's share: its signed coefficient (two classes) or its absolute ones (more).
        m = len(self.member_scores_)
        coef = self.meta_.coef_
        coef = (
            coef[0]
            if len(self.classes_) == 2
            else np.abs(coef).reshape(len(coef), m, -1).sum((0, 2))
        )
        total = np.abs(coef).sum()
        shares = coef / total if total > 0 else np.full(len(coef), 1 / len(coef))
        self.weights_ = dict(zip(self.member_scores_, map(float, shares), strict=True))

    def _check_class_weight(self) -> None:
        weight = self.class_weight
        if isinstance(weight, str) and weight not in ("balanced", "cv"):
            raise ValueError(
                f"class_weight={weight!r}; use null, balanced, cv or {{class position: weight}}"
            )
        if weight != "cv":
            return
        if self.class_weight_metric not in WEIGHT_METRICS:
            raise ValueError(
                f"class_weight_metric={self.class_weight_metric!r}; "
                f"use one of {', '.join(WEIGHT_METRICS)}"
            )
        if len(self.classes_) > MAX_SEARCHED_CLASSES:
            raise ValueError(
                f"class_weight=cv searches up to {MAX_SEARCHED_CLASSES} classes, not "
                f"{len(self.classes_)}: give the weights as {{class position: weight}}"
            )

    def _searched_class_weight(self, target: np.ndarray) -> dict[int, float]:
        """The grid's weights whose meta-model scores best out of fold, on the members' own
        folds; among ties the one nearest to equal weights (the least tuned)."""
        features = self._meta_input(self.oof_)
        folds = PredefinedSplit(self.fold_)
        grid = sorted(
            itertools.product(WEIGHT_GRID, repeat=len(self.classes_) - 1),
            key=lambda w: np.abs(np.log(w)).sum(),
        )
        best, best_score = {}, -np.inf
        for rest in grid:
            weight = {0: 1.0, **{k + 1: float(w) for k, w in enumerate(rest)}}
            meta = LogisticRegression(class_weight=weight)
            predicted = cross_val_predict(meta, features, target, cv=folds)
            score = class_metrics(target, predicted)[self.class_weight_metric]
            if score > best_score + 1e-12:
                best, best_score = weight, score
        self.class_weight_score_ = float(best_score)
        return best

    def _choose_weights(self, percentiles: np.ndarray, target: np.ndarray) -> np.ndarray:
        m = percentiles.shape[1]
        if self.weights is None:
            return np.full(m, 1 / m)
        if isinstance(self.weights, str):
            if self.weights != "learned":
                raise ValueError(f"weights={self.weights!r}; use None, a list or 'learned'")
            return _learned_weights(percentiles, target)
        weights = np.asarray(self.weights, dtype=float)
        if weights.shape != (m,) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"weights must be {m} non-negative numbers, not all zero")
        return weights / weights.sum()


def _learned_weights(percentiles: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Simplex weights maximising OOF ROC AUC: a 0.1 grid up to 3 members, else NNLS."""
    m = percentiles.shape[1]
    uniform = np.full(m, 1 / m)
    if m > 3:
        # Centred least squares ~ a regression with intercept, constrained to w >= 0.
        w, _ = nnls(percentiles - percentiles.mean(0), target - target.mean())
        return w / w.sum() if w.sum() > 0 else uniform
    grid = np.array([c for c in itertools.product(range(11), repeat=m) if sum(c) == 10]) / 10
    aucs = np.array([roc_auc_score(target, percentiles @ w) for w in grid])
    # Among (near-)ties the most even blend wins: it is the least overfitted choice.
    best = np.flatnonzero(aucs >= aucs.max() - 1e-12)
    return grid[best[np.argmin(np.linalg.norm(grid[best] - uniform, axis=1))]]


def _named(members: Members) -> list[tuple[str, BaseEstimator]]:
    return list(members.items()) if isinstance(members, Mapping) else [tuple(p) for p in members]


def _take(X: Any, rows: np.ndarray) -> Any:
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _member_proba(estimator: BaseEstimator, X: Any) -> np.ndarray:
    """The positive class's probability (two classes) or every class's, as columns."""
    proba = estimator.predict_proba(X)
    return proba[:, 1:2] if proba.shape[1] == 2 else proba


def _auc(target: np.ndarray, proba: np.ndarray) -> float:
    if proba.shape[1] == 1:
        return float(roc_auc_score(target, proba[:, 0]))
    return float(roc_auc_score(target, proba, multi_class="ovr"))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, CLIP, 1 - CLIP)
    return np.log(p / (1 - p))
