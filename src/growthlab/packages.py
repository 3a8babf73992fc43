"""The one table of third-party packages: which may be built from config, which a model needs.

The allow-list of `_target_`s (build.py) and the pip requirements of a logged model (tracking)
are both read from PACKAGES, so adding an estimator library is one line here.
"""

from __future__ import annotations

import os
from typing import NamedTuple


class Package(NamedTuple):
    """An import name: the pip distributions a logged model needs for it, and whether config
    may build objects from it."""

    distributions: tuple[str, ...]
    buildable: bool


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


def model_requirements() -> tuple[str, ...]:
    """Every distribution a logged model may need to load, in table order, without repeats."""
    names = (d for package in PACKAGES.values() for d in package.distributions)
    return tuple(dict.fromkeys(names))
