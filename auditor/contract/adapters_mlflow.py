"""MLflow models: a local MLflow model folder, its ``MLmodel`` file, or a ``runs:/`` / ``models:/`` URI.

An MLflow model is a folder with an ``MLmodel`` YAML file that lists the *flavours* the
model can be loaded as, each with its own file. Most flavours of the libraries auditor
reads store a non-executable native file, and the model is then loaded by auditor's own
adapter for that format, as if that file had been given, with the MLflow provenance added
to its record. The flavours are tried safest first:

==================  ===============================================  ===================
flavour             stored as                                        loaded
==================  ===============================================  ===================
``onnx``            ``model.onnx``                                   ONNX adapter
``lightgbm``        ``model.lgb`` (a Booster, LightGBM's text)       LightGBM adapter
                    ``model.skops`` (LGBMClassifier/Regressor)       skops, see below
                    ``model.pkl`` (pickle/cloudpickle)               only when trusted
``xgboost``         ``model.ubj`` / ``model.json``                   XGBoost adapter
``catboost``        ``model.cb`` (``save_format: cbm``)              CatBoost adapter
``sklearn``         ``model.skops`` (``serialization_format: skops``) skops, see below
                    ``model.pkl`` (pickle/cloudpickle)               only when trusted
``python_function`` whatever its loader module reads (any code)      only when trusted
==================  ===============================================  ===================

A skops file is loaded as a ``.skops`` model file is: the types skops trusts by default,
plus those named with ``--trust-type``; the ``skops_trusted_types`` list in ``MLmodel`` is
written by whoever saved the model and is never used to trust anything. The LightGBM
flavour's scikit-learn models need four types of LightGBM's own (:data:`LIGHTGBM_SKOPS_TYPES`,
the list MLflow itself builds in), which are trusted for that flavour only. Pickled
models and ``python_function`` models run code when loaded: they are refused unless the
model is trusted (``--trust-model``), and are then loaded by MLflow's own loaders.

A ``python_function`` model gives predictions only: :attr:`PyfuncAdapter.has_proba` is
false, so the checks that need probabilities are skipped; a classifier needs its labels
from ``--model-classes``.

A URI is resolved against the tracking URI (``MLFLOW_TRACKING_URI``, else MLflow's
default) and downloaded by MLflow into a temporary folder kept as long as the model is.
Only a local store is read (``file:`` or a plain folder, ``sqlite:``), one that already
exists: an audit never talks to a server, and never creates a store as MLflow would on a
first use. MLflow is imported inside functions only, and a local model folder with a
native flavour needs no MLflow at all.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from auditor.contract.adapters import ModelAdapter, _options_for, adapter_classes, adapter_for, load_skops
from auditor.util.errors import ModelLoadError

MLMODEL = "MLmodel"
URI_PREFIXES = ("runs:/", "models:/")
#: Tracking-store schemes an audit reads: files on this machine only.
LOCAL_STORE_SCHEMES = ("", "file", "sqlite")
#: The LightGBM types in a skops file of an LGBMClassifier/LGBMRegressor (MLflow's built-in
#: list for that flavour): the library's own classes, rebuilt from their state, no code run.
LIGHTGBM_SKOPS_TYPES = ("collections.OrderedDict", "lightgbm.basic.Booster", "lightgbm.sklearn.LGBMClassifier",
                        "lightgbm.sklearn.LGBMRegressor")
PICKLE_FORMATS = ("pickle", "cloudpickle")

MSG_MLFLOW_MISSING = "{what} needs MLflow, which is not installed: pip install 'auditor[mlflow]'"
MSG_FLAVOUR_PICKLED = (
    "refusing to load the MLflow model {where}: its {flavour} flavour is stored as {fmt}, which runs arbitrary code "
    "when loaded. Log it with serialization_format='skops' (or as a native LightGBM, XGBoost, CatBoost or ONNX "
    "model) or, if you trust where it came from, pass --trust-model"
)
MSG_PYFUNC_UNTRUSTED = (
    "refusing to load the MLflow model {where}: it has no flavour auditor reads without running its code "
    "(flavours: {flavours}), and its python_function flavour ({loader}) runs code when loaded. If you trust "
    "where it came from, pass --trust-model (it is then audited from its predictions only, without probabilities; "
    "a classifier also needs --model-classes)"
)
MSG_NO_FLAVOUR = "cannot load the MLflow model {where}: no flavour auditor can read (flavours: {flavours})"
MSG_NOT_LOCAL_STORE = (
    "{what}: the MLflow tracking URI {uri!r} is not a local store; auditor uses only a local one (file:, a folder, "
    "or sqlite:) and never contacts a server. Set MLFLOW_TRACKING_URI to a local store{advice}"
)
#: What a model read by URI can do instead (logging an audit has no such way round).
DOWNLOAD_ADVICE = ", or download the model folder (mlflow artifacts download) and pass the folder"
MSG_SQLITE_NEEDS_SQLALCHEMY = (
    "{what}: the MLflow tracking URI {uri!r} is a SQLite store, which MLflow reads through SQLAlchemy, not installed "
    "here (mlflow-skinny leaves it out): pip install sqlalchemy alembic, or install mlflow"
)
MSG_NO_STORE = (
    "{what}: there is no MLflow tracking store at {path} (tracking URI {uri!r}); set MLFLOW_TRACKING_URI to the "
    "store that holds the run"
)


def one_line(text: object) -> str:
    """``text`` on one line (MLflow's messages span several; the CLI prints one)."""
    return re.sub(r"\s+", " ", str(text)).strip()


def import_mlflow(what: str, error: type[Exception] = ModelLoadError) -> Any:
    """``mlflow``, or ``error`` naming the extra to install. MLflow's usage telemetry is
    switched off first, whatever the environment says: an audit sends nothing anywhere."""
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    try:
        import mlflow
    except ImportError:
        raise error(MSG_MLFLOW_MISSING.format(what=what)) from None
    return mlflow


@contextlib.contextmanager
def scoped_env(**values: str) -> Iterator[None]:
    """Environment variables set for the duration of the block only (MLflow reads its settings there)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def local_store(uri: str, *, what: str, error: type[Exception] = ModelLoadError) -> Path:
    """The file or folder of the local tracking store ``uri`` names; ``error`` when it is
    not local, or does not exist (MLflow would create an empty one, and find nothing in it)."""
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    if scheme not in LOCAL_STORE_SCHEMES:
        raise error(MSG_NOT_LOCAL_STORE.format(what=what, uri=uri, advice="" if what.startswith("--mlflow-run") else DOWNLOAD_ADVICE))
    if scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute.db
        path = Path(uri[len("sqlite:///"):]) if uri.lower().startswith("sqlite:///") else Path(unquote(parsed.path))
    elif scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise error(MSG_NOT_LOCAL_STORE.format(what=what, uri=uri, advice="" if what.startswith("--mlflow-run") else DOWNLOAD_ADVICE))
        path = Path(unquote(parsed.path))
    else:
        path = Path(uri)
    if not str(path) or str(path) == "." or not path.exists():  # sqlite:// is an in-memory database: empty
        raise error(MSG_NO_STORE.format(what=what, path=path, uri=uri))
    if scheme == "sqlite" and importlib.util.find_spec("sqlalchemy") is None:
        raise error(MSG_SQLITE_NEEDS_SQLALCHEMY.format(what=what, uri=uri))
    return path


def _is_uri(path: Path | str) -> bool:
    return str(path).startswith(URI_PREFIXES)


def read_mlmodel(folder: Path, *, where: str) -> dict[str, Any]:
    """The ``MLmodel`` file of an MLflow model folder, checked to be a mapping with flavours."""
    import yaml

    path = folder / MLMODEL
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"the MLflow model {where} has no {MLMODEL} file (looked in {folder})") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ModelLoadError(f"the {MLMODEL} file of {where} cannot be read as YAML: {one_line(exc)}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("flavors"), dict) or not raw["flavors"]:
        raise ModelLoadError(f"the {MLMODEL} file of {where} lists no flavours (its 'flavors' mapping is missing or empty)")
    return raw


def signature_inputs(mlmodel: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The input columns of the model's signature as ``{"name", "type"}`` records; None when
    it has no signature, or a tensor signature without column names."""
    signature = mlmodel.get("signature")
    if not isinstance(signature, dict) or not signature.get("inputs"):
        return None
    inputs = signature["inputs"]
    try:
        specs = json.loads(inputs) if isinstance(inputs, str) else inputs
    except ValueError:
        return None
    if not isinstance(specs, list) or not specs:
        return None
    records = [{"name": s.get("name"), "type": s.get("type")} for s in specs if isinstance(s, dict)]
    if len(records) != len(specs) or not all(isinstance(r["name"], str) and r["name"] for r in records):
        return None
    return records


@dataclass
class Plan:
    """One way to load the model: which flavour, from which file, whether it runs code, and how."""

    flavour: str
    how: str
    file: str | None
    needs_trust: bool
    load: Callable[[], ModelAdapter]
    refusal: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class PyfuncAdapter(ModelAdapter):
    """An MLflow ``python_function`` model (``mlflow.pyfunc.load_model``): predictions only.

    ``has_proba`` is false: a pyfunc model's ``predict`` returns what its author chose, and
    nothing says which output column, if any, is a probability. A classifier's labels come
    from ``--model-classes`` (the ``classes`` option); without them the model is taken for a
    regressor, and a classification audit stops saying so.
    """

    kind = "mlflow-pyfunc"
    options = frozenset({"classes"})

    @classmethod
    def wraps(cls, obj: Any) -> bool:
        return type(obj).__name__ == "PyFuncModel" and type(obj).__module__.split(".")[0] == "mlflow"

    @classmethod
    def from_object(cls, obj: Any, **options: Any) -> PyfuncAdapter:
        try:
            loader = obj.metadata.flavors["python_function"].get("loader_module")
        except Exception:  # noqa: BLE001 - a model without its metadata still predicts
            loader = None
        return cls(obj, classes=options.get("classes"), loader=loader)

    def __init__(self, model: Any, *, classes: list[Any] | None = None, loader: str | None = None):
        self.model = model
        self.loader = loader
        self.classes = list(classes) if classes is not None else None

    def predict(self, X: Any) -> Any:
        import numpy as np
        import pandas as pd

        out = self.model.predict(X)
        if isinstance(out, pd.DataFrame):
            if out.shape[1] != 1:
                raise ValueError(f"the python_function model returned {out.shape[1]} columns; auditor needs one prediction per row")
            out = out.iloc[:, 0]
        values = np.asarray(out)
        if values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        return values

    def predict_proba(self, X: Any) -> Any:
        raise NotImplementedError("an MLflow python_function model gives predictions only")

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "loader_module": self.loader, "has_proba": False,
                "note": "python_function model: audited from its predictions only (no probabilities)"}


