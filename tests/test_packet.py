"""Review packets: manifest, verify, Ed25519 signing, sign-off log (auditor.app.packet and its CLI verbs)."""

from __future__ import annotations

import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from auditor.app.packet import (
    DECISIONS,
    MANIFEST,
    SIGNATURE,
    SIGNATURE_INFO,
    PacketError,
    check_packet_target,
    generate_keys,
    read_decisions,
    sign_packet,
    verify_packet,
    write_packet,
)
from auditor.render import write_reports
from tests.sample_report import build_sample_report
from tests.test_cli import run_cli


@pytest.fixture()
def inputs(tmp_path, monkeypatch):
    """The sample report's inputs as real files, relative to the working folder."""
    monkeypatch.chdir(tmp_path)
    report = build_sample_report(with_figures=False)
    for record in (report["inputs"]["model"], *report["inputs"]["datasets"].values(), report["inputs"]["policy"]):
        path = Path(record["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"content of {path.name}\n".encode())
        record["sha256"] = __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    return report


@pytest.fixture()
def keys(tmp_path):
    generate_keys(tmp_path / "key.pem", tmp_path / "pub.pem")
    generate_keys(tmp_path / "other.pem", tmp_path / "other.pub")
    return {"private": tmp_path / "key.pem", "public": tmp_path / "pub.pem", "other": tmp_path / "other.pub"}


def make_packet(tmp_path, report, *, name="packet", key=None, formats=("json", "md", "junit")):
    written = write_reports(report, tmp_path / f"{name}-out", formats)
    return write_packet(tmp_path / name, report, written, policy_path=report["inputs"]["policy"]["path"], signing_key=key)


def test_packet_holds_reports_policy_and_manifest(tmp_path, inputs):
    made = make_packet(tmp_path, inputs)
    folder = tmp_path / "packet"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["report.json", "summary.md", "junit.xml", "policy.yaml", "policy.effective.json", MANIFEST])
    assert made["signed"] is False
    manifest = json.loads((folder / MANIFEST).read_text())
    listed = {a["path"]: a for a in manifest["artefacts"]}
    assert set(listed) == {"report.json", "summary.md", "junit.xml", "policy.yaml", "policy.effective.json"}
    assert listed["report.json"]["bytes"] == (folder / "report.json").stat().st_size
    assert (folder / "policy.yaml").read_bytes() == Path("audit.yaml").read_bytes()
    roles = {i["role"]: i for i in manifest["inputs"]}
    assert set(roles) == {"model", "train", "test", "policy"}
    assert roles["train"]["path"] == "examples/adult/adult_train.csv.gz"  # as given
    check = verify_packet(folder)
    assert check.ok and check.inputs_checked == 4 and check.signature == "absent", check.problems


@pytest.mark.parametrize("name", ["report.json", "summary.md", "junit.xml", "policy.yaml", "policy.effective.json", MANIFEST])
def test_one_changed_byte_in_any_file_fails_naming_it(tmp_path, inputs, name):
    make_packet(tmp_path, inputs)
    path = tmp_path / "packet" / name
    data = bytearray(path.read_bytes())
    # A hex digit of the manifest (JSON stays valid); elsewhere any byte.
    at = data.index(b'"sha256": "') + 12 if name == MANIFEST else len(data) // 2
    data[at] = ord("0") if data[at] != ord("0") else ord("1")
    path.write_bytes(bytes(data))
    check = verify_packet(tmp_path / "packet")
    assert not check.ok
    assert check.problems[0].startswith(f"changed: {name} (")


def test_missing_unexpected_and_changed_inputs_are_named(tmp_path, inputs):
    make_packet(tmp_path, inputs)
    folder = tmp_path / "packet"
    (folder / "junit.xml").unlink()
    (folder / "extra.txt").write_text("mine")
    Path("examples/adult/adult_test.csv.gz").write_text("other rows")
    Path(inputs["inputs"]["model"]["path"]).unlink()
    check = verify_packet(folder)
    assert "missing: junit.xml" in check.problems
    assert "unexpected: extra.txt (not in the manifest)" in check.problems
    assert any(p.startswith("changed input: test examples/adult/adult_test.csv.gz") for p in check.problems)
    # An input that is not there is not checked: said, and a failure only when required.
    assert check.notes == ["input not found, not checked: model examples/adult/model.skops"]
    strict = verify_packet(folder, inputs_required=True)
    assert "input not found, not checked: model examples/adult/model.skops" in strict.problems


def test_inputs_root_resolves_relative_paths(tmp_path, inputs, monkeypatch):
    make_packet(tmp_path, inputs)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert len(verify_packet(tmp_path / "packet").inputs_not_found) == 4
    check = verify_packet(tmp_path / "packet", inputs_root=tmp_path, inputs_required=True)
    assert check.ok and check.inputs_checked == 4


def test_signed_manifest_verifies_with_its_key_only(tmp_path, inputs, keys):
    made = make_packet(tmp_path, inputs, key=keys["private"])
    folder = tmp_path / "packet"
    assert made["signed"] and (folder / SIGNATURE).is_file() and (folder / SIGNATURE_INFO).is_file()
    assert verify_packet(folder, public_key=keys["public"]).signature == "verified"
    unchecked = verify_packet(folder)
    assert unchecked.ok and unchecked.signature == "unverified" and "not checked against a trusted key" in unchecked.notes[-1]
    other = verify_packet(folder, public_key=keys["other"])
    assert not other.ok and other.problems[0].startswith("signature: made by key SHA256:")
    assert json.loads((folder / SIGNATURE_INFO).read_text())["algorithm"] == "Ed25519"
    # A replaced signature fails even without a trusted key: it is checked against the embedded one.
    (folder / SIGNATURE).write_text("A" * 86 + "==\n")
    assert any("does not verify" in p for p in verify_packet(folder).problems)


def test_tampered_signed_manifest_fails_and_unsigned_packet_fails_with_a_key(tmp_path, inputs, keys):
    make_packet(tmp_path, inputs, key=keys["private"])
    path = tmp_path / "packet" / MANIFEST
    path.write_text(path.read_text().replace('"title": "Audit of model.skops"', '"title": "Audit of modelXskops"'))
    check = verify_packet(tmp_path / "packet", public_key=keys["public"])
    assert check.signature == "invalid" and any("does not verify" in p for p in check.problems)
    make_packet(tmp_path, inputs, name="plain")
    unsigned = verify_packet(tmp_path / "plain", public_key=keys["public"])
    assert unsigned.problems == [f"unsigned: a public key was given but the packet has no {SIGNATURE}"]


def test_passphrase_protected_key(tmp_path, inputs, monkeypatch):
    generate_keys(tmp_path / "k.pem", tmp_path / "k.pub", passphrase="correct horse")
    assert b"ENCRYPTED" in (tmp_path / "k.pem").read_bytes()
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    written = write_reports(inputs, tmp_path / "out", ["json"])
    with pytest.raises(PacketError, match="it is encrypted; set AUDITOR_KEY_PASSPHRASE"):
        write_packet(tmp_path / "p", inputs, written, signing_key=tmp_path / "k.pem")
    with pytest.raises(PacketError, match="wrong passphrase"):
        write_packet(tmp_path / "p", inputs, written, signing_key=tmp_path / "k.pem", passphrase="wrong")
    assert not (tmp_path / "p").exists()  # nothing written before the key could be used
    write_packet(tmp_path / "p", inputs, written, signing_key=tmp_path / "k.pem", passphrase="correct horse")
    assert verify_packet(tmp_path / "p", public_key=tmp_path / "k.pub").signature == "verified"


def test_keygen_refuses_to_overwrite(tmp_path, keys):
    with pytest.raises(PacketError, match="already exists; pass --force"):
        generate_keys(keys["private"], tmp_path / "new.pub")


def test_sign_off_log_is_chained_and_checked(tmp_path, inputs):
    make_packet(tmp_path, inputs)
    folder = tmp_path / "packet"
    check, first = sign_packet(folder, reviewer="Ana  Ruiz", decision="approve-with-conditions", note="monitor drift monthly")
    assert check.ok and first["seq"] == 1 and first["reviewer"] == "Ana Ruiz" and first["timestamp"].endswith("Z")
    assert first["manifest_sha256"] == check.manifest_sha256 and first["previous_sha256"] == "0" * 64
    _, second = sign_packet(folder, reviewer="Bo", decision="approve")
    decisions = read_decisions(folder)
    assert [d["decision"] for d in decisions] == ["approve-with-conditions", "approve"]
    line_one = (folder / DECISIONS).read_bytes().split(b"\n")[0]
    assert second["previous_sha256"] == __import__("hashlib").sha256(line_one).hexdigest()
    assert verify_packet(folder).ok and verify_packet(folder).decisions == 2

    log = (folder / DECISIONS).read_text()
    (folder / DECISIONS).write_text(log.replace("monitor drift monthly", "no conditions"))
    assert any("decision 1 was edited" in p for p in verify_packet(folder).problems)
    (folder / DECISIONS).write_text(log.split("\n", 1)[1])  # the first decision removed
    assert any("decision 1 does not start the log" in p for p in verify_packet(folder).problems)
    (folder / DECISIONS).write_text(log.replace('"decision": "approve"', '"decision": "reject"'))
    assert any("decision 2 was edited" in p for p in verify_packet(folder).problems)


def test_sign_refuses_a_packet_that_fails_verification(tmp_path, inputs):
    make_packet(tmp_path, inputs)
    folder = tmp_path / "packet"
    (folder / "summary.md").write_text("edited")
    check, entry = sign_packet(folder, reviewer="Ana", decision="approve")
    assert entry is None and not (folder / DECISIONS).exists() and "changed: summary.md" in check.problems[0]
    with pytest.raises(PacketError, match="--note is required for reject"):
        sign_packet(folder, reviewer="Ana", decision="reject")


def test_packet_target_rules(tmp_path, inputs):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "notes.txt").write_text("keep me")
    with pytest.raises(PacketError, match="is not empty and is not an auditor packet"):
        check_packet_target(user)
    check_packet_target(user, force=True)
    make_packet(tmp_path, inputs)
    check_packet_target(tmp_path / "packet")  # a previous packet is replaced
    written = write_reports(inputs, tmp_path / "out", ["json"])
    write_packet(tmp_path / "packet", inputs, written)  # now without summary.md and junit.xml
    assert not (tmp_path / "packet" / "summary.md").exists() and verify_packet(tmp_path / "packet").ok
    sign_packet(tmp_path / "packet", reviewer="Ana", decision="approve")
    with pytest.raises(PacketError, match="holds sign-off decisions"):
        check_packet_target(tmp_path / "packet", force=True)
    with pytest.raises(PacketError, match="exists and is not a folder"):
        check_packet_target(user / "notes.txt")


