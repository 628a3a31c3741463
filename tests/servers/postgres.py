"""Throwaway PostgreSQL databases on the server CI provides, and the ``--db`` choice of the suite; fails loudly when
there is no server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

#: The maintenance URL used to create and drop test databases.
ADMIN_URL = os.environ.get("LOA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=("sqlite", "postgresql"), default=os.environ.get("LOA_TEST_DB") or "sqlite",
                     help="the database the database-facing tests run on (default: $LOA_TEST_DB or sqlite)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "one_database: run on the SQLite pass only. For what the database cannot change: a browser "
        "drawing pages, an edge device playing what it pulled. The server side they touch is tested on both "
        "databases by the HTTP-level tests (pages, the edge API).")


def pytest_report_header(config: pytest.Config) -> str:
    return f"loa test database: {config.getoption('--db')}"


def create_database() -> str:
    """Create an empty database on the test server and return its URL; fails the test when there is no server."""
    name = f"loa_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # the suite needs a real server; say so instead of skipping
        pytest.fail(f"PostgreSQL is not reachable at {ADMIN_URL} ({error.__class__.__name__}: {error}); "
                    "start it or set LOA_TEST_POSTGRES_URL", pytrace=False)
    finally:
        admin.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty database, dropped after the test."""
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The database the test's services use: ``None`` (the config's SQLite file) unless the suite runs with
    ``--db=postgresql``, then a fresh PostgreSQL database dropped after the test."""
    if request.config.getoption("--db") != "postgresql":
        yield None
        return
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only the tests whose database follows ``--db`` (those that use
    ``database_url``, directly or through ``services``, ``cli``, ``web``…). The others ran on the SQLite
    pass and would run again unchanged: parsers, audio, channels, the CLI's start-up, the tests that
    always use PostgreSQL through ``postgres_url``, and those marked ``one_database``."""
    if config.getoption("--db") != "postgresql":
        return
    keep, drop = [], []
    for item in items:
        follows = ("database_url" in getattr(item, "fixturenames", ())
                   and item.get_closest_marker("one_database") is None)
        (keep if follows else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
