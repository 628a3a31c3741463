"""The centre tree the tests share: a province (TINH), two districts (DONG, TAY), four communes, one station each.

``centre_tree`` (a pytest fixture, registered by tests/conftest.py) copies tests/data/centres/ over the demo
configuration, initialises the database and adds one editor and one approver per centre, named
``bt-<centre>`` (biên tập) and ``dd-<centre>`` (duyệt), plus ``qt-<centre>`` admins of the province and of DONG.
It gives the services, the in-process CLI and the codes::

    TINH ─┬─ DONG ─┬─ TANLAP  (station 99011)
          │        └─ HOABINH (station 99012)
          └─ TAY  ─┬─ PHUXUAN (station 99021)
                   └─ ANTHAI  (station 99022)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from content.db import unit_of_work
from content.users import add_user
from loa.settings import Settings, load_settings
from loa.wiring import Services, open_services

DATA = Path(__file__).resolve().parent / "data" / "centres"
PROVINCE = "TINH"
DISTRICTS = {"DONG": ("TANLAP", "HOABINH"), "TAY": ("PHUXUAN", "ANTHAI")}
COMMUNES = ("TANLAP", "HOABINH", "PHUXUAN", "ANTHAI")
STATION = {"TANLAP": "99011", "HOABINH": "99012", "PHUXUAN": "99021", "ANTHAI": "99022"}
CENTRES = (PROVINCE, *DISTRICTS, *COMMUNES)
PASSWORD = "mat-khau-cay-trung-tam"


def district_of(commune: str) -> str:
    return next(district for district, communes in DISTRICTS.items() if commune in communes)


def stations_below(centre: str) -> set[str]:
    """The station codes of ``centre``'s subtree, as the tree in tests/data/centres says."""
    if centre == PROVINCE:
        return set(STATION.values())
    if centre in DISTRICTS:
        return {STATION[commune] for commune in DISTRICTS[centre]}
    return {STATION[centre]}


def write_centre_tree(config_dir: Path) -> Path:
    """Put the tree's centres.toml and stations.toml into ``config_dir`` (a copy of the demo config)."""
    for name in ("centres.toml", "stations.toml"):
        shutil.copyfile(DATA / name, config_dir / name)
    (config_dir / "geocodes.toml").write_text("", encoding="utf-8")
    return config_dir


@dataclass
class CentreTree:
    """The tree's install: settings, services (clock at MONDAY 08:00), the CLI on the same config."""

    config_dir: Path
    settings: Settings
    services: Services
    cli: object

    @staticmethod
    def editor(centre: str) -> str:
        return f"bt-{centre}"

    @staticmethod
    def approver(centre: str) -> str:
        return f"dd-{centre}"


def add_people(services: Services) -> None:
    """An editor and an approver per centre, admins of the province and of DONG, each with a web password."""
    from content.accounts import hash_password

    password_hash = hash_password(PASSWORD)
    with unit_of_work(services.sessions) as session:
        for centre in CENTRES:
            for role, prefix in (("editor", "bt"), ("approver", "dd")):
                add_user(session, f"{prefix}-{centre}", role, now=services.now(), centre=centre,
                         password_hash=password_hash)
        for centre in (PROVINCE, "DONG"):
            add_user(session, f"qt-{centre}", "admin", now=services.now(), centre=centre, password_hash=password_hash)


@pytest.fixture
def centre_tree(config_dir: Path, database_url: str | None) -> Iterator[CentreTree]:
    from conftest import MONDAY, Cli

    write_centre_tree(config_dir)
    settings = load_settings(config_dir, env={"LOA_DATABASE_URL": database_url} if database_url else {})
    services = open_services(settings, now=MONDAY)
    services.init()
    add_people(services)
    yield CentreTree(config_dir, settings, services, Cli(config_dir, database_url))
    services.close()
