"""The one place secrets are masked: every edge that writes text (MLflow params, tags,
artifacts, log lines, error messages, the worker config file) goes through `mask`.

What counts as a secret: the password of any URI (`scheme://user:PASSWORD@host`), the value of
a URI query parameter or a config key whose name looks secret (password, token, secret, key,
credential), the values of such keys seen in configs (remembered here, so the same text is
masked when a library quotes it later), and the values of environment variables with such
names (MLFLOW_TRACKING_PASSWORD and kin).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
ENV = "GROWTHLAB_SECRET_VALUES"  # how a spawned worker gets the values its config file lacks
SECRET_NAME = re.compile(r"(password|passwd|pwd|token|secret|credential|key)$|^key$", re.I)
# One slash or two: a URI that went through pathlib ("https:/ana:pw@host") still carries one.
URI_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.\-]*:/{1,2}[^/\s:@]*:)([^@\s/]+)(@)")
QUERY_SECRET = re.compile(
    r"([?&;][a-zA-Z0-9_]*(?:password|passwd|pwd|token|secret|key)=)([^&\s'\"]+)", re.I
)
MIN_LENGTH = 4  # shorter values ("1", "on") would mask ordinary words

_known: set[str] = set()


def secret_name(name: str) -> bool:
    """True for key and variable names that hold secrets (api_key, DB_PASSWORD, token)."""
    leaf = str(name).rsplit(".", 1)[-1]
    return bool(SECRET_NAME.search(leaf.replace("-", "_")))


def remember(value: Any) -> None:
    """Mask this exact text wherever it appears later (log lines, library messages)."""
    text = str(value)
    if len(text) >= MIN_LENGTH and text != MASK:
        _known.add(text)


NOT_SECRET = ("PWD", "OLDPWD")  # the shell's working folders, not passwords


def remember_environment() -> None:
    """Values of environment variables named like secrets (MLFLOW_TRACKING_PASSWORD, ...)."""
    for name, value in os.environ.items():
        if name not in NOT_SECRET and secret_name(name.lower().replace("_", ".")):
            remember(value)


def mask(text: str) -> str:
    """The text with URI passwords, secret query values and every remembered secret masked."""
    text = URI_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), str(text))
    text = QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)
    for value in sorted(_known, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def mask_tree(node: Any, key: str = "") -> Any:
    """A config (dicts, lists, scalars) with every secret value masked; the values remembered."""
    if isinstance(node, Mapping):
        return {k: mask_tree(v, f"{key}.{k}" if key else str(k)) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [mask_tree(v, key) for v in node]
    if node is None or isinstance(node, bool | int | float):
        return node
    if secret_name(key) and str(node):
        remember(node)
        return MASK
    for match in URI_PASSWORD.finditer(str(node)):
        remember(match.group(2))
    for match in QUERY_SECRET.finditer(str(node)):
        remember(match.group(2))
    return mask(str(node))


def hidden(original: Any, masked: Any, key: str = "") -> dict[str, Any]:
    """{dotted key: original value} for every value `mask_tree` changed: what a worker needs."""
    if isinstance(original, Mapping):
        found: dict[str, Any] = {}
        for k, v in original.items():
            found.update(hidden(v, masked.get(k), f"{key}.{k}" if key else str(k)))
        return found
    if isinstance(original, list | tuple):
        changed = any(o != m for o, m in zip(original, masked, strict=False))
        return {key: list(original)} if changed else {}
    return {key: original} if original != masked else {}


def filled(masked: Any, current: Any) -> Any:
    """`masked` (a run's config node) with each masked value taken from `current` (this run's
    config): scoring reads a file with its training read options, secrets included."""
    if isinstance(masked, Mapping):
        current = current if isinstance(current, Mapping) else {}
        return {k: filled(v, current.get(k)) for k, v in masked.items()}
    return current if MASK in str(masked) and current is not None else masked


def worker_environment(values: Mapping[str, Any]) -> dict[str, str]:
    """The environment entry that hands a spawned worker the values masked in its file."""
    return {ENV: json.dumps(dict(values))} if values else {}


def restored(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted-key overrides from ENV (set by the parent for this process only), or nothing."""
    text = os.environ.pop(ENV, "")
    found = json.loads(text) if text else {}
    for value in found.values():
        remember(value)
    return {**values, **found}


class MaskingFilter(logging.Filter):
    """Masks secrets in a log record's final message (arguments included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def install_log_filter() -> None:
    """Every handler of the root, growthlab's, MLflow's and Optuna's loggers masks secrets."""
    remember_environment()
    for name in ("", "growthlab", "mlflow", "optuna", "alembic", "sqlalchemy"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())
