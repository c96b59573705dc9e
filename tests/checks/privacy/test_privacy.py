"""Planted-defect tests for the privacy checks (PV001-PV002).

PV001: planted identifiers of each kind are found with their exact counts, look-alikes
(Luhn-invalid 16-digit numbers, numeric IDs, broken IBANs, impossible SSNs) are not, and
no planted value ever reaches the result. PV002: a model that memorises noisy labels is
caught by the membership attack, a regularised one on plenty of data is not.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pandas as pd
import pytest

from auditor.checks import privacy as pv
from auditor.contract.adapters import SklearnAdapter
from auditor.contract.check import Check, definition_problems
from auditor.contract.context import AuditContext
from tests.conftest import make_binary_frame
from tests.conftest import run_check as run

N = 2000
FEATURES = ["x1", "x2", "colour", "noise"]
HOSTILE = ["<script>alert(1)</script>", "col with spaces 列", 'quo"te\'s', "ünï€ødé $x$"]

KNOWN_VALID_CARDS = [
    "4111111111111111", "4012888888881881", "4222222222222", "5500005555555559", "5105105105105100",
    "378282246310005", "371449635398431", "6011111111111117", "3530111333300000", "30569309025904",
]
KNOWN_INVALID_CARDS = ["4111111111111112", "5500005555555558", "1234567812345678", "378282246310006", "4222222222223"]
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


def scalar_luhn(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


def valid_cards(n: int, *, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        body = "4" + "".join(map(str, rng.integers(0, 10, 14)))
        number = body + luhn_check_digit(body)
        fmt = i % 3
        out.append(number if fmt == 0 else " ".join(number[j:j + 4] for j in range(0, 16, 4)) if fmt == 1
                   else "-".join(number[j:j + 4] for j in range(0, 16, 4)))
    return out


def invalid_cards(n: int, *, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        body = "4" + "".join(map(str, rng.integers(0, 10, 14)))
        good = int(luhn_check_digit(body))
        out.append(body + str((good + int(rng.integers(1, 10))) % 10))
    return out


def iban(country: str, bban: str) -> str:
    numeric = int("".join(str(int(ch, 36)) for ch in bban + country + "00"))
    return f"{country}{98 - numeric % 97:02d}{bban}"


def emails(n: int, *, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    domains = ["example.com", "mail.example.org", "corp.example.co.uk"]
    return [f"person{i}.{rng.integers(1000, 9999)}@{domains[i % 3]}" for i in range(n)]


FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "John", "Frances", "Dennis",
         "Radia", "Ken", "Shafi", "Leslie", "Tim", "Sophie", "Jean-Luc", "Zoë", "Ørjan", "Siobhán"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "McCarthy", "Allen", "Ritchie",
        "Perlman", "Thompson", "Goldwasser", "Lamport", "Berners-Lee", "Wilson", "O'Neil", "Müller", "Ødegaard", "Ní Bhriain"]


def person_names(n: int, *, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"{FIRST[a]} {chr(65 + m2)}. {LAST[b]}" if m else f"{FIRST[a]} {LAST[b]}"
            for a, b, m, m2 in zip(rng.integers(0, 20, n), rng.integers(0, 20, n), rng.integers(0, 4, n), rng.integers(0, 26, n))]


def planted(column: list, n: int = N, *, fill=None) -> list:
    """The planted values first, then ``fill`` (missing by default) up to n rows."""
    return list(column) + [fill] * (n - len(column))


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
    return {
        "summary": findings.summary,
        "recommendation": findings.recommendation,
        "status": findings.status,
        "metrics": {k: m.to_dict() for k, m in findings.metrics.items()},
        "evidence": [e.to_dict() for e in findings.evidence],
        "figures": [f.to_dict() for f in findings.figures],
        "sample": findings.sample,
    }


def rows_for(findings, column) -> list[list]:
    return [r for e in findings.evidence for r in e.rows if r[0] == column]


def scan(values: list, **overrides) -> tuple:
    """PV001 on one extra text column 'probe' in train (clean otherwise)."""
    train = make_binary_frame(len(values), seed=1)
    train["probe"] = pd.Series(values, dtype=object)
    findings, status = run(pv.PersonalData, make_ctx(train), **overrides)
    return findings, status, rows_for(findings, "probe")


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


# -- PV001: clean data ----------------------------------------------------------------
def clean_frames(n: int = N, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean data with many text and numeric columns that are not identifiers."""
    out = []
    for s in (seed, seed + 1):
        frame = make_binary_frame(n, seed=s)
        rng = np.random.default_rng(s)
        frame["row_id"] = np.arange(n) + 10_000 * s  # an ordinary numeric ID
        frame["ref16"] = rng.integers(10**15, 10**16 - 1, n)  # long numeric IDs: about 10% pass Luhn by chance
        frame["order_code"] = [f"ORD-{i:06d}" for i in rng.integers(0, 999_999, n)]
        frame["city"] = rng.choice(["New York", "Los Angeles", "San Francisco", "Rio De Janeiro", "Paris"], n)
        frame["day"] = pd.Series(pd.date_range("2023-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M:%S"), dtype=object)
        frame["version"] = [f"v{a}.{b}.{c}" for a, b, c in rng.integers(0, 20, (n, 3))]
        frame["comment"] = [f"ordered {a} items at {b / 10:.1f} kg, batch {c}" for a, b, c in rng.integers(1, 999, (n, 3))]
        frame["amount"] = rng.normal(100, 20, n).round(2)
        frame["flag"] = rng.uniform(size=n) < 0.5
        out.append(frame)
    return out[0], out[1]


