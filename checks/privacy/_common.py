"""What the privacy checks share, and PV001's catalogue of direct identifiers.

The catalogue (the kinds of identifier, the patterns and checksums that find them in
values, the column names that suggest them) is PV001's alone; it lives here so that the
check's file holds the scan and the verdicts and stays readable.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditor.util.lazy import lazy_module

np = lazy_module("numpy")

NOT_APPLICABLE = "—"


# -- identifier kinds ------------------------------------------------------------------
def luhn_valid(numbers: Any) -> np.ndarray:
    """Whether each digit string passes the Luhn (mod 10) checksum of payment card numbers.

    Vectorised over the strings: they are right-aligned in a zero-padded digit matrix
    (leading zeros do not change the checksum), every second digit from the right is
    doubled, and the digit sums must add up to a multiple of ten. Strings that are empty,
    longer than 19 digits or hold anything but ASCII digits are invalid.
    """
    values = [str(v) for v in numbers]
    ok = np.array([0 < len(v) <= 19 and v.isascii() and v.isdigit() for v in values], dtype=bool)
    result = np.zeros(len(values), dtype=bool)
    if not ok.any():
        return result
    padded = "".join(v.rjust(19, "0") for v, good in zip(values, ok) if good)
    digits = (np.frombuffer(padded.encode("ascii"), dtype=np.uint8).reshape(-1, 19) - ord("0")).astype(np.int64)
    from_right = digits[:, ::-1]
    doubled = from_right[:, 1::2] * 2
    doubled -= np.where(doubled > 9, 9, 0)
    total = from_right[:, 0::2].sum(axis=1) + doubled.sum(axis=1)
    result[ok] = total % 10 == 0
    return result


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _card_numbers(candidates: np.ndarray) -> np.ndarray:
    digits = [_digits(c) for c in candidates]
    length_ok = np.array([13 <= len(d) <= 19 for d in digits], dtype=bool)
    return length_ok & luhn_valid(digits)


def _iban_valid(candidates: np.ndarray) -> np.ndarray:
    """ISO 13616 check: 15-34 characters whose rearranged numeric form is 1 modulo 97."""
    out = np.zeros(len(candidates), dtype=bool)
    for i, candidate in enumerate(candidates):
        code = re.sub(r"\s", "", str(candidate)).upper()
        if not 15 <= len(code) <= 34:
            continue
        rearranged = code[4:] + code[:4]
        out[i] = int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
    return out


def _e164_valid(candidates: np.ndarray) -> np.ndarray:
    """An international number has 8 to 15 digits after the '+' (ITU-T E.164)."""
    return np.array([8 <= len(_digits(c)) <= 15 for c in candidates], dtype=bool)


def _national_valid(candidates: np.ndarray) -> np.ndarray:
    """A national number written with its trunk prefix has 9 to 12 digits (shorter ones are codes)."""
    return np.array([9 <= len(_digits(c)) <= 12 for c in candidates], dtype=bool)


def _ipv6_valid(candidates: np.ndarray) -> np.ndarray:
    out = np.zeros(len(candidates), dtype=bool)
    for i, candidate in enumerate(candidates):
        try:
            out[i] = bool(re.search(r"[0-9A-Fa-f]", candidate)) and ipaddress.IPv6Address(candidate) is not None
        except ValueError:
            out[i] = False
    return out


@dataclass(frozen=True)
class Pattern:
    """One way a kind of identifier is written: a regex, and a check on each match where needed.

    Patterns have no capturing groups: a validator receives whole matches (``str.findall``).
    ``needs`` is a character class every match contains; values without it are not searched.
    """

    regex: re.Pattern[str]
    validate: Callable[[np.ndarray], np.ndarray] | None = None
    needs: str = r"\d"


@dataclass(frozen=True)
class Kind:
    label: str
    #: The kind's generic written form shown in evidence: fixed text, never derived from data.
    form: str
    patterns: tuple[Pattern, ...] = ()


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IBAN = r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"
KINDS: dict[str, Kind] = {
    "email": Kind("e-mail address", "name@domain.tld", (
        Pattern(re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"), needs="@"),
    )),
    "phone": Kind("phone number", "+99 99 9999 9999 or (999) 999-9999", (
        # international (E.164), written with a leading '+'
        Pattern(re.compile(r"(?<![\w+])\+[1-9](?:[ .-]?\(?\d+\)?){2,7}(?![\w+])"), _e164_valid, needs=r"\+\d"),
        # North American: (415) 555-2671, 415-555-2671, 415.555.2671
        Pattern(re.compile(r"(?<![\w(+.-])(?<!\d[ .-])(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w.-]|[ .-]\d)")),
        # national trunk-prefix formats with separators, 9 to 12 digits: 020 7946 0958, 07700 900123,
        # 030-1234567, 01 23 45 67 89
        Pattern(re.compile(
            r"(?<![\w+.-])(?<!\d[ .-])(?:0[1-9]\d{1,4}[ -]\d{3,4}(?:[ -]?\d{3,4})?|0[1-9](?:[ .-]\d{2}){4})(?![\w.-]|[ .-]\d)"
        ), _national_valid),
    )),
    "us_ssn": Kind("US social security number", "999-99-9999", (
        Pattern(re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")),
    )),
    "uk_nino": Kind("UK national insurance number", "AA 99 99 99 A", (
        Pattern(re.compile(
            r"(?<![\w])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?!\w)"
        )),
    )),
    "iban": Kind("IBAN (valid mod-97 checksum)", "CC99 XXXX XXXX XXXX …", (Pattern(re.compile(_IBAN), _iban_valid, needs=r"[A-Z]{2}\d\d"),)),
    "payment_card": Kind("payment card number (valid Luhn checksum)", "9999 9999 9999 9999", (
        Pattern(re.compile(
            r"(?<![\w.+-])(?:\d{13,19}|\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{1,7}|\d{4}[ -]\d{6}[ -]\d{4,5})"
            r"(?![\w-]|\.\d)"
        ), _card_numbers),
    )),
    "ip_address": Kind("IP address", "999.999.999.999 or IPv6", (
        Pattern(re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.\d)")),
        Pattern(re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:.])"), _ipv6_valid, needs=":"),
    )),
    "person_name": Kind("person name", "Firstname Lastname"),
    # Judged per column, not per value: a date-of-birth column and a case or record number
    # column (the latter only under a column name that says so).
    "date_of_birth": Kind("date of birth", "YYYY-MM-DD"),
    "case_number": Kind("case or record number", "X-9999-999999"),
}
VALUE_KINDS: tuple[str, ...] = tuple(KINDS)

_UP = "A-ZÀ-ÖØ-Þ"
_LOW = "a-zß-öø-ÿ"
# A capitalised word with at least one lower-case letter: "Ada", "McCarthy", "O'Neil", "Jean-Luc", "Ødegaard".
# Each continuation starts with a separator or a capital, so the pattern cannot backtrack exponentially.
_WORD = rf"[{_UP}](?:[{_LOW}]+|['’](?=[{_UP}]))(?:['’-][{_UP}]?[{_LOW}]+|[{_UP}][{_LOW}]+)*"
# Two or three capitalised words (a middle initial allowed): "Ada Lovelace", "Mary J. Blige", "Jean-Luc O'Neil".
PERSON_NAME = re.compile(rf"{_WORD}(?: (?:{_WORD}|[{_UP}]\.))? {_WORD}")
# The same written all in lower case or all in capitals ("jermaine taylor", "MARY J. BLIGE"):
# words of two or more letters, an apostrophe or hyphen between letters; each step consumes
# one letter, so the pattern cannot backtrack exponentially.
_LOWER_WORD = rf"[{_LOW}](?:['’-]?[{_LOW}])+"
_UPPER_WORD = rf"[{_UP}](?:['’-]?[{_UP}])+"
ONE_CASE_NAME = re.compile(
    rf"{_LOWER_WORD}(?: (?:{_LOWER_WORD}|[{_LOW}]\.))? {_LOWER_WORD}|{_UPPER_WORD}(?: (?:{_UPPER_WORD}|[{_UP}]\.))? {_UPPER_WORD}"
)
# Words that make a short phrase, not a name ("not married", "high in fat"); compared in lower case.
NOT_NAME_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "into", "is", "no", "non", "not", "of", "on",
    "or", "other", "per", "than", "the", "to", "unknown", "very", "via", "was", "with", "without", "yes",
})

# Column names that suggest personal data, matched on the name in snake_case (camelCase split,
# anything but letters and digits turned into '_'). First match wins.
NAME_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((label, re.compile(rx)) for label, rx in (
    ("e-mail address", r"(?:^|_)e_?mail(?:_|$)"),
    ("IP address", r"(?:^|_)(?:ip|ip_addr|ipv4|ipv6)(?:_|$)"),
    ("phone number", r"(?:^|_)(?:phone|telephone|tel|fax|msisdn|mobile_(?:phone|number|no)|cell_(?:phone|number))(?:_|$)"),
    ("payment card number", r"(?:^|_)(?:card_(?:number|no|num)|credit_card|debit_card|cc_(?:number|no|num)|ccn)(?:_|$)"),
    ("bank account", r"(?:^|_)(?:iban|bank_account|account_(?:number|no|num)|sort_code)(?:_|$)"),
    ("national ID", (r"(?:^|_)(?:ssn|social_security|nino|ni_number|national_insurance|national_id|passport|tax_id"
                     r"|drivers?_licen[cs]e|driving_licen[cs]e)(?:_|$)")),
    ("person name", (r"^(?:(?:full|first|last|given|family|middle|maiden|nick|customer|client|patient|person|user|member"
                     r"|employee|contact|holder|account_holder|cardholder|owner)_?)?name$"
                     r"|(?:^|_)(?:surname|forename|first_name|last_name|full_name|given_name|family_name)(?:_|$)")),
    ("postal address", r"(?:^|_)(?:address|street|street_address|postcode|post_code|postal_code|zip|zip_code|zipcode)(?:_|$)"),
    ("date of birth", r"(?:^|_)(?:dob|date_of_birth|birth_date|birthdate|birthday)(?:_|$)"),
    ("case or record number", (r"(?:^|_)(?:case|docket|file|record|claim|medical_record|patient|court)_?(?:number|no|num|nr|ref)(?:_|$)"
                               r"|(?:^|_)(?:case_id|patient_id|docket|mrn)(?:_|$)")),
))
#: The value kind whose column needs the name hint above (an ID-like code alone is no case number).
CASE_HINT = "case or record number"
DOB_HINT = "date of birth"


def _snake(name: str) -> str:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def name_hint(column: Any) -> str | None:
    """The kind of personal data a column's name suggests, or None."""
    snake = _snake(column)
    return next((label for label, rx in NAME_HINTS if rx.search(snake)), None)
