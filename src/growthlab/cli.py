"""The command line: `python -m growthlab key=value ...` (Hydra), with one-line errors."""

from __future__ import annotations

import difflib
import importlib
import os
import re
import signal
import sys
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf, open_dict

from growthlab.errors import UserError
from growthlab.paths import CONF_DIR, ROOT
from growthlab.processes import interrupt

COMMANDS = {
    "train": ("runner", "run"),
    "tune-worker": ("worker", "work"),
    "promote": ("handoff", "promote"),
    "history": ("handoff", "history"),
    "score": ("handoff", "score"),
}

OmegaConf.register_new_resolver("growthlab_root", lambda: str(ROOT), replace=True)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _hydra_main(cfg: DictConfig) -> None:
    from growthlab import secrets

    secrets.install_log_filter()  # Hydra has just configured logging: its handlers mask too
    # tuner.role=worker on a training command is the older spelling of command=tune-worker
    worker_role = cfg.command == "train" and cfg.tuner.get("role") == "worker"
    command = "tune-worker" if worker_role else cfg.command
    try:
        if command not in COMMANDS:
            raise UserError(f"command={command!r} is unknown; use one of {', '.join(COMMANDS)}")
        module, function = COMMANDS[command]
        # Only the command's own module is imported: training never pays for scoring's imports.
        getattr(importlib.import_module(f"growthlab.{module}"), function)(cfg)
    except UserError as exc:
        fail(str(exc))
    except Exception as exc:
        refused = server_refusal(exc)
        if refused is None:
            raise
        fail(refused)


def server_refusal(exc: Exception) -> str | None:
    """One line for a tracking server refusing this account (401, 403), else None."""
    if "mlflow" not in sys.modules:  # only MLflow raises these; never import it just to look
        return None
    from growthlab.tracking import refusal

    return refusal(exc)


def main() -> None:
    """Entry point: check the overrides first, so a typo gets one line instead of a page."""
    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so MLflow runs end KILLED, not RUNNING.
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    try:
        check_overrides(sys.argv[1:])
        _hydra_main()
    except KeyboardInterrupt:
        fail("interrupted; the MLflow run was marked KILLED", code=130)


def fail(message: str, code: int = 2) -> None:
    """One readable line on stderr and a non-zero exit (a traceback with GROWTHLAB_DEBUG=1)."""
    if os.environ.get("GROWTHLAB_DEBUG"):
        raise
    from growthlab.secrets import mask

    print(f"growthlab: error: {mask(message)}", file=sys.stderr)
    sys.exit(code)


def check_overrides(argv: list[str]) -> None:
    """Compose the config once with Hydra's compose API and turn its errors into one line."""
    from hydra import compose, initialize_config_dir
    from hydra._internal.utils import get_args_parser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    args, _ = get_args_parser().parse_known_args(argv)
    if args.multirun or args.help or args.hydra_help or args.info or args.shell_completion:
        return  # Hydra reports those itself
    overrides = list(args.overrides)
    if args.config_dir:
        overrides.append(
            f"hydra.searchpath=[file://{os.path.abspath(args.config_dir)},file://{ROOT}]"
        )
    try:
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            cfg = compose(
                args.config_name or "config", overrides=overrides, return_hydra_config=True
            )
            # Hydra itself builds these before any of our code runs: check them here.
            check_hydra_nodes(cfg.hydra)
            with open_dict(cfg):
                del cfg["hydra"]
            OmegaConf.resolve(cfg)
    except (HydraException, OmegaConfBaseException) as exc:
        fail(explain(exc, overrides))
    except UserError as exc:
        fail(str(exc))


def check_hydra_nodes(hydra_cfg: DictConfig) -> None:
    """Hydra builds its callbacks (`_target_`) and logging factories (`()`, `class`) before
    any of our code runs: they pass the allow-list here, or the run never starts."""
    from growthlab.build import check_target, check_targets

    check_targets(hydra_cfg.get("callbacks"), "hydra.callbacks")
    for key in ("job_logging", "hydra_logging"):
        for where, target in logging_factories(hydra_cfg.get(key), f"hydra.{key}"):
            if target not in STREAMS:  # ext://sys.stderr: a stream, not a callable
                check_target(target, where, also=("logging",))  # logging.StreamHandler and kin


STREAMS = ("sys.stderr", "sys.stdout")


def logging_factories(node: Any, where: str) -> list[tuple[str, str]]:
    """Every `()` and `class` in a logging dictConfig: the callables logging would call;
    and every `ext://module.name` value, which logging imports.

    Values are resolved one by one: other keys (a log file under hydra.runtime) are only
    known inside a Hydra run.
    """
    if not isinstance(node, DictConfig):
        return []
    found = []
    for key in node:
        if key in ("()", "class"):
            found.append((f"{where}.{key}", str(node[key])))
        elif OmegaConf.is_dict(node._get_node(key)):
            found += logging_factories(node[key], f"{where}.{key}")
        else:
            value = _value(node, key)
            if isinstance(value, str) and value.startswith("ext://"):
                found.append((f"{where}.{key}", value.removeprefix("ext://")))
    return found


def _value(node: DictConfig, key: Any) -> Any:
    """A value, or None when it needs what only a Hydra run knows (hydra.runtime.*)."""
    try:
        return node[key]
    except Exception:  # noqa: BLE001 - an interpolation of run-time keys: not an ext:// name
        return None


def explain(exc: Exception, overrides: list[str]) -> str:
    """Hydra's multi-line composition errors, said in one line with the fix."""
    text = f"{exc}\n{exc.__cause__ or ''}"
    missing = re.search(r"Could not find '([^']+)'", text)
    if missing:
        group, _, option = missing.group(1).rpartition("/")
        listed = text.split("Available options", 1)[-1].split("Config search path", 1)[0]
        options = re.findall(r"^\t(\S+)$", listed, re.MULTILINE)
        return (
            f"unknown {group or 'config'} {option!r}; choose one of: {', '.join(options)} "
            f"(or add conf/{group}/{option}.yaml)"
        )
    key = re.search(r"Could not override '([^']+)'", text)
    if key and "not in struct" in text:
        return (
            f"unknown config key {key.group(1)!r}{did_you_mean(key.group(1), overrides)}; "
            "list the keys with `python -m growthlab --cfg job`"
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__


def did_you_mean(key: str, overrides: list[str]) -> str:
    """Suggest the closest existing key from the composed defaults."""
    from hydra import compose, initialize_config_dir

    parent, _, leaf = key.rpartition(".")
    kept = [o for o in overrides if not o.split("=", 1)[0].lstrip("+~").startswith(key)]
    try:
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", overrides=kept)
        node = OmegaConf.select(cfg, parent) if parent else cfg
        close = difflib.get_close_matches(leaf, list(node.keys()), n=1)
    except Exception:  # noqa: BLE001 - a hint is optional; never mask the real error
        return ""
    return f" (did you mean {parent + '.' if parent else ''}{close[0]}?)" if close else ""
