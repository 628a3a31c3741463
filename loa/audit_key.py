"""Finds the key that seals the audit log, approvals, renditions and payloads, and creates one at init.

In order: ``LOA_AUDIT_KEY``; the file ``var/audit.key`` (0600) that ``loa init`` writes when no key is
set; one derived from the web secret key. The file wins over the derived key, so setting the web secret
later (as ``loa serve`` needs) does not change the key. The key never goes into the database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from loa.settings import Settings

AUDIT_KEY_ENV = "LOA_AUDIT_KEY"
KEY_FILE = Path("var/audit.key")


def key_file(settings: Settings) -> Path:
    return settings.base_dir / KEY_FILE


def audit_key(settings: Settings) -> bytes | None:
    """The audit key of this installation, or None when none is set (the log is then chained and
    checkpointed but not sealed, and nothing else is sealed). Every loa process on one database needs
    the same key."""
    if explicit := settings.env.get(AUDIT_KEY_ENV):
        return explicit.encode()
    path = key_file(settings)
    if path.is_file() and (stored := path.read_bytes().strip()):
        return stored
    if secret := settings.env.get(settings.loa.web.secret_key_env):
        # A derived key, so the web session secret itself is never what seals the log.
        return hmac.new(secret.encode(), b"loa audit log", hashlib.sha256).digest()
    return None


def create_key_file(settings: Settings) -> Path | None:
    """Write a new random key to ``var/audit.key`` (mode 0600) when no key is set; its path, or None when
    a key was already set."""
    if audit_key(settings) is not None:
        return None
    path = key_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def key_id(key: bytes) -> str:
    """A short name of a key for the audit log and messages, from which the key cannot be found."""
    return hmac.new(key, b"loa audit key id", hashlib.sha256).hexdigest()[:16]


def pending_key_file(settings: Settings) -> Path:
    """Where ``loa audit rotate-key`` writes a generated key until the re-sealing has committed."""
    return key_file(settings).with_name(KEY_FILE.name + ".new")


def write_pending_key(settings: Settings) -> tuple[bytes, Path]:
    """A new random key, written to ``var/audit.key.new`` (mode 0600); refused (FileExistsError) when that
    file is left from an earlier rotation, since it may hold the key the database is sealed with now."""
    path = pending_key_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key.encode(), path
