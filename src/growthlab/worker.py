"""A tuning worker: runs trials of a study another process owns, then exits.

Two ways in: `make tune-worker` (the command `tune-worker`, from any shell or machine that
reaches the study's storage) and `python -m growthlab.worker CONFIG.yaml`, which the runner
spawns beside itself with its resolved config. The process that owns the study logs the
parent run and refits the best model; a worker only adds trials until the budget is spent.
"""

from __future__ import annotations

import logging
import sys

from omegaconf import DictConfig, OmegaConf

from growthlab.errors import UserError
from growthlab.objective import Objective
from growthlab.provenance import fingerprint
from growthlab.runner import build_parts, child_runs, load


def work(cfg: DictConfig) -> None:
    """Join the configured study and run its trials (same data, task and search space)."""
    parts = build_parts(OmegaConf.merge(cfg, {"tuner": {"role": "worker"}}))
    if not parts.tuner.enabled:
        raise UserError("a tuning worker needs a tuner: add tuner=tpe (make tune-worker does)")
    loaded = load(parts.engine, parts.dataset, parts.task)
    from growthlab import tuning  # optuna, only once the data is good

    parts.tracker.connect()
    study = parts.tuner.study(parts.direction, fingerprint(cfg, loaded.digest))
    parent = study.user_attrs.get(tuning.PARENT_ATTR, "")
    objective = Objective(parts.task, loaded.data, parts.models, parts.engine)
    parts.tuner.optimize(study, parts.space, objective, parts.metric, child_runs(parts, parent))


if __name__ == "__main__":
    from growthlab import secrets
    from growthlab.cli import fail

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker %(message)s")
    secrets.install_log_filter()
    try:
        config = OmegaConf.load(sys.argv[1])
        # The file holds masked values; the parent handed the real ones through the environment.
        for key, value in secrets.restored({}).items():
            OmegaConf.update(config, key, value, force_add=True)
        work(config)
    except UserError as exc:
        fail(str(exc))
