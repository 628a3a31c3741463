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


def test_the_key_file_stays_the_key_when_the_web_secret_is_set_later(cli, config_dir, monkeypatch):
    cli("init")
    monkeypatch.setenv("LOA_SECRET_KEY", "bi-mat-cua-web")  # as loa serve needs it
    cli("user", "add", "lan", "--role", "editor")
    assert "audit log intact" in cli("audit", "verify").stdout


def test_init_gives_no_new_key_to_a_log_sealed_with_another_one(cli, config_dir, monkeypatch):
    monkeypatch.setenv("LOA_SECRET_KEY", "bi-mat-cua-web")
    assert "audit key created" not in cli("init").stderr  # sealed with the key derived from the web secret
    monkeypatch.delenv("LOA_SECRET_KEY")
    assert "audit key created" not in cli("init").stderr  # a new key would break the sealed log for good
    assert not (config_dir.parent / "var" / "audit.key").exists()
    refused = cli("user", "add", "lan", "--role", "editor", ok=False)
    assert refused.exit_code != 0 and "has no audit key" in refused.stderr
    monkeypatch.setenv("LOA_SECRET_KEY", "bi-mat-cua-web")
    assert "audit log intact" in cli("audit", "verify").stdout
