"""Review packets: the reports, report.json and the policy in one folder with a manifest.

A packet is what a reviewer receives and signs off::

    DIR/
      report.json  report.html  report.pdf  ...   the reports the run wrote
      policy.yaml  policy.effective.json          the policy file given, and the policy as applied
      model_card.json  model_card.md              when the report carries a model card
      manifest.json                               SHA-256 and size of every file above, and of the inputs
      manifest.sig  signature.json                optional Ed25519 signature of manifest.json
      decisions.jsonl                             sign-off decisions, appended by ``auditor sign``

``manifest.json`` lists every artefact by its path relative to DIR and every input
(model, data, policy, history) by the path given on the command line. It carries its
own checksum, so an edit to the manifest itself is caught without a signature, and is
written last: a packet interrupted half-way fails verification instead of passing it.

``verify_packet`` recomputes every hash; ``sign_packet`` appends a decision whose entry
holds the SHA-256 of the previous one, so deleting or editing an earlier decision
breaks the chain. ``cryptography`` is imported only inside the functions that sign.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from auditor.app.keys import (  # noqa: F401  (re-exported: the packet's keys and errors)
    PASSPHRASE_ENV,
    PacketError,
    generate_keys,
    load_private_key,
    load_public_key,
    passphrase_from_env,
    public_key_fingerprint,
    sha256_bytes,
)
from auditor.contract.data import sha256_file

PACKET_FORMAT = "auditor-packet/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SIGNATURE_INFO = "signature.json"
DECISIONS = "decisions.jsonl"
#: Files that belong to a packet but are not listed in its manifest: the manifest
#: itself, its signature, and the decision log appended after it was written.
CONTROL_FILES = (MANIFEST, SIGNATURE, SIGNATURE_INFO, DECISIONS)
DECISION_VALUES = ("approve", "reject", "approve-with-conditions")
GENESIS = "0" * 64

MSG_NOT_FOUND = "packet folder not found: {path}"
MSG_NOT_PACKET = "{path} is not an auditor packet: it has no {manifest}"
MSG_BAD_MANIFEST = "{path} is not a valid packet manifest: {reason}"



def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------
# The manifest
# --------------------------------------------------------------------------------------

def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _with_checksum(body: dict[str, Any]) -> str:
    body = {k: v for k, v in body.items() if k != "checksum"}
    return _canonical({**body, "checksum": sha256_bytes(_canonical(body).encode("utf-8"))})


def report_inputs(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The input files a report read, as ``{"role", "path", "sha256"}``, with the path as given."""
    inputs = report.get("inputs") or {}
    found: list[dict[str, Any]] = []
    model = inputs.get("model") or {}
    if model.get("path"):
        found.append({"role": "model", "path": model["path"], "sha256": model.get("sha256")})
    for other in model.get("compared_with") or []:
        if isinstance(other, dict) and other.get("path"):
            found.append({"role": f"model:{other.get('name') or 'baseline'}", "path": other["path"], "sha256": other.get("sha256")})
    for role, record in (inputs.get("datasets") or {}).items():
        if isinstance(record, dict) and record.get("path"):
            found.append({"role": role, "path": record["path"], "sha256": record.get("sha256")})
    policy = inputs.get("policy") or {}
    if policy.get("path"):
        found.append({"role": "policy", "path": policy["path"], "sha256": policy.get("sha256")})
    baseline = (report.get("baseline_diff") or {}).get("baseline_report") or {}
    if baseline.get("path"):
        found.append({"role": "baseline-report", "path": baseline["path"], "sha256": baseline.get("sha256")})
    return found


