"""Finds the key that seals the audit log: ``LOA_AUDIT_KEY``, or one derived from the web secret key."""

from __future__ import annotations

import hashlib
import hmac

from loa.settings import Settings

AUDIT_KEY_ENV = "LOA_AUDIT_KEY"


def audit_key(settings: Settings) -> bytes | None:
    """The audit key of this installation, or None when neither variable is set (the log is then
    chained and checkpointed but not sealed). Every loa process on one database needs the same key."""
    if explicit := settings.env.get(AUDIT_KEY_ENV):
        return explicit.encode()
    if secret := settings.env.get(settings.loa.web.secret_key_env):
        # A derived key, so the web session secret itself is never what seals the log.
        return hmac.new(secret.encode(), b"loa audit log", hashlib.sha256).digest()
    return None
