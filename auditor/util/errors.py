"""Errors that stop an audit before it runs (exit code 2) and the messages they carry.

Messages are kept as constants so that tests can assert them exactly.
"""

from __future__ import annotations

import difflib


def did_you_mean(word: object, options: list[str] | tuple[str, ...]) -> str:
    """The end of an unknown-key message: the nearest valid key, or all of them."""
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(options)}"


class AuditInputError(Exception):
    """Bad input: a file, a column, a policy or an option the audit cannot use.

    The CLI prints ``str(error)`` on one line and exits with code 2.
    """


class PolicyError(AuditInputError):
    """The policy file or a ``--set`` override is invalid."""


class RegistryError(AuditInputError):
    """A check definition is broken (duplicate ID, missing metadata, a plugin that fails to load)."""


class ModelLoadError(AuditInputError):
    """The model file cannot be loaded safely."""


MSG_FILE_MISSING = "{role} file not found: {path}"
MSG_FILE_EMPTY = "{role} file is empty (no rows): {path}"
MSG_FILE_UNREADABLE = "{role} file cannot be read as {fmt}: {path} ({reason})"
MSG_FILE_FORMAT = "{role} file has an unsupported extension {suffix!r}: {path}; expected .csv, .csv.gz, .parquet or .pq"
MSG_TARGET_MISSING = "target column {target!r} is not in the {role} data; columns are: {columns}"
MSG_NO_COMMON_FEATURES = "train and test share no feature column (besides the target and declared id/group/time columns)"
MSG_COLUMN_MISSING = "{option} column {column!r} is not in the {role} data"
MSG_PICKLE_UNTRUSTED = (
    "refusing to load {path}: joblib/pickle files run arbitrary code when loaded. "
    "Save the model with skops (skops.io.dump) or, if you trust where this file came from, "
    "pass --trust-model"
)
MSG_SKOPS_UNTRUSTED = (
    "refusing to load {path}: it contains types skops does not trust by default: {types}. "
    "Review them, then pass --trust-type TYPE for each (or --trust-model to trust the whole file)"
)
MSG_OUT_UNWRITABLE = "output folder is not writable: {path} ({reason})"
