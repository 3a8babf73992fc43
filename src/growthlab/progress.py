"""Progress bars on long loops, drawn only on a terminal: logs, CI and tests stay clean."""

import os
from collections.abc import Iterable, Iterator
from typing import IO, TypeVar

Item = TypeVar("Item")
SWITCH = "GROWTHLAB_PROGRESS"  # "0" turns every bar off


def progress(
    items: Iterable[Item],
    desc: str,
    total: int | None = None,
    unit: str = "it",
    file: IO[str] | None = None,
) -> Iterator[Item]:
    """`items`, one at a time, behind a tqdm bar on stderr that goes away when the loop ends."""
    from tqdm import tqdm

    # disable=None: tqdm draws only when the stream is a terminal. Bars under 1 s never show.
    # Tuning workers share the terminal with the trials bar: they run with GROWTHLAB_PROGRESS=0.
    disable = True if os.environ.get(SWITCH) == "0" else None
    bar = tqdm(
        items, desc=desc, total=total, unit=unit, leave=False, disable=disable, file=file, delay=1.0
    )
    return iter(bar)
