"""Files that survive a kill: atomic writes (temporary name, then rename) and Parquet
datasets written one file per replication (or sweep task) and read back as one table.

A reader never sees a half-written file: a temporary file starts with a dot, which
pyarrow (and so ``pd.read_parquet`` on a folder) skips, and it takes its final name in one
``os.replace``. A file that has its final name is complete.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from simulation.analysis.streaming import release_unused


def temporary(path: Path) -> Path:
    """The hidden temporary name ``path`` is written under before its rename."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_text(path: Path, text: str) -> None:
    """Write a text file under a temporary name, then rename it: all or nothing."""
    tmp = temporary(path)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def atomic_bytes(path: Path, data: bytes) -> None:
    """Write bytes (e.g. a Parquet file encoded elsewhere) under a temporary name, then
    rename the file: all or nothing."""
    tmp = temporary(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


ROW_GROUP_ROWS = 65_536  # rows converted and encoded at a time by ``atomic_table``


def atomic_table(df: pd.DataFrame, path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write a DataFrame as one Parquet file under a temporary name, then rename it;
    ``metadata``: key-value pairs stored in the file's schema (e.g. which run wrote it).

    Rows are converted to Arrow and written ``ROW_GROUP_ROWS`` at a time, with the schema of
    the whole frame: a year of the 80-secretariat group's report rows (160,000) converted
    at once took ~75 MiB for a moment, more than the replication that made them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary(path)
    schema = pa.Schema.from_pandas(df, preserve_index=False)
    if metadata:
        schema = schema.with_metadata({**(schema.metadata or {}), **{
            k.encode(): v.encode() for k, v in metadata.items()}})
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            for start in range(0, max(len(df), 1), ROW_GROUP_ROWS):
                rows = df.iloc[start:start + ROW_GROUP_ROWS]
                writer.write_table(pa.Table.from_pandas(rows, schema=schema,
                                                        preserve_index=False))
    except BaseException:
        tmp.unlink(missing_ok=True)  # no half-written file left behind
        raise
    os.replace(tmp, path)
    release_unused()  # Arrow's pool keeps the freed buffers for reuse


def file_metadata(path: str | Path, key: str) -> str | None:
    """One key-value pair of a Parquet file's schema metadata (None when absent)."""
    value = (pq.read_schema(path).metadata or {}).get(key.encode())
    return None if value is None else value.decode()


def remove_temporary(folder: Path) -> None:
    """Delete what a killed writer left half-written in ``folder`` (hidden ``*.tmp`` files)."""
    if folder.is_dir():
        for f in os.scandir(folder):
            if f.name.startswith(".") and f.name.endswith(".tmp") and f.is_file():
                os.unlink(f.path)


def read_dataset(files: list[str], columns: list[str] | None = None) -> pd.DataFrame:
    """Parquet files as one DataFrame in the order given (schemas unified: a column that
    is all null in one file takes its type from the others)."""
    if not files:
        return pd.DataFrame()
    schema = pa.unify_schemas([pq.read_schema(f) for f in files])
    dataset = ds.dataset(files, format="parquet", schema=schema)
    cols = None if columns is None else [c for c in columns if c in dataset.schema.names]
    return dataset.to_table(columns=cols).to_pandas()
