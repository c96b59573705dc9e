"""What the privacy checks PV001-PV002 share (checks/privacy/_common.py: the Luhn and IBAN
checksums, name hints), and the tests that run both."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from auditor.checks import privacy as pv
from auditor.contract.check import Check, definition_problems
from tests.checks.privacy.conftest import KNOWN_VALID_IBANS, luhn_check_digit
from tests.conftest import run_check as run
from tests.planted import clean_context

KNOWN_VALID_CARDS = [
    "4111111111111111", "4012888888881881", "4222222222222", "5500005555555559", "5105105105105100",
    "378282246310005", "371449635398431", "6011111111111117", "3530111333300000", "30569309025904",
]
KNOWN_INVALID_CARDS = ["4111111111111112", "5500005555555558", "1234567812345678", "378282246310006", "4222222222223"]


def scalar_luhn(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


# -- definitions ---------------------------------------------------------------------
def module_checks() -> list[type[Check]]:
    return [v for v in vars(pv).values()
            if inspect.isclass(v) and issubclass(v, Check) and v is not Check and (v.__module__ == pv.__name__ or v.__module__.startswith(pv.__name__ + "."))]


def test_module_defines_pv001_and_pv002():
    assert sorted(c.id for c in module_checks()) == ["PV001", "PV002"]
    assert set(pv.CHECKS) == set(module_checks())


@pytest.mark.parametrize("cls", pv.CHECKS, ids=lambda c: c.id)
def test_definition_is_valid(cls):
    assert definition_problems(cls) == []
    assert cls.area == "privacy" and cls.severity == "high"
    assert cls.thresholds and cls.references and "P8.2" in cls.practices


# -- checksums -----------------------------------------------------------------------
def test_luhn_on_known_test_card_numbers():
    assert pv.luhn_valid(KNOWN_VALID_CARDS).all()
    assert not pv.luhn_valid(KNOWN_INVALID_CARDS).any()
    assert pv.luhn_valid(["", "abc", "4111 1111 1111 1111", "12345678901234567890", "٤١١١"]).tolist() == [False] * 5


def test_luhn_agrees_with_a_scalar_implementation():
    rng = np.random.default_rng(0)
    numbers = ["".join(map(str, rng.integers(0, 10, int(k)))) for k in rng.integers(2, 20, 3000)]
    assert pv.luhn_valid(numbers).tolist() == [scalar_luhn(x) for x in numbers]
    assert 0.07 < pv.luhn_valid(numbers).mean() < 0.13  # one random digit string in ten passes


def test_iban_checksum():
    assert pv._iban_valid(np.array(KNOWN_VALID_IBANS + ["GB82 WEST 1234 5698 7654 32"], dtype=object)).all()
    broken = [x[:-1] + str((int(x[-1]) + 1) % 10) for x in KNOWN_VALID_IBANS]
    assert not pv._iban_valid(np.array(broken, dtype=object)).any()


def test_name_hints():
    hints = {c: pv.name_hint(c) for c in [
        "email", "E-Mail", "contactEmail", "phone_number", "Telephone", "SSN", "national_insurance_no", "IBAN",
        "credit_card", "ip_address", "ipAddress", "name", "first_name", "LastName", "surname", "customer_name",
        "address", "zip_code", "date_of_birth", "DOB",
        "product_name", "file_name", "is_mobile", "hotel", "tip", "email_count_x", "colour", "x1", "<script>alert(1)</script>",
    ]}
    assert hints["email"] == hints["E-Mail"] == hints["contactEmail"] == "e-mail address"
    assert hints["phone_number"] == hints["Telephone"] == "phone number"
    assert hints["SSN"] == hints["national_insurance_no"] == "national ID"
    assert hints["IBAN"] == "bank account" and hints["credit_card"] == "payment card number"
    assert hints["ip_address"] == hints["ipAddress"] == "IP address"
    assert {hints[c] for c in ("name", "first_name", "LastName", "surname", "customer_name")} == {"person name"}
    assert hints["address"] == hints["zip_code"] == "postal address"
    assert hints["date_of_birth"] == hints["DOB"] == "date of birth"
    for c in ("product_name", "file_name", "is_mobile", "hotel", "tip", "colour", "x1", "<script>alert(1)</script>"):
        assert hints[c] is None, c
    assert hints["email_count_x"] == "e-mail address"  # a name hint is only ever 'possible'


def test_shared_clean_context_passes():
    for cls in pv.CHECKS:
        findings, status = run(cls, clean_context())
        assert status == "pass", (cls.id, findings.summary)
