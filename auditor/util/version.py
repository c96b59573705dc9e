"""The package's version and the report schema's version (``auditor.__version__`` re-exports them)."""

__version__ = "0.1.0"

SCHEMA_VERSION = "1.0"
