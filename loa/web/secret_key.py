"""The key that signs sessions and iCal links: from the environment, else generated once into a 0600 file."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from content.errors import ConfigError

log = logging.getLogger(__name__)


def _read(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s could be read by other users (mode %o); it is now 0600", path, mode)
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


def _create(path: Path) -> None:
    """Write a new key under ``path`` unless one is there: written whole into a private temporary file,
    then linked into place, so two processes starting at once end up with the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(partial, path)
            log.info("generated the web secret key into %s", path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    finally:
        partial.unlink(missing_ok=True)


def secret_key(settings: Any) -> str:
    """The environment variable named in loa.toml when set; otherwise the key kept in
    ``[web] secret_key_file`` (``var/secret_key``), made on the first start, so that a restart keeps
    everyone signed in and every iCal link working."""
    if key := settings.env.get(settings.loa.web.secret_key_env):
        return key
    path = settings.base_dir / settings.loa.web.secret_key_file
    if not path.exists():
        _create(path)
    key = _read(path)
    if not key:
        raise ConfigError("{path} is empty; delete it and loa makes a new key", path=str(path))
    return key
