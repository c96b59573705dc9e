"""Governance beyond its two checks: the model_card policy block, the standards crosswalk, the
model card (JSON and Markdown) and the reviewer's report (cover, summary, contents, crosswalk,
waivers, filters, sign-off, appendix) in HTML and PDF. GV001 and GV002 have their own files."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re

import pytest

from auditor.engine.policy import validate_policy
from auditor.engine.registry import load_registry
from auditor.render import render
from auditor.render.model_card import model_card_markdown
from auditor.reportdata.model_card import (
    REQUIRED_FIELDS,
    build_model_card,
    missing_fields,
)
from auditor.standards import crosswalk, load_frameworks
from auditor.util.errors import PolicyError
from tests.planted import CLEAN_MODEL_CARD
from tests.sample_report import build_sample_report

REGISTRY = load_registry()


# ---------------------------------------------------------------- policy validation

def test_model_card_block_is_validated_and_normalised():
    policy = validate_policy({"model_card": {**CLEAN_MODEL_CARD, "version": 2, "limitations": "one text",
                                             "owners": ["  a@example.org ", ""]}}, REGISTRY)
    assert policy.model_card["version"] == "2"
    assert policy.model_card["limitations"] == ["one text"]
    assert policy.model_card["owners"] == ["a@example.org"]
    assert missing_fields(policy.model_card) == []
    assert validate_policy({}, REGISTRY).model_card == {}


@pytest.mark.parametrize("card, message", [
    ({"intended_uses": "x"}, "audit.yaml: model_card: unknown key 'intended_uses'; did you mean 'intended_use'?"),
    ({"limitation": ["x"]}, "did you mean 'limitations'?"),
    ({"intended_use": ["a", "b"]}, "audit.yaml: model_card.intended_use must be text; got ['a', 'b']."),
    ({"out_of_scope_uses": [1, 2]}, "audit.yaml: model_card.out_of_scope_uses must be text or a list of texts; got [1, 2]."),
    ("just text", "audit.yaml: model_card must be a mapping with keys"),
])
def test_model_card_errors_name_the_key(card, message):
    with pytest.raises(PolicyError) as info:
        validate_policy({"model_card": card}, REGISTRY)
    assert message in str(info.value)


def test_unknown_top_level_key_suggests_model_card():
    with pytest.raises(PolicyError, match="did you mean 'model_card'"):
        validate_policy({"model_cards": {}}, REGISTRY)


def test_starter_policy_shows_a_commented_model_card_that_validates():
    import yaml

    from auditor.engine.policy_template import starter_policy

    text = starter_policy(REGISTRY)
    assert "# model_card:" in text
    lines = text.splitlines()
    start = lines.index("# model_card:")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[2:])
    card = yaml.safe_load("\n".join(block))["model_card"]
    policy = validate_policy({"model_card": card}, REGISTRY)
    assert missing_fields(policy.model_card) == []


# ---------------------------------------------------------------- crosswalk

def test_every_registered_check_has_a_crosswalk_mapping():
    mapped = {cid for cid in REGISTRY.ids() if REGISTRY.get(cid).cls.clauses}
    unmapped = [cid for cid in REGISTRY.ids() if REGISTRY.get(cid).builtin and cid not in mapped]
    assert unmapped == []
    # checks being added in parallel are mapped already
    assert {f"EX00{i}" for i in range(1, 7)} | {"RB007"} <= set(mapped)


def test_crosswalk_titles_and_frameworks():
    frameworks = {fw["framework"]: fw for fw in load_frameworks()}
    assert list(frameworks) == ["eu_ai_act", "nist_ai_rmf", "iso_42001"]
    eu = {c["id"]: c["title"] for c in frameworks["eu_ai_act"]["clauses"]}
    assert eu == {
        "Art. 9": "Risk management system",
        "Art. 10": "Data and data governance",
        "Art. 13": "Transparency and provision of information to deployers",
        "Art. 14": "Human oversight",
        "Art. 15": "Accuracy, robustness and cybersecurity",
    }
    assert all(c["id"].startswith(("MEASURE", "MANAGE")) for c in frameworks["nist_ai_rmf"]["clauses"])
    assert all(c["id"].startswith("A.") for c in frameworks["iso_42001"]["clauses"])


def test_crosswalk_groups_results_and_ignores_unknown_ids():
    report = {"checks": [{"id": "DQ001", "status": "fail"}, {"id": "DQ002", "status": "pass"},
                         {"id": "DQ003", "status": "skipped"}, {"id": "ZZZ999", "status": "fail"},
                         {"id": "DQ004", "status": "odd"}]}
    eu = crosswalk(report)[0]
    art10 = next(c for c in eu["clauses"] if c["id"] == "Art. 10")
    assert art10["status"] == "fail"
    assert [(g["status"], g["ids"]) for g in art10["groups"]] == [
        ("fail", ["DQ001"]), ("pass", ["DQ002"]), ("skipped", ["DQ003"]), ("unknown", ["DQ004"])]
    art14 = next(c for c in eu["clauses"] if c["id"] == "Art. 14")
    assert art14["status"] is None and art14["groups"] == []


# ---------------------------------------------------------------- model card

def _report_with_card() -> dict:
    report = build_sample_report(with_figures=False)
    report["policy"]["model_card"] = {**CLEAN_MODEL_CARD, "limitations": ["Synthetic <only>."]}
    report["model_card"] = build_model_card(report)
    report["decisions"] = [{"date": "2026-11-28", "reviewer": "R. Viewer", "decision": "approve-with-conditions",
                            "note": "Retrain before use <b>"}]
    return report


def test_build_model_card_joins_user_text_and_computed_facts():
    card = _report_with_card()["model_card"]
    assert card["name"] == "synthetic-logit" and card["version"] == "1.0"
    assert card["missing"] == []
    assert card["training_data"]["datasets"][0]["sha256"]
    assert card["training_data"]["description"].startswith("3,000 synthetic rows")
    assert card["metrics"] and all(m["ci_low"] is not None for m in card["metrics"])
    assert {f["status"] for f in card["findings"]} <= {"fail", "error", "inconclusive", "warn"}
    assert card["sensitive_features"]


def test_model_card_without_a_policy_card_lists_every_required_field_missing():
    card = build_model_card(build_sample_report(with_figures=False))
    assert card["missing"] == list(REQUIRED_FIELDS)
    assert card["name"] == "model.skops"
    text = model_card_markdown(card)
    assert "> **Incomplete card:** no intended use" in text
    assert text.count("_Not provided in the policy's `model_card` block._") == 6


def test_model_card_markdown_escapes_and_has_sections():
    text = model_card_markdown(_report_with_card()["model_card"])
    for heading in ("# Model card: synthetic-logit", "## Intended use", "## Out-of-scope uses", "## Training data",
                    "## Evaluation data", "## Metrics", "## Limitations", "## Ethical considerations"):
        assert heading in text
    assert "Synthetic &lt;only&gt;." in text and "<only>" not in text
    card = build_model_card({"task": {"type": "binary", "target": "income", "positive_label": ">50K"},
                             "inputs": {"model": {"path": "m|x.skops", "kind": "sklearn"}}})
    text = model_card_markdown(card)
    assert "positive label `>50K`" in text  # a code span shows its text literally: no HTML entity
    assert "`m\\|x.skops`" in text


# ---------------------------------------------------------------- HTML and PDF

@pytest.fixture(scope="module")
def governed():
    return _report_with_card()


def test_html_has_cover_summary_contents_card_crosswalk_waivers_signoff(governed):
    html = render(governed, "html")
    for anchor in ("cover", "summary", "contents", "model-card", "crosswalk", "waivers", "findings", "signoff", "appendix"):
        assert f'id="{anchor}"' in html, anchor
        if anchor != "cover":
            assert f'href="#{anchor}"' in html, anchor
    assert "This report audits synthetic-logit version 1.0" in html
    assert "The audit&#39;s gate failed" in html
    assert "Art. 15</span><br><span class=\"clause-title\">Accuracy, robustness and cybersecurity" in html
    assert "not a legal or certification assessment" in html
    assert "Waiver" in html and "EXPIRED" in html  # OF001's waiver expired on 2026-06-30
    assert "Approve with conditions" in html and "Retrain before use &lt;b&gt;" in html
    assert html.count('class="blank-row"') == 3
    assert "manifest.json" in html and "SHA-256" in html
    assert "Synthetic &lt;only&gt;." in html


def test_html_findings_filter_is_css_only(governed):
    html = render(governed, "html")
    assert "<script" not in html
    assert 'id="fs-fail"' in html and 'label for="fs-fail"' in html
    assert "#fs-fail:checked ~ .finding-list article.check:not(.status-fail) { display: none; }" in html
    assert 'id="fa-area-fairness"' in html
    assert '#fa-area-fairness:checked ~ .finding-list section.area:not([data-area="area-fairness"])' in html
    assert '<section class="area" id="area-fairness" data-area="area-fairness">' in html


def test_diff_section_only_with_field_and_partial(governed, monkeypatch):
    from auditor.render import governance
    from auditor.reportdata.diff import diff_reports

    report = copy.deepcopy(governed)
    older = copy.deepcopy(governed)
    older["checks"] = [c for c in older["checks"] if c["status"] != "fail"]  # every failure is new since then
    report["baseline_diff"] = diff_reports(older, report, old_label="approved.json", new_label="this audit")
    monkeypatch.setattr(governance, "diff_partial_exists", lambda: False)
    assert 'id="changes"' not in render(report, "html")
    monkeypatch.setattr(governance, "diff_partial_exists", lambda: True)
    html = render(report, "html")
    assert 'id="changes"' in html and "Changes since approved.json" in html
    failed = [c["id"] for c in governed["checks"] if c["status"] == "fail"]
    assert failed and all(f"<td>{i}</td>" in html for i in failed)
    assert 'id="changes"' not in render(governed, "html")


def test_pdf_has_cover_contents_with_page_numbers_and_signoff(governed):
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(render(governed, "pdf")))
    pages = [p.extract_text() for p in reader.pages]
    assert "Audit of model.skops" in pages[0] and "Gate failed" in pages[0]
    assert "Executive summary" in pages[1]
    contents = next(i for i, t in enumerate(pages) if "Contents" in t and "Standards crosswalk" in t)
    # WeasyPrint's target-counter wrote the page where the model card starts
    card_page = next(i for i, t in enumerate(pages) if "Model card" in t and "Intended use" in t)
    assert re.search(rf"Model card[ .]*{card_page + 1}\b", pages[contents])
    text = "\n".join(pages)
    for heading in ("Standards crosswalk", "EU AI Act", "NIST AI RMF", "ISO/IEC 42001", "Accepted risks (waivers)",
                    "Review and sign-off", "Decision log", "Appendix: methods and provenance"):
        assert heading in text, heading
    assert any("Review and sign-off" in t and "Decision log" in t for t in pages)


def test_model_card_field_in_report_json_from_a_real_run(tmp_path, clean_audit_files):
    from auditor.app.audit import run_audit
    from auditor.contract.inputs import RunOptions

    policy = tmp_path / "audit.yaml"
    policy.write_text("select: [GV, ST001]\nmodel_card:\n  intended_use: testing\n"
                      "waivers:\n  - {check: ST001, reason: r, owner: o, expires: 2020-01-01}\n", encoding="utf-8")
    opts = RunOptions(train=clean_audit_files["train"], test=clean_audit_files["test"], target="y",
                      model=clean_audit_files["model"])
    report = run_audit(opts, policy_path=policy, today=dt.date(2026, 11, 27))
    card = report["model_card"]
    assert card["intended_use"] == "testing" and len(card["missing"]) == 5
    assert [m["name"] for m in card["metrics"]][:2] == ["accuracy", "balanced_accuracy"]
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses["GV001"] == "fail" and statuses["GV002"] == "fail"
