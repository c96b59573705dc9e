"""Ed25519 keys for signing review packets (through the cryptography library, imported
only inside the functions that need it), and the error a packet, key or decision log
raises when it cannot be read."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from auditor.util.errors import AuditInputError

#: Environment variable holding a private key's passphrase (keygen, run --signing-key).
PASSPHRASE_ENV = "AUDITOR_KEY_PASSPHRASE"
MSG_KEY_UNREADABLE = "{role} key file {path} cannot be used: {reason}"


class PacketError(AuditInputError):
    """A packet, key or decision log that cannot be read at all (exit 2)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def public_key_fingerprint(public_key) -> str:
    """``SHA256:<hex>`` of the raw 32-byte Ed25519 public key."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + sha256_bytes(raw)


def generate_keys(private_path: str | Path, public_path: str | Path, *, passphrase: str | None = None,
                  force: bool = False) -> str:
    """Write a new Ed25519 key pair as PEM (the private key 0600, encrypted when a passphrase is given)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from auditor.util.fileio import write_atomic

    private_path, public_path = Path(private_path), Path(public_path)
    if private_path.resolve() == public_path.resolve():
        raise PacketError("--private-key and --public-key must be different files")
    for path in (private_path, public_path):
        if path.is_dir():
            raise PacketError(f"{path} is a folder; give a file name such as {path / 'key.pem'}")
        if path.exists() and not force:
            raise PacketError(f"{path} already exists; pass --force to overwrite it (a key you overwrite is lost)")
    key = Ed25519PrivateKey.generate()
    encryption = (serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase
                  else serialization.NoEncryption())
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        write_atomic(private_path, private_pem, mode=0o600)
        write_atomic(public_path, public_pem)
    except OSError as exc:
        raise PacketError(f"cannot write the key files {private_path} and {public_path}: {exc.strerror or exc}") from None
    return public_key_fingerprint(key.public_key())


def load_private_key(path: str | Path, *, passphrase: str | None = None):
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path)
    if not path.is_file():
        raise PacketError(f"private key file not found: {path}")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase.encode("utf-8") if passphrase else None)
    except TypeError as exc:  # a passphrase missing for an encrypted key, or given for a plain one
        reason = (f"it is encrypted; set {PASSPHRASE_ENV} to its passphrase" if "encrypted" in str(exc) and not passphrase
                  else f"it is not encrypted; unset {PASSPHRASE_ENV}" if passphrase else str(exc))
        raise PacketError(MSG_KEY_UNREADABLE.format(role="private", path=path, reason=reason)) from None
    except ValueError:
        reason = "wrong passphrase or not a PEM private key" if passphrase else "not a PEM private key"
        raise PacketError(MSG_KEY_UNREADABLE.format(role="private", path=path, reason=reason)) from None
    except UnsupportedAlgorithm:
        raise PacketError(MSG_KEY_UNREADABLE.format(role="private", path=path, reason="a key type this auditor cannot read")) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise PacketError(MSG_KEY_UNREADABLE.format(role="private", path=path, reason=f"it is a {type(key).__name__.lstrip('_')}, not an Ed25519 key"))
    return key


def load_public_key(path: str | Path):
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    path = Path(path)
    if not path.is_file():
        raise PacketError(f"public key file not found: {path}")
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        raise PacketError(MSG_KEY_UNREADABLE.format(role="public", path=path, reason="it is a private key; give the public key (keep the private one secret)"))
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise PacketError(MSG_KEY_UNREADABLE.format(role="public", path=path, reason="not a PEM public key")) from None
    if not isinstance(key, Ed25519PublicKey):
        raise PacketError(MSG_KEY_UNREADABLE.format(role="public", path=path, reason=f"it is a {type(key).__name__.lstrip('_')}, not an Ed25519 key"))
    return key


def passphrase_from_env(name: str = PASSPHRASE_ENV) -> str | None:
    value = os.environ.get(name)
    return value if value else None
