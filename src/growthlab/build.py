"""Every object built from config goes through here: an allow-list of `_target_` prefixes.

YAML can name any importable callable; the allow-list keeps a config file from running
arbitrary code (`os.system`) and turns a typo in a target into one readable line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from growthlab.errors import UserError

ALLOWED_PREFIXES = (
    "growthlab.",
    "sklearn.",
    "xgboost.",
    "statsmodels.",
    "implicit.",
    "optuna.",
)


def allowed_prefixes() -> tuple[str, ...]:
    """Built-in prefixes plus the user's own (GROWTHLAB_ALLOWED_TARGETS=mypkg.,other.)."""
    extra = os.environ.get("GROWTHLAB_ALLOWED_TARGETS", "")
    return ALLOWED_PREFIXES + tuple(p.strip() for p in extra.split(",") if p.strip())


def check_targets(node: Any, where: str) -> None:
    """Refuse any `_target_` outside the allow-list, anywhere in the node."""
    if isinstance(node, DictConfig | ListConfig):
        node = OmegaConf.to_container(node, resolve=False)
    if isinstance(node, Mapping):
        target = node.get("_target_")
        if target is not None and not str(target).startswith(allowed_prefixes()):
            raise UserError(
                f"{where}._target_={target!r} is not allowed; use a growthlab, scikit-learn or "
                "xgboost class, or allow your package with GROWTHLAB_ALLOWED_TARGETS=yourpkg."
            )
        for key, value in node.items():
            check_targets(value, f"{where}.{key}")
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            check_targets(value, f"{where}[{i}]")


def check_required(node: Any, where: str) -> None:
    """A `???` left in the config is a value the user must give: say which one."""
    if isinstance(node, DictConfig | ListConfig):
        missing = sorted(OmegaConf.missing_keys(node))
        if missing:
            key = f"{where}.{missing[0]}"
            raise UserError(f"{key} is required; give it on the command line ({key}=...)")


def build(node: Any, where: str, **kwargs: Any) -> Any:
    """Instantiate a config node after checking its targets; errors become one line."""
    check_required(node, where)
    check_targets(node, where)
    try:
        return instantiate(node, _convert_="all", **kwargs)
    except InstantiationException as exc:
        cause = exc.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        detail = str(cause or exc).strip().splitlines()[-1]
        raise UserError(f"cannot build {where}: {detail}; check the keys under `{where}`") from None