def test_model_card_is_written_when_the_report_has_one(tmp_path, inputs):
    inputs["model_card"] = {"model": {"name": "adult-hgb"}, "intended_use": "demo"}
    make_packet(tmp_path, inputs)
    card = json.loads((tmp_path / "packet" / "model_card.json").read_text())
    assert card == inputs["model_card"]
    markdown = (tmp_path / "packet" / "model_card.md").read_text()
    assert markdown.startswith("# ") and "demo" in markdown
    assert verify_packet(tmp_path / "packet").ok


# -- the command line ---------------------------------------------------------------

def test_verify_and_keygen_bad_input_exit_2_with_one_line(capsys, tmp_path, inputs, keys):
    make_packet(tmp_path, inputs)
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / MANIFEST).write_text("{not json")
    (tmp_path / "garbage.pem").write_text("not a key")
    cases = [
        (["verify", str(tmp_path / "nope")], "packet folder not found"),
        (["verify", str(tmp_path / "empty")], "is not an auditor packet: it has no manifest.json"),
        (["verify", str(tmp_path / "broken")], "is not a valid packet manifest: not JSON"),
        (["verify", str(tmp_path / "packet"), "--public-key", str(tmp_path / "garbage.pem")], "not a PEM public key"),
        (["verify", str(tmp_path / "packet"), "--public-key", str(keys["private"])], "it is a private key"),
        (["verify", str(tmp_path / "packet"), "--public-key", str(tmp_path / "absent.pem")], "public key file not found"),
        (["sign", str(tmp_path / "nope"), "--reviewer", "a", "--decision", "approve"], "packet folder not found"),
        (["keygen", "--private-key", str(keys["private"]), "--public-key", str(tmp_path / "x.pub")], "already exists"),
    ]
    for argv, message in cases:
        code, out, err = run_cli(capsys, *argv)
        assert code == 2, (argv, out, err)
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (argv, err)


