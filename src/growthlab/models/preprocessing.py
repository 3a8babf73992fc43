"""Turn raw marketing columns (strings, booleans, dates, counts) into model input.

The encoder lives inside the logged model, so a scored CSV needs no preparation of its own:
categories seen at fit are frozen, unseen ones become missing, and types are coerced the same
way at fit and at scoring time. Columns declared as text (dataset.columns.text) become TF-IDF,
SVD, lexicon or embedding features (models/text.py), never one category per message.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from growthlab.errors import UserError
from growthlab.models.text import EMBEDDING_IMPORTS, TextBlock


class FrameEncoder(TransformerMixin, BaseEstimator):
    """Coerce raw columns to categories and floats; optionally one-hot and standardise.

    categorical / numeric force a role on columns whose dtype says otherwise (e.g. numeric
    codes that are really categories); every other column is typed from its dtype.
    With one_hot=False the output is a DataFrame of pandas categories and floats, for
    estimators that handle categories and missing values natively (XGBoost,
    HistGradientBoosting). With one_hot=True it is a dense float matrix: one-hot
    categories (missing is its own level), median-imputed and standardised numbers.
    Text columns get `text_features` (default: TF-IDF with one_hot, an SVD summary of it
    without); with TF-IDF the one-hot output is a sparse matrix.
    """

    def __init__(
        self,
        categorical: Sequence[str] | None = None,
        numeric: Sequence[str] | None = None,
        one_hot: bool = False,
        max_categories: int = 100,
        text: Sequence[str] | None = None,
        text_features: Sequence[str] | None = None,
        max_text_features: int = 20_000,
        svd_components: int = 16,
    ) -> None:
        self.categorical = categorical
        self.numeric = numeric
        self.one_hot = one_hot
        self.max_categories = max_categories
        self.text = text
        self.text_features = text_features
        self.max_text_features = max_text_features
        self.svd_components = svd_components

    def fit(self, X: pd.DataFrame, y: object = None) -> FrameEncoder:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("FrameEncoder expects a pandas DataFrame of raw columns")
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.text_ = [c for c in X.columns if c in (self.text or ())]
        plain = [c for c in X.columns if c not in self.text_]
        self.categorical_ = [c for c in plain if _is_categorical(X[c], c, self)]
        self.numeric_ = [c for c in plain if c not in self.categorical_]
        self.text_blocks_ = {c: self._text_block(c).fit(X[c]) for c in self.text_}
        # Rare levels are folded into "other" so a free-text column cannot explode the width.
        self.categories_ = {c: _top_levels(X[c], self.max_categories) for c in self.categorical_}
        if self.one_hot:
            numbers = self._numbers(X)
            self.medians_ = np.nanmedian(numbers, axis=0) if len(numbers) else np.zeros(0)
            self.medians_ = np.where(np.isnan(self.medians_), 0.0, self.medians_)
            filled = np.where(np.isnan(numbers), self.medians_, numbers)
            self.means_ = filled.mean(axis=0)
            self.scales_ = filled.std(axis=0)
            self.scales_[self.scales_ == 0] = 1.0
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        check_is_fitted(self, "categories_")
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise UserError(
                f"input lacks column {missing[0]!r} the model was trained on; "
                "add it (empty values are allowed)"
            )
        if self.one_hot:
            return self._one_hot(X)
        plain = [c for c in self.feature_names_in_ if c not in self._texts()]
        columns = {
            c: self._categories(X[c], c) if c in self.categorical_ else _to_float(X[c], c)
            for c in plain
        }
        # Column by column, in order and uncopied: the training split is not held twice more.
        frame = pd.DataFrame(columns, index=X.index, copy=False)
        for c, block in self._texts().items():
            values = np.hstack(block.transform(X[c])) if block.blocks else np.zeros((len(X), 0))
            frame = frame.join(pd.DataFrame(values, columns=block.names(), index=X.index))
        return frame

    def runtime_imports(self) -> tuple[str, ...]:
        """The embedding stack when a text column is embedded (pinned in the logged model)."""
        return EMBEDDING_IMPORTS if "embeddings" in (self.text_features or ()) else ()

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "categories_")
        text = [name for block in self._texts().values() for name in block.names()]
        if not self.one_hot:
            plain = [c for c in self.feature_names_in_ if c not in self._texts()]
            return np.asarray(plain + text, dtype=object)
        names = [f"{c}={level}" for c in self.categorical_ for level in self._levels(c)]
        return np.asarray(names + list(self.numeric_) + text, dtype=object)

    def _texts(self) -> dict[str, TextBlock]:
        # Encoders pickled before text columns existed have no text_blocks_: they had none.
        return getattr(self, "text_blocks_", {})

    def _text_block(self, column: str) -> TextBlock:
        blocks = self.text_features
        if blocks is None:
            blocks = ["tfidf"] if self.one_hot else ["svd"]
        if "tfidf" in blocks and not self.one_hot:
            raise UserError(
                "text_features tfidf needs one_hot=true (a linear model); "
                "tree models take its svd summary: use text_features=[svd]"
            )
        return TextBlock(column, list(blocks), self.max_text_features, self.svd_components)

    def _levels(self, column: str) -> list[str]:
        return [*self.categories_[column], "__missing__"]

    def _categories(self, values: pd.Series, column: str) -> pd.Categorical:
        levels = self.categories_[column]
        # The distinct values are matched to the levels, not every row: a column of a million
        # strings has a handful of values, and text copies of every row cost its size again.
        found = values.astype("category")
        text = _as_text(pd.Series(found.cat.categories, dtype=found.cat.categories.dtype))
        # Levels unseen at fit become "__other__" when rare levels were folded, else missing.
        unseen = "__other__" if "__other__" in levels else pd.NA
        text = text.where(text.isin(levels) | text.isna(), unseen)
        position = pd.Index(levels).get_indexer(text)  # -1: missing
        codes = found.cat.codes.to_numpy()
        return pd.Categorical.from_codes(
            np.where(codes < 0, -1, position[codes]), categories=levels
        )

    def _numbers(self, X: pd.DataFrame) -> np.ndarray:
        if not self.numeric_:
            return np.zeros((len(X), 0))
        return np.column_stack([_to_float(X[c], c) for c in self.numeric_])

    def _one_hot(self, X: pd.DataFrame) -> np.ndarray:
        blocks = []
        for c in self.categorical_:
            codes = self._categories(X[c], c).codes  # -1 is missing: the last column
            width = len(self.categories_[c]) + 1
            block = np.zeros((len(X), width))
            block[np.arange(len(X)), np.where(codes < 0, width - 1, codes)] = 1.0
            blocks.append(block)
        numbers = self._numbers(X)
        numbers = np.where(np.isnan(numbers), self.medians_, numbers)
        blocks.append((numbers - self.means_) / self.scales_)
        for c, block in self._texts().items():
            blocks += block.transform(X[c])
        if any(sparse.issparse(b) for b in blocks):
            return sparse.hstack(blocks).tocsr()  # TF-IDF: tens of thousands of mostly-zero columns
        return np.hstack(blocks)


def _is_categorical(values: pd.Series, column: str, encoder: FrameEncoder) -> bool:
    if column in (encoder.categorical or ()):
        return True
    if column in (encoder.numeric or ()):
        return False
    return not (
        pd.api.types.is_numeric_dtype(values)
        or pd.api.types.is_bool_dtype(values)
        or pd.api.types.is_datetime64_any_dtype(values)
    )


def _top_levels(values: pd.Series, max_levels: int) -> list[str]:
    counts = _as_text(values).dropna().value_counts()
    levels = sorted(counts.index[:max_levels].tolist())
    return levels + (["__other__"] if len(counts) > max_levels else [])


def _as_text(values: pd.Series) -> pd.Series:
    """Levels as text; missing stays missing, and codes read as 415.0 or 415 agree."""
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")
    return values.astype("string")


def _to_float(values: pd.Series, column: str) -> np.ndarray:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert(None)
    if pd.api.types.is_datetime64_any_dtype(values):
        # Dates become days since the epoch: monotone, so trees and linear terms can use them.
        return (
            (values.astype("datetime64[ns]").astype("int64") / 86_400e9)
            .where(values.notna())
            .to_numpy(dtype=float)
        )
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64").to_numpy()
    else:
        parsed = pd.to_numeric(values.astype("object"), errors="coerce")
        bad = (parsed.isna() & values.notna()).to_numpy()
        if bad.any():  # named by row, never by value: a misplaced cell may be an address
            raise UserError(
                f"column {column!r} should be numeric but row {_row(values, bad)} is not; "
                f"fix that row or declare the column in dataset.columns.categorical"
            )
        numbers = parsed.to_numpy(dtype=float)
    infinite = np.isinf(numbers)
    if infinite.any():  # "inf" reads as a number, but no model can use it (NaN after scaling)
        raise UserError(
            f"column {column!r} holds an infinite number in row {_row(values, infinite)}; "
            "fix that row of the data (blank values are allowed)"
        )
    return numbers


def _row(values: pd.Series, bad: np.ndarray) -> int:
    """The first bad row, counted from 1: the frame's own row label when it is a number
    (a loaded file's rows keep theirs through the splits), else its position."""
    position = int(np.flatnonzero(bad)[0])
    label = values.index[position]
    return int(label) + 1 if isinstance(label, int | np.integer) else position + 1