def test_clean_data_passes():
    train, test = clean_frames()
    findings, status = run(pv.PersonalData, make_ctx(train, test))
    assert status == "pass", (findings.summary, findings.evidence)
    assert value(findings, "identifier_columns") == 0 and value(findings, "possible_identifier_columns") == 0
    assert value(findings, "columns_scanned") == len(train.columns)
    assert findings.summary == f"Scanned {len(train.columns)} columns of the train and test data: no column holds direct identifiers."
    assert findings.evidence == [] and findings.figures == []


def test_shared_clean_context_passes():
    from tests.planted import clean_context

    for cls in pv.CHECKS:
        findings, status = run(cls, clean_context())
        assert status == "pass", (cls.id, findings.summary)


# -- PV001: each kind ---------------------------------------------------------------
def test_planted_emails_are_counted():
    values = planted(emails(150), fill="n/a")
    findings, status, rows = scan(values)
    assert status == "fail" and value(findings, "identifier_columns") == 1
    assert rows == [["probe", "train", "e-mail address", "values", 150, N, 0.075, "no", "name@domain.tld"]]
    assert "e-mail address in 'probe'" in findings.summary


def test_emails_in_free_text_and_only_missing_elsewhere():
    text = [f"please write to {e} before Friday" for e in emails(80)]
    _, status, rows = scan(planted(text))
    assert status == "fail"
    assert rows[0][4:7] == [80, 80, 1.0]  # the share is of non-missing values


def test_planted_luhn_valid_cards_are_counted_and_lookalikes_ignored():
    train = make_binary_frame(N, seed=1)
    train["pay"] = pd.Series(planted(valid_cards(120)), dtype=object)  # plain, spaced and dashed
    train["lookalike"] = pd.Series(planted(invalid_cards(600)), dtype=object)  # 16 digits, all failing Luhn
    train["ref16"] = np.random.default_rng(0).integers(10**15, 10**16 - 1, N)  # numeric IDs, ~10% pass by chance
    train["row_id"] = np.arange(N)
    cards = [int(c.replace(" ", "").replace("-", "")) for c in valid_cards(300, seed=5)]
    train["card_int"] = pd.Series(cards + [None] * (N - 300), dtype="Int64")
    findings, status = run(pv.PersonalData, make_ctx(train))
    assert status == "fail" and value(findings, "identifier_columns") == 2
    assert rows_for(findings, "pay") == [["pay", "train", "payment card number (valid Luhn checksum)", "values", 120, 120, 1.0,
                                          "no", "9999 9999 9999 9999"]]
    assert rows_for(findings, "card_int")[0][4:6] == [300, 300]
    for col in ("lookalike", "ref16", "row_id"):
        assert rows_for(findings, col) == [], col


def test_cards_among_lookalikes_need_most_numbers_to_pass_luhn():
    mostly_valid = valid_cards(300) + invalid_cards(100)
    _, status, rows = scan(planted(mostly_valid))
    assert status == "fail" and rows[0][4] == 300
    mostly_invalid = valid_cards(100) + invalid_cards(900)
    _, status, rows = scan(planted(mostly_invalid))
    assert status == "pass" and rows == []


