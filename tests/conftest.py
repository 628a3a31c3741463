"""Shared fixtures: a private copy of the demo configuration, services on it, and the CLI in-process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from loa.cli.app import app
from loa.settings import Settings, load_settings
from loa.wiring import Services, open_services

ROOT = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
#: A Monday in a week with no yearly campaign on; the role-model campaign runs all year.
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=ZONE)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of the shipped config/ under tmp_path, so var/ lands in tmp_path/var."""
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    return target


@pytest.fixture
def settings(config_dir: Path, database_url: str | None) -> Settings:
    """The demo settings, on the suite's database (``--db``)."""
    return load_settings(config_dir, env={"LOA_DATABASE_URL": database_url} if database_url else {})


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Services with an initialised database, the clock starting at MONDAY 08:00."""
    services = open_services(settings, now=MONDAY)
    services.init()
    yield services
    services.close()


class Cli:
    """Runs ``loa`` in-process against one config folder, as a user would type it.

    The command line speaks Vietnamese unless told otherwise; these runs ask for English (``LOA_LANG=en``) so the
    tests can match its messages by their English message ids. ``lang=None`` runs it as configured by nothing
    (Vietnamese), ``lang="vi"`` asks for Vietnamese (tests/loa/test_cli_language.py).
    """

    def __init__(self, config_dir: Path, database_url: str | None = None) -> None:
        self.config_dir = config_dir
        self.database_url = database_url or ""
        self.runner = CliRunner()

    def __call__(self, *args: str, now: datetime | str | None = None, user: str | None = None,
                 ok: bool = True, lang: str | None = "en", input: str | None = None):
        argv = ["--config", str(self.config_dir)]
        if now is not None:
            argv += ["--now", now if isinstance(now, str) else now.isoformat()]
        if user is not None:
            argv += ["--as", user]
        env = {"LOA_DATABASE_URL": self.database_url, "LOA_NOW": "", "LOA_USER": "", "LOA_LANG": lang or ""}
        result = self.runner.invoke(app, [*argv, *args], input=input, env=env)
        if ok and result.exit_code != 0:
            raise AssertionError(f"loa {' '.join(args)} exited {result.exit_code}\n"
                                 f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}")
        return result

    def json(self, *args: str, **kwargs):
        return json.loads(self("--json", *args, **kwargs).stdout)


@pytest.fixture
def cli(config_dir: Path, database_url: str | None) -> Cli:
    return Cli(config_dir, database_url)


pytest_plugins = ["servers.processes", "servers.postgres", "servers.receiver", "servers.wordpress", "servers.icecast",
                  "servers.anthias", "servers.web", "centres_support"]
