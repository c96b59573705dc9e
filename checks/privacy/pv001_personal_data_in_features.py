"""PV001: direct identifiers in the data (personal data in features)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.context import combine_samples
from auditor.contract.results import MAX_EVIDENCE_ROWS, Evidence, Findings, Metric
from auditor.toolkit.figures import bar_chart
from auditor.util import wording
from auditor.util.lazy import lazy_module

from ._common import (
    CASE_HINT,
    DOB_HINT,
    KINDS,
    NOT_APPLICABLE,
    NOT_NAME_WORDS,
    ONE_CASE_NAME,
    PERSON_NAME,
    VALUE_KINDS,
    Pattern,
    name_hint,
)

np = lazy_module("numpy")
pd = lazy_module("pandas")
ptypes = lazy_module("pandas.api.types")

if TYPE_CHECKING:  # pragma: no cover
    from auditor.contract.context import AuditContext

# Evidence tables stay small: renderers show them whole.
MAX_ROWS = MAX_EVIDENCE_ROWS
# Roles scanned by PV001, in report order.
ROLES: tuple[str, ...] = ("train", "validation", "test", "current")


def _is_text(s: pd.Series) -> bool:
    dtype = s.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or ptypes.is_string_dtype(dtype)
        or ptypes.is_object_dtype(dtype)
    )


def _integral_text(s: pd.Series) -> pd.Series | None:
    """An integer column (or a float column holding only whole numbers) as digit strings; None otherwise.

    Card numbers read from a file often arrive as numbers; only the payment-card kind is
    looked for in them (a bare number is no e-mail, and too ambiguous to be a phone).
    """
    if ptypes.is_bool_dtype(s.dtype) or not ptypes.is_numeric_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype):
        return None
    values = s.dropna()
    if ptypes.is_float_dtype(values.dtype):
        x = values.to_numpy(dtype="float64")
        finite = np.isfinite(x)
        if not finite.all() or not np.array_equal(x, np.round(x)) or (np.abs(x) >= 2**63).any():
            return None
        values = pd.Series(x.astype(np.int64), index=values.index)
    if not ptypes.is_integer_dtype(values.dtype):
        return None
    return values.astype(str).astype(object)


def _candidates(values: pd.Series, pattern: Pattern) -> tuple[np.ndarray, np.ndarray]:
    """Per value: does it hold a match of the pattern, and does one of its matches pass the validator?

    Without a validator the two are the same. The validator runs once per distinct match.
    """
    if pattern.validate is None:
        hits = values.str.contains(pattern.regex, regex=True, na=False).to_numpy(dtype=bool)
        return hits, hits
    found = values.str.findall(pattern.regex).explode().dropna()
    seen, valid = np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    if found.empty:
        return seen, valid
    unique = found.unique()
    verdict = dict(zip(unique, pattern.validate(np.asarray(unique, dtype=object))))
    rows = found.map(verdict).astype(bool).groupby(level=0).any()
    positions = rows.index.to_numpy(dtype=np.int64)
    seen[positions] = True
    valid[positions[rows.to_numpy(dtype=bool)]] = True
    return seen, valid


@dataclass
class KindCount:
    matches: int
    scanned: int
    #: payment cards only: values holding a 13-19 digit number, valid or not
    candidates: int | None = None
    #: person names and case numbers: distinct matching values per matching value
    distinct: float | None = None
    #: dates of birth only: years between the 5th and 95th percentiles of the implied ages
    span: float | None = None
    #: column-level kinds: whether the column's name says it holds this kind
    hinted: bool = False


#: Kinds judged on a whole column (its dtype, its name) rather than value by value.
COLUMN_KINDS: tuple[str, ...] = ("date_of_birth", "case_number")
# Date-only formats tried on text (a birth date has no time of day); the one that reads the
# most values wins, so day-first and month-first data are both read.
DATE_FORMATS: tuple[str, ...] = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%d %b %Y", "%b %d, %Y")
# Also read when the column's name says birth date: a date written with a time of day.
DATETIME_FORMATS: tuple[str, ...] = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
# A date implies an age: people are 0 to OLDEST_AGE years old on the audit's date.
OLDEST_AGE = 110
# A case or record number: letters and digits (at least one digit), in parts joined by - / . _ : #.
ID_LIKE = re.compile(r"(?=\D*\d)[A-Za-z0-9]+(?:[-/._:#][A-Za-z0-9]+)*")
ID_LENGTH = (4, 30)


def _dates(series: pd.Series, *, date_only: bool = True) -> pd.Series | None:
    """A column's non-missing values as dates (NaT where one is not a date), or None when the
    column holds no dates. With ``date_only``, values with a time of day are not dates: a
    datetime column with times is a log of events, not of births."""
    if ptypes.is_datetime64_any_dtype(series.dtype):
        values = series.dropna()
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        if not len(values) or (date_only and not bool((values == values.dt.normalize()).all())):
            return None
        return values
    if not _is_text(series):
        return None
    text = series.dropna().astype(str).str.strip()
    distinct = pd.Series(text.unique(), dtype=object)
    if distinct.empty or distinct.str.contains(r"\d", regex=True).mean() < 0.5:
        return None
    best, best_count = None, 0
    for fmt in DATE_FORMATS if date_only else DATE_FORMATS + DATETIME_FORMATS:
        parsed = pd.to_datetime(distinct, format=fmt, errors="coerce")
        count = int(parsed.notna().sum())
        if count > best_count:
            best, best_count = parsed, count
    if best is None:
        return None
    return text.map(dict(zip(distinct, best)))


def birth_dates(series: pd.Series, *, today: pd.Timestamp, hinted: bool) -> KindCount | None:
    """How many values of a column are dates that imply an age of 0 to OLDEST_AGE years on ``today``."""
    dates = _dates(series, date_only=not hinted)
    if dates is None:
        return None
    ages = ((today - dates).dt.days / 365.25).to_numpy(dtype=float, na_value=np.nan)
    plausible = (ages >= 0) & (ages <= OLDEST_AGE)
    k = int(plausible.sum())
    span = float(np.diff(np.percentile(ages[plausible], [5, 95]))[0]) if k else None
    return KindCount(k, int(series.notna().sum()), span=span, hinted=hinted)


def case_numbers(series: pd.Series) -> KindCount | None:
    """How many text values of a column are ID-like codes ("C-2013-004512"), and how distinct they are."""
    if not _is_text(series):
        return None
    text = series.dropna().astype(str).str.strip()
    if text.empty:
        return None
    low, high = ID_LENGTH
    like = text.str.fullmatch(ID_LIKE, na=False).to_numpy(dtype=bool) & text.str.len().between(low, high).to_numpy(dtype=bool)
    k = int(like.sum())
    return KindCount(k, len(text), distinct=(text[like].nunique() / k) if k else None, hinted=True)


# A column whose values take at most this many levels, each repeated (distinct values per
# value at most CODE_SHARE), holds category codes ("landline" / "mobile", 1 / 2 / 3): no
# direct identifier, whatever its name says.
CODE_LEVELS = 12
CODE_SHARE = 0.5
# Share of a column's values that must have the shape of the kind its name suggests.
HINT_FIT_SHARE = 0.5
_PHONE_TEXT = re.compile(r"[+(]?\d[\d ().\-/]*")
_ALPHABETIC = re.compile(r"[^\W\d_]+(?:[ '’.\-]+[^\W\d_]+)*\.?")


def _share(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else 0.0


def fits_hint(label: str, series: pd.Series) -> bool | None:
    """Whether a column's values are consistent with the kind of personal data its name suggests.

    None when the column has no values to judge (the name stands alone). False for a bool
    column, for category codes (CODE_LEVELS, CODE_SHARE) and for values of the wrong shape:
    a phone number has 7 to 15 digits and nothing but separators besides; a person name is
    letters; an e-mail address is text; a postal address is text or (a postcode) a number; a
    date of birth is a date or a number (a year); identifying numbers (card, bank account,
    national ID, case number, IP address) hold digits.
    """
    values = series.dropna()
    if values.empty:
        return None
    if ptypes.is_bool_dtype(values.dtype):
        return False
    levels = int(values.nunique())
    if levels <= CODE_LEVELS and levels / len(values) <= CODE_SHARE:
        return False
    if label == DOB_HINT:  # dates, or numbers (a year, 19850314)
        return ptypes.is_numeric_dtype(values.dtype) or _dates(series, date_only=False) is not None
    text_values = _is_text(values)
    as_text = values.astype(str).str.strip()
    digits = as_text.str.count(r"\d")
    if label == "phone number":
        shaped = as_text.str.fullmatch(_PHONE_TEXT, na=False) if text_values else pd.Series(True, index=values.index)
        return _share(shaped & digits.between(7, 15)) >= HINT_FIT_SHARE
    if label == "person name":
        return text_values and _share(as_text.str.fullmatch(_ALPHABETIC, na=False)) >= HINT_FIT_SHARE
    if label == "e-mail address":
        return text_values
    if label == "postal address":
        return True
    return _share(digits > 0) >= HINT_FIT_SHARE


def scan_values(values: pd.Series, kinds: list[str], *, max_chars: int) -> dict[str, KindCount]:
    """How many of these (non-missing) values hold each kind of identifier.

    ``values`` is text; each value is cut to its first ``max_chars`` characters. Each
    distinct value is searched once and counted as often as it occurs, and a pattern only
    searches the values that hold what every match of it holds (its ``needs``: a digit,
    '@', '+', ':'): a cheap pass that spares most values the costly patterns.
    """
    counted = values.astype(str).astype(object).str.slice(0, max_chars).value_counts(sort=False)
    distinct = pd.Series(counted.index.to_numpy(dtype=object), dtype=object)
    weight = counted.to_numpy(dtype=np.int64)
    n = int(weight.sum())
    holds: dict[str, np.ndarray] = {}

    def having(needs: str) -> np.ndarray:
        if needs not in holds:
            holds[needs] = distinct.str.contains(needs, regex=True, na=False).to_numpy(dtype=bool)
        return holds[needs]

    counts: dict[str, KindCount] = {}
    for kind in kinds:
        if kind == "person_name":
            stripped = distinct.str.strip()
            full = stripped.str.fullmatch(PERSON_NAME, na=False).to_numpy(dtype=bool)
            one_case = stripped.str.fullmatch(ONE_CASE_NAME, na=False).to_numpy(dtype=bool, copy=True)
            if one_case.any():
                words = stripped[one_case].str.lower().str.split(" ")
                phrase = words.map(lambda w: bool(NOT_NAME_WORDS.intersection(w))).to_numpy(dtype=bool)
                one_case[np.flatnonzero(one_case)[phrase]] = False
            full = full | one_case
            k = int(weight[full].sum())
            counts[kind] = KindCount(k, n, distinct=(stripped[full].nunique() / k) if k else None)
            continue
        seen, hits = np.zeros(len(distinct), dtype=bool), np.zeros(len(distinct), dtype=bool)
        for pattern in KINDS[kind].patterns:
            where = np.flatnonzero(having(pattern.needs))
            if not len(where):
                continue
            subset = distinct.iloc[where].reset_index(drop=True)
            if kind == "payment_card":
                # An IBAN's digit groups look like a card number: blank IBANs out first.
                iban = KINDS["iban"].patterns[0]
                may_be_iban = having(iban.needs)[where]
                if may_be_iban.any():
                    subset = subset.copy()
                    subset[may_be_iban] = subset[may_be_iban].str.replace(iban.regex, " ", regex=True)
            s_rows, v_rows = _candidates(subset, pattern)
            seen[where[s_rows]] = True
            hits[where[v_rows]] = True
        counts[kind] = KindCount(
            int(weight[hits].sum()), n, candidates=int(weight[seen].sum()) if kind == "payment_card" else None,
        )
    return counts


# -- PV001 -----------------------------------------------------------------------------
class PersonalData(Check):
    """Direct identifiers in the data (personal data in features)

    What it checks:
        Every column of every dataset given (train, and validation, test and current
        when present; ``columns: model_inputs`` limits it to the model's inputs) for
        values that look like direct identifiers, on a seeded sample of at most
        ``max_rows`` rows per dataset (each value cut to ``max_chars`` characters):
        e-mail addresses; phone numbers (international E.164 with a leading '+', North
        American "(415) 555-2671" / "415-555-2671", national trunk-prefix formats with
        separators and 9 to 12 digits "020 7946 0958" / "01 23 45 67 89"); US social security numbers (ddd-dd-dddd, impossible
        area, group and serial numbers excluded); UK national insurance numbers; IBANs
        whose ISO 13616 mod-97 checksum is valid; payment card numbers (13 to 19 digits,
        spaces or dashes allowed) that pass the Luhn checksum; IPv4 and IPv6 addresses;
        and person names (values that are two or three capitalised words, or two or three
        words all in lower case or all in capitals such as "jermaine taylor", a middle
        initial allowed, none of them a function word such as "not" or "of"). Bare digit
        strings without a '+' or separators are not counted as phone numbers: they cannot
        be told from codes and amounts (a column name such as "phone" still flags them as
        possible). The scan is vectorised (pandas ``str.contains`` / ``extractall`` /
        ``fullmatch``; the Luhn and mod-97 checksums run on the distinct candidates only).
        Two kinds are judged per column: dates of birth (a datetime column without times
        of day, or text in a date-only format such as 1985-03-14 or 14/03/1985, whose
        dates imply ages of 0 to 110 years on the audit's date; times of day are allowed
        under a birth-date name) and case or record
        numbers (ID-like codes such as "C-2013-004512", letters and digits in parts, in a
        column whose name says so: "case_number", "docket", "file_no", "mrn", ...).

        A column is an identifier column when, in some dataset, at least ``min_matches``
        scanned values and a share ``min_share`` of them hold one kind. Some kinds need
        more: payment cards count only when at least ``min_luhn_share`` of the column's
        13-19 digit numbers pass the Luhn check (random digit strings pass one time in
        ten, so a column of long numeric IDs is not a card column); person names count
        when at least ``min_name_share`` of the values are names and at least
        ``min_name_distinct`` of those are distinct (a category like "New York" or
        "exec managerial" repeats); dates of birth count when at least
        ``min_column_share`` of the values are such dates and the column's name says
        birth date ("dob", "date_of_birth", ...); case numbers when at least
        ``min_column_share`` of the values are ID-like and at least ``min_id_distinct``
        of those are distinct. Integer columns, and float columns of whole numbers, are
        searched for card numbers only. ``identifier_columns`` counts them: fail above 0.

        A column is a possible identifier column when a few of its values match but
        fewer than the cut-offs above; when it holds such dates under another name and
        the implied ages spread over at least ``min_birth_span`` (20) years between their
        5th and 95th percentiles (a birth-date column by its values; events span a few
        years); or when its name suggests personal data ("email", "phone", "ssn", "name",
        "first_name", "surname", "address", "dob", "case_number", ...) and its values
        fit that kind. Values judge the name: a name hint is dismissed (and listed as
        such in the evidence) when in every dataset the column's values are category
        codes (at most 12 levels, each repeated: "landline" / "mobile", 1 / 2 / 3), a
        bool, or of another shape than the kind (a phone number has 7 to 15 digits and
        only separators besides; a person name is letters; an e-mail address is text; a
        date of birth is a date or a number; identifying numbers hold digits). A column
        with no values keeps its name hint. ``possible_identifier_columns`` counts those
        that are not identifier columns: warn above 0.

        The result never contains a scanned value, masked or not: evidence names the
        column, the dataset, the kind, the number and share of matching values among
        the non-missing values scanned, and the kind's generic form ("name@domain.tld")
        that does not come from the data. Even a masked example (the last four digits of
        a card, an initial, an e-mail domain) can single out a person in a small table,
        and the report is shared more widely than the data.

    Why it matters:
        A direct identifier adds no generalisable signal to a model but makes its
        training data, its logs and the model itself personal data: a model can memorise
        and leak it, and every copy of the data falls under data-protection law
        (GDPR Article 5(1)(c) data minimisation, Article 25 data protection by design).
        A model keyed on names or e-mail domains can also discriminate by proxy.

    How to fix:
        Drop direct identifiers before training, or replace them with a salted hash or a
        surrogate key kept outside the model's inputs (declare it with ``--id-column``);
        keep only the derived features the model needs (an e-mail's domain type, an area
        code). Remove identifiers from free-text fields, or drop the fields. Where a
        column is a false alarm (a product code that looks like a phone number, a
        four-part version string that looks like an IP address), remove the kind with
        the ``kinds`` parameter or waive the finding with the reason.

    References:
        P8.2 and P1.1 of the practices; Regulation (EU) 2016/679 (GDPR), Articles 4(1),
        5(1)(c) and 25; NIST SP 800-122, Guide to Protecting the Confidentiality of
        Personally Identifiable Information (2010); ISO/IEC 7812-1 (Luhn check digit);
        ISO 13616-1 (IBAN); ITU-T E.164.
    """

    id = "PV001"
    name = "personal-data-in-features"
    area = "privacy"
    severity = "high"
    needs = frozenset({"train"})
    params = {
        "max_rows": Param(default=5000, kind="int", low=10, high=10_000_000, help="rows scanned per dataset at most (a seeded sample above)"),
        "max_chars": Param(default=1000, kind="int", low=20, high=1_000_000, help="characters of each value scanned at most"),
        "min_matches": Param(default=5, kind="int", low=1, high=1_000_000, help="fewest matching values for an identifier column"),
        "min_share": Param(default=0.01, kind="float", low=0.0, high=1.0, help="smallest share of matching values for an identifier column"),
        "min_luhn_share": Param(default=0.5, kind="float", low=0.0, high=1.0, help="share of a column's 13-19 digit numbers that must pass the Luhn check"),
        "min_name_share": Param(default=0.8, kind="float", low=0.0, high=1.0, help="share of values that must look like person names"),
        "min_name_distinct": Param(default=0.5, kind="float", low=0.0, high=1.0, help="distinct values per name-like value for a person-name column"),
        "min_column_share": Param(
            default=0.9, kind="float", low=0.0, high=1.0,
            help="share of values that must be birth dates (ages 0 to 110) or case numbers for a column of that kind",
        ),
        "min_birth_span": Param(
            default=20.0, kind="float", low=0.0, high=110.0,
            help="years between the 5th and 95th percentile of implied ages for a date column not named as a birth date to read as one",
        ),
        "min_id_distinct": Param(default=0.9, kind="float", low=0.0, high=1.0, help="distinct values per ID-like value for a case or record number column"),
        "kinds": Param(default=list(VALUE_KINDS), kind="list", help=f"kinds of identifier looked for in values, among {list(VALUE_KINDS)}"),
        "name_hints": Param(default=True, kind="bool", help="flag columns whose name suggests personal data"),
        "columns": Param(default="all", kind="str", choices=("all", "model_inputs"), help="which columns are scanned"),
    }
    thresholds = {
        "identifier_columns": Threshold(direction="above", fail=0, low=0, help="columns whose values hold direct identifiers"),
        "possible_identifier_columns": Threshold(
            direction="above", warn=0, low=0,
            help="other columns whose name suggests personal data or with a few identifier-like values",
        ),
    }
    practices = ("P8.2", "P1.1")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 10", "nist_ai_rmf:MEASURE 2.10", "iso_42001:A.5.4")
    references = (
        "Regulation (EU) 2016/679 (GDPR), Articles 4(1), 5(1)(c) and 25",
        "NIST SP 800-122, Guide to Protecting the Confidentiality of Personally Identifiable Information (2010)",
        "ISO/IEC 7812-1 (Luhn check digit); ISO 13616-1 (IBAN); ITU-T E.164",
    )

    def run(self, ctx: AuditContext, params: dict[str, Any]) -> Findings:
        kinds = list(params["kinds"])
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"The 'kinds' parameter of {self.id} must list kinds among {list(VALUE_KINDS)}; got {unknown!r}.")
        seed = ctx.seed_for(self.id)
        roles = [r for r in ROLES if ctx.has(r)]
        records: dict[str, dict[str, Any]] = {}
        # (column, kind) -> {role: KindCount}; a dict keeps the columns' first-seen order
        found: dict[tuple[Any, str], dict[str, KindCount]] = {}
        columns_seen: dict[Any, None] = {}
        model_inputs = set(ctx.features)
        value_kinds = [k for k in kinds if k not in COLUMN_KINDS]
        today = pd.Timestamp(ctx.today if ctx.today is not None else dt.date.today())
        # Per column with a name hint: do its values fit the kind? (True in some dataset,
        # False in every dataset with values, None when no dataset has a value.)
        fits: dict[Any, bool | None] = {}
        for role in roles:
            frame = ctx.frame(role)
            idx, records[role] = ctx.sample_index(role, int(params["max_rows"]), check_id=self.id)
            cols = [c for c in frame.columns if params["columns"] == "all" or c in model_inputs]
            for col in cols:
                columns_seen.setdefault(col, None)
                series = frame[col].iloc[idx]
                hint = name_hint(col) if params["name_hints"] else None
                if hint is not None:
                    fit = fits_hint(hint, series)
                    if fit is not None:
                        fits[col] = bool(fits.get(col)) or fit
                column_counts: dict[str, KindCount | None] = {}
                if "date_of_birth" in kinds:
                    column_counts["date_of_birth"] = birth_dates(series, today=today, hinted=hint == DOB_HINT)
                if "case_number" in kinds and hint == CASE_HINT:
                    column_counts["case_number"] = case_numbers(series)
                for kind, count in column_counts.items():
                    if count is not None and count.matches:
                        found.setdefault((col, kind), {})[role] = count
                if _is_text(series):
                    values, col_kinds = series.dropna(), value_kinds
                else:
                    values = _integral_text(series)
                    col_kinds = [k for k in value_kinds if k == "payment_card"]
                if values is None or not len(values) or not col_kinds:
                    continue
                for kind, count in scan_values(values, col_kinds, max_chars=int(params["max_chars"])).items():
                    if count.matches:
                        found.setdefault((col, kind), {})[role] = count

        identifier: dict[Any, list[str]] = {}
        possible: dict[Any, list[str]] = {}
        rows: list[tuple[int, float, list[Any]]] = []
        for (col, kind), by_role in found.items():
            for role, count in by_role.items():
                verdict = self._verdict(kind, count, params)
                if verdict is None:
                    continue
                (identifier if verdict == "identifier" else possible).setdefault(col, []).append(KINDS[kind].label)
                share = count.matches / count.scanned
                rows.append((0 if verdict == "identifier" else 1, -share, [
                    col, role, KINDS[kind].label,
                    "values" if verdict == "identifier" else "values, not named as such" if kind in COLUMN_KINDS else "a few values",
                    count.matches, count.scanned, round(share, 6), "yes" if col in model_inputs else "no", KINDS[kind].form,
                ]))
        dismissed: list[list[Any]] = []
        if params["name_hints"]:
            for col in columns_seen:
                hint = name_hint(col)
                if hint is None or col in identifier:
                    continue
                if fits.get(col) is False:  # category codes, or values of another shape: the name misleads
                    dismissed.append([col, hint, "yes" if col in model_inputs else "no"])
                    continue
                possible.setdefault(col, []).append(f"{hint} (column name)")
                rows.append((1, 0.0, [col, NOT_APPLICABLE, hint, "column name", NOT_APPLICABLE, NOT_APPLICABLE,
                                      NOT_APPLICABLE, "yes" if col in model_inputs else "no", NOT_APPLICABLE]))
        possible = {c: k for c, k in possible.items() if c not in identifier}
        rows = [r for r in rows if r[0] == 0 or r[2][0] not in identifier]
        rows.sort(key=lambda r: (r[0], r[1]))
        table = [r[2] for r in rows]

        def dedupe(labels: list[str]) -> list[str]:
            return list(dict.fromkeys(labels))

        sample = combine_samples(records, seed)
        scanned = f"{wording.count(len(columns_seen), 'column')} of the {_listing(roles)} data"
        if identifier:
            listed = "; ".join(f"{', '.join(dedupe(k))} in {c!r}" for c, k in list(identifier.items())[:3])
            more = f" and {len(identifier) - 3} more" if len(identifier) > 3 else ""
            verb = "holds" if len(identifier) == 1 else "hold"
            summary = f"Scanned {scanned}: {wording.count(len(identifier), 'column')} {verb} direct identifiers ({listed}{more})"
        else:
            summary = f"Scanned {scanned}: no column holds direct identifiers"
        if possible:
            names = ", ".join(repr(c) for c in list(possible)[:3]) + (f" and {len(possible) - 3} more" if len(possible) > 3 else "")
            which = wording.count(len(possible), "other column" if identifier else "column")
            summary += f"; {which} may hold personal data ({names})."
        else:
            summary += "."
        evidence = [Evidence(
            title="Columns with identifier-like values or names",
            columns=["column", "dataset", "kind", "found by", "matching values", "values scanned", "share",
                     "model input", "generic form"],
            rows=table[:MAX_ROWS],
            note=(
                "Counts are of non-missing values in the scanned sample. The generic form is fixed text for the kind; "
                "no value from the data is shown." + (f" {len(table) - MAX_ROWS} more rows not shown." if len(table) > MAX_ROWS else "")
            ),
        )] if table else []
        if dismissed:
            evidence.append(Evidence(
                title="Column names that suggest personal data, not flagged: the values do not fit",
                columns=["column", "kind the name suggests", "model input"],
                rows=dismissed[:MAX_ROWS],
                note=(
                    "Their values are category codes (a few repeated levels) or do not have the kind's shape "
                    "(a phone number's digits, a name's letters, a date)."
                ),
            ))
        figures = []
        if identifier:
            best: dict[str, float] = {}
            for r in table:
                if r[3] == "values":
                    key = f"{r[0]} ({r[2].split(' (')[0]})"
                    best[key] = max(best.get(key, 0.0), float(r[6]))
            top = sorted(best.items(), key=lambda kv: -kv[1])[:MAX_ROWS]
            figures.append(bar_chart(
                "Share of values holding a direct identifier",
                [k for k, _ in top], {"share of values": [v for _, v in top]},
                xlabel="share of non-missing values scanned",
                caption="Largest share over the datasets, per column and kind of identifier.",
            ))
        return Findings(
            summary=summary,
            metrics={
                "identifier_columns": Metric(len(identifier), description="columns whose values hold direct identifiers"),
                "possible_identifier_columns": Metric(
                    len(possible), description="other columns whose name suggests personal data, or with a few identifier-like values",
                ),
                "columns_scanned": Metric(len(columns_seen), description="distinct columns scanned over the datasets"),
            },
            evidence=evidence,
            figures=figures,
            recommendation=(
                "Drop direct identifiers from the data before training, or replace them with a salted hash or a surrogate "
                "key kept out of the model's inputs; keep only the derived features the model needs. Review the possible "
                "identifier columns and drop or rename those that are personal data."
                if identifier or possible
                else "No action needed; keep identifiers out of the training data as it evolves."
            ),
            sample=sample,
        )

    @staticmethod
    def _verdict(kind: str, count: KindCount, params: dict[str, Any]) -> str | None:
        """'identifier', 'possible' or None for one kind's matches in one column of one dataset."""
        share = count.matches / count.scanned if count.scanned else 0.0
        enough = count.matches >= int(params["min_matches"]) and share >= float(params["min_column_share"])
        if kind == "date_of_birth":
            if not enough:
                return None
            if count.hinted:
                return "identifier"
            return "possible" if (count.span or 0.0) >= float(params["min_birth_span"]) else None
        if kind == "case_number":
            return "identifier" if enough and (count.distinct or 0.0) >= float(params["min_id_distinct"]) else None
        if kind == "person_name":
            name_like = share >= float(params["min_name_share"]) and (count.distinct or 0.0) >= float(params["min_name_distinct"])
            return "identifier" if name_like and count.matches >= int(params["min_matches"]) else None
        if kind == "payment_card" and count.candidates and count.matches / count.candidates < float(params["min_luhn_share"]):
            return None  # about one random digit string in ten passes the Luhn check
        if count.matches >= int(params["min_matches"]) and share >= float(params["min_share"]):
            return "identifier"
        return "possible"


def _listing(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
