"""Recommenders behind one scikit-learn-style interface, sparse matrices throughout.

fit(X, y) takes an interaction frame whose first column is the user and second the item
(y: optional weights, one per row) and learns the user and item indexes and the users x items
CSR matrix; recommend(users, k) returns each user's top-k item ids, best first, without the
items the user already has. Unknown users get the most popular items. Subclasses only learn
what turns a user's row of the matrix into scores over all items.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.linalg import lapack
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from growthlab.data.interactions import index_of, interaction_matrix, item_popularity
from growthlab.errors import UserError, whole_number
from growthlab.progress import progress

SCORES_PER_BATCH = 4_000_000  # dense float64 scores held at once (32 MB), whatever the catalogue


class Recommender(BaseEstimator):
    """Shared fitting, masking and top-k; subclasses implement _fit and _scores."""

    binary: bool = True

    def fit(self, X: pd.DataFrame, y: np.ndarray | None = None) -> Recommender:
        if not isinstance(X, pd.DataFrame) or X.shape[1] < 2 or X.empty:
            raise UserError("a recommender fits on a non-empty frame of (user, item) columns")
        users, items = X.iloc[:, 0].to_numpy(), X.iloc[:, 1].to_numpy()
        self.users_ = index_of(users)
        self.items_ = index_of(items)
        weights = None if self.binary or y is None else np.asarray(y, dtype=float)
        self.matrix_ = interaction_matrix(users, items, weights, self.users_, self.items_)
        if self.binary:
            self.matrix_.data[:] = 1.0
        self.popularity_ = item_popularity(self.matrix_)
        self.popular_scores_ = self.popularity_  # what "popular" means for unknown users
        # Exact ties (a kNN user with few neighbours) go to the more popular item.
        self.tiebreak_ = 1e-9 * self.popularity_ / max(self.popularity_.max(), 1.0)
        with threadpool_limits(1, "blas"):  # implicit and LAPACK crawl when oversubscribed
            self._fit(self.matrix_)
        return self

    def _fit(self, matrix: sp.csr_matrix) -> None:
        raise NotImplementedError

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        """Dense scores (len(rows) x items) of known users at matrix rows `rows`."""
        raise NotImplementedError

    def popular(self, k: int) -> list[Any]:
        """The k most popular training items (what an unknown user gets)."""
        check_is_fitted(self, "popular_scores_")
        order = np.argsort(-self.popular_scores_, kind="stable")[:k]
        return self.items_[order].tolist()

    def recommend(self, users: Any, k: int = 10, exclude_seen: bool = True) -> list[list[Any]]:
        """Top-k item ids per user, best first; unknown users get the popular items."""
        check_is_fitted(self, "matrix_")
        k = min(whole_number(k, "k"), len(self.items_))
        rows = self.users_.get_indexer(np.asarray(users))
        popular = self.popular(k)
        lists: list[list[Any]] = [popular] * len(rows)
        known = np.flatnonzero(rows >= 0)
        item_ids = self.items_.to_numpy()
        step = max(1, SCORES_PER_BATCH // len(self.items_))
        with threadpool_limits(1, "blas"):
            for start in progress(range(0, len(known), step), "recommending", unit="batch"):
                batch = known[start : start + step]
                top, valid = self._top(rows[batch], k, exclude_seen)
                for position, ids, ok in zip(batch, item_ids[top], valid, strict=True):
                    lists[position] = ids[ok].tolist()
        return lists

    def _top(self, rows: np.ndarray, k: int, exclude_seen: bool) -> tuple[np.ndarray, np.ndarray]:
        scores = np.asarray(self._scores(rows), dtype=np.float64) + self.tiebreak_
        if exclude_seen:
            seen = self.matrix_[rows]
            owner = np.repeat(np.arange(len(rows)), np.diff(seen.indptr))
            scores[owner, seen.indices] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        picked = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-picked, axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        # A user who has nearly every item gets a shorter list, never a seen item.
        return top, np.isfinite(np.take_along_axis(picked, order, axis=1))


class Popularity(Recommender):
    """The baseline: the items most users have, the same list for everyone (minus their own)."""

    def __init__(self, binary: bool = True) -> None:
        self.binary = binary

    def _fit(self, matrix: sp.csr_matrix) -> None:
        # Buyers per item, or (binary=False) the summed weights: units sold, total rating.
        self.popular_scores_ = np.asarray(matrix.sum(axis=0), dtype=float).ravel()

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popular_scores_, (len(rows), len(self.popular_scores_)))

    def _top(self, rows: np.ndarray, k: int, exclude_seen: bool) -> tuple[np.ndarray, np.ndarray]:
        """The same list for everyone: only the k + (items seen) most popular are candidates."""
        seen = self.matrix_[rows]
        extra = int(np.diff(seen.indptr).max(initial=0)) if exclude_seen else 0
        order = np.argsort(-(self.popular_scores_ + self.tiebreak_), kind="stable")
        candidates = order[: min(k + extra, len(order))]
        taken = seen[:, candidates].toarray() > 0 if exclude_seen else None
        if taken is None or not taken.any():
            top = np.broadcast_to(candidates[:k], (len(rows), k))
            return top, np.ones(top.shape, dtype=bool)
        first = np.argsort(taken, axis=1, kind="stable")[:, :k]  # unseen first, in rank order
        top = candidates[first]
        return top, ~np.take_along_axis(taken, first, axis=1)


class ItemKNN(Recommender):
    """Item-item cosine similarity, shrunk towards zero for rare pairs, top neighbours kept."""

    def __init__(self, neighbours: int = 100, shrinkage: float = 10.0, binary: bool = True) -> None:
        self.neighbours = neighbours
        self.shrinkage = shrinkage
        self.binary = binary

    def _fit(self, matrix: sp.csr_matrix) -> None:
        if self.neighbours < 1 or self.shrinkage < 0:
            raise UserError("model.neighbours must be >= 1 and model.shrinkage >= 0")
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
        gram = (matrix.T @ matrix).tocsr()
        gram.setdiag(0)
        gram.eliminate_zeros()
        rows = np.repeat(np.arange(gram.shape[0]), np.diff(gram.indptr))
        gram.data = gram.data / (norms[rows] * norms[gram.indices] + self.shrinkage + 1e-12)
        # Row i keeps item i's strongest neighbours j; scores_ui = sum_j x_uj * sim(i, j).
        self.similarity_ = _top_per_row(gram, int(self.neighbours)).T.tocsr()

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return (self.matrix_[rows] @ self.similarity_).toarray()


class EASE(Recommender):
    """Embarrassingly shallow autoencoder (Steck 2019): closed-form item-item weights.

    B = I - P diag(1 / diag(P)) with P = (X'X + l2 I)^-1, diagonal forced to zero. Dense items x
    items in float32: 4 n^2 bytes (1.6 GB at 20,000 items), inverted in place.
    """

    def __init__(self, l2: float = 500.0, binary: bool = True) -> None:
        self.l2 = l2
        self.binary = binary

    def _fit(self, matrix: sp.csr_matrix) -> None:
        if self.l2 <= 0:
            raise UserError(f"model.l2 must be positive (got {self.l2})")
        # Fortran order is what LAPACK inverts in place (one n x n float32 array, no copy).
        gram = (matrix.T @ matrix).astype(np.float32).toarray(order="F")
        gram[np.diag_indices_from(gram)] += np.float32(self.l2)
        # The inverse is symmetric too: its transpose is the same matrix in C order, which
        # sparse @ dense needs (a Fortran array is copied whole on every batch: ~75x slower).
        inverse = _symmetric_inverse(gram).T
        inverse /= -np.diag(inverse)[np.newaxis, :]
        np.fill_diagonal(inverse, 0.0)
        self.weights_ = inverse

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.matrix_[rows] @ self.weights_)


class _Factorisation(Recommender):
    """User and item factors learned by `implicit`; scores are their dot products."""

    def _model(self) -> Any:
        raise NotImplementedError

    def _fit(self, matrix: sp.csr_matrix) -> None:
        model = self._model()
        model.fit(matrix, show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors)
        self.item_factors_ = np.asarray(model.item_factors)

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T


class ALS(_Factorisation):
    """Implicit-feedback matrix factorisation by alternating least squares (implicit.cpu)."""

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 1.0,
        iterations: int = 15,
        binary: bool = True,
        n_jobs: int = 1,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.binary = binary
        self.n_jobs = n_jobs
        self.seed = seed

    def _model(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(
            factors=int(self.factors),
            regularization=float(self.regularization),
            alpha=float(self.alpha),
            iterations=int(self.iterations),
            num_threads=int(self.n_jobs),
            random_state=int(self.seed),
        )


class BPR(_Factorisation):
    """Bayesian personalised ranking by stochastic gradient descent (implicit.cpu)."""

    def __init__(
        self,
        factors: int = 64,
        learning_rate: float = 0.05,
        regularization: float = 0.01,
        iterations: int = 100,
        n_jobs: int = 1,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.iterations = iterations
        self.n_jobs = n_jobs
        self.seed = seed

    def _model(self) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(
            factors=int(self.factors),
            learning_rate=float(self.learning_rate),
            regularization=float(self.regularization),
            iterations=int(self.iterations),
            num_threads=int(self.n_jobs),
            random_state=int(self.seed),
        )


def _top_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the k largest entries of each CSR row (the others become zeros)."""
    matrix = matrix.copy()
    for i in range(matrix.shape[0]):
        start, end = matrix.indptr[i], matrix.indptr[i + 1]
        if end - start > k:
            row = matrix.data[start:end]
            row[np.argpartition(-row, k)[k:]] = 0.0
    matrix.eliminate_zeros()
    return matrix


def _symmetric_inverse(matrix: np.ndarray, block: int = 2048) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix, in place (Cholesky, LAPACK potri)."""
    factor, info = lapack.spotrf(matrix, lower=False, clean=False, overwrite_a=True)
    if info == 0:
        factor, info = lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise UserError("the item-item matrix is not positive definite; raise model.l2")
    # potri fills the upper triangle only: mirror it block by block (no n x n temporary).
    n = factor.shape[0]
    for start in range(0, n, block):
        end = min(start + block, n)
        factor[start:end, :start] = factor[:start, start:end].T
        diagonal = factor[start:end, start:end]
        factor[start:end, start:end] = np.triu(diagonal) + np.triu(diagonal, 1).T
    return factor
