"""growthlab: declarative machine-learning experiments for digital marketing."""

import os

__version__ = "0.1.0"

# OpenMP threads that spin while waiting crawl (5-20x) when another process holds a core, as on
# a shared 2-core laptop or CI box; passive waiting costs little when the machine is free.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