def test_card_numbers_stored_as_whole_floats():
    cards = [float(c) for c in valid_cards(200, seed=3)[::3]]  # plain-format ones only
    train = make_binary_frame(N, seed=1)
    train["probe"] = cards + [np.nan] * (N - len(cards))
    findings, _ = run(pv.PersonalData, make_ctx(train))
    # below 2**53 a 16-digit card survives the float conversion exactly
    exact = sum(1 for c in cards if c < 2**53)
    assert rows_for(findings, "probe")[0][4] == exact


PHONES = ["+44 20 7946 0958", "+14155552671", "+1 (415) 555-2671", "(415) 555-2671", "415-555-2671", "415.555.2671",
          "020 7946 0958", "07700 900123", "01 23 45 67 89", "call me on +49 30 1234567 after six"]
NOT_PHONES = ["2024-01-15", "12345678901", "3.14159265", "ORD-123456", "10:15:30", "1,234,567", "+1", "v1.2.3", "+12345",
              "012-345", "05-2023", "15.01.2024", "0012 3456 7890 12"]


def test_phone_numbers():
    values = planted(PHONES * 10 + NOT_PHONES * 10)
    _, status, rows = scan(values, kinds=["phone"])
    assert status == "fail" and rows[0][2:5] == ["phone number", "values", 100]
    _, status, rows = scan(planted(NOT_PHONES * 50), kinds=list(pv.VALUE_KINDS))
    assert status == "pass" and rows == []


def test_us_ssn_and_uk_national_insurance_numbers():
    ssn = ["123-45-6789", "078-05-1120", "219-09-9999", "SSN 536-22-1234 on file"] * 10
    impossible = ["000-12-3456", "666-12-3456", "987-65-4321", "123-00-4567", "123-45-0000", "1234-56-7890"] * 10
    _, status, rows = scan(planted(ssn + impossible))
    assert status == "fail" and [r[2:5] for r in rows] == [["US social security number", "values", 40]]
    nino = ["AB123456C", "JG 10 37 59 A", "ni: ZE 12 34 56 D"] * 10
    bad_nino = ["BG123456C", "DA123456C", "AB123456E", "QQ123456C"] * 10
    _, status, rows = scan(planted(nino + bad_nino))
    assert status == "fail" and [r[2:5] for r in rows] == [["UK national insurance number", "values", 30]]


def test_ibans_with_a_valid_checksum():
    rng = np.random.default_rng(0)
    good = [iban("DE", "".join(map(str, rng.integers(0, 10, 18)))) for _ in range(40)] + KNOWN_VALID_IBANS * 5
    spaced = [" ".join(x[i:i + 4] for i in range(0, len(x), 4)) for x in good[:20]]
    broken = [x[:2] + f"{(int(x[2:4]) + 1) % 100:02d}" + x[4:] for x in good]
    _, status, rows = scan(planted(good + spaced + broken))
    kinds = {r[2]: r[4] for r in rows}
    assert status == "fail" and kinds == {"IBAN (valid mod-97 checksum)": 80}


def test_ip_addresses():
    ips = ["192.168.1.20", "10.0.0.1", "8.8.8.8", "from 203.0.113.7 at noon", "2001:db8::1", "fe80::1ff:fe23:4567:890a"] * 10
    not_ips = ["999.1.1.1", "1.2.3", "10:15:30", "1.2.3.4.5", "::", "v1.2.3.4a", "12:34"] * 10
    _, status, rows = scan(planted(ips + not_ips))
    assert status == "fail" and [r[2:5] for r in rows] == [["IP address", "values", 60]]


def test_person_names_and_repeated_two_word_categories():
    names = person_names(N)
    _, status, rows = scan(names)
    two_or_three_words = sum(1 for v in names if len(v.split()) <= 3)  # "Ada B. Ní Bhriain" has four
    assert 0.8 * N < two_or_three_words < N
    assert status == "fail" and rows[0][2:5] == ["person name", "values", two_or_three_words]
    cities = list(np.random.default_rng(0).choice(["New York", "Los Angeles", "San Francisco"], N))
    _, status, rows = scan(cities)
    assert status == "pass" and rows == []


