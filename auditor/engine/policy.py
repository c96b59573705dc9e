"""The audit policy (``audit.yaml``): what runs, how it is judged, what is waived.

Precedence: check defaults < policy file < ``--set`` on the command line. The whole
policy is validated before any check runs; an unknown key is an error that names it and
suggests the nearest valid one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from auditor.contract.model_card_fields import validate_model_card
from auditor.contract.results import SEVERITIES
from auditor.engine.multiple_testing import CORRECTIONS
from auditor.engine.registry import Registry
from auditor.util.errors import PolicyError, did_you_mean

TOP_KEYS = ("version", "fail_on", "undecided_fail_on", "favourable_label", "allow_errors", "seed", "correction", "select", "ignore", "checks", "features",
            "waivers", "model_card", "time_limit_s")
FEATURE_KEYS = ("immutable", "min", "max", "monotonic")
MONOTONIC = ("increasing", "decreasing")
CHECK_KEYS = ("enabled", "severity", "params", "thresholds", "time_limit_s")
THRESHOLD_KEYS = ("warn", "fail")
WAIVER_KEYS = ("check", "reason", "owner", "expires")



@dataclass
class CheckSettings:
    enabled: bool | None = None
    severity: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Seconds this check may run before it is stopped and reported as an error (None: the audit's).
    time_limit_s: float | None = None
    #: Whether the policy set this check's time limit (null there means no limit at all).
    time_limit_given: bool = False


@dataclass
class Waiver:
    check: str
    reason: str
    owner: str
    expires: dt.date

    def state(self, today: dt.date) -> dict[str, Any]:
        expired = today > self.expires
        return {
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
            "active": not expired,
            "expired": expired,
        }


@dataclass
class Policy:
    fail_on: str = "high"
    #: The least severity at which an undecided result that is at least ``warn`` (its whole
    #: interval beyond the warn level, the fail level inside it) blocks the gate; ``never``
    #: lists such results as undecided without blocking. A result blocks only at or above
    #: ``fail_on`` too: an undecided finding never blocks where a failed one would not.
    undecided_fail_on: str = "high"
    #: The binary outcome that benefits the person (a class label, as text), which the
    #: fairness checks' selection rates count; None: not declared (the command line's
    #: ``--favourable-label`` wins over it).
    favourable_label: str | None = None
    allow_errors: bool = False
    correction: str = "holm"
    seed: int | None = None
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    checks: dict[str, CheckSettings] = field(default_factory=dict)
    #: Declared feature domains: {column: {"immutable": bool, "min": x, "max": x, "monotonic": ...}}
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    waivers: list[Waiver] = field(default_factory=list)
    #: The user's model card (``model_card:``), validated; list fields are lists (auditor.reportdata.model_card).
    model_card: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    #: Seconds any check may run before it is stopped and reported as an error (None: no limit).
    time_limit_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The validated policy as plain data (what the report shows and hashes)."""
        return json.loads(json.dumps(self.raw, default=str, sort_keys=True))

    @property
    def sha256(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def waiver_for(self, check_id: str) -> Waiver | None:
        found = [w for w in self.waivers if w.check == check_id]
        # The latest expiry wins when several waivers name the same check.
        return max(found, key=lambda w: w.expires) if found else None


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (the last would win silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (also at line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_policy_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if path.is_dir():
        raise PolicyError(f"policy path is a directory, not a file: {path}")
    if not path.is_file():
        raise PolicyError(f"policy file not found: {path}")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except ValueError as exc:  # YAML resolved a date-like value that is not a date (2027-02-30)
        raise PolicyError(f"{path.name}: invalid value: {exc}; write dates as YYYY-MM-DD") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError(f"{path.name}: not valid YAML{where}: {problem}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path.name}: not a UTF-8 text file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PolicyError(f"{path.name}: the policy must be a mapping of keys to values; got {type(data).__name__}")
    return data


def apply_overrides(raw: dict[str, Any], overrides: list[str], registry: Registry) -> dict[str, Any]:
    """Apply ``--set KEY=VALUE`` overrides. ``DQ001.thresholds.x.fail=0.4`` addresses a check."""
    merged = json.loads(json.dumps(raw, default=str))
    for item in overrides:
        if "=" not in item:
            raise PolicyError(f"--set must look like KEY=VALUE (for example DQ001.severity=high); got {item!r}")
        key, _, text = item.partition("=")
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise PolicyError(f"--set has an empty key: {item!r}")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except (yaml.YAMLError, ValueError):
            value = text
        if isinstance(value, str):
            try:  # YAML 1.1 reads 1e-1 as text; a number is what anyone typing it means
                value = float(value) if value.strip().lower() not in ("nan", "inf", "-inf", "infinity") else value
            except ValueError:
                pass
        if parts[0] in registry.checks or (parts[0] not in TOP_KEYS and parts[0][:1].isupper()):
            parts = ["checks", *parts]
        node = merged
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value if not isinstance(value, dt.date) else value.isoformat()
    return merged


def _check_id_or_prefix(value: Any, where: str, registry: Registry) -> str:
    if not isinstance(value, str) or not value:
        raise PolicyError(f"{where} must be a check ID or prefix (for example 'DQ' or 'DQ001'); got {value!r}.")
    if not any(cid.startswith(value) for cid in registry.checks):
        raise PolicyError(
            f"{where}: no check ID starts with {value!r}{did_you_mean(value, registry.ids())}"
        )
    return value


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _time_limit(value: Any, where: str) -> float | None:
    """A time limit in seconds: a positive number, or null for none."""
    if value is None:
        return None
    if not _number(value) or not 0 < value < float("inf"):
        raise PolicyError(f"{where} must be a positive number of seconds or null (no limit); got {value!r}.")
    return float(value)


def validate_policy(raw: dict[str, Any], registry: Registry, *, source: str = "audit.yaml") -> Policy:
    """Validate the whole policy against the registry; raise PolicyError at the first problem."""
    where = source
    for key in raw:
        if key not in TOP_KEYS:
            raise PolicyError(f"{where}: unknown key {key!r}{did_you_mean(key, TOP_KEYS)}")
    policy = Policy(raw=raw, source=source)
    version = raw.get("version", 1)
    if version != 1:
        raise PolicyError(f"{where}: version must be 1; got {version!r}.")
    fail_on = raw.get("fail_on", "high")
    if fail_on not in SEVERITIES:
        raise PolicyError(f"{where}: fail_on must be one of {list(SEVERITIES)}; got {fail_on!r}.")
    policy.fail_on = fail_on
    undecided = raw.get("undecided_fail_on", "high")
    if undecided not in (*SEVERITIES, "never"):
        raise PolicyError(f"{where}: undecided_fail_on must be one of {[*SEVERITIES, 'never']}; got {undecided!r}.")
    policy.undecided_fail_on = undecided
    if "favourable_label" in raw:
        favourable = raw["favourable_label"]
        if isinstance(favourable, bool) or not isinstance(favourable, (str, int, float)):
            raise PolicyError(f"{where}: favourable_label must be a class label (text or a number); got {favourable!r}.")
        policy.favourable_label = str(favourable)
    allow_errors = raw.get("allow_errors", False)
    if not isinstance(allow_errors, bool):
        raise PolicyError(f"{where}: allow_errors must be true or false; got {allow_errors!r}.")
    policy.allow_errors = allow_errors
    correction = raw.get("correction", "holm")
    if correction not in CORRECTIONS:
        raise PolicyError(f"{where}: correction must be one of {list(CORRECTIONS)}; got {correction!r}.")
    policy.correction = correction
    if "seed" in raw:
        seed = raw["seed"]
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise PolicyError(f"{where}: seed must be a non-negative integer; got {seed!r}.")
        policy.seed = seed
    for key in ("select", "ignore"):
        if key in raw and raw[key] is not None:
            items = raw[key]
            if not isinstance(items, list):
                raise PolicyError(f"{where}: {key} must be a list of check IDs or prefixes; got {items!r}.")
            values = [_check_id_or_prefix(v, f"{where}: {key}[{i}]", registry) for i, v in enumerate(items)]
            setattr(policy, key, values)

    policy.time_limit_s = _time_limit(raw.get("time_limit_s"), f"{where}: time_limit_s")

    checks = raw.get("checks") or {}
    if not isinstance(checks, dict):
        raise PolicyError(f"{where}: checks must be a mapping of check IDs to settings; got {checks!r}.")
    for cid, settings in checks.items():
        if cid not in registry.checks:
            raise PolicyError(f"{where}: checks.{cid} is not a known check ID{did_you_mean(cid, registry.ids())}")
        policy.checks[cid] = _validate_check(cid, settings, registry, where)

    features = raw.get("features") or {}
    if not isinstance(features, dict):
        raise PolicyError(f"{where}: features must map column names to domains; got {features!r}.")
    for column, domain in features.items():
        policy.features[str(column)] = _validate_domain(str(column), domain, where)

    waivers = raw.get("waivers") or []
    if not isinstance(waivers, list):
        raise PolicyError(f"{where}: waivers must be a list; got {waivers!r}.")
    for i, w in enumerate(waivers):
        policy.waivers.append(_validate_waiver(i, w, registry, where))

    policy.model_card = validate_model_card(raw.get("model_card"), where)
    return policy


def _validate_check(cid: str, settings: Any, registry: Registry, where: str) -> CheckSettings:
    cls = registry.get(cid).cls
    base = f"{where}: checks.{cid}"
    if settings is None:
        return CheckSettings()
    if not isinstance(settings, dict):
        raise PolicyError(f"{base} must be a mapping with keys {list(CHECK_KEYS)}; got {settings!r}.")
    out = CheckSettings()
    for key in settings:
        if key not in CHECK_KEYS:
            raise PolicyError(f"{base}: unknown key {key!r}{did_you_mean(key, CHECK_KEYS)}")
    if "enabled" in settings:
        if not isinstance(settings["enabled"], bool):
            raise PolicyError(f"{base}.enabled must be true or false; got {settings['enabled']!r}.")
        out.enabled = settings["enabled"]
    if "severity" in settings:
        if settings["severity"] not in SEVERITIES:
            raise PolicyError(f"{base}.severity must be one of {list(SEVERITIES)}; got {settings['severity']!r}.")
        out.severity = settings["severity"]
    if "time_limit_s" in settings:
        out.time_limit_s = _time_limit(settings["time_limit_s"], f"{base}.time_limit_s")
        out.time_limit_given = True
    params = settings.get("params") or {}
    if not isinstance(params, dict):
        raise PolicyError(f"{base}.params must be a mapping; got {params!r}.")
    for name, value in params.items():
        if name not in cls.params:
            valid = list(cls.params) or ["(this check has no parameters)"]
            raise PolicyError(f"{base}.params: unknown parameter {name!r}{did_you_mean(name, valid)}")
        try:
            out.params[name] = cls.params[name].validate(value, f"{base}.params.{name}")
        except ValueError as exc:
            raise PolicyError(str(exc)) from None
    thresholds = settings.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        raise PolicyError(f"{base}.thresholds must be a mapping; got {thresholds!r}.")
    for metric, levels in thresholds.items():
        if metric not in cls.thresholds:
            valid = list(cls.thresholds) or ["(this check has no thresholds)"]
            raise PolicyError(f"{base}.thresholds: unknown metric {metric!r}{did_you_mean(metric, valid)}")
        spec = cls.thresholds[metric]
        if not isinstance(levels, dict):
            raise PolicyError(f"{base}.thresholds.{metric} must be a mapping with keys warn and/or fail; got {levels!r}.")
        merged = spec.as_dict()
        for level, value in levels.items():
            if level not in THRESHOLD_KEYS:
                raise PolicyError(f"{base}.thresholds.{metric}: unknown key {level!r}{did_you_mean(level, THRESHOLD_KEYS)}")
            if value is not None:
                lo = spec.low if spec.low is not None else float("-inf")
                hi = spec.high if spec.high is not None else float("inf")
                if not _number(value) or not lo <= value <= hi:
                    raise PolicyError(
                        f"{base}.thresholds.{metric}.{level} must be a number in [{spec.low}, {spec.high}] or null; got {value!r}."
                    )
            merged[level] = value
        w, f = merged.get("warn"), merged.get("fail")
        if w is not None and f is not None:
            wrong = w > f if spec.direction == "above" else w < f
            if wrong:
                word = "above" if spec.direction == "below" else "below"
                raise PolicyError(
                    f"{base}.thresholds.{metric}: warn ({w}) must not be {'above' if spec.direction == 'above' else 'below'} fail ({f}) "
                    f"for a metric that is bad when {spec.direction} its threshold; put warn {word} or at fail"
                )
        out.thresholds[metric] = merged
    return out


def _validate_domain(column: str, domain: Any, where: str) -> dict[str, Any]:
    """A declared feature domain: which perturbations are allowed and what must hold."""
    base = f"{where}: features.{column}"
    if not isinstance(domain, dict):
        raise PolicyError(f"{base} must be a mapping with keys {list(FEATURE_KEYS)}; got {domain!r}.")
    for key in domain:
        if key not in FEATURE_KEYS:
            raise PolicyError(f"{base}: unknown key {key!r}{did_you_mean(key, FEATURE_KEYS)}")
    out: dict[str, Any] = {}
    if "immutable" in domain:
        if not isinstance(domain["immutable"], bool):
            raise PolicyError(f"{base}.immutable must be true or false; got {domain['immutable']!r}.")
        out["immutable"] = domain["immutable"]
    for key in ("min", "max"):
        if key in domain and domain[key] is not None:
            if not _number(domain[key]):
                raise PolicyError(f"{base}.{key} must be a number; got {domain[key]!r}.")
            out[key] = float(domain[key])
    if "min" in out and "max" in out and out["min"] > out["max"]:
        raise PolicyError(f"{base}: min ({out['min']}) must not be above max ({out['max']}).")
    if "monotonic" in domain:
        if domain["monotonic"] not in MONOTONIC:
            raise PolicyError(f"{base}.monotonic must be one of {list(MONOTONIC)}; got {domain['monotonic']!r}.")
        out["monotonic"] = domain["monotonic"]
    return out


def _validate_waiver(i: int, w: Any, registry: Registry, where: str) -> Waiver:
    base = f"{where}: waivers[{i}]"
    if not isinstance(w, dict):
        raise PolicyError(f"{base} must be a mapping with keys {list(WAIVER_KEYS)}; got {w!r}.")
    for key in w:
        if key not in WAIVER_KEYS:
            raise PolicyError(f"{base}: unknown key {key!r}{did_you_mean(key, WAIVER_KEYS)}")
    for key in WAIVER_KEYS:
        if key not in w or w[key] in (None, ""):
            raise PolicyError(f"{base}.{key} is required (a waiver records check, reason, owner and expires)")
    cid = w["check"]
    if cid not in registry.checks:
        raise PolicyError(f"{base}.check {cid!r} is not a known check ID{did_you_mean(str(cid), registry.ids())}")
    for key in ("reason", "owner"):
        if not isinstance(w[key], str):
            raise PolicyError(f"{base}.{key} must be text; got {w[key]!r}.")
    expires = w["expires"]
    if isinstance(expires, dt.datetime):
        expires = expires.date()
    elif isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            raise PolicyError(f"{base}.expires must be a date like 2027-01-31; got {expires!r}.") from None
    elif not isinstance(expires, dt.date):
        raise PolicyError(f"{base}.expires must be a date like 2027-01-31; got {expires!r}.")
    return Waiver(check=cid, reason=w["reason"], owner=w["owner"], expires=expires)


def load_policy(path: str | Path | dict[str, Any] | None, overrides: list[str], registry: Registry) -> Policy:
    """The policy from a file (``audit.yaml``), or from a dict with the file's keys (the Python
    API's ``policy=``), with ``KEY=VALUE`` overrides applied; validated against the registry."""
    if isinstance(path, dict):
        import copy

        raw, source = copy.deepcopy(path), "policy"
    else:
        raw = read_policy_file(path) if path else {}
        source = Path(path).name if path else "--set"
    if overrides:
        raw = apply_overrides(raw, overrides, registry)
    return validate_policy(raw, registry, source=source)
