"""`python -m growthlab.worker CONFIG.yaml`: a tuning worker the runner starts beside itself.

It runs trials of the study named in the (already resolved) config until the study's budget
is spent; the process that started it logs the parent run and refits the best model.
"""

import logging
import sys

from omegaconf import OmegaConf

from growthlab.cli import fail
from growthlab.errors import UserError
from growthlab.runner import run

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker %(message)s")
    try:
        run(OmegaConf.load(sys.argv[1]))
    except UserError as exc:
        fail(str(exc))
