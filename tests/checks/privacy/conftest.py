"""What the privacy check tests share: a Luhn check digit and known IBANs, contexts, and
readers of the findings."""

from __future__ import annotations

import pandas as pd

from auditor.contract.context import AuditContext
from tests.conftest import findings_payload

FEATURES = ["x1", "x2", "colour", "noise"]


KNOWN_VALID_IBANS = ["GB82WEST12345698765432", "DE89370400440532013000", "FR1420041010050500013M02606", "NL91ABNA0417164300"]


# -- helpers -----------------------------------------------------------------------
def luhn_check_digit(body: str) -> str:
    """The digit that makes body + digit Luhn-valid (a plain scalar version, independent of the check's)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # these are doubled once the check digit is appended
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def make_ctx(train: pd.DataFrame, test: pd.DataFrame | None = None, *, model=None, task: str = "binary",
             features: list[str] | None = None, current: pd.DataFrame | None = None, seed: int = 0) -> AuditContext:
    datasets = {"train": train.reset_index(drop=True)}
    if test is not None:
        datasets["test"] = test.reset_index(drop=True)
    if current is not None:
        datasets["current"] = current.reset_index(drop=True)
    extra = {"positive_label": 1, "classes": [0, 1]} if task == "binary" else {}
    return AuditContext(datasets=datasets, target="y", task=task, features=features or list(FEATURES), model=model,
                        seed=seed, **extra)


def value(findings, name: str):
    return findings.metrics[name].value


def payload(findings) -> dict:
    return findings_payload(findings)
