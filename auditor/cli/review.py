"""The review-packet commands: ``auditor verify``, ``auditor sign`` and ``auditor keygen``.

Registered on the ``auditor`` group when :mod:`auditor.cli` is imported; like the rest of
the command line, they load the packet code only when they run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from auditor.cli import EXIT_GATE, EXIT_OK, cli


def _print_verification(check: Any) -> None:
    for line in check.problems:
        click.echo(f"  FAIL {line}")
    for line in check.notes:
        click.echo(f"  note {line}")


@cli.command("verify", short_help="Check a review packet: every file and input against its manifest, the signature, the sign-off log.")
@click.argument("packet_dir", metavar="DIR")
@click.option("--public-key", metavar="PUB.pem", help="Require the manifest to be signed by this Ed25519 public key.")
@click.option("--inputs-required", is_flag=True,
              help="Fail when an input (model, data, policy) is not found at its recorded path, instead of noting it as not checked.")
@click.option("--inputs-root", metavar="DIR", type=click.Path(exists=True, file_okay=False),
              help="Resolve the inputs' relative paths against DIR (default: the current folder).")
def verify_cmd(packet_dir: str, public_key: str | None, inputs_required: bool, inputs_root: str | None) -> None:
    """Recompute the SHA-256 of every file in the packet DIR and of every input it lists.

    Exit codes: 0 the packet is intact; 1 a file changed, is missing or is unexpected,
    the manifest was edited, the signature does not verify (or, with --public-key, was
    made by another key or is absent), or the decision log's chain is broken; 2 DIR is
    not a readable packet, or the key file cannot be used. Inputs not found at their
    recorded path are reported as not checked (a failure only with --inputs-required).
    """
    from auditor.app.packet import verify_packet

    check = verify_packet(packet_dir, public_key=public_key, inputs_required=inputs_required, inputs_root=inputs_root)
    _print_verification(check)
    signature = {"absent": "unsigned", "verified": "signature verified", "unverified": "signature not checked against a key",
                 "invalid": "signature INVALID"}[check.signature]
    inputs = f"{check.inputs_checked} input(s) checked" + (f", {len(check.inputs_not_found)} not found" if check.inputs_not_found else "")
    decisions = f", {check.decisions} decision(s) (log head {check.decisions_head[:16]})" if check.decisions else ""
    if check.ok:
        click.echo(f"auditor: packet {packet_dir} verified: {len(check.checked)} file(s) intact, {inputs}, {signature}{decisions}")
        sys.exit(EXIT_OK)
    click.echo(f"auditor: packet {packet_dir} FAILED verification: {len(check.problems)} problem(s); {inputs}, {signature}")
    sys.exit(EXIT_GATE)


@cli.command("sign", short_help="Record a reviewer's sign-off decision in a verified packet (decisions.jsonl).")
@click.argument("packet_dir", metavar="DIR")
@click.option("--reviewer", required=True, metavar="NAME", help="Who decides.")
@click.option("--decision", required=True, type=click.Choice(["approve", "reject", "approve-with-conditions"]), help="The decision.")
@click.option("--note", default="", metavar="TEXT", help="Why, or on which conditions (required unless approving).")
@click.option("--public-key", metavar="PUB.pem", help="Verify the packet's signature with this key first.")
@click.option("--inputs-required", is_flag=True, help="Refuse to sign when an input cannot be found to check.")
@click.option("--inputs-root", metavar="DIR", type=click.Path(exists=True, file_okay=False), help="Resolve the inputs' relative paths against DIR.")
def sign_cmd(packet_dir: str, reviewer: str, decision: str, note: str, public_key: str | None,
             inputs_required: bool, inputs_root: str | None) -> None:
    """Verify the packet DIR, then append a dated decision to DIR/decisions.jsonl.

    Each entry records the UTC time, the reviewer, the decision, the note, the
    manifest's SHA-256 and the SHA-256 of the previous entry, so editing or removing an
    earlier decision is caught by 'auditor verify'. Exit codes: 0 recorded; 1 refused
    because the packet fails verification (nothing is written); 2 bad input.
    """
    from auditor.app.packet import sign_packet

    check, entry = sign_packet(packet_dir, reviewer=reviewer, decision=decision, note=note, public_key=public_key,
                               inputs_required=inputs_required, inputs_root=inputs_root)
    if entry is None:
        _print_verification(check)
        click.echo(f"auditor: refusing to sign {packet_dir}: it fails verification ({len(check.problems)} problem(s)); nothing was recorded")
        sys.exit(EXIT_GATE)
    for line in check.notes:
        click.echo(f"  note {line}")
    click.echo(f"auditor: recorded decision {entry['seq']} in {Path(packet_dir) / 'decisions.jsonl'}: "
               f"{entry['decision']} by {entry['reviewer']} at {entry['timestamp']}")


@cli.command("keygen", short_help="Write an Ed25519 key pair for signing packet manifests.")
@click.option("--private-key", required=True, metavar="KEY.pem", help="Where to write the private key (mode 0600; keep it secret).")
@click.option("--public-key", required=True, metavar="PUB.pem", help="Where to write the public key (share it with reviewers).")
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def keygen_cmd(private_key: str, public_key: str, force: bool) -> None:
    """Write a new Ed25519 key pair as PEM files.

    When $AUDITOR_KEY_PASSPHRASE is set the private key is encrypted with it, and the
    same variable must be set when signing ('auditor run --packet DIR --signing-key KEY.pem').
    """
    from auditor.app.packet import generate_keys, passphrase_from_env

    passphrase = passphrase_from_env()
    fingerprint = generate_keys(private_key, public_key, passphrase=passphrase, force=force)
    click.echo(f"wrote {private_key} ({'encrypted' if passphrase else 'unencrypted'}) and {public_key}; fingerprint {fingerprint}")
