"""A table read from a CSV or Parquet file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from growthlab.data.dataset import Columns, Dataset
from growthlab.errors import UserError

READERS = {"csv": pd.read_csv, "parquet": pd.read_parquet}


class FileDataset(Dataset):
    """CSV or Parquet on disk; the format follows the extension unless given."""

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        path: str,
        format: str | None = None,
        read_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(name, columns)
        self.path = Path(path).expanduser()
        self.format = format or self.path.suffix.lstrip(".").lower()
        self.read_options = dict(read_options or {})
        if self.format not in READERS:
            raise UserError(
                f"dataset.format {self.format!r} is not supported; use one of {sorted(READERS)}"
            )

    def load(self) -> pd.DataFrame:
        if not self.path.is_file():
            raise UserError(f"data file {str(self.path)!r} does not exist; fix dataset.path")
        try:
            frame = READERS[self.format](self.path, **self.read_options)
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(
                f"cannot read {str(self.path)!r} as {self.format}: {first}; "
                "check dataset.format and dataset.read_options"
            ) from None
        if self.columns.time and self.columns.time in frame.columns:
            frame[self.columns.time] = _to_datetime(frame[self.columns.time], self.columns.time)
        return frame


def _to_datetime(values: pd.Series, column: str) -> pd.Series:
    try:
        return pd.to_datetime(values)
    except (ValueError, TypeError):
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        bad = values[parsed.isna() & values.notna()]
        example = bad.iloc[0] if len(bad) else values.iloc[0]
        raise UserError(
            f"time column {column!r} holds values that are not dates (e.g. {example!r}); "
            "fix the data or dataset.columns.time"
        ) from None
