"""A table read from a CSV or Parquet file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from growthlab.data.dataset import Columns, Dataset
from growthlab.data.dates import parse_dates
from growthlab.errors import UserError

READERS = {"csv": pd.read_csv, "parquet": pd.read_parquet}


class FileDataset(Dataset):
    """CSV or Parquet on disk; the format follows the extension unless given."""

    def __init__(
        self,
        name: str,
        columns: Mapping[str, Any] | Columns,
        path: str | None = None,
        format: str | None = None,
        read_options: Mapping[str, Any] | None = None,
        allow_undeclared_identifiers: bool = False,
        table: str | None = None,
    ) -> None:
        super().__init__(name, columns, allow_undeclared_identifiers)
        if not (path or table):
            raise UserError(
                "dataset.path is required; give it on the command line (dataset.path=...), "
                "or a catalog table with engine=spark (dataset.table=db.transactions)"
            )
        self.path = Path(path).expanduser() if path else None
        self.table = table
        # A folder of Parquet parts (a lake) has no extension: Parquet unless told.
        suffix = self.path.suffix.lstrip(".").lower() if self.path else ""
        self.format = format or suffix or "parquet"
        self.read_options = dict(read_options or {})
        if self.format not in READERS:
            raise UserError(
                f"dataset.format {self.format!r} is not supported; use one of {sorted(READERS)}"
            )

    def source(self) -> str:
        return f"table:{self.table}" if self.table else str(self.path.resolve())

    def read_spark(self, spark: Any) -> Any:
        """The file, folder or glob (or dataset.table) read lazily by Spark."""
        from growthlab.spark.frames import read

        path = str(self.path) if self.path else None
        return read(spark, path, self.format, self.read_options, self.table)

    def read(self) -> pd.DataFrame:
        if self.table:
            raise UserError(
                f"dataset.table={self.table!r} needs engine=spark; or give dataset.path"
            )
        # A folder of Parquet parts (a lake table) reads whole with pandas too.
        folder = self.format == "parquet" and self.path.is_dir()
        if not (self.path.is_file() or folder):
            raise UserError(f"data file {str(self.path)!r} does not exist; fix dataset.path")
        try:
            frame = READERS[self.format](self.path, **self.read_options)
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(
                f"cannot read {str(self.path)!r} as {self.format}: {first}; "
                "check dataset.format and dataset.read_options"
            ) from None
        refuse_repeated_headers(frame.columns, self.path)
        if self.columns.time and self.columns.time in frame.columns:
            frame[self.columns.time] = parse_dates(frame[self.columns.time], self.columns.time)
        return frame


def refuse_repeated_headers(columns: Any, path: Path) -> None:
    """pandas reads a header naming `x` twice as `x` and `x.1`: two columns the user never
    named, one of them silently a feature. Refuse the file instead."""
    names = {str(c) for c in columns}
    for name in sorted(names):
        base, dot, number = name.rpartition(".")
        if dot and number.isdigit() and base in names:
            raise UserError(
                f"{str(path)!r} names column {base!r} twice in its header; rename or remove one"
            )