def test_name_hint_alone_is_possible():
    train = make_binary_frame(N, seed=1)
    # Single surnames fit the kind the name suggests but are no full names: flagged by the name alone.
    # (Since issue 15 a name hint needs values that fit: np.arange(N) here, as before, is dismissed.)
    train["surname"] = pd.Series([LAST[i % len(LAST)] for i in range(N)], dtype=object)
    train["Email"] = pd.Series([None] * N, dtype=object)  # nothing to judge: the name stands
    findings, status = run(pv.PersonalData, make_ctx(train))
    assert status == "warn"
    assert value(findings, "identifier_columns") == 0 and value(findings, "possible_identifier_columns") == 2
    assert sorted(r[0] for r in findings.evidence[0].rows) == ["Email", "surname"]
    assert {r[3] for r in findings.evidence[0].rows} == {"column name"}
    findings, status = run(pv.PersonalData, make_ctx(train), name_hints=False)
    assert status == "pass"


def test_few_matches_are_possible_and_confirmed_hint_is_one_identifier():
    sparse = planted([f"contact {e}" for e in emails(3)], fill="fine")  # 3 of 2000 values
    _, status, rows = scan(sparse)
    assert status == "warn" and rows[0][3:5] == ["a few values", 3]
    train = make_binary_frame(N, seed=1)
    train["email"] = emails(N)
    findings, status = run(pv.PersonalData, make_ctx(train))
    assert value(findings, "identifier_columns") == 1 and value(findings, "possible_identifier_columns") == 0
    assert [r[3] for r in rows_for(findings, "email")] == ["values"]


def test_every_dataset_is_scanned_and_model_inputs_marked():
    train, test = make_binary_frame(N, seed=1), make_binary_frame(N, seed=2)
    current = make_binary_frame(N, seed=3)
    test["note"] = pd.Series(planted(emails(50)), dtype=object)
    current["colour"] = pd.Series(planted(person_names(N)), dtype=object)  # a model input in production
    findings, status = run(pv.PersonalData, make_ctx(train, test, current=current))
    assert status == "fail" and value(findings, "identifier_columns") == 2
    assert [r[:2] + r[4:5] + r[7:8] for r in rows_for(findings, "note")] == [["note", "test", 50, "no"]]
    assert [r[:2] + r[7:8] for r in rows_for(findings, "colour")] == [["colour", "current", "yes"]]
    findings, status = run(pv.PersonalData, make_ctx(train, test, current=current), columns="model_inputs")
    assert value(findings, "identifier_columns") == 1 and rows_for(findings, "note") == []


def test_sampling_is_recorded_and_counts_are_of_the_sample():
    train = make_binary_frame(20_000, seed=1)
    train["mail"] = emails(20_000)
    findings, _ = run(pv.PersonalData, make_ctx(train), max_rows=1000)
    assert findings.sample["rows_used"] == 1000 and findings.sample["rows_available"] == 20_000
    assert rows_for(findings, "mail")[0][4:7] == [1000, 1000, 1.0]


def test_unknown_kind_is_an_error_with_the_expected_message():
    with pytest.raises(ValueError, match=r"The 'kinds' parameter of PV001 must list kinds among .*; got \['passport'\]\."):
        run(pv.PersonalData, make_ctx(make_binary_frame(100)), kinds=["email", "passport"])


# -- PV001: nothing planted leaks ----------------------------------------------------
def leaky_ctx() -> tuple[AuditContext, list[str]]:
    train, test = make_binary_frame(N, seed=1), make_binary_frame(N, seed=2)
    planted_values = {
        "contact": emails(200),
        "card": valid_cards(200),
        "phone_no": PHONES * 20,
        "tax": ["123-45-6789", "078-05-1120"] * 100,
        "acct": KNOWN_VALID_IBANS * 50,
        "host": ["192.168.1.20", "2001:db8::1"] * 100,
        "customer": person_names(N, seed=3),
    }
    for col, values in planted_values.items():
        train[col] = pd.Series(planted(values), dtype=object)
        test[col] = pd.Series(planted(values[::-1]), dtype=object)
    secrets = [v for values in planted_values.values() for v in values]
    secrets += [c.replace(" ", "").replace("-", "") for c in planted_values["card"]]
    secrets += [c[-4:] + "\"" for c in planted_values["card"]]  # no last-four digits at the end of a string either
    return make_ctx(train, test), secrets