def test_verify_and_sign_cli(capsys, tmp_path, inputs, keys):
    make_packet(tmp_path, inputs, key=keys["private"])
    folder = str(tmp_path / "packet")
    code, out, _ = run_cli(capsys, "verify", folder, "--public-key", str(keys["public"]))
    assert code == 0 and "verified: 5 file(s) intact, 4 input(s) checked, signature verified" in out
    code, out, _ = run_cli(capsys, "verify", folder, "--public-key", str(keys["other"]))
    assert code == 1 and "FAIL signature: made by key" in out
    code, out, _ = run_cli(capsys, "sign", folder, "--reviewer", "Ana", "--decision", "approve", "--public-key", str(keys["public"]))
    assert code == 0 and "recorded decision 1" in out
    code, out, _ = run_cli(capsys, "sign", folder, "--reviewer", "Bo", "--decision", "approve", "--public-key", str(keys["other"]))
    assert code == 1 and "refusing to sign" in out and len(read_decisions(folder)) == 1
    Path(folder, "report.json").write_text("{}")
    code, out, _ = run_cli(capsys, "verify", folder)
    assert code == 1 and "FAIL changed: report.json" in out


@pytest.mark.slow
def test_run_writes_a_signed_zipped_packet_that_verifies(capsys, clean_audit_files, tmp_path, keys):
    packet = tmp_path / "packet"
    argv = ["run", "--quiet", "--model", clean_audit_files["model"], "--train", clean_audit_files["train"],
            "--test", clean_audit_files["test"], "--target", "y", "--out", str(tmp_path / "out"),
            "--format", "json,md,html", "--set", "select=[DQ, OF001]",
            "--packet", str(packet), "--zip", "--signing-key", str(keys["private"])]
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, out + err
    # report.json, summary.md, report.html, the policy as applied, the model card (JSON and Markdown),
    # manifest.json, manifest.sig and signature.json
    assert f"packet {packet} (9 files, manifest signed)" in out
    assert (packet / "model_card.json").is_file() and (packet / "model_card.md").is_file()
    assert (packet / "report.html").read_bytes() == (tmp_path / "out" / "report.html").read_bytes()
    with zipfile.ZipFile(tmp_path / "packet.zip") as archive:
        assert "packet/manifest.json" in archive.namelist() and "packet/manifest.sig" in archive.namelist()
    code, out, _ = run_cli(capsys, "verify", str(packet), "--public-key", str(keys["public"]), "--inputs-required")
    assert code == 0 and "3 input(s) checked, signature verified" in out
    # Running again into the same packet replaces it; a non-packet folder is refused before the audit runs.
    shutil.rmtree(tmp_path / "out")
    code, _, _ = run_cli(capsys, *argv)
    assert code == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    code, _, err = run_cli(capsys, *[a if a != str(packet) else str(mine) for a in argv])
    assert code == 2 and "is not empty and is not an auditor packet" in err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_packet_in_the_out_folder_itself(tmp_path, inputs):
    """``--out DIR --packet DIR``: the reports written a moment ago are the packet's, not the user's."""
    written = write_reports(inputs, tmp_path / "both", ["json", "md"])
    write_packet(tmp_path / "both", inputs, written)
    assert verify_packet(tmp_path / "both").ok
    written = write_reports(inputs, tmp_path / "both", ["json", "md"])  # the next run, same folder
    write_packet(tmp_path / "both", inputs, written)
    assert verify_packet(tmp_path / "both").ok