def build_manifest(artefacts: dict[str, bytes], inputs: list[dict[str, Any]], report: dict[str, Any]) -> str:
    """manifest.json's text for ``artefacts`` (relative path -> content) and the report's inputs."""
    from auditor.util.version import __version__

    files = [{"path": name, "sha256": sha256_bytes(data), "bytes": len(data)} for name, data in sorted(artefacts.items())]
    recorded = []
    for item in inputs:
        path = Path(item["path"])
        size = path.stat().st_size if path.is_file() else None
        recorded.append({**item, "bytes": size})
    gate = report.get("gate") or {}
    body = {
        "packet_format": PACKET_FORMAT,
        "auditor_version": __version__,
        "created_at": _now(),
        "report": {"title": report.get("title"), "created_at": report.get("created_at"),
                   "gate_passed": gate.get("passed"), "exit_code": gate.get("exit_code")},
        "artefacts": files,
        "inputs": recorded,
    }
    return _with_checksum(body)


def _safe_relative(name: Any) -> bool:
    if not isinstance(name, str) or not name or "\\" in name:
        return False
    pure = PurePosixPath(name)
    return not pure.is_absolute() and ".." not in pure.parts and name not in CONTROL_FILES


def load_manifest(folder: str | Path) -> tuple[dict[str, Any], bytes]:
    """Read and validate DIR/manifest.json; raise PacketError with one line when it cannot be used."""
    folder = Path(folder)
    if not folder.exists():
        raise PacketError(MSG_NOT_FOUND.format(path=folder))
    if not folder.is_dir():
        raise PacketError(f"{folder} is not a folder; a packet is a folder written by 'auditor run --packet'")
    path = folder / MANIFEST
    if not path.is_file():
        raise PacketError(MSG_NOT_PACKET.format(path=folder, manifest=MANIFEST))
    raw = path.read_bytes()
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PacketError(MSG_BAD_MANIFEST.format(path=path, reason=f"not JSON ({exc})")) from None
    if not isinstance(manifest, dict):
        raise PacketError(MSG_BAD_MANIFEST.format(path=path, reason="the top level is not an object"))
    if manifest.get("packet_format") != PACKET_FORMAT:
        raise PacketError(MSG_BAD_MANIFEST.format(
            path=path, reason=f"packet_format is {manifest.get('packet_format')!r}; this auditor reads {PACKET_FORMAT!r}"))
    artefacts, inputs = manifest.get("artefacts"), manifest.get("inputs")
    if not isinstance(artefacts, list) or not all(
        isinstance(a, dict) and _safe_relative(a.get("path")) and isinstance(a.get("sha256"), str) and isinstance(a.get("bytes"), int)
        for a in artefacts
    ):
        raise PacketError(MSG_BAD_MANIFEST.format(
            path=path, reason="artefacts must be a list of {path, sha256, bytes} with relative paths inside the packet"))
    if not isinstance(inputs, list) or not all(isinstance(i, dict) and isinstance(i.get("path"), str) for i in inputs):
        raise PacketError(MSG_BAD_MANIFEST.format(path=path, reason="inputs must be a list of {role, path, sha256, bytes}"))
    return manifest, raw


# --------------------------------------------------------------------------------------
# Writing a packet
# --------------------------------------------------------------------------------------

def _listing(folder: Path) -> list[str]:
    """Every file under ``folder`` as a relative POSIX path (folders themselves are not listed)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())


def check_packet_target(folder: str | Path, *, force: bool = False, ignore: frozenset[str] = frozenset()) -> None:
    """Refuse, before the audit runs, a packet folder whose contents a packet would clobber.

    A new or empty folder, or a previous packet with nothing else in it, is fine (the
    previous packet is replaced). A packet that holds sign-off decisions is never
    replaced: a sign-off is a record. Any other non-empty folder needs ``force``; even
    then nothing but the packet's own file names is written and no file is deleted.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise PacketError(f"--packet {folder} exists and is not a folder")
    if not folder.exists():
        return
    present = [p for p in _listing(folder) if p not in ignore]
    if not present:
        return
    if (folder / DECISIONS).is_file():
        raise PacketError(
            f"--packet {folder} holds sign-off decisions ({DECISIONS}); a signed-off packet is not replaced: choose a new folder")
    if (folder / MANIFEST).is_file():
        try:
            manifest, _ = load_manifest(folder)
        except PacketError:
            manifest = None
        if manifest is not None:
            ours = {a["path"] for a in manifest["artefacts"]} | set(CONTROL_FILES)
            foreign = [p for p in present if p not in ours]
            if not foreign or force:
                return
            raise PacketError(
                f"--packet {folder} is a previous packet but also holds other files ({', '.join(foreign[:5])}"
                f"{', ...' if len(foreign) > 5 else ''}); move them or pass --force (they are kept, and 'auditor verify' will list them as unexpected)")
    if not force:
        raise PacketError(
            f"--packet {folder} is not empty and is not an auditor packet ({', '.join(present[:5])}{', ...' if len(present) > 5 else ''}); "
            "choose a new or empty folder, or pass --force to write the packet beside those files (none is deleted)")


