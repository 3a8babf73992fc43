"""``python -m growthlab.data.simulator``: see :func:`growthlab.data.simulator.cli.main`."""

from growthlab.data.simulator.cli import main

if __name__ == "__main__":
    main()