def test_report_never_contains_planted_values():
    ctx, secrets = leaky_ctx()
    findings, status = run(pv.PersonalData, ctx)
    assert status == "fail" and value(findings, "identifier_columns") == 7
    text = json.dumps(payload(findings), ensure_ascii=False)
    leaked = [s for s in set(secrets) if s in text]
    assert leaked == []
    for part in ("@example", "Lovelace", "4111", "WEST", "192.168"):
        assert part not in text


# -- PV001: hostile names, reproducibility -------------------------------------------
def hostile_ctx() -> AuditContext:
    train = make_binary_frame(N, seed=1).rename(columns=dict(zip(FEATURES, HOSTILE)))
    train[HOSTILE[0] + " email"] = pd.Series(planted(emails(100)), dtype=object)
    train[HOSTILE[2]] = "<img src=x onerror=alert(1)>"
    return make_ctx(train, features=HOSTILE)


def test_hostile_column_names():
    findings, status = run(pv.PersonalData, hostile_ctx())
    assert status == "fail" and findings.evidence[0].rows[0][0] == HOSTILE[0] + " email"
    data = payload(findings)
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    for fig in findings.figures:
        assert "<script" not in fig.svg and "<img" not in fig.svg
    again, _ = run(pv.PersonalData, hostile_ctx())
    assert payload(again) == data


def test_same_seed_same_findings_and_seed_moves_the_sample():
    ctx, _ = leaky_ctx()
    first, _ = run(pv.PersonalData, ctx, max_rows=500)
    again, _ = run(pv.PersonalData, leaky_ctx()[0], max_rows=500)
    assert payload(first) == payload(again)
    ctx.seed = 1
    other, status = run(pv.PersonalData, ctx, max_rows=500)
    assert other.sample["seed"] != first.sample["seed"] and status == "fail"


def test_degenerate_input_pv001():
    empty = make_binary_frame(10).iloc[:0]
    findings, status = run(pv.PersonalData, make_ctx(empty))
    assert status == "pass" and findings.summary.startswith("Scanned 5 columns of the train data")
    all_nan = make_binary_frame(100).assign(colour=pd.Series([None] * 100, dtype=object))
    findings, status = run(pv.PersonalData, make_ctx(all_nan))
    assert status == "pass"


# -- PV002 membership inference ------------------------------------------------------
def noisy_frames(n_train: int, n_test: int, *, flip: float, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = make_binary_frame(n_train + n_test, seed=seed)
    flips = np.random.default_rng(seed).uniform(size=len(frame)) < flip
    frame.loc[flips, "y"] = 1 - frame.loc[flips, "y"]
    return frame.iloc[:n_train], frame.iloc[n_train:]


def fitted(estimator, train: pd.DataFrame):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"]),
                              ("num", StandardScaler(), ["x1", "x2", "noise"])])
    return SklearnAdapter(Pipeline([("prep", prep), ("est", estimator)]).fit(train[FEATURES], train["y"]))


def test_membership_unpruned_tree_on_noisy_labels_fails():
    from sklearn.tree import DecisionTreeClassifier

    train, test = noisy_frames(2500, 1500, flip=0.2)
    findings, status = run(pv.MembershipInference, make_ctx(train, test, model=fitted(DecisionTreeClassifier(random_state=0), train)))
    assert status == "fail", findings.summary
    auc = findings.metrics["attack_auc"]
    assert auc.ci_low > 0.7 and value(findings, "membership_advantage") > 0.35
    # a memorising model: zero training loss, so AUC = 0.5 + (test error) / 2 and advantage = test error
    assert value(findings, "train_mean_loss") == pytest.approx(0.0, abs=1e-9)
    assert findings.sample["by_role"]["train"]["rows_used"] == 1500 == findings.sample["by_role"]["test"]["rows_used"]


def test_membership_one_nearest_neighbour_fails():
    from sklearn.neighbors import KNeighborsClassifier

    train, test = noisy_frames(2000, 2000, flip=0.25, seed=7)
    findings, status = run(pv.MembershipInference, make_ctx(train, test, model=fitted(KNeighborsClassifier(1), train)))
    assert status == "fail", findings.summary


