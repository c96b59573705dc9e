"""Reading the user's tables: CSV or Parquet, never modified, hashed for the report."""

from __future__ import annotations

import hashlib
from pathlib import Path

from auditor.util.errors import (
    MSG_FILE_EMPTY,
    MSG_FILE_FORMAT,
    MSG_FILE_MISSING,
    MSG_FILE_UNREADABLE,
    AuditInputError,
)
from auditor.util.lazy import lazy_module

pd = lazy_module("pandas")

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")
PARQUET_SUFFIXES = (".parquet", ".pq")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()



def read_table(path: str | Path, *, role: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a dataset, with a one-line error for every way it can be unusable.

    Parquet is read column by column through pyarrow (only ``columns`` when given), each
    Arrow column released as soon as it is converted, so a large file does not need
    two full copies in memory at once.
    """
    path = Path(path)
    if path.is_dir():
        raise AuditInputError(f"{role} path is a directory, not a data file: {path}")
    if path.exists() and not path.is_file():
        raise AuditInputError(f"{role} path is not a regular file: {path}")
    if not path.exists():
        raise AuditInputError(MSG_FILE_MISSING.format(role=role, path=path))
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        fmt = "CSV"
    elif name.endswith(PARQUET_SUFFIXES):
        fmt = "Parquet"
    else:
        raise AuditInputError(MSG_FILE_FORMAT.format(role=role, suffix="".join(path.suffixes) or path.name, path=path))
    try:
        if fmt == "CSV":
            frame = pd.read_csv(path, low_memory=False, usecols=columns)
        else:
            frame = pd.read_parquet(path, engine="pyarrow", columns=columns,
                                    to_pandas_kwargs={"split_blocks": True, "self_destruct": True})
    except pd.errors.EmptyDataError:
        raise AuditInputError(MSG_FILE_EMPTY.format(role=role, path=path)) from None
    except Exception as exc:  # any parser failure is bad input, not a crash
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AuditInputError(MSG_FILE_UNREADABLE.format(role=role, fmt=fmt, path=path, reason=reason)) from None
    if len(frame) == 0:
        raise AuditInputError(MSG_FILE_EMPTY.format(role=role, path=path))
    frame.columns = [str(c) for c in frame.columns]
    if len(set(frame.columns)) != len(frame.columns):
        dupes = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
        raise AuditInputError(f"{role} file has duplicate column names {dupes}: {path}")
    return frame