class _DescribeWithMLflow:
    """A model's ``describe`` with the ``mlflow`` record added. A callable object rather than
    a closure so that the adapter stays picklable, as the class's own method would be."""

    def __init__(self, base: Callable[[], dict[str, Any]], record: dict[str, Any]):
        self.base = base
        self.record = record

    def __call__(self) -> dict[str, Any]:
        return {**self.base(), "mlflow": dict(self.record)}


def _adapter_of_kind(kind: str) -> type[ModelAdapter]:
    for cls in adapter_classes():
        if cls.kind == kind:
            return cls
    raise ModelLoadError(f"no model adapter of kind {kind!r} is registered (entry-point group auditor.adapters)")


class MLflowAdapter(ModelAdapter):
    """Reads an MLflow model and returns the adapter of the flavour it is loaded as (see the module's docstring).

    It never appears as a model itself: :meth:`load` returns the delegate adapter
    (LightGBM, XGBoost, CatBoost, ONNX, scikit-learn, or :class:`PyfuncAdapter`), whose
    ``describe()`` carries an ``mlflow`` record: the model URI, run and model IDs, the
    flavour used and how, the artifact and its SHA-256, the MLflow version that saved it,
    and the signature's inputs.
    """

    kind = "mlflow"
    suffixes = (MLMODEL,)
    options = frozenset({"classes"})
    #: Asked first: a ``runs:/.../model.onnx`` URI is an MLflow URI, not an ONNX file.
    priority = 100

    @classmethod
    def claims(cls, path: Path) -> bool:
        try:
            if _is_uri(path):
                return True
            path = Path(path)
            if path.name == MLMODEL:
                return path.is_file()
            return path.is_dir() and (path / MLMODEL).is_file()
        except Exception:  # noqa: BLE001 - a claim never raises
            return False

    @classmethod
    def wraps(cls, obj: Any) -> bool:
        """A model loaded with ``mlflow.pyfunc.load_model`` (its loading was the caller's choice to trust)."""
        return PyfuncAdapter.wraps(obj)

    @classmethod
    def from_object(cls, obj: Any, **options: Any) -> ModelAdapter:
        return PyfuncAdapter.from_object(obj, **options)

    @classmethod
    def load(cls, path: Path, *, trust: bool, trusted_types: tuple[str, ...] = (),
             classes: list[Any] | None = None) -> ModelAdapter:
        given = str(path)
        record: dict[str, Any] = {"model_uri": given}
        download: str | None = None
        if _is_uri(given):
            download = tempfile.mkdtemp(prefix="auditor-mlflow-")
            try:
                folder, record["tracking_uri"] = _download(given.rstrip("/"), download)
            except BaseException:
                shutil.rmtree(download, ignore_errors=True)
                raise
            if given.startswith("runs:/"):
                record["run_id"] = given[len("runs:/"):].split("/", 1)[0]
        else:
            folder = Path(path).parent if Path(path).name == MLMODEL else Path(path)
        try:
            model = cls._load_folder(folder, where=given, record=record, trust=trust,
                                     trusted_types=tuple(trusted_types), classes=classes)
        except BaseException:
            if download:
                shutil.rmtree(download, ignore_errors=True)
            raise
        if download:  # a delegate may read its file again later: the copy lives as long as the model
            weakref.finalize(model, _remove_download, download, os.getpid())
        return model

    @classmethod
    def _load_folder(cls, folder: Path, *, where: str, record: dict[str, Any], trust: bool,
                     trusted_types: tuple[str, ...], classes: list[Any] | None) -> ModelAdapter:
        mlmodel = read_mlmodel(folder, where=where)
        flavours = [str(f) for f in mlmodel["flavors"]]
        plans = _plans(folder, mlmodel, where=where, trust=trust, trusted_types=trusted_types, classes=classes)
        if not plans:
            raise ModelLoadError(MSG_NO_FLAVOUR.format(where=where, flavours=", ".join(flavours)))
        safe = [p for p in plans if not p.needs_trust]
        if safe:
            plan = safe[0]
        elif trust:
            plan = plans[0]
        else:
            raise ModelLoadError(plans[0].refusal)
        model = plan.load()
        inputs = signature_inputs(mlmodel)
        names = [r["name"] for r in inputs] if inputs else None
        from_signature = False
        if names and not model.feature_names and model.n_inputs in (None, len(names)):
            model.feature_names = names
            model.n_inputs = len(names)
            from_signature = True
        artifact = folder / plan.file if plan.file else None
        record.update({
            "run_id": record.get("run_id") or mlmodel.get("run_id"),
            "model_id": mlmodel.get("model_id"),
            "flavour": plan.flavour,
            "loaded_as": plan.how,
            "trust_needed": plan.needs_trust,
            "flavours": flavours,
            "artifact": plan.file,
            "artifact_sha256": _sha256(artifact) if artifact is not None and artifact.is_file() else None,
            "mlflow_version": mlmodel.get("mlflow_version"),
            "signature_inputs": inputs,
            "feature_names_from_signature": from_signature,
            **plan.extra,
        })
        # Instance attribute over the class's method: the delegate describes itself, plus this record.
        model.describe = _DescribeWithMLflow(model.describe, record)  # type: ignore[method-assign]
        return model


