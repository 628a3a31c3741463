"""`loa db copy --to URL` moves a centre from SQLite to PostgreSQL keeping every row, and the copy works on."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import content.models  # noqa: F401 - registers the tables
import scheduler.models  # noqa: F401 - registers the tables
from content.db import Base, make_engine

from conftest import MONDAY, Cli


def _rows(url: str) -> dict[str, list[tuple]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {table.name: [tuple(row) for row in connection.execute(
                select(table).order_by(*table.primary_key.columns))] for table in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def test_copy_from_sqlite_to_postgresql_keeps_every_row(config_dir, postgres_url):
    cli = Cli(config_dir)  # SQLite, as a commune centre starts
    cli.json("demo", now=MONDAY)
    cli("dispatch", "--until", (MONDAY + timedelta(minutes=3)).isoformat(), now=MONDAY)
    sqlite_url = f"sqlite:///{config_dir.parent / 'var' / 'loa.db'}"
    before = _rows(sqlite_url)

    counts = cli.json("db", "copy", "--to", postgres_url, now=MONDAY + timedelta(minutes=5))

    after = _rows(postgres_url)
    assert counts == {name: len(rows) for name, rows in before.items()}
    assert counts["audit_events"] > 50 and counts["deliveries"] > 0 and counts["revisions"] >= 12
    copied_audit = after.pop("audit_events")
    assert copied_audit[:-1] == before.pop("audit_events")
    assert copied_audit[-1][3] == "database.copy"
    before.pop("audit_head")
    assert [head[1] for head in after.pop("audit_head")] == [copied_audit[-1][0]]  # the checkpoint moved on
    assert after == before
    assert _rows(sqlite_url)["audit_events"][-1][3] != "database.copy"  # the source is left as it was

    on_postgres = Cli(config_dir, postgres_url)
    assert on_postgres("audit", "verify", now=MONDAY).exit_code == 0
    on_postgres("user", "add", "moi", "--role", "editor", now=MONDAY)  # sequences continue past copied ids
    on_postgres("piece", "add", "--title", "Tin mới", "--body", "Nội dung mới.", now=MONDAY, user="moi")


def test_copy_refuses_a_target_that_holds_data(config_dir, postgres_url):
    cli = Cli(config_dir)
    cli("init", now=MONDAY)
    cli("db", "copy", "--to", postgres_url, now=MONDAY)
    again = cli("db", "copy", "--to", postgres_url, now=MONDAY, ok=False)
    assert again.exit_code != 0
    assert "already holds data" in again.stderr and "Traceback" not in again.stderr
