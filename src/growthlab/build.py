"""Every object built from config goes through here: an allow-list of `_target_` packages.

YAML can name any importable callable; the allow-list keeps a config file from running
arbitrary code (`os.system`) and turns a typo in a target into one readable line.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from growthlab.errors import UserError
from growthlab.packages import allowed_packages, is_allowed


def check_targets(node: Any, where: str) -> None:
    """Refuse any `_target_` outside the allow-list, anywhere in the resolved node.

    Resolving first: an interpolation can hide a target (`_target_: ${x}`) or a whole node with
    one. The target's first dotted name must be an allowed package, and so must the module of
    the object Hydra would locate: `sklearn.os.system` is os.system, not scikit-learn.
    """
    if isinstance(node, DictConfig | ListConfig):
        node = OmegaConf.to_container(node, resolve=True)
    if isinstance(node, Mapping):
        target = node.get("_target_")
        if target is not None:
            check_target(str(target), f"{where}._target_")
        for key, value in node.items():
            check_targets(value, f"{where}.{key}")
    elif isinstance(node, list | tuple):
        for i, value in enumerate(node):
            check_targets(value, f"{where}[{i}]")


def check_target(target: str, where: str, also: tuple[str, ...] = ()) -> None:
    """One `_target_`: its package by name, then the module of what it names."""
    allowed = allowed_packages() + also
    if not is_allowed(target, allowed) or not is_allowed(located_module(target), allowed):
        raise UserError(
            f"{where}={target!r} is not allowed; use a class of {', '.join(allowed)}, "
            "or allow your package with GROWTHLAB_ALLOWED_TARGETS=yourpkg"
        )


def located_module(target: str) -> str:
    """The module that defines what `target` names; the target itself when it cannot be
    imported (instantiate then fails on it with its own message, and nothing runs)."""
    from hydra._internal.utils import _locate

    try:
        obj = _locate(target)
    except ImportError:
        return target  # instantiate fails on it too and says why; nothing runs
    if inspect.ismodule(obj):
        return obj.__name__
    module = getattr(obj, "__module__", None)
    return module if isinstance(module, str) else ""


def check_required(node: Any, where: str) -> None:
    """A `???` left in the config is a value the user must give: say which one."""
    if isinstance(node, DictConfig | ListConfig):
        missing = sorted(OmegaConf.missing_keys(node))
        if missing:
            key = f"{where}.{missing[0]}"
            raise UserError(f"{key} is required; give it on the command line ({key}=...)")


def check_types(node: Any, where: str) -> None:
    """A scalar of the wrong kind for a typed argument of our own classes (`valid_size=abc`)
    is named here, not as a TypeError deep inside a run; untyped arguments are the class's."""
    if not isinstance(node, DictConfig) or "_target_" not in node:
        return
    from hydra._internal.utils import _locate

    try:
        target = _locate(str(node._target_))
    except Exception:  # noqa: BLE001 - not importable: instantiate reports it
        return
    hints: dict[str, tuple[type, ...]] = {}
    # A subclass passing **kwargs on (Churn -> LeadScoring): its bases' arguments count too.
    # Annotations are read as text (`from __future__ import annotations`): names imported
    # only for type checking cannot break the check.
    for cls in reversed(inspect.getmro(target)) if inspect.isclass(target) else ():
        try:
            parameters = inspect.signature(cls.__init__).parameters.values()
        except (TypeError, ValueError):  # a C extension's __init__
            continue
        for parameter in parameters:
            plain = _plain(parameter.annotation)
            inner = plain.removeprefix("Mapping[str, ").removeprefix("dict[str, ")
            kinds = SCALARS.get(inner.removesuffix("]"))
            if kinds and plain.startswith(("Mapping[str, ", "dict[str, ")):
                hints[parameter.name + MAPPING] = kinds  # a table of numbers (floors)
            elif kinds and plain in SCALARS:
                hints[parameter.name] = kinds
    for key, kinds in hints.items():
        name = key.removesuffix(MAPPING)
        if name in node and not OmegaConf.is_missing(node, name) and node[name] is not None:
            value = node[name]
            values = dict(value) if key.endswith(MAPPING) and OmegaConf.is_dict(value) else {}
            found = values.items() if key.endswith(MAPPING) else [("", value)]
            for inner, item in found:
                if not isinstance(item, kinds) or (bool not in kinds and isinstance(item, bool)):
                    full = f"{where}.{name}" + (f".{inner}" if inner else "")
                    raise UserError(f"{full}={item!r} must be {KIND_NAMES[kinds]}; fix {full}")


# Text is not checked: YAML reads `positive_label: 1` as a number and that is meant.
SCALARS: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "bool": (bool,)}
KIND_NAMES = {(int,): "a whole number", (int, float): "a number", (bool,): "true or false"}


MAPPING = "{}"


def _plain(annotation: Any) -> str:
    """`int`, `int | None`, 'float | None' -> the scalar's name; anything else as text."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    parts = [p.strip() for p in text.split("|") if p.strip() != "None"]
    return parts[0] if len(parts) == 1 else ""


def build(node: Any, where: str, **kwargs: Any) -> Any:
    """Instantiate a config node after checking its targets; errors become one line."""
    check_required(node, where)
    check_targets(node, where)
    check_types(node, where)
    try:
        return instantiate(node, _convert_="all", **kwargs)
    except InstantiationException as exc:
        cause = exc.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        detail = str(cause or exc).strip().splitlines()[-1]
        raise UserError(f"cannot build {where}: {detail}; check the keys under `{where}`") from None


def setting(node: DictConfig, where: str, key: str, kind: type) -> Any:
    """A setting these commands read themselves (no class checks it): of its kind, or one line."""
    value = node[key]
    kinds = (int, float) if kind is float else (kind,)
    if isinstance(value, bool) != (kind is bool) or not isinstance(value, kinds):
        what = {bool: "true or false", int: "a whole number", float: "a number"}[kind]
        raise UserError(f"{where}.{key}={value!r} must be {what}; fix {where}.{key}")
    return value
