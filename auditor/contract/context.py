"""AuditContext: the data, the model's outputs and the settings every check reads.

Built once per audit by :func:`auditor.contract.inputs.build_context`, read-only afterwards.
Predictions and probabilities are computed once per dataset and cached; checks read
them from here and never call the model for what the context already has.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from auditor.contract.adapters import ModelAdapter, ModelCallError, model_raised
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")
pd = lazy_module("pandas")

ROLES: tuple[str, ...] = ("train", "validation", "test", "current")


@dataclass
class AuditContext:
    datasets: dict[str, pd.DataFrame]
    target: str
    task: str
    features: list[str]
    model: ModelAdapter | None = None
    positive_label: Any = None
    #: The outcome that benefits the person (a binary task's class), which fairness
    #: selection rates count; None when the user has not declared it.
    favourable_label: Any = None
    classes: list[Any] | None = None
    sensitive: list[str] = field(default_factory=list)
    id_column: str | None = None
    group_column: str | None = None
    time_column: str | None = None
    seed: int = 0
    policy: dict[str, Any] = field(default_factory=dict)
    #: Declared feature domains from the policy's ``features:`` block
    #: ({column: {"immutable": bool, "min": x, "max": x, "monotonic": "increasing"|"decreasing"}}).
    feature_domains: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Per-epoch training history (columns epoch, train_loss, val_loss), when given.
    history: pd.DataFrame | None = None
    #: Other models on the same data, by name (``auditor compare``: the baseline first).
    others: dict[str, ModelAdapter] = field(default_factory=dict)
    #: The name of ``model`` when models are compared.
    model_name: str = "model"
    notes: list[str] = field(default_factory=list)
    #: The audit's date, against which waiver expiry is judged (GV002); None means today.
    today: Any = None
    #: Where the rows live and who computes statistics over them (``ctx.stats``): the pandas
    #: engine by default; a Spark engine keeps the tables on the cluster and ``datasets``
    #: then holds a seeded sample of each (:mod:`auditor.contract.compute`).
    engine: Any = None
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)
    _views: dict[str, AuditContext] = field(default_factory=dict, repr=False)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    def for_model(self, name: str) -> AuditContext:
        """The same data seen through another of the compared models (its outputs cached apart)."""
        if name == self.model_name:
            return self
        if name not in self._views:
            import dataclasses

            other = self.others[name]
            self._views[name] = dataclasses.replace(
                self, model=other, model_name=name, others={}, _cache={}, _views={}, _memo={},
                # each model is called with the inputs it was fitted on
                features=list(other.feature_names) if other.feature_names else self.features,
            )
        return self._views[name]

    # -- data ------------------------------------------------------------------
    @property
    def stats(self):
        """Statistics over every row of each dataset, computed by the engine where the rows live."""
        from auditor.contract.compute import BoundStatistics, PandasStatistics

        if self.engine is None:
            self.engine = PandasStatistics()
        return BoundStatistics(self.engine, self)

    def rows_available(self, role: str) -> int:
        """How many rows the whole dataset has (more than ``len(frame(role))`` when it is a sample)."""
        return self.stats.rows(role)

    def has(self, role: str) -> bool:
        return role in self.datasets

    def frame(self, role: str) -> pd.DataFrame:
        """The whole table of a role (features, target and any other column)."""
        return self.datasets[role]

    def X(self, role: str) -> pd.DataFrame:
        """The model's input columns of a role, in the model's order."""
        return self.datasets[role][self.features]

    @property
    def model_inputs(self) -> list[str]:
        """The columns the model really reads, in ``features`` order: ``features`` less those its
        preprocessing drops unseen (a ColumnTransformer's ``'drop'`` or ``remainder='drop'``).

        ``features`` stays what the model is called with (it needs every column it was fitted
        on); a check that asks whether a column is a model input (FR006) should read this. Where the
        model cannot tell, or there is none, it is ``features``.
        """
        def compute() -> list[str]:
            positions = self.model.used_positions if self.model is not None and self.model.can_call else None
            if positions is None or any(i >= len(self.features) for i in positions):
                return list(self.features)
            return [self.features[i] for i in positions]

        return list(self.memo(("model inputs",), compute))

    def y(self, role: str) -> pd.Series | None:
        frame = self.datasets[role]
        return frame[self.target] if self.target in frame.columns else None

    def has_labels(self, role: str) -> bool:
        y = self.y(role) if self.has(role) else None
        return y is not None and y.notna().any()

    @property
    def is_classification(self) -> bool:
        return self.task in ("binary", "multiclass")

    # -- model outputs (cached, one pass per dataset) ---------------------------
    def _cached(self, role: str, what: str, compute):
        key = (role, what)
        if key not in self._cache:
            try:
                self._cache[key] = compute()
            except ModelCallError as exc:
                self._cache[key] = exc
            except Exception as exc:  # the user's model failed: keep the reason for every check
                self._cache[key] = model_raised(f"{what} for the {role} data", exc)
        value = self._cache[key]
        if isinstance(value, ModelCallError):
            raise value
        return value

    def memo(self, key: Any, compute):
        """``compute()`` once per ``key`` for this context, then the stored value.

        For expensive results that several checks share (SHAP values, permutation
        importances). The key must name everything the value depends on (the method, the
        role, the sample's size and seed, the parameters); the model is implied, since
        each compared model's view (:meth:`for_model`) keeps a memo of its own. An
        exception is not stored: the next caller computes again and sees it too.
        """
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def predictions(self, role: str) -> np.ndarray:
        """The model's predicted labels (classification) or values (regression) for a role."""
        return self._cached(role, "predict", lambda: self._predict(role))

    def probabilities(self, role: str) -> np.ndarray | None:
        """Class probabilities, shape (n, n_classes) in ``self.classes`` order; None without them."""
        if self.model is None or not self.model.has_proba or not self.is_classification:
            return None
        return self._cached(role, "predict_proba", lambda: self._proba(role))

    @property
    def positive_index(self) -> int | None:
        """For binary tasks, the one place that decides the positive class's column: its index
        in ``self.classes``, which is also its code in ``stats.encode_labels`` and its column of
        ``probabilities``. Every check that scores the positive class reads it from here; None
        for other tasks."""
        if self.task != "binary" or self.positive_label is None:
            return None
        return self.classes.index(self.positive_label)

    def ranking_scores(self, role: str) -> np.ndarray | None:
        """For binary tasks: scores that rank rows by how likely the positive label is, higher
        more likely: the probability where there is one, else stored scores that only rank
        (``--score-kind rank``, or ``reversed-rank`` negated). None without either."""
        if self.task != "binary" or self.model is None:
            return None
        if self.model.has_proba:
            return self.scores(role)
        if not getattr(self.model, "has_ranking_scores", False):
            return None

        def read() -> np.ndarray:
            col = self.model.score_column  # type: ignore[union-attr]
            if col not in self.datasets[role].columns:
                raise ModelCallError(f"the {role} data has no scores column {col!r}")
            values = pd.to_numeric(self.datasets[role][col], errors="coerce").to_numpy(dtype=float)
            return -values if self.model.score_kind == "reversed-rank" else values  # type: ignore[union-attr]

        return self._cached(role, "ranking scores", read)

    def scores(self, role: str) -> np.ndarray | None:
        """For binary tasks: the probability of the positive label."""
        proba = self.probabilities(role)
        if proba is None or self.task != "binary":
            return None
        return proba[:, self.positive_index]

    def _predict(self, role: str) -> np.ndarray:
        frame = self.datasets[role]
        if self.model is None:
            raise ModelCallError("no model or predictions were given")
        if not self.model.can_call:
            col = self.model.prediction_column  # type: ignore[attr-defined]
            if col not in frame.columns:
                raise ModelCallError(f"the {role} data has no predictions column {col!r}")
            return frame[col].to_numpy()
        out = self.model.predict(self.X(role))
        if len(out) != len(frame):
            raise ModelCallError(f"the model returned {len(out)} predictions for {len(frame)} {role} rows")
        return np.asarray(out)

    def _proba(self, role: str) -> np.ndarray:
        frame = self.datasets[role]
        if not self.model.can_call:  # type: ignore[union-attr]
            col = self.model.score_column  # type: ignore[union-attr]
            if col not in frame.columns:
                raise ModelCallError(f"the {role} data has no scores column {col!r}")
            score = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
            if self.task != "binary":
                raise ModelCallError("--scores is supported for binary tasks only")
            pos = self.positive_index
            proba = np.empty((len(score), 2))
            proba[:, pos] = score
            proba[:, 1 - pos] = 1.0 - score
            return proba
        proba = self.model.predict_proba(self.X(role))  # type: ignore[union-attr]
        if proba.ndim != 2 or len(proba) != len(frame):
            raise ModelCallError(f"predict_proba returned shape {proba.shape} for {len(frame)} {role} rows")
        return proba

    def call_model(self, X: pd.DataFrame, *, proba: bool = False) -> np.ndarray:
        """Call the model on new inputs (perturbed, resampled); not cached."""
        if self.model is None or not self.model.can_call:
            raise ModelCallError("predictions-only mode: there is no model to call on new inputs")
        try:
            return self.model.predict_proba(X) if proba else self.model.predict(X)
        except Exception as exc:
            raise model_raised("new inputs", exc) from exc

    def call_model_with_proba(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The model's predictions and probabilities on new inputs, in one pass where the model can share it; not cached."""
        if self.model is None or not self.model.can_call:
            raise ModelCallError("predictions-only mode: there is no model to call on new inputs")
        try:
            return self.model.predict_with_proba(X)
        except Exception as exc:
            raise model_raised("new inputs", exc) from exc

    # -- seeded sampling -------------------------------------------------------
    def seed_for(self, check_id: str) -> int:
        """A per-check seed derived from the audit seed, stable across runs and plans."""
        return (self.seed * 1_000_003 + zlib.crc32(check_id.encode())) % (2**32)

    def rng(self, check_id: str) -> np.random.Generator:
        return np.random.default_rng(self.seed_for(check_id))

    def labelled_sample(self, role: str, n: int, *, check_id: str) -> tuple[pd.DataFrame, pd.Series, dict[str, Any]]:
        """Inputs and labels of a seeded sample of at most ``n`` rows, unlabelled rows dropped
        (what a check needs to refit a model), with the record for ``sample``."""
        idx, record = self.sample_index(role, n, check_id=check_id)
        y = self.y(role).iloc[idx]
        labelled = ~y.isna().to_numpy()
        return self.X(role).iloc[idx][labelled], y[labelled], record

    def sample_index(self, role: str, n: int, *, check_id: str) -> tuple[np.ndarray, dict[str, Any]]:
        """Positions of a seeded sample of at most ``n`` rows, and the record for ``sample``."""
        total = len(self.datasets[role])
        if total <= n:
            idx = np.arange(total)
        else:
            idx = np.sort(self.rng(check_id).choice(total, size=n, replace=False))
        return idx, {"role": role, "rows_used": int(len(idx)), "rows_available": self.rows_available(role),
                     "seed": self.seed_for(check_id)}


def combine_samples(records: dict[str, dict[str, Any]], seed: int) -> dict[str, Any]:
    """One ``sample`` record for a check that samples several datasets."""
    return {
        "role": " and ".join(records),
        "rows_used": int(sum(r["rows_used"] for r in records.values())),
        "rows_available": int(sum(r["rows_available"] for r in records.values())),
        "seed": seed,
        "by_role": {role: {k: v for k, v in r.items() if k != "role"} for role, r in records.items()},
    }
