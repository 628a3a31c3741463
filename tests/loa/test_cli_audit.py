"""``loa audit verify`` finds rows edited, deleted or inserted in the database; ``loa audit list`` filters."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from content import audit
from content.models import AuditEvent
from loa.cli.app import app

EDITOR, APPROVER = "bien-tap", "duyet"


@pytest.fixture
def log(cli):
    """Eight entries: config sync, two users, and a piece added, submitted, approved, edited and submitted."""
    cli("init", now="2026-11-23T08:00")
    cli("user", "add", EDITOR, "--role", "editor", now="2026-11-23T08:01")
    cli("user", "add", APPROVER, "--role", "approver", now="2026-11-23T08:02")
    cli("piece", "add", "--title", "Thông báo tiêm chủng", "--body", "Mời bà con đưa trẻ đi tiêm.",
        user=EDITOR, now="2026-11-23T09:00")
    cli("piece", "submit", "1", user=EDITOR, now="2026-11-23T09:05")
    cli("piece", "approve", "1", user=APPROVER, now="2026-11-24T10:00")
    cli("piece", "edit", "1", "--title", "Thông báo tiêm chủng đợt 2", user=EDITOR, now="2026-11-25T07:00")
    cli("piece", "submit", "1", user=EDITOR, now="2026-11-25T07:05")
    return cli


def database_url(cli) -> str:
    """The database the CLI writes: the suite's (``--db``) or the config's SQLite file."""
    return cli.database_url or f"sqlite:///{cli.config_dir.parent / 'var' / 'loa.db'}"


def entries(cli, *filters: str) -> list[dict]:
    return cli.json("audit", "list", *filters)


def run_sql(cli, statement: str, params: tuple = ()) -> None:
    """Tamper with the database directly, as someone with access to it would (``?`` placeholders)."""
    parts = statement.split("?")
    named = "".join(part + (f":p{n}" if n < len(parts) - 1 else "") for n, part in enumerate(parts))
    engine = create_engine(database_url(cli))
    try:
        with engine.begin() as connection:
            connection.execute(text(named), {f"p{n}": value for n, value in enumerate(params)})
    finally:
        engine.dispose()


def count_pieces(cli) -> int:
    engine = create_engine(database_url(cli))
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM pieces")).scalar_one()
    finally:
        engine.dispose()


def test_an_untouched_log_is_intact_and_names_its_last_entry(log) -> None:
    last = entries(log)[-1]
    result = log("audit", "verify")
    assert f"audit log intact: {last['id']} entries; last entry {last['id']} sha256 {last['hash']}" in result.stdout


def first_piece_entry(cli) -> int:
    return next(e["id"] for e in entries(cli) if e["action"] == "piece.create")


def edit(cli) -> int:
    target = first_piece_entry(cli)
    run_sql(cli, "UPDATE audit_events SET actor = ? WHERE id = ?", (APPROVER, target))
    return target


def delete(cli) -> int:
    target = first_piece_entry(cli) + 1
    run_sql(cli, "DELETE FROM audit_events WHERE id = ?", (target,))
    return target + 1  # the first entry whose predecessor is gone


def insert(cli) -> int:
    """A forged approval appended with a correct link and a hash of its own."""
    last = entries(cli)[-1]
    run_sql(cli, "INSERT INTO audit_events (id, at, actor, action, subject, details, prev_hash, hash) "
                 "VALUES (?, '2026-11-25 01:00:00.000000', ?, 'piece.approve', 'piece:1', '{}', ?, ?)",
            (last["id"] + 1, APPROVER, last["hash"], hashlib.sha256(b"forged").hexdigest()))
    return last["id"] + 1


def truncate(cli) -> int:
    last = entries(cli)[-1]["id"]
    run_sql(cli, "DELETE FROM audit_events WHERE id = ?", (last,))
    return last


@pytest.mark.parametrize("tamper", [edit, delete, insert, truncate])
def test_verify_names_the_first_broken_entry(log, tamper) -> None:
    broken = tamper(log)
    result = log("audit", "verify", ok=False)
    assert result.exit_code != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("loa: error: audit log broken")
    assert re.search(rf"\bentr(y|ies) {broken}\b", lines[0]), lines[0]
    assert log.json("audit", "verify", ok=False)["broken_at"] == broken


def test_list_filters_by_actor_subject_action_and_time(log) -> None:
    assert [e["action"] for e in entries(log, "--actor", APPROVER)] == ["piece.approve"]
    assert [e["action"] for e in entries(log, "--subject", "piece:1")] == [
        "piece.create", "piece.submit", "piece.approve", "piece.edit", "piece.submit"]
    assert {e["subject"] for e in entries(log, "--subject", "user")} == {"user:1", "user:2"}
    assert [e["subject"] for e in entries(log, "--action", "piece.submit")] == ["piece:1", "piece:1"]
    assert [e["action"] for e in entries(log, "--since", "2026-11-24", "--until", "2026-11-24")] == ["piece.approve"]
    on_the_24th = entries(log, "--since", "2026-11-24T09:59", "--until", "2026-11-24T10:01")
    assert [(e["actor"], e["at"][:16], e["at"][-6:]) for e in on_the_24th] == [(APPROVER, "2026-11-24T10:00", "+07:00")]
    assert [e["action"] for e in entries(log, "--limit", "2")] == ["piece.edit", "piece.submit"]
    edit_entry, = entries(log, "--action", "piece.edit")
    assert edit_entry["details"]["changed"] == ["title"]


def test_list_shows_a_table_with_vietnamese_details(log) -> None:
    out = log("audit", "list", "--subject", "piece:1").stdout
    assert "piece.approve" in out and APPROVER in out and "Thông báo tiêm chủng" in out


def test_list_refuses_a_time_that_is_not_one(log) -> None:
    result = log("audit", "list", "--since", "hôm qua", ok=False)
    assert result.exit_code != 0 and "--since" in result.stderr and "Traceback" not in result.stderr


def invoke(cli, *args: str, key: str | None):
    env = {"LOA_DATABASE_URL": cli.database_url, "LOA_NOW": "", "LOA_USER": "", "LOA_SECRET_KEY": "",
           "LOA_AUDIT_KEY": key or "", "LOA_LANG": "en"}
    return cli.runner.invoke(app, ["--config", str(cli.config_dir), *args], env=env)


def test_with_an_audit_key_a_forgery_with_a_recomputed_hash_and_checkpoint_is_found(cli) -> None:
    key = "khóa-kiểm-toán"
    for args in (["init"], ["user", "add", EDITOR, "--role", "editor"],
                 ["--as", EDITOR, "piece", "add", "--title", "Tin", "--body", "Nội dung."]):
        assert invoke(cli, *args, key=key).exit_code == 0
    assert "intact" in invoke(cli, "audit", "verify", key=key).stdout

    without = invoke(cli, "audit", "verify", key=None)
    assert without.exit_code == 0 and "not checked" in without.stderr

    refused = invoke(cli, "--as", EDITOR, "piece", "add", "--title", "Tin 2", "--body", "Nội dung.", key=None)
    assert refused.exit_code != 0 and "LOA_AUDIT_KEY" in refused.stderr
    assert count_pieces(cli) == 1

    last = json.loads(invoke(cli, "--json", "audit", "list", key=key).stdout)[-1]
    fake = AuditEvent(id=last["id"] + 1, at=datetime(2026, 11, 23, tzinfo=UTC), actor=EDITOR, action="piece.approve",
                      subject="piece:1", details={}, prev_hash=last["hash"])
    fake.hash = hashlib.sha256(audit.canonical(fake)).hexdigest()
    run_sql(cli, "INSERT INTO audit_events (id, at, actor, action, subject, details, prev_hash, hash) "
                 "VALUES (?, '2026-11-23 00:00:00.000000', ?, 'piece.approve', 'piece:1', '{}', ?, ?)",
            (fake.id, EDITOR, fake.prev_hash, fake.hash))
    run_sql(cli, "UPDATE audit_head SET last_id = ?, last_hash = ?", (fake.id, fake.hash))
    assert "intact" in invoke(cli, "audit", "verify", key=None).stdout  # without the key, only the chain holds
    result = invoke(cli, "audit", "verify", key=key)
    assert result.exit_code != 0 and f"entry {fake.id} carries no seal" in result.stderr
