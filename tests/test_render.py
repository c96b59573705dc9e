"""Renderer tests: every format is drawn from the report dict, escapes what it must,
and write_reports is all-or-nothing."""

from __future__ import annotations

import base64
import copy
import json
import logging
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from importlib import resources

import pytest

from auditor.render import FILENAMES, FORMATS, format_number, render, write_reports
from auditor.reportdata.practices import PRACTICES, format_practice

try:
    from sample_report import HOSTILE_ATTR, HOSTILE_SCRIPT, build_sample_report, passing_report
except ImportError:  # tests/ imported as a package
    from tests.sample_report import HOSTILE_ATTR, HOSTILE_SCRIPT, build_sample_report, passing_report

AREA_ORDER = ["data_quality", "leakage", "overfitting", "significance", "robustness", "drift",
              "fairness", "explainability", "governance", "acme_operations"]


@pytest.fixture(scope="module")
def report():
    return build_sample_report()


@pytest.fixture(scope="module")
def html(report):
    return render(report, "html")


class _Tags(HTMLParser):
    """Collects every start tag with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html_text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html_text)
    return parser.tags


# ---------------------------------------------------------------- practices, formatting

def test_practices_cover_every_code_of_the_guide():
    expected = {f"P{part}.{n}" for part, count in
                {1: 9, 2: 4, 3: 3, 4: 7, 5: 4, 6: 4, 7: 3, 8: 4}.items() for n in range(1, count + 1)}
    assert set(PRACTICES) == expected
    assert all(title and title[0].isupper() for title in PRACTICES.values())
    assert format_practice("P1.2") == "P1.2 Handle missing values deliberately"
    assert format_practice("P9.9") == "P9.9"


@pytest.mark.parametrize("value, kwargs, expected", [
    (None, {}, "—"),
    (32561, {}, "32,561"),
    (0.0566, {}, "0.0566"),
    (0.12345, {}, "0.123"),
    (0.2, {}, "0.2"),
    (0.2, {"trim": False}, "0.200"),
    (12345.6, {}, "12,346"),
    (0.0000412, {}, "4.12e-05"),
    (0.0566, {"percent": True}, "5.66%"),
    (0.236, {"percent": True}, "23.6%"),
    (0.032, {"percent": True}, "3.20%"),
    (0.05, {"percent": True, "trim": True}, "5%"),
    (3.5, {"percent": True}, "3.5"),
    (True, {}, "yes"),
    ("text", {}, "text"),
])
def test_format_number(value, kwargs, expected):
    assert format_number(value, **kwargs) == expected


def test_templates_ship_inside_the_package():
    folder = resources.files("auditor.templates")
    assert "{{ view.title }}" in folder.joinpath("report.html.j2").read_text(encoding="utf-8")
    assert "@page" in folder.joinpath("report.css").read_text(encoding="utf-8")


def test_importing_render_is_cheap():
    code = ("import sys, auditor.render; "
            "print(sorted(m for m in ('jinja2', 'weasyprint', 'numpy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- HTML

def test_html_escapes_hostile_strings(html):
    assert HOSTILE_SCRIPT not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert HOSTILE_ATTR not in html
    tags = _tags(html)
    assert not [t for t, _ in tags if t == "script"]
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]


def test_html_is_self_contained(html):
    for tag, attrs in _tags(html):
        assert tag not in {"link", "script", "iframe", "object", "embed"}
        if "href" in attrs:
            assert attrs["href"].startswith("#"), attrs["href"]
        if "src" in attrs:
            assert attrs["src"].startswith("data:image/svg+xml;base64,"), attrs["src"][:40]
    assert "@import" not in html
    assert not re.search(r"url\(\s*['\"]?https?:", html)


def test_html_embeds_figures_as_images_with_alt_and_caption(report, html):
    images = [attrs for tag, attrs in _tags(html) if tag == "img"]
    assert [i["alt"] for i in images] == ["Selection rate by sex", "Permutation importance"]
    svg = base64.b64decode(images[0]["src"].split(",", 1)[1]).decode("utf-8")
    assert svg == report["checks"][10]["figures"][0]["svg"]
    assert "Dashed line: overall selection rate (18.6%)." in html


def test_html_hostile_svg_cannot_run_in_the_page():
    report = build_sample_report(with_figures=False)
    report["checks"][0]["figures"] = [{"title": "x", "caption": "",
                                       "svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'}]
    page = render(report, "html")
    assert "<script" not in page
    assert "<svg" not in page


def test_html_sections_follow_area_order(html):
    anchors = re.findall(r'<section class="area" id="area-([a-z0-9_-]+)"', html)
    assert anchors == AREA_ORDER
    # Within an area, worst status first: DQ004 (fail) before DQ001 (warn) before DQ002 (pass).
    assert html.index('id="check-dq004"') < html.index('id="check-dq001"') < html.index('id="check-dq002"')


def test_html_header_and_summary(html):
    assert "<h1 class=\"doc-title\">Audit of model.skops</h1>" in html
    assert "sklearn · sklearn.pipeline.Pipeline" in html
    assert "32,561 × 15" in html
    assert "sha256 9f2c4e6a8b0d" in html
    assert "2026-11-27 03:40 UTC" in html
    assert "verdict-failed" in html and "exit code 1" in html
    assert "DQ004 conflicting-labels failed at severity high (fail_on: high)" in html
    assert "task inferred as binary: the target has 2 distinct values" in html
    chips = re.findall(r'chip status-(\w+)[^"]*"><span class="chip-count">(\d+)</span>', html)
    assert dict(chips) == {"pass": "5", "warn": "3", "fail": "3", "inconclusive": "1", "error": "1", "skipped": "1"}


def test_html_passing_gate():
    page = render(passing_report(), "html")
    assert "verdict-passed" in page and "Passed" in page and "exit code 0" in page


def test_html_check_cards(html):
    # metric with CI and thresholds, directions shown as > and <
    assert "2.36% – 2.71%" in html
    assert "&gt; 0.5%" in html and "&gt; 2%" in html
    assert "&lt; 0.8" in html
    assert "0.300 – 0.360" in html
    # waived fail keeps its real status; an expired waiver is shown as not applying
    assert "fail — waived by Jane Doe until 2027-01-31: Census records legitimately repeat" in html
    assert "waiver by Sam Lee expired on 2026-06-30 and no longer applies" in html
    # error traceback in a details block, skipped reason, sample, practices
    assert re.search(r"<details open>\s*<summary>Traceback</summary>\s*<pre class=\"traceback\">Traceback", html)
    assert "Skipped because</span> no current (production) sample was given (--current)" in html
    assert "20,000 of 100,000 test rows, seed 123" in html
    assert "P1.2 Handle missing values deliberately" in html
    assert "Little &amp; Rubin" in html


# ---------------------------------------------------------------- PDF

@pytest.fixture(scope="module")
def pdf(report):
    return render(report, "pdf")


def test_pdf_is_a_pdf_and_restores_logging(pdf):
    assert isinstance(pdf, bytes)
    assert pdf.startswith(b"%PDF-")
    assert b"%%EOF" in pdf[-64:]
    assert logging.getLogger("weasyprint").level == logging.NOTSET


def test_pdf_page_count(pdf):
    import io

    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1
    assert "Audit of model.skops" in reader.pages[0].extract_text()


# ---------------------------------------------------------------- JUnit

def test_junit_counts_and_mapping(report):
    root = ET.fromstring(render(report, "junit").encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("14", "2", "1", "2")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"auditor.{a}" for a in AREA_ORDER]
    for key in ("tests", "failures", "errors", "skipped"):
        assert sum(int(s.get(key)) for s in suites) == int(root.get(key))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert len(cases) == 14

    dq004 = cases["DQ004 conflicting-labels"]
    assert dq004.get("classname") == "auditor.data_quality"
    failure = dq004.find("failure")
    assert failure.get("type") == "high"
    assert failure.get("message").startswith("412 groups of identical feature rows")
    assert "conflict_rate = 2.53%" in failure.text

    waived = cases["LK002 train-test-overlap"]
    assert waived.find("failure") is None
    assert waived.find("skipped").get("message") == (
        "waived: Census records legitimately repeat; accepted for the 2026 model review. "
        "(Jane Doe, until 2027-01-31)")
    assert "status: fail" in waived.find("system-out").text

    error = cases["RB001 noise-stability"].find("error")
    assert error.get("type") == "ValueError"
    assert error.text.startswith("Traceback (most recent call last):")

    assert cases["DR001 feature-drift"].find("skipped") is not None
    warn = cases["DQ001 missing-values"]
    assert warn.find("failure") is None and warn.find("skipped") is None
    assert "status: warn" in warn.find("system-out").text
    assert "status: inconclusive" in cases["SG001 baseline-comparison"].find("system-out").text
    # hostile strings survive the round trip as text
    assert HOSTILE_SCRIPT in cases["DQ003 hostile-names"].find("system-out").text


def test_junit_survives_control_characters():
    report = build_sample_report(with_figures=False)
    report["checks"][0]["status"] = "fail"
    report["checks"][0]["severity"] = "critical"  # at or above fail_on: a JUnit failure
    report["checks"][0]["summary"] = "colour \x1b[31mred\x1b[0m and a NUL \x00"
    root = ET.fromstring(render(report, "junit").encode("utf-8"))
    assert root.get("failures") == "3"


# ---------------------------------------------------------------- SARIF

def test_sarif_structure(report):
    log = json.loads(render(report, "sarif"))
    assert log["version"] == "2.1.0"
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "auditor" and driver["version"] == "0.1.0"
    assert "informationUri" not in driver
    assert [r["id"] for r in driver["rules"]] == [c["id"] for c in report["checks"]]
    dq001 = driver["rules"][0]
    assert dq001["name"] == "missing-values"
    assert dq001["shortDescription"]["text"] == "Missing and disguised-missing values"
    assert dq001["defaultConfiguration"]["level"] == "warning"
    assert dq001["properties"] == {"area": "data_quality", "severity": "medium",
                                   "practices": ["P1.2", "P1.9"], "tags": ["data_quality"]}

    results = {r["ruleId"]: r for r in run["results"]}
    assert sorted(results) == sorted(["DQ001", "DQ003", "DQ004", "LK002", "OF001", "SG001", "RB001", "FR001"])
    assert {k: r["level"] for k, r in results.items()} == {
        "DQ001": "warning", "DQ003": "warning", "DQ004": "error", "LK002": "error",
        "OF001": "warning", "SG001": "warning", "RB001": "error", "FR001": "error"}
    for r in run["results"]:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["kind"] == "fail" and r["message"]["text"]
        uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in r["locations"]]
        assert uris[0] == "examples/adult/adult_test.csv.gz"
    assert results["DQ004"]["properties"]["metrics"] == {"conflict_rate": 0.0253}
    assert results["LK002"]["suppressions"] == [{
        "kind": "external", "status": "accepted",
        "justification": "Census records legitimately repeat; accepted for the 2026 model review."}]
    assert "suppressions" not in results["OF001"]  # expired waiver
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["startTimeUtc"] == "2026-11-27T03:40:00Z"
    assert run["properties"]["gate"]["exit_code"] == 1


def test_sarif_passing_report_has_no_results():
    run = json.loads(render(passing_report(), "sarif"))["runs"][0]
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is True


def test_sarif_without_datasets_still_has_a_location():
    report = build_sample_report(with_figures=False)
    report["inputs"]["datasets"] = {}
    run = json.loads(render(report, "sarif"))["runs"][0]
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "examples/adult/model.skops"
               for r in run["results"])


# A hand-written subset of the SARIF 2.1.0 schema: the parts this renderer writes.
_MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["tool"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name"], "properties": {
                        "name": {"type": "string"}, "version": {"type": "string"},
                        "rules": {"type": "array", "items": {
                            "type": "object", "required": ["id"], "properties": {
                                "id": {"type": "string"}, "name": {"type": "string"},
                                "shortDescription": _MESSAGE, "fullDescription": _MESSAGE, "help": _MESSAGE,
                                "defaultConfiguration": {"type": "object", "properties": {
                                    "level": {"enum": ["none", "note", "warning", "error"]}}},
                                "properties": {"type": "object"}}}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["message"], "properties": {
                        "ruleId": {"type": "string"}, "ruleIndex": {"type": "integer", "minimum": -1},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "kind": {"enum": ["notApplicable", "pass", "fail", "review", "open", "informational"]},
                        "message": _MESSAGE,
                        "locations": {"type": "array", "items": {"type": "object", "properties": {
                            "physicalLocation": {"type": "object", "properties": {"artifactLocation": {
                                "type": "object", "properties": {"uri": {"type": "string"},
                                                                 "index": {"type": "integer", "minimum": -1}}}}}}}},
                        "suppressions": {"type": "array", "items": {
                            "type": "object", "required": ["kind"], "properties": {
                                "kind": {"enum": ["inSource", "external"]},
                                "status": {"enum": ["accepted", "underReview", "rejected"]},
                                "justification": {"type": "string"}}}},
                        "properties": {"type": "object"}}}},
                "invocations": {"type": "array", "items": {
                    "type": "object", "required": ["executionSuccessful"], "properties": {
                        "executionSuccessful": {"type": "boolean"}, "exitCode": {"type": "integer"},
                        "toolExecutionNotifications": {"type": "array", "items": {
                            "type": "object", "required": ["message"], "properties": {"message": _MESSAGE}}}}}},
                "artifacts": {"type": "array", "items": {"type": "object", "properties": {
                    "location": {"type": "object", "properties": {"uri": {"type": "string"}}},
                    "hashes": {"type": "object", "additionalProperties": {"type": "string"}}}}},
                "properties": {"type": "object"},
            }}},
    },
}


def test_sarif_matches_schema_subset(report):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(render(report, "sarif")), SARIF_SUBSET)


# ---------------------------------------------------------------- Markdown

def _table_rows(md: str, after: str) -> list[str]:
    block = md[md.index(after):]
    rows = []
    for line in block.splitlines()[1:]:
        if line.startswith("| ") and not line.startswith("| ID |"):
            rows.append(line)
        elif rows and not line.startswith("|"):
            break
    return rows


def test_markdown_summary(report):
    md = render(report, "md")
    assert md.startswith("## Audit of model.skops: gate FAILED\n")
    assert "14 checks: 5 pass, 3 warn, 3 fail, 1 inconclusive, 1 error, 1 skipped; 1 waived." in md
    assert "- DQ004 conflicting-labels failed at severity high (fail\\_on: high)" in md
    attention = _table_rows(md, "### Findings that need attention")
    assert [r.split(" | ")[0][2:] for r in attention] == [
        "RB001", "DQ004", "LK002", "FR001", "SG001", "DQ001", "DQ003", "OF001", "DR001"]
    assert "| fail (waived) |" in attention[2]
    assert "| warn (waiver expired) |" in attention[7]
    everything = _table_rows(md, "<details><summary>All 14 checks</summary>")
    assert len(everything) == 14
    # every row keeps exactly seven cell borders: hostile pipes are escaped
    for row in attention + everything:
        assert len(re.findall(r"(?<!\\)\|", row)) == 7, row


def test_markdown_escapes_hostile_strings(report):
    md = render(report, "md")
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "look \\| odd \\`here\\` across splits." in md
    assert "\x60here\x60" not in md.replace("\\`", "")


# ---------------------------------------------------------------- render / write_reports

def test_render_json_round_trips(report):
    text = render(report, "json")
    assert text.endswith("}\n")
    assert json.loads(text) == report


def test_render_json_refuses_nan():
    report = build_sample_report(with_figures=False)
    report["checks"][0]["metrics"]["max_missing_rate"]["value"] = float("nan")
    with pytest.raises(ValueError):
        render(report, "json")


def test_render_rejects_unknown_format(report):
    with pytest.raises(ValueError, match=r"The 'fmt' parameter of render must be one of .* Got 'docx' instead."):
        render(report, "docx")


def test_write_reports_writes_exactly_what_was_asked(tmp_path, report):
    written = write_reports(report, tmp_path / "out", ["json", "md", "junit"])
    assert list(written) == ["json", "md", "junit"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["junit.xml", "report.json", "summary.md"]
    assert written["md"] == tmp_path / "out" / FILENAMES["md"]
    assert json.loads(written["json"].read_text(encoding="utf-8")) == report


def test_write_reports_failing_renderer_changes_nothing(tmp_path, monkeypatch, report):
    (tmp_path / "report.json").write_text("old json", encoding="utf-8")
    (tmp_path / "summary.md").write_text("old md", encoding="utf-8")

    def broken(_report):
        raise RuntimeError("renderer bug")

    import auditor.render.markdown

    monkeypatch.setattr(auditor.render.markdown, "render_markdown", broken)
    with pytest.raises(RuntimeError, match="renderer bug"):
        write_reports(report, tmp_path, ["json", "md"])
    assert (tmp_path / "report.json").read_text(encoding="utf-8") == "old json"
    assert (tmp_path / "summary.md").read_text(encoding="utf-8") == "old md"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "summary.md"]


def test_write_reports_rejects_unknown_format_before_writing(tmp_path, report):
    with pytest.raises(ValueError, match="Got 'docx' instead"):
        write_reports(report, tmp_path / "out", ["json", "docx"])
    assert not (tmp_path / "out").exists()


def test_formats_and_filenames_agree():
    assert set(FORMATS) == set(FILENAMES)


def test_renderers_do_not_modify_the_report(report):
    before = copy.deepcopy(report)
    for fmt in ("html", "json", "junit", "sarif", "md"):
        render(report, fmt)
    assert report == before


def test_pdf_fetches_nothing_but_data_urls(monkeypatch):
    import urllib.request

    fetched = []
    original = urllib.request.OpenerDirector.open

    def recording_open(self, url, *args, **kwargs):
        fetched.append(url if isinstance(url, str) else url.full_url)
        return original(self, url, *args, **kwargs)

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", recording_open)
    report = build_sample_report(with_figures=False)
    report["checks"][0]["figures"] = [{"title": "hostile", "caption": "", "svg": (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        '<image href="file:///etc/hostname" width="50" height="50"/>'
        '<image href="http://127.0.0.1:9/x.png" width="50" height="50"/></svg>')}]
    assert render(report, "pdf").startswith(b"%PDF-")
    assert fetched and all(url.startswith("data:") for url in fetched)


@pytest.mark.parametrize("fmt", ["html", "json", "junit", "sarif", "md"])
def test_minimal_report_renders(fmt):
    minimal = {"checks": [{"id": "X001", "status": "fail"},
                          {"id": "X002", "status": "error", "area": "custom area"}], "gate": {}}
    out = render(minimal, fmt)
    assert "X002" in out


def test_junit_and_sarif_agree_with_the_gate():
    """A fail below fail_on is reported but is not a JUnit failure nor a SARIF error."""
    report = build_sample_report(with_figures=False)
    low = report["checks"][0]
    low.update(status="fail", severity="low", waiver=None)
    report["gate"]["blocking"] = ["DQ004"]
    root = ET.fromstring(render(report, "junit").encode("utf-8"))
    case = next(c for c in root.iter("testcase") if c.get("name").startswith(low["id"]))
    assert case.find("failure") is None
    assert "fail below the gate" in case.find("system-out").text
    sarif = json.loads(render(report, "sarif"))
    levels = {r["ruleId"]: r["level"] for r in sarif["runs"][0]["results"]}
    assert levels[low["id"]] == "warning" and levels["DQ004"] == "error"


def test_a_huge_error_message_is_shortened_in_the_html_only():
    from auditor.render.html import MAX_ERROR_MESSAGE, card_view

    check = {"id": "ST001", "name": "x", "title": "x", "area": "significance", "severity": "high", "status": "error",
             "summary": "Error: boom", "metrics": {}, "evidence": [], "figures": [],
             "error": {"type": "ModelCallError", "message": "v" * 50_000, "traceback": ""}}
    card = card_view(check)
    assert len(card["error"]["message"]) == MAX_ERROR_MESSAGE and card["error"]["message"].endswith("…")
    assert len(check["error"]["message"]) == 50_000
