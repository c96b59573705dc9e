"""Deferred imports of the heavy libraries, so that listing checks stays fast.

``auditor --help`` and ``auditor checks list`` load every check module through its
entry point to read the checks' metadata, but never run a check. A module that says
``np = lazy_module("numpy")`` gets a stand-in that imports NumPy the first time an
attribute is read (``np.mean``), not when the check module is imported; likewise
``roc_auc_score = lazy_attribute("sklearn.metrics", "roc_auc_score")`` for a name that
would otherwise be imported with ``from ... import``. Until a check runs, none of
pandas, SciPy or scikit-learn is in ``sys.modules``.

Type annotations name the real modules under ``TYPE_CHECKING`` where a checker needs
them; with ``from __future__ import annotations`` they are never evaluated at run time.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """A module stand-in that imports the real module on first attribute access."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_target"] = None

    def _lazy_load(self) -> ModuleType:
        target = self.__dict__["_lazy_target"]
        if target is None:
            target = importlib.import_module(self.__name__)
            self.__dict__["_lazy_target"] = target
        return target

    def __getattr__(self, attr: str) -> Any:
        # only called for names not set on the stand-in itself
        return getattr(self._lazy_load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._lazy_load())

    def __repr__(self) -> str:
        loaded = "loaded" if self.__dict__["_lazy_target"] is not None else "not yet imported"
        return f"<lazy module {self.__name__!r} ({loaded})>"


def lazy_module(name: str) -> Any:
    """A stand-in for ``import name`` that imports it when first used."""
    return LazyModule(name)


def lazy_attribute(module: str, name: str) -> Any:
    """A stand-in for ``from module import name`` (a function or class), imported when first called."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Calls {module}.{name}, importing {module} on first use."
    return call


#: The libraries that must not be imported just to list checks or print help
#: (checked by tests/test_lazy_imports.py).
HEAVY_MODULES = (
    "pandas", "scipy", "sklearn", "torch", "shap", "aif360", "fairlearn", "weasyprint", "matplotlib",
)