def test_membership_regularised_logistic_regression_passes():
    from sklearn.linear_model import LogisticRegression

    train, test = noisy_frames(6000, 3000, flip=0.1, seed=9)
    findings, status = run(pv.MembershipInference, make_ctx(train, test, model=fitted(LogisticRegression(C=0.1), train)))
    assert status == "pass", findings.summary
    auc = findings.metrics["attack_auc"]
    assert auc.ci_low < 0.5 < auc.ci_high and abs(auc.value - 0.5) < 0.03
    assert value(findings, "membership_advantage") < 0.06 and "confidence_attack_auc" in findings.metrics


def test_membership_regression_memorising_tree_fails():
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(0)
    frame = make_binary_frame(3000, seed=3)
    frame["y"] = 2 * frame["x1"] + rng.normal(0, 1, len(frame))
    train, test = frame.iloc[:2000], frame.iloc[2000:]
    model = fitted(DecisionTreeRegressor(random_state=0), train)
    findings, status = run(pv.MembershipInference, make_ctx(train, test, model=model, task="regression"))
    assert status == "fail" and value(findings, "attack_auc") > 0.95
    assert "confidence_attack_auc" not in findings.metrics and "squared error" in findings.summary


def test_membership_without_probabilities_uses_zero_one_loss():
    from sklearn.svm import LinearSVC

    train, test = noisy_frames(1500, 1500, flip=0.1)
    findings, status = run(pv.MembershipInference, make_ctx(train, test, model=fitted(LinearSVC(), train)))
    assert status == "pass" and "0/1 loss" in findings.summary


def test_membership_too_few_rows_is_inconclusive_and_reproducible():
    from sklearn.tree import DecisionTreeClassifier

    train, test = noisy_frames(300, 30, flip=0.2)
    ctx = make_ctx(train, test, model=fitted(DecisionTreeClassifier(random_state=0), train))
    findings, status = run(pv.MembershipInference, ctx)
    assert status == "inconclusive"
    assert findings.summary == ("Inconclusive: 30 labelled rows per side (training and test); at least 50 are needed "
                                "to measure an attack.")
    train, test = noisy_frames(1000, 800, flip=0.2)
    ctx = make_ctx(train, test, model=fitted(DecisionTreeClassifier(random_state=0), train))
    first, _ = run(pv.MembershipInference, ctx)
    again, _ = run(pv.MembershipInference, make_ctx(train, test, model=ctx.model))
    assert payload(first) == payload(again)
    assert json.loads(json.dumps(payload(first), allow_nan=False)) == payload(first)


def test_membership_multiclass_memorising_tree_fails_and_unlabelled_test_is_inconclusive():
    from sklearn.tree import DecisionTreeClassifier

    frame = make_binary_frame(3000, seed=4)
    rng = np.random.default_rng(4)
    labels = np.array(["low", "mid", "high"])
    codes = np.digitize(frame["x1"], [-0.43, 0.43])
    noisy = rng.uniform(size=len(frame)) < 0.5
    codes[noisy] = rng.integers(0, 3, noisy.sum())
    frame["y"] = labels[codes]
    train, test = frame.iloc[:2000], frame.iloc[2000:]
    model = fitted(DecisionTreeClassifier(random_state=0), train)
    ctx = make_ctx(train, test, model=model, task="multiclass")
    ctx.classes = sorted(labels.tolist())
    findings, status = run(pv.MembershipInference, ctx)
    assert status == "fail" and "cross-entropy" in findings.summary
    ctx.datasets["test"] = test.drop(columns="y").reset_index(drop=True)
    findings, status = run(pv.MembershipInference, ctx)
    assert status == "inconclusive" and findings.summary.startswith("Inconclusive: 0 labelled rows per side")


def test_batched_membership_advantage_equals_roc_curve_on_every_resample():
    from auditor.checks.privacy import membership_advantage

    rng = np.random.default_rng(3)
    member = (rng.uniform(size=400) < 0.5).astype(int)
    score = np.round(rng.normal(size=400) + 0.4 * member, 1)  # rounded: many ties
    idx = rng.integers(0, 400, (40, 400))
    idx[0] = 7  # one row repeated: a single class, no rates
    batched = membership_advantage.batched(member[idx], score[idx])
    one_by_one = [membership_advantage(member[row], score[row]) if len(set(member[row])) == 2 else np.nan for row in idx]
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-12, atol=1e-12, equal_nan=True)
    assert np.isnan(batched[0]) and np.nanmin(batched) >= 0
