"""Dates as exported by real systems: any mix of ISO-8601 forms, in training and in scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd

from growthlab.errors import UserError


def parse_dates(values: pd.Series, column: str, first_row: int = 0) -> pd.Series:
    """ISO-8601 dates, date-times, with or without a zone, mixed in one column.

    pandas 3 infers one format from the first value and fails on a mix, so the format is
    ISO8601. Zoned times are converted to UTC and the zone dropped, so one column has one
    type; naive times are kept as written. Blanks stay missing; a value that is there but not
    a date is named by its row (1 = the first data row + first_row), never by the value (PII).
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values
    else:  # numbers are not dates; as text they fail like any other non-date
        text = values.astype("string").str.strip().replace("", pd.NA)
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    bad = (parsed.isna() & text.notna()).to_numpy()
    if bad.any():
        row = first_row + int(np.flatnonzero(bad)[0]) + 1
        raise UserError(
            f"column {column!r} must hold ISO-8601 dates (2024-05-01, 2024-05-01T09:30:00+02:00) "
            f"but row {row} does not; fix that row of the data"
        )
    return parsed.dt.tz_convert(None)
