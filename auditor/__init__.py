"""auditor: automated model audit and compliance reporter.

The Python API (``auditor.audit``, ``auditor.compare``, ``auditor.Report``) is imported on
first use, so ``import auditor`` stays cheap; see ``auditor.app.api``. Nothing inside the
package imports this module: the version constants live in ``auditor.util.version``.
"""

from auditor.util.version import SCHEMA_VERSION, __version__

__all__ = ["__version__", "SCHEMA_VERSION", "audit", "compare", "Report", "Result", "AuditInputError"]

_API = {"audit": "auditor.app.api", "compare": "auditor.app.api", "Report": "auditor.app.api",
        "Result": "auditor.app.api", "AuditInputError": "auditor.util.errors"}


def __getattr__(name: str):
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'auditor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
