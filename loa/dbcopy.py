"""Copies every row of one loa database into another (SQLite to PostgreSQL when a centre scales out), keeping ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, insert, select, text, update

import content.models  # noqa: F401 - registers the tables
import scheduler.models  # noqa: F401 - registers the tables
from content import audit
from content.db import Base, session_factory, unit_of_work
from content.errors import IntegrityError, StateError
from loa import database

BATCH = 1000


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {table.name: connection.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables}


def copy_database(source: Engine, target: Engine, *, now: datetime, actor: str = "system",
                  audit_key: bytes | None = None) -> dict[str, int]:
    """Copy all rows from ``source`` to the empty ``target`` in one transaction, in dependency order.

    Keys that close a cycle (a piece's current and approved revision) are filled in once both sides exist;
    PostgreSQL sequences are moved past the copied ids; the row counts are compared before committing.
    Returns the number of rows per table. The target gets one more audit entry saying it was copied,
    sealed with ``audit_key`` (the copied log's, which the seals of the copied rows need too).
    """
    database.upgrade(source)
    database.upgrade(target)
    if any(row_counts(target).values()):
        raise StateError("database {database} already holds data; copy into an empty one",
                         database=target.url.render_as_string())
    tables = Base.metadata.sorted_tables
    counts: dict[str, int] = {}
    with source.connect() as reader, target.begin() as writer:
        for table in tables:
            late = [fk.parent for fk in table.foreign_keys if fk.use_alter]
            rows = reader.execute(select(table)).mappings()
            while chunk := [dict(row) for row in rows.fetchmany(BATCH)]:
                writer.execute(insert(table), [{**row, **{column.name: None for column in late}} for row in chunk])
            counts[table.name] = reader.scalar(select(func.count()).select_from(table))
        for table in tables:
            late = [fk.parent for fk in table.foreign_keys if fk.use_alter]
            if not late:
                continue
            key = table.primary_key.columns.values()[0]
            for row in reader.execute(select(key, *late)).all():
                if any(value is not None for value in row[1:]):
                    writer.execute(update(table).where(key == row[0]).values(
                        {column.name: value for column, value in zip(late, row[1:], strict=True)}))
        if writer.dialect.name == "postgresql":
            for table in tables:
                key = table.primary_key.columns.values()
                if len(key) == 1 and key[0].autoincrement in (True, "auto") and key[0].type.python_type is int:
                    writer.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0].name}'), "
                        f"COALESCE(MAX({key[0].name}), 1), MAX({key[0].name}) IS NOT NULL) FROM {table.name}"))
        copied = {table.name: writer.scalar(select(func.count()).select_from(table)) for table in tables}
        if copied != counts:
            wrong = {name: (counts[name], copied[name]) for name in counts if counts[name] != copied[name]}
            raise IntegrityError("row counts differ after the copy (source, target): {counts}; nothing was kept",
                                 counts=str(wrong))
    sessions = session_factory(target)
    sessions.configure(info={"audit_key": audit_key})
    with unit_of_work(sessions) as session:
        audit.record(session, actor=actor, action="database.copy", subject="database", at=now,
                     details={"from": source.url.render_as_string(), "rows": sum(counts.values())})
    return counts