def packet_artefacts(report: dict[str, Any], reports: dict[str, Path], *, policy_path: str | Path | None) -> dict[str, bytes]:
    """The packet's files (relative name -> content) from the written reports, the policy and the model card."""
    from auditor.render import FILENAMES, render

    files: dict[str, bytes] = {}
    for fmt, path in reports.items():
        files[FILENAMES[fmt]] = Path(path).read_bytes()
    if FILENAMES["json"] not in files:  # report.json is the packet's core, whatever --format said
        files[FILENAMES["json"]] = render(report, "json").encode("utf-8")
    if policy_path:
        suffix = Path(policy_path).suffix.lower()
        files[f"policy{suffix if suffix in ('.yaml', '.yml', '.json') else '.yaml'}"] = Path(policy_path).read_bytes()
    files["policy.effective.json"] = _canonical(report.get("policy") or {}).encode("utf-8")
    card = report.get("model_card")
    if card:
        files["model_card.json"] = (json.dumps(card, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        from auditor.render.model_card import model_card_markdown

        files["model_card.md"] = model_card_markdown(card).encode("utf-8")
    return files


def write_packet(
    folder: str | Path,
    report: dict[str, Any],
    reports: dict[str, Path],
    *,
    policy_path: str | Path | None = None,
    signing_key: str | Path | None = None,
    passphrase: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Write the packet into ``folder``; return ``{"folder", "files", "signed"}``.

    Every file is written atomically; stale files of a previous packet that this one
    does not contain are removed (they were listed in its manifest, so they are ours),
    its signature first, and the manifest last.
    """
    from auditor.util.fileio import ensure_writable_dir, write_atomic

    folder = Path(folder)
    # With --packet DIR --out DIR the reports just written are the packet's own files.
    same = frozenset(Path(p).name for p in reports.values() if Path(p).parent.resolve() == folder.resolve())
    check_packet_target(folder, force=force, ignore=same)
    key = load_private_key(signing_key, passphrase=passphrase) if signing_key else None  # fail before writing
    artefacts = packet_artefacts(report, reports, policy_path=policy_path)
    manifest_text = build_manifest(artefacts, report_inputs(report), report)
    previous: list[str] = []
    if (folder / MANIFEST).is_file():
        try:
            previous = [a["path"] for a in load_manifest(folder)[0]["artefacts"]]
        except PacketError:
            previous = []
    try:
        ensure_writable_dir(folder)
        for name in (SIGNATURE, SIGNATURE_INFO, MANIFEST):  # the old manifest no longer describes the folder
            (folder / name).unlink(missing_ok=True)
        for name in previous:
            if name not in artefacts:
                (folder / name).unlink(missing_ok=True)
        for name, data in artefacts.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            write_atomic(folder / name, data)
        write_atomic(folder / MANIFEST, manifest_text)
        if key is not None:
            _write_signature(folder, key, manifest_text.encode("utf-8"))
    except OSError as exc:
        raise PacketError(f"cannot write the packet into {folder}: {exc.strerror or exc}") from None
    written = sorted(artefacts) + [MANIFEST] + ([SIGNATURE, SIGNATURE_INFO] if key is not None else [])
    return {"folder": folder, "files": written, "signed": key is not None}


def write_zip(folder: str | Path, *, force: bool = False) -> Path:
    """Write ``folder``.zip holding the packet under a top folder of the same name."""
    import io
    import zipfile

    from auditor.util.fileio import write_atomic

    folder = Path(folder)
    target = folder.parent / f"{folder.name}.zip"
    if target.exists() and not force:
        try:
            with zipfile.ZipFile(target) as existing:
                ours = f"{folder.name}/{MANIFEST}" in existing.namelist()
        except (zipfile.BadZipFile, OSError):
            ours = False
        if not ours:
            raise PacketError(f"{target} exists and is not a zipped packet of {folder.name}; move it or pass --force")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in _listing(folder):
            archive.write(folder / name, f"{folder.name}/{name}")
    try:
        write_atomic(target, buffer.getvalue())
    except OSError as exc:
        raise PacketError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


# --------------------------------------------------------------------------------------
# Signatures (Ed25519; the keys are in auditor.app.keys)
# --------------------------------------------------------------------------------------

def _write_signature(folder: Path, key, manifest_bytes: bytes) -> None:
    from cryptography.hazmat.primitives import serialization

    from auditor.util.fileio import write_atomic

    signature = key.sign(manifest_bytes)
    public = key.public_key()
    info = {
        "algorithm": "Ed25519",
        "signs": MANIFEST,
        "manifest_sha256": sha256_bytes(manifest_bytes),
        "public_key": base64.b64encode(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode("ascii"),
        "public_key_fingerprint": public_key_fingerprint(public),
        "signed_at": _now(),
    }
    write_atomic(folder / SIGNATURE, base64.b64encode(signature).decode("ascii") + "\n")
    write_atomic(folder / SIGNATURE_INFO, _canonical(info))


# --------------------------------------------------------------------------------------
# Verifying
# --------------------------------------------------------------------------------------

@dataclass
class Verification:
    """What ``verify_packet`` found. ``problems`` make it fail; ``notes`` are said, not failed."""

    folder: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    inputs_checked: int = 0
    inputs_not_found: list[str] = field(default_factory=list)
    signature: str = "absent"  # absent | verified | unverified (no trusted key given) | invalid
    decisions: int = 0
    #: SHA-256 of the newest decision: record it elsewhere to detect the newest entries being removed.
    decisions_head: str = ""
    manifest_sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_packet(
    folder: str | Path,
    *,
    public_key: str | Path | None = None,
    inputs_required: bool = False,
    inputs_root: str | Path | None = None,
) -> Verification:
    """Recompute every hash of the packet in ``folder``; raise PacketError only when it cannot be read.

    Fails on: an artefact changed, missing or unexpected; a manifest edited by hand;
    a changed input; a signature that does not verify (or, with ``public_key``, one made
    by another key, or none at all); a broken decision log. An input not found at its
    recorded path is not checked and is a note, or a problem with ``inputs_required``.
    Relative input paths are resolved against ``inputs_root`` (default: the working folder).
    """
    folder = Path(folder)
    trusted = load_public_key(public_key) if public_key else None  # a bad key file is bad input: exit 2
    manifest, raw = load_manifest(folder)
    result = Verification(folder=folder, manifest_sha256=sha256_bytes(raw))

    edited = raw.decode("utf-8") != _with_checksum(manifest)  # the checksum field and the exact formatting both
    if edited:
        result.problems.append(f"changed: {MANIFEST} (it no longer matches its own checksum: edited after it was written)")

    listed = {}
    for item in manifest["artefacts"]:
        listed[item["path"]] = item
        path = folder / item["path"]
        if not path.is_file():
            result.problems.append(f"missing: {item['path']}")
            continue
        digest, size = sha256_file(path), path.stat().st_size
        if digest != item["sha256"] or size != item["bytes"]:
            which = "it or its entry in the edited manifest changed" if edited else "the file changed"
            result.problems.append(f"changed: {item['path']} ({which}: SHA-256 {digest[:12]}..., {size} bytes; "
                                   f"manifest: {item['sha256'][:12]}..., {item['bytes']} bytes)")
        else:
            result.checked.append(item["path"])
    for name in _listing(folder):
        if name not in listed and name not in CONTROL_FILES:
            result.problems.append(f"unexpected: {name} (not in the manifest)")

    root = Path(inputs_root) if inputs_root else Path.cwd()
    for item in manifest["inputs"]:
        given = Path(item["path"])
        path = given if given.is_absolute() else root / given
        label = f"{item.get('role', 'input')} {item['path']}"
        if not path.is_file():
            result.inputs_not_found.append(item["path"])
            text = f"input not found, not checked: {label}"
            (result.problems if inputs_required else result.notes).append(text)
            continue
        digest = sha256_file(path)
        if item.get("sha256") and digest != item["sha256"]:
            result.problems.append(f"changed input: {label} (SHA-256 {digest[:12]}...; manifest: {str(item['sha256'])[:12]}...)")
        else:
            result.inputs_checked += 1

    _verify_signature(folder, raw, trusted, public_key, result)
    _verify_decisions(folder, result)
    return result


def _verify_signature(folder: Path, raw: bytes, trusted, trusted_path, result: Verification) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    sig_path, info_path = folder / SIGNATURE, folder / SIGNATURE_INFO
    if not sig_path.exists() and not info_path.exists():
        result.signature = "absent"
        if trusted is not None:
            result.problems.append(f"unsigned: a public key was given but the packet has no {SIGNATURE}")
        return
    if not sig_path.is_file() or not info_path.is_file():
        result.signature = "invalid"
        result.problems.append(f"missing: {SIGNATURE if not sig_path.is_file() else SIGNATURE_INFO} (the other half of the signature is present)")
        return
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        signature = base64.b64decode(sig_path.read_text(encoding="ascii").strip(), validate=True)
        embedded = Ed25519PublicKey.from_public_bytes(base64.b64decode(info["public_key"], validate=True))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:  # a malformed signature fails, never crashes
        result.signature = "invalid"
        result.problems.append(f"changed: {SIGNATURE} or {SIGNATURE_INFO} cannot be read ({type(exc).__name__})")
        return
    fingerprint = public_key_fingerprint(embedded)
    if info.get("public_key_fingerprint") != fingerprint:
        result.signature = "invalid"
        result.problems.append(f"changed: {SIGNATURE_INFO} (its fingerprint does not match its public key)")
        return
    key = trusted if trusted is not None else embedded
    if trusted is not None and public_key_fingerprint(trusted) != fingerprint:
        result.signature = "invalid"
        result.problems.append(
            f"signature: made by key {fingerprint}, not by {trusted_path} ({public_key_fingerprint(trusted)})")
        return
    try:
        key.verify(signature, raw)
    except InvalidSignature:
        result.signature = "invalid"
        result.problems.append(f"signature: {SIGNATURE} does not verify against {MANIFEST} (the manifest or the signature was changed)")
        return
    if trusted is not None:
        result.signature = "verified"
    else:
        result.signature = "unverified"
        result.notes.append(
            f"signature: consistent, made by key {fingerprint}; not checked against a trusted key (give --public-key)")


def _verify_decisions(folder: Path, result: Verification) -> None:
    try:
        entries = _read_log(folder)
    except PacketError as exc:
        result.problems.append(f"changed: {DECISIONS} ({exc})")
        return
    previous = GENESIS
    for number, (line, entry) in enumerate(entries, start=1):
        if entry.get("entry_sha256") != _entry_hash(entry):
            result.problems.append(f"changed: {DECISIONS} (decision {number} was edited: it no longer matches its own hash)")
            return
        if entry.get("previous_sha256") != previous or entry.get("seq") != number:
            after = f"follow decision {number - 1}" if number > 1 else "start the log"
            result.problems.append(
                f"changed: {DECISIONS} (decision {number} does not {after}: an entry was edited, removed or reordered)")
            return
        if entry.get("manifest_sha256") != result.manifest_sha256:
            result.problems.append(
                f"changed: {DECISIONS} (decision {number} by {entry.get('reviewer')!r} was made on a different {MANIFEST})")
        previous = sha256_bytes(line)
    result.decisions = len(entries)
    result.decisions_head = previous if entries else ""


def _entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "entry_sha256"}
    return sha256_bytes(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8"))


# --------------------------------------------------------------------------------------
# Sign-off decisions
# --------------------------------------------------------------------------------------

def _read_log(folder: Path) -> list[tuple[bytes, dict[str, Any]]]:
    path = Path(folder) / DECISIONS
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise PacketError(f"line {number} is not JSON") from None
        if not isinstance(entry, dict):
            raise PacketError(f"line {number} is not an object")
        entries.append((line, entry))
    return entries


def read_decisions(folder: str | Path) -> list[dict[str, Any]]:
    """The packet's sign-off decisions, oldest first, as plain dicts ([] when there is none).

    Each has ``seq``, ``timestamp`` (UTC ISO 8601), ``reviewer``, ``decision``, ``note``,
    ``manifest_sha256``, ``signature`` (the packet's signature state when it was signed),
    ``previous_sha256`` and ``entry_sha256``. Raises PacketError when a line is not JSON;
    whether the chain is intact is ``verify_packet``'s question.
    """
    return [entry for _, entry in _read_log(Path(folder))]


def sign_packet(
    folder: str | Path,
    *,
    reviewer: str,
    decision: str,
    note: str = "",
    public_key: str | Path | None = None,
    inputs_required: bool = False,
    inputs_root: str | Path | None = None,
    now: dt.datetime | None = None,
) -> tuple[Verification, dict[str, Any] | None]:
    """Verify the packet, then append a decision to its log; return (verification, entry or None).

    Nothing is written when verification fails.
    """
    from auditor.util.fileio import write_atomic

    reviewer = " ".join(str(reviewer).split())
    if not reviewer:
        raise PacketError("--reviewer must name the reviewer; got an empty name")
    if decision not in DECISION_VALUES:
        raise PacketError(f"--decision must be one of {', '.join(DECISION_VALUES)}; got {decision!r}")
    if decision != "approve" and not str(note).strip():
        raise PacketError(f"--note is required for {decision}: say why, or on which conditions")
    check = verify_packet(folder, public_key=public_key, inputs_required=inputs_required, inputs_root=inputs_root)
    if not check.ok:
        return check, None
    folder = Path(folder)
    log = _read_log(folder)
    previous = sha256_bytes(log[-1][0]) if log else GENESIS
    stamp = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    entry = {
        "seq": len(log) + 1,
        "timestamp": stamp.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "reviewer": reviewer,
        "decision": decision,
        "note": str(note).strip(),
        "manifest_sha256": check.manifest_sha256,
        "signature": check.signature,
        "previous_sha256": previous,
    }
    entry["entry_sha256"] = _entry_hash(entry)
    line = json.dumps(entry, sort_keys=True, ensure_ascii=False).encode("utf-8")
    existing = (folder / DECISIONS).read_bytes() if (folder / DECISIONS).exists() else b""
    if existing and not existing.endswith(b"\n"):
        existing += b"\n"
    try:
        write_atomic(folder / DECISIONS, existing + line + b"\n")
    except OSError as exc:
        raise PacketError(f"cannot write {folder / DECISIONS}: {exc.strerror or exc}") from None
    return check, entry
