"""Ranking metrics at k for recommendations: per user, then averaged over users.

Relevance is binary: an item is relevant to a user when the user interacted with it in the
evaluated split. Items the user had in training are removed by the recommender before
ranking, so they are neither hits nor misses here. Each per-user function takes the user's
relevant items and the ranked list (best first); only the first k entries count.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from growthlab.errors import UserError, whole_number

PER_USER = ("precision", "recall", "ndcg", "map", "hit_rate")


def _hits(relevant: Collection[Any], ranked: Sequence[Any], k: int) -> np.ndarray:
    """1.0 where the i-th recommendation (i < k) is relevant."""
    wanted = relevant if isinstance(relevant, set | frozenset) else set(_plain(relevant))
    return np.fromiter((item in wanted for item in _plain(ranked)[:k]), dtype=float)


def _plain(values: Iterable[Any]) -> list[Any]:
    """Python scalars, so numpy ints from Parquet match ints from a list."""
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def precision_at_k(relevant: Collection[Any], ranked: Sequence[Any], k: int) -> float:
    """Share of the k slots filled with relevant items (a short list still counts k slots)."""
    whole_number(k, "k", hint="set task.k")
    return float(_hits(relevant, ranked, k).sum() / k)


def recall_at_k(relevant: Collection[Any], ranked: Sequence[Any], k: int) -> float:
    """Share of the relevant items that appear in the top k."""
    whole_number(k, "k", hint="set task.k")
    n = len(relevant)
    return float(_hits(relevant, ranked, k).sum() / n) if n else 0.0


def hit_rate_at_k(relevant: Collection[Any], ranked: Sequence[Any], k: int) -> float:
    """1 when at least one relevant item is in the top k."""
    whole_number(k, "k", hint="set task.k")
    return float(_hits(relevant, ranked, k).any())


def average_precision_at_k(relevant: Collection[Any], ranked: Sequence[Any], k: int) -> float:
    """Mean of precision@i at each hit i <= k, over min(|relevant|, k) (the best attainable)."""
    whole_number(k, "k", hint="set task.k")
    hits = _hits(relevant, ranked, k)
    n = min(len(relevant), k)
    if not n or not hits.any():
        return 0.0
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / n)


def ndcg_at_k(relevant: Collection[Any], ranked: Sequence[Any], k: int) -> float:
    """DCG of the top k (gain 1 / log2(rank + 1)) over the DCG of a perfect list."""
    whole_number(k, "k", hint="set task.k")
    hits = _hits(relevant, ranked, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = discounts[: min(len(relevant), k)].sum()
    return float((hits * discounts[: len(hits)]).sum() / ideal) if ideal else 0.0


FUNCTIONS = {
    "precision": precision_at_k,
    "recall": recall_at_k,
    "ndcg": ndcg_at_k,
    "map": average_precision_at_k,
    "hit_rate": hit_rate_at_k,
}


def per_user_metrics(
    relevant: Sequence[Collection[Any]], ranked: Sequence[Sequence[Any]], k: int
) -> dict[str, np.ndarray]:
    """Each per-user metric as an array over users (name -> values)."""
    whole_number(k, "k", hint="set task.k")
    if len(relevant) != len(ranked):
        raise UserError(f"{len(relevant)} relevant sets but {len(ranked)} ranked lists")
    sets = [set(_plain(r)) for r in relevant]
    return {
        name: np.array([fn(s, r, k) for s, r in zip(sets, ranked, strict=True)], dtype=float)
        for name, fn in FUNCTIONS.items()
    }


def mean_metrics(
    relevant: Sequence[Collection[Any]], ranked: Sequence[Sequence[Any]], k: int
) -> dict[str, float]:
    """Means over users, named `<metric>_at_<k>` (ndcg_at_10, ...)."""
    values = per_user_metrics(relevant, ranked, k)
    return {f"{name}_at_{k}": float(v.mean()) if len(v) else 0.0 for name, v in values.items()}


def metric_curve(
    relevant: Sequence[Collection[Any]],
    ranked: Sequence[Sequence[Any]],
    ks: Sequence[int],
    name: str,
) -> list[float]:
    """The mean of one per-user metric (precision, recall, ndcg, map, hit_rate) at each k."""
    metric = FUNCTIONS[name]
    sets = [set(_plain(r)) for r in relevant]
    return [
        float(np.mean([metric(s, r, k) for s, r in zip(sets, ranked, strict=True)])) for k in ks
    ]


def catalogue_coverage(ranked: Iterable[Sequence[Any]], n_items: int) -> float:
    """Share of the catalogue that appears in at least one recommended list."""
    if n_items <= 0:
        raise UserError("catalogue coverage needs a catalogue of at least one item")
    shown = {item for items in ranked for item in _plain(items)}
    return len(shown) / n_items


def novelty(ranked: Iterable[Sequence[Any]], popularity: Mapping[Any, float]) -> float:
    """Mean self-information -log2(p) of the recommended items, p = share of users with it.

    Higher is more novel: recommending only the best sellers scores low. An item missing
    from `popularity` (never seen in training) counts as seen by the rarest known share.
    """
    floor = min(popularity.values()) if popularity else 1.0
    shares = [popularity.get(item, floor) for items in ranked for item in _plain(items)]
    return float(np.mean(-np.log2(np.clip(shares, 1e-12, 1.0)))) if shares else 0.0
