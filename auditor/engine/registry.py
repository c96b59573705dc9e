"""The check registry: built-in checks load exactly as plugins do, through entry points.

Group ``auditor.checks``: each entry point names a module (every :class:`Check`
subclass defined in it is registered) or a single check class. A duplicate ID, a
definition problem or a plugin that fails to import stops the run with a message that
names the places involved.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType

from auditor.contract.check import BUILTIN_ID_PATTERN, Check, definition_problems
from auditor.util.errors import RegistryError

GROUP = "auditor.checks"
BUILTIN_DISTRIBUTION = "auditor"


@dataclass(frozen=True)
class Registered:
    cls: type[Check]
    distribution: str
    version: str
    entry_point: str

    @property
    def place(self) -> str:
        return f"{self.cls.__module__}.{self.cls.__qualname__} (entry point {self.entry_point!r} of {self.distribution} {self.version})"

    @property
    def builtin(self) -> bool:
        return self.distribution == BUILTIN_DISTRIBUTION


@dataclass
class Registry:
    checks: dict[str, Registered] = field(default_factory=dict)
    plugins: list[dict[str, object]] = field(default_factory=list)

    def add(self, reg: Registered) -> None:
        cls = reg.cls
        problems = definition_problems(cls)
        if problems:
            raise RegistryError(f"check {reg.place} is badly defined: " + "; ".join(problems))
        if BUILTIN_ID_PATTERN.match(cls.id) and not reg.builtin:
            raise RegistryError(
                f"check {reg.place} uses ID {cls.id!r}: two-letter prefixes are reserved for built-in "
                "checks; plugins use three letters or more (for example 'ACME001')"
            )
        if cls.id in self.checks:
            raise RegistryError(f"check ID {cls.id} is defined twice: {self.checks[cls.id].place} and {reg.place}")
        names = {r.cls.name: r for r in self.checks.values()}
        if cls.name in names:
            raise RegistryError(f"check name {cls.name!r} is used twice: {names[cls.name].place} and {reg.place}")
        self.checks[cls.id] = reg

    def get(self, check_id: str) -> Registered:
        return self.checks[check_id]

    def ids(self) -> list[str]:
        return sorted(self.checks)

    def classes(self) -> list[type[Check]]:
        return [self.checks[i].cls for i in self.ids()]


def _classes_in(obj: object) -> list[type[Check]]:
    if inspect.isclass(obj) and issubclass(obj, Check):
        return [obj]
    if isinstance(obj, ModuleType) and isinstance(getattr(obj, "CHECKS", None), (tuple, list)):
        return list(obj.CHECKS)  # a family package says which checks it holds
    if isinstance(obj, ModuleType):
        found = [
            v
            for v in vars(obj).values()
            if inspect.isclass(v) and issubclass(v, Check) and v is not Check
            and v.__module__ == obj.__name__ and "id" in vars(v)
        ]
        return sorted(found, key=lambda c: c.id)
    raise TypeError(f"expected a module or a Check subclass, got {type(obj).__name__}")


def load_registry(entry_points: Iterable[metadata.EntryPoint] | None = None) -> Registry:
    registry = Registry()
    eps = list(metadata.entry_points(group=GROUP) if entry_points is None else entry_points)
    # Built-ins first so that a plugin clashing with them is the one named second.
    eps.sort(key=lambda ep: (ep.dist is None or ep.dist.name != BUILTIN_DISTRIBUTION, ep.name))
    for ep in eps:
        dist = ep.dist.name if ep.dist is not None else "unknown"
        version = ep.dist.version if ep.dist is not None else "unknown"
        try:
            classes = _classes_in(ep.load())
        except Exception as exc:
            raise RegistryError(
                f"check plugin {ep.name!r} ({ep.value}, from {dist} {version}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        for cls in classes:
            registry.add(Registered(cls=cls, distribution=dist, version=version, entry_point=ep.name))
        registry.plugins.append(
            {"distribution": dist, "version": version, "entry_point": ep.name, "checks": [c.id for c in classes]}
        )
    return registry
