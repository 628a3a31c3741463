"""Bulk inserts of many rows in the caller's transaction: COPY on PostgreSQL, one executemany elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any

from sqlalchemy import Boolean, Table, insert, text
from sqlalchemy.orm import Session

#: Rows sent at a time: a plan writes hundreds of thousands, memory stays bounded.
CHUNK = 20_000


def insert_rows(session: Session, table: Table, rows: Iterable[Mapping[str, Any]], *, chunk: int = CHUNK) -> int:
    """Insert ``rows`` (dicts of column values, all with the same keys) into ``table``; returns how many.

    Columns left out take their scalar Python default, else the database's (NULL, or the next id). On
    PostgreSQL the rows go through COPY, each value bound by its column's type as an INSERT would bind it;
    elsewhere through Core ``executemany`` (never the ORM's bulk insert, which splits a batch wherever a
    value is None in one row and not in the next: one round-trip per run of rows).
    """
    rows = iter(rows)
    count = 0
    while batch := list(islice(rows, chunk)):
        batch = _with_defaults(table, batch)
        if session.get_bind().dialect.name == "postgresql":
            _copy(session, table, batch)
        else:
            session.execute(insert(table), batch)
        count += len(batch)
    return count


def _with_defaults(table: Table, batch: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    given = batch[0].keys()
    defaults = {column.key: column.default.arg for column in table.columns
                if column.key not in given and column.default is not None and column.default.is_scalar}
    return [{**row, **defaults} for row in batch] if defaults else batch


#: PostgreSQL types whose binary COPY form psycopg writes from the value a bind processor gives, by OID (bool,
#: int8, int2, int4, text, json, float4, float8, varchar, date, timestamptz); any other column: text COPY.
_BINARY = frozenset({16, 20, 21, 23, 25, 114, 700, 701, 1043, 1082, 1184})


def _copy(session: Session, table: Table, batch: list[Mapping[str, Any]]) -> None:
    connection = session.connection()  # joins the session's transaction
    dialect = connection.dialect
    keys = list(batch[0].keys())
    types = [table.columns[key].type for key in keys]
    # (position, bind processor) of the columns that have one; None stays NULL unless the type says otherwise.
    # A Boolean's processor only turns 0/1 into a bool: a bool needs no call (a plan's airings have a million).
    processors, to_bool = [], []
    for n, type_ in enumerate(types):
        if (process := type_._cached_bind_processor(dialect)) is not None:
            if isinstance(type_, Boolean):
                to_bool.append((n, process))
            else:
                processors.append((n, process, type_.should_evaluate_none))
    names = [table.columns[key].name for key in keys]
    oids = _column_oids(session, table)
    # Binary COPY spares the server parsing every value from text (a plan's airings: half a million rows).
    binary = all(oids.get(name) in _BINARY for name in names)
    quoted = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    sql = (f"COPY {dialect.identifier_preparer.format_table(table)} ({quoted}) FROM STDIN"
           + (" (FORMAT BINARY)" if binary else ""))
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            if binary:
                copy.set_types([oids[name] for name in names])
            for row in batch:
                values = [row[key] for key in keys]
                for n, process, evaluates_none in processors:
                    if values[n] is not None or evaluates_none:
                        values[n] = process(values[n])
                for n, process in to_bool:
                    if values[n].__class__ is not bool and values[n] is not None:
                        values[n] = process(values[n])
                copy.write_row(values)
    finally:
        cursor.close()


def _column_oids(session: Session, table: Table) -> dict[str, int]:
    """The PostgreSQL type OID of each column of ``table``, as the database has it (read once per session)."""
    cache = session.info.setdefault("loa.bulk.oids", {})
    if table.name not in cache:
        rows = session.execute(text("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = "
                                    "CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"),
                               {"table": table.name})
        cache[table.name] = {name: int(oid) for name, oid in rows}
    return cache[table.name]