def test_render_with_decisions_files_a_signed_copy_and_never_writes_into_the_packet(capsys, tmp_path, inputs):
    make_packet(tmp_path, inputs)
    folder = tmp_path / "packet"
    verification, entry = sign_packet(folder, reviewer="R. Reviewer", decision="approve-with-conditions",
                                      note="retrain before the next quarter")
    assert verification.ok and entry is not None
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    # Into the packet itself: refused, nothing changed.
    code, out, err = run_cli(capsys, "render", str(folder / "report.json"), "--format", "html")
    assert code == 2 and "is a review packet" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # Elsewhere, with the decisions on the sign-off page.
    code, out, err = run_cli(capsys, "render", str(folder / "report.json"), "--format", "html", "--decisions", str(folder),
                         "--out", str(tmp_path / "signed"))
    assert code == 0, err
    html = (tmp_path / "signed" / "report.html").read_text()
    assert "R. Reviewer" in html and "retrain before the next quarter" in html
    assert entry["timestamp"][:16].replace("T", " ") in html  # the decision's date on the sign-off page
    assert verify_packet(folder).ok
    # A decision log edited after the fact, or another packet's decisions: refused, never shown.
    forged = tmp_path / "forged"
    shutil.copytree(folder, forged)
    log = forged / DECISIONS
    log.write_text(log.read_text().replace("R. Reviewer", "R. Reviewr"))
    code, out, err = run_cli(capsys, "render", str(forged / "report.json"), "--format", "html", "--decisions", str(forged),
                             "--out", str(tmp_path / "f"))
    assert code == 2 and "does not verify" in err and not (tmp_path / "f" / "report.html").exists()
    other = dict(inputs, created_at="2026-01-01T00:00:00+00:00")
    (tmp_path / "other.json").write_text(json.dumps(other))
    code, out, err = run_cli(capsys, "render", str(tmp_path / "other.json"), "--format", "html", "--decisions", str(folder),
                             "--out", str(tmp_path / "o"))
    assert code == 2 and "were made on another report" in err
    # --decisions naming something that is not a packet.
    code, out, err = run_cli(capsys, "render", str(folder / "report.json"), "--decisions", str(tmp_path), "--out", str(tmp_path / "x"))
    assert code == 2 and "is not an auditor packet" in err
