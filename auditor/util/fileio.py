"""Atomic file writes: a report is complete or absent, never half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, data: str | bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then move it into place.

    An interrupted run leaves the previous file untouched. ``mode`` is the file's
    permission bits (0o600 for a private key: the temporary file is never wider).
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def ensure_writable_dir(path: str | Path) -> Path:
    """Create ``path`` if needed and prove it is writable; raise OSError otherwise."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=".auditor-probe.", dir=path)
    os.close(fd)
    os.unlink(probe)
    return path
