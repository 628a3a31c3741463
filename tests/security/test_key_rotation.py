"""``loa audit rotate-key`` re-seals everything under a new key: intact with it, broken with the old one.

Run as an admin runs it, through ``loa`` commands on the suite's database (SQLite or PostgreSQL), with the key
``loa init`` wrote to ``var/audit.key``.
"""

from __future__ import annotations

import stat

import pytest
from e2e.e2e_support import (
    EDITOR,
    approved_piece,
    at,
    everything_published,
    playlist,
    programs,
    schedule,
    setup_accounts,
)
from sqlalchemy import text

from content.db import make_engine, session_factory, unit_of_work

TITLE = "Thông báo lịch tiêm chủng mở rộng tháng 11"
BODY = "Trạm y tế xã tổ chức tiêm chủng mở rộng vào sáng thứ Ba tại nhà văn hóa thôn."
SECOND = "Thông báo thu gom rác thải theo lịch mới"
ADMIN = "quan-tri-an"


@pytest.fixture
def planned(cli):
    now = at("05:00")
    setup_accounts(cli, now)
    piece = approved_piece(cli, TITLE, BODY, now)
    cli("plan", "--days", "1", now=now)
    return piece


def _key(config_dir) -> str:
    return (config_dir.parent / "var" / "audit.key").read_text().strip()


def test_rotation_reseals_everything_so_verify_holds_with_the_new_key_and_fails_with_the_old(
        cli, config_dir, planned, monkeypatch):
    cli("dispatch", now=at("05:58:30"))  # the morning goes out: payloads stored and sealed under the old key
    before = {p["delivery"]: p["state"] for p in schedule(cli, at("05:59"), "--days", "1")}
    assert "delivered" in before.values() and "pending" in before.values()
    old = _key(config_dir)

    rotated = cli("audit", "rotate-key", now=at("06:30"))
    key_path = config_dir.parent / "var" / "audit.key"
    assert f"new key is in {key_path}" in rotated.stderr
    assert "re-sealed" in rotated.stdout and "0 seals that did not hold" in rotated.stdout
    new = _key(config_dir)
    assert new != old and len(new) == 64 and stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert not (config_dir.parent / "var" / "audit.key.new").exists()

    assert "audit log intact" in cli("audit", "verify").stdout
    rotation = cli.json("audit", "list", "--action", "audit.key-rotated")
    assert len(rotation) == 1 and rotation[0]["details"]["reviews"] >= 1
    assert rotation[0]["details"]["payloads"] >= 1 and rotation[0]["details"]["renditions"] >= 1

    monkeypatch.setenv("LOA_AUDIT_KEY", old)  # the old key (say, the leaked one) no longer verifies anything
    refused = cli("audit", "verify", ok=False)
    assert refused.exit_code != 0 and "wrong seal" in refused.stderr
    monkeypatch.delenv("LOA_AUDIT_KEY")

    # Pushes keep working under the new key: approvals, renditions and the stored payloads were re-sealed.
    cli("dispatch", now=at("16:58:30"))
    evening = programs(schedule(cli, at("16:59"), "--days", "1"), "loudspeaker", "17:00")
    assert evening and all(p["state"] == "delivered" for p in evening), evening
    assert playlist(config_dir, "99001", "1700").exists()
    approved_piece(cli, SECOND, "Xe thu gom rác đi qua các thôn vào 16 giờ hằng ngày.", at("17:05"))
    cli("plan", "--days", "1", now=at("17:06"))
    assert "audit log intact" in cli("audit", "verify").stdout


def test_a_stored_payload_pushed_before_the_rotation_is_retried_after_it(cli, config_dir, planned, settings):
    cli("dispatch", now=at("05:58:30"))
    board = programs(schedule(cli, at("05:59"), "--days", "1"), "board", "00:00")[0]
    assert board["state"] == "delivered"
    cli("audit", "rotate-key", now=at("06:30"))
    with unit_of_work(session_factory(engine := make_engine(settings.database_url))) as session:
        session.execute(text("UPDATE deliveries SET state = 'dead' WHERE id = :id"), {"id": board["delivery"]})
    engine.dispose()
    cli("delivery", "retry", board["delivery"], now=at("07:00"))
    cli("dispatch", now=at("07:00"))
    after = next(p for p in schedule(cli, at("07:01"), "--days", "1") if p["delivery"] == board["delivery"])
    assert after["state"] == "delivered", after
    assert TITLE in everything_published(config_dir)


def test_a_seal_forged_before_the_rotation_is_not_laundered_by_it(cli, config_dir, planned, settings):
    engine = make_engine(settings.database_url)
    with unit_of_work(session_factory(engine)) as session:  # an attacker's seal: not made with the key
        session.execute(text("UPDATE renditions SET seal = :seal"), {"seal": "ab" * 32})
    rotated = cli("audit", "rotate-key", now=at("05:30"))
    assert "seals that did not hold were left" in rotated.stdout and " 0 seals" not in rotated.stdout
    cli("dispatch", now=at("05:58:30"), ok=False)
    morning = programs(schedule(cli, at("05:59"), "--days", "1"), "loudspeaker", "06:00")
    assert morning and all(p["state"] == "refused" and "rendition" in p["last_error"] for p in morning)
    engine.dispose()


def test_a_broken_log_is_not_resealed_and_nothing_changes(cli, config_dir, planned, settings):
    engine = make_engine(settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        session.execute(text("UPDATE audit_events SET actor = 'ke-gian' WHERE action = 'piece.approve'"))
    old = _key(config_dir)
    refused = cli("audit", "rotate-key", now=at("05:30"), ok=False)
    assert refused.exit_code != 0 and "not re-sealed" in refused.stderr
    assert _key(config_dir) == old and not (config_dir.parent / "var" / "audit.key.new").exists()
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM audit_events WHERE action = 'audit.key-rotated'")) == 0
    engine.dispose()


def test_a_new_key_from_the_environment_and_an_admin_only_command(cli, config_dir, planned, monkeypatch):
    new = "khoa-moi-" + "7" * 40
    monkeypatch.setenv("NEW_LOA_KEY", new)
    cli("user", "add", ADMIN, "--role", "admin", now=at("05:10"))
    denied = cli("audit", "rotate-key", "--new-key-env", "NEW_LOA_KEY", now=at("05:30"), user=EDITOR, ok=False)
    assert denied.exit_code != 0 and "admin" in denied.stderr
    rotated = cli("audit", "rotate-key", "--new-key-env", "NEW_LOA_KEY", now=at("05:30"), user=ADMIN)
    assert "set LOA_AUDIT_KEY to the value of NEW_LOA_KEY" in rotated.stderr
    monkeypatch.setenv("LOA_AUDIT_KEY", new)
    assert "audit log intact" in cli("audit", "verify").stdout
    monkeypatch.delenv("LOA_AUDIT_KEY")  # var/audit.key still holds the old key: refused, never trusted
    assert cli("audit", "verify", ok=False).exit_code != 0
