"""``loa init`` with no key set writes one outside the database (0600, named on stderr) and seals from the start."""

from __future__ import annotations

import stat

from sqlalchemy import text

from content.db import make_engine


def test_init_creates_the_key_file_once_and_every_entry_is_sealed(cli, config_dir, settings):
    first = cli("init")
    key = config_dir.parent / "var" / "audit.key"
    assert f"audit key created in {key}" in first.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) == 64
    before = key.read_text()
    assert "audit key created" not in cli("init").stderr and key.read_text() == before
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        unsealed = connection.scalar(text("SELECT count(*) FROM audit_events WHERE seal IS NULL"))
        stored = connection.scalar(text("SELECT count(*) FROM audit_events"))
    engine.dispose()
    assert stored > 0 and unsealed == 0