def _remove_download(folder: str, owner: int) -> None:
    """Remove a downloaded model folder, in the process that downloaded it only (a forked
    check worker holds a copy of the model, not the folder)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def _sha256(path: Path) -> str:
    from auditor.contract.data import sha256_file

    return sha256_file(path)


def _refuse_remote_artifacts(uri: str, tracking: str, registry: str | None) -> None:
    """A local store may keep a run's artifacts elsewhere (s3://, an MLflow server): auditor reads
    only what is on this machine, so such a model is refused before anything is fetched."""
    from urllib.parse import urlparse

    from mlflow.tracking import MlflowClient

    try:
        client = MlflowClient(tracking_uri=tracking, registry_uri=registry)
        parts = uri.split("/")
        if uri.startswith("runs:/") and len(parts) > 1:
            location = client.get_run(parts[1]).info.artifact_uri or ""
        elif uri.startswith("models:/") and len(parts) > 2:
            location = client.get_model_version_download_uri(parts[1], parts[2]) or ""
        else:
            return
    except Exception:  # noqa: BLE001 - an unknown run or model: the download below says so in MLflow's words
        return
    scheme = urlparse(location).scheme.lower()
    if len(scheme) > 1 and scheme != "file":  # a one-letter scheme is a Windows drive
        raise ModelLoadError(f"the MLflow model {uri} is stored at {location}, not on this machine; auditor never "
                             "fetches over the network: download the model folder (mlflow artifacts download) and pass it")


def _download(uri: str, into: str) -> tuple[Path, str]:
    """The local copy of the MLflow model at ``uri`` (downloaded into ``into``) and the tracking URI it came from."""
    what = f"the model {uri}"
    mlflow = import_mlflow(f"reading {uri}")
    from mlflow.exceptions import MlflowException

    tracking = mlflow.get_tracking_uri()
    local_store(tracking, what=what)
    registry = mlflow.get_registry_uri() if uri.startswith("models:/") else None
    if registry and registry != tracking:
        local_store(registry, what=what)
    _refuse_remote_artifacts(uri, tracking, registry)
    try:
        with scoped_env(MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false"):
            local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=into, tracking_uri=tracking,
                                                        registry_uri=registry)
    except MlflowException as exc:
        raise ModelLoadError(f"cannot read the MLflow model {uri} (tracking URI {tracking!r}): {one_line(exc.message)}") from None
    except Exception as exc:  # noqa: BLE001 - a store MLflow cannot open (a missing driver, a corrupt file)
        raise ModelLoadError(f"cannot read the MLflow model {uri} (tracking URI {tracking!r}): "
                             f"{type(exc).__name__}: {one_line(exc)}") from None
    folder = Path(local)
    if folder.is_file() and folder.name == MLMODEL:
        folder = folder.parent
    if not (folder / MLMODEL).is_file():
        raise ModelLoadError(f"{uri} is not an MLflow model: the artifact has no {MLMODEL} file")
    return folder, tracking


def _plans(folder: Path, mlmodel: dict[str, Any], *, where: str, trust: bool, trusted_types: tuple[str, ...],
           classes: list[Any] | None) -> list[Plan]:
    """The ways this model can be loaded, safest first."""
    confs: dict[str, Any] = {str(k): v if isinstance(v, dict) else {} for k, v in mlmodel["flavors"].items()}
    plans: list[Plan] = []

    def file_of(conf: dict[str, Any], *keys: str) -> str | None:
        """The flavour's file, named by the first of ``keys`` it sets; refused when it lies outside the model's folder."""
        name = next((conf[k] for k in keys if conf.get(k)), None)
        if name is None:
            return None
        if not isinstance(name, str) or not (folder / name).resolve().is_relative_to(folder.resolve()):
            raise ModelLoadError(f"the {MLMODEL} file of {where} names a model file outside its folder: {name!r}")
        return name

    def native(kind: str, file: str) -> Callable[[], ModelAdapter]:
        def load() -> ModelAdapter:
            cls = _adapter_of_kind(kind)
            extra = _options_for(cls, {"classes": classes})
            return cls.load(folder / file, trust=trust, trusted_types=trusted_types, **extra)

        return load

    def skops(file: str, also_trusted: tuple[str, ...] = ()) -> Callable[[], ModelAdapter]:
        def load() -> ModelAdapter:
            obj = load_skops(folder / file, trust=trust, trusted_types=trusted_types + also_trusted)
            return adapter_for(obj, classes=classes)

        return load

    def by_mlflow(flavour: str) -> Callable[[], ModelAdapter]:
        def load() -> ModelAdapter:
            import_mlflow(f"loading the {flavour} flavour of {where}")
            module = importlib.import_module(f"mlflow.{flavour}")
            obj = _mlflow_call(lambda: module.load_model(str(folder)), where=where)
            return adapter_for(obj, classes=classes)

        return load

    def pickled(flavour: str, file: str | None, fmt: str) -> Plan:
        return Plan(flavour, f"{fmt}, by mlflow.{flavour}.load_model", file, True, by_mlflow(flavour),
                    refusal=MSG_FLAVOUR_PICKLED.format(where=where, flavour=flavour, fmt=fmt))

    conf = confs.get("onnx")
    data = file_of(conf, "data") if conf is not None else None
    if data is not None and data.endswith(".onnx"):
        plans.append(Plan("onnx", "ONNX file", data, False, native("onnx", data)))
    conf = confs.get("lightgbm")
    data = file_of(conf, "data") if conf is not None else None
    if data is not None:
        model_class = conf.get("model_class", "lightgbm.basic.Booster")
        fmt = conf.get("serialization_format", "cloudpickle")
        if model_class == "lightgbm.basic.Booster":
            plans.append(Plan("lightgbm", "LightGBM text model", data, False, native("lightgbm", data)))
        elif fmt == "skops":
            plans.append(Plan("lightgbm", f"skops file of a {model_class}", data, False, skops(data, LIGHTGBM_SKOPS_TYPES)))
        elif fmt in PICKLE_FORMATS:
            plans.append(pickled("lightgbm", data, fmt))
    conf = confs.get("xgboost")
    data = file_of(conf, "data") if conf is not None else None
    # XGBoost's legacy binary format (model_format: xgb) has no reader here: the python_function flavour remains
    if data is not None and conf.get("model_format", "xgb") in ("json", "ubj"):
        plans.append(Plan("xgboost", f"XGBoost {conf['model_format']} model", data, False, native("xgboost", data),
                          extra={"model_class": conf.get("model_class")}))
    conf = confs.get("catboost")
    data = file_of(conf, "data") if conf is not None else None
    if data is not None and conf.get("save_format", "cbm") == "cbm":
        plans.append(Plan("catboost", "CatBoost cbm model", data, False, native("catboost", data),
                          extra={"model_type": conf.get("model_type")}))
    conf = confs.get("sklearn")
    data = file_of(conf, "pickled_model") if conf is not None else None
    if data is not None:
        fmt = conf.get("serialization_format", "cloudpickle")
        if fmt == "skops":
            plans.append(Plan("sklearn", "skops file", data, False, skops(data)))
        elif fmt in PICKLE_FORMATS:
            plans.append(pickled("sklearn", data, fmt))
    conf = confs.get("python_function")
    if conf is not None:
        loader = str(conf.get("loader_module") or "unknown loader")
        data = file_of(conf, "data", "model_path", "python_model")
        plans.append(Plan("python_function", f"mlflow.pyfunc.load_model ({loader})", data, True,
                          _pyfunc(folder, where=where, classes=classes, loader=loader),
                          refusal=MSG_PYFUNC_UNTRUSTED.format(where=where, flavours=", ".join(confs), loader=loader)))
    return plans


def _pyfunc(folder: Path, *, where: str, classes: list[Any] | None, loader: str) -> Callable[[], ModelAdapter]:
    def load() -> ModelAdapter:
        mlflow = import_mlflow(f"loading the python_function model {where}")
        model = _mlflow_call(lambda: mlflow.pyfunc.load_model(str(folder)), where=where)
        return PyfuncAdapter(model, classes=classes, loader=loader)

    return load


def _mlflow_call(fn: Callable[[], Any], *, where: str) -> Any:
    """A loader of MLflow's, run with the model trusted (the caller has checked ``--trust-model``):
    MLflow refuses to deserialise a model unless ``MLFLOW_ALLOW_MODEL_CODE_EXECUTION`` is set."""
    try:
        with scoped_env(MLFLOW_ALLOW_MODEL_CODE_EXECUTION="true"):
            return fn()
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the model's own code raises
        message = getattr(exc, "message", None) or str(exc)
        raise ModelLoadError(f"cannot load the MLflow model {where}: {type(exc).__name__}: {one_line(message)}") from None
