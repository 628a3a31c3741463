"""Creates or upgrades the database schema with Alembic, and opens engines for the shell."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from content.db import make_engine
from content.errors import ConfigError


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("loa") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest migration; does nothing when it is already there."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as error:
        raise ConfigError("database {database}: {problem}", database=engine.url.render_as_string(),
                          problem=str(error.orig)) from None


def open_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite the folder is created first."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(url)


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")
