"""A panel file whose time column numbers the periods (1, 2, ...) instead of dating them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from growthlab.data import panel
from growthlab.data.dataset import Columns
from growthlab.data.files import FileDataset
from growthlab.errors import UserError


class PeriodIndexedFile(FileDataset):
    """CSV or Parquet with a period number as its time column, mapped to dates on load.

    align=start: period k of every series -> period_start + (k - 1) periods (the numbers are
    one shared calendar). align=end: each series' last period falls on the same, latest date
    (the numbers only order each series' own periods, so the series are compared where they
    all end: the backtest windows then hold every series). Calendar features mean as much as
    the chosen start date does.
    """

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        path: str,
        period: str = "W",
        period_start: str = "2000-01-03",
        align: str = "start",
        format: str | None = None,
        read_options: Mapping[str, Any] | None = None,
        allow_undeclared_identifiers: bool = False,
    ) -> None:
        super().__init__(name, columns, path, format, read_options, allow_undeclared_identifiers)
        panel.check_frequency(period, "dataset.period")
        if not self.columns.time:
            raise UserError("a period-indexed file needs dataset.columns.time (the period number)")
        try:
            self.period_start = pd.Timestamp(period_start)
        except (ValueError, TypeError):
            raise UserError(f"dataset.period_start={period_start!r} is not a date") from None
        if align not in ("start", "end"):
            raise UserError(f"dataset.align={align!r}; use start or end")
        if align == "end" and not self.columns.series:
            raise UserError("dataset.align=end needs dataset.columns.series to align each series")
        self.period = period
        self.align = align

    def read(self) -> pd.DataFrame:
        time = self.columns.time
        roles, self.columns = self.columns, dataclasses.replace(self.columns, time=None)
        try:  # read without the parent's date parsing: the numbers are not timestamps
            frame = super().read()
        finally:
            self.columns = roles
        if time not in frame:
            return frame  # the task names the missing column
        numbers = pd.to_numeric(frame[time], errors="coerce")
        if numbers.isna().any() or not np.allclose(numbers, np.round(numbers)):
            raise UserError(f"time column {time!r} must hold whole period numbers (1, 2, ...)")
        if numbers.min() < 1:
            raise UserError(
                f"time column {time!r} must number periods from 1, not {numbers.min():g}"
            )
        index = numbers.astype(int).to_numpy() - 1
        if self.align == "end":
            missing = [c for c in self.columns.series if c not in frame]
            if missing:
                return frame  # the task names the missing column
            last = numbers.groupby([frame[c] for c in self.columns.series]).transform("max")
            index = index + int(last.max()) - last.astype(int).to_numpy()
        offset = panel.OFFSETS[self.period]
        dates = pd.date_range(self.period_start, periods=int(index.max()) + 1, freq=offset)
        frame[time] = dates[index]
        return frame
