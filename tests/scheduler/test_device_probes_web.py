"""A real WordPress is probed through its REST root and a stand-in Anthias player through its asset list (with the
player's Basic auth); a portal address that is not WordPress is recorded as a fault naming its answer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from content.db import unit_of_work
from loa.settings import Settings, load_settings
from scheduler.devices.probes import Prober
from scheduler.models import DeviceHealth, Station

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


@pytest.fixture
def settings(config_dir: Path, database_url: str | None, wordpress, anthias, tmp_path) -> Settings:
    """99001 publishes to the real WordPress, 99002 shows on the Anthias player, 99003's portal is no WordPress."""
    outlets = {
        "Xã Tân Lập": ("portal", f'portal = {{ type = "wordpress", url = "{wordpress.url}", user = "{wordpress.user}", '
                                 'password_env = "LOA_TEST_WP_PASSWORD" }'),
        "Xã Hòa Bình": ("board", f'board = {{ type = "anthias", url = "{anthias.url}", user = "loa", '
                                 f'password_env = "LOA_TEST_ANTHIAS_PASSWORD", pages_dir = "{tmp_path}/pages", '
                                 'pages_url = "http://127.0.0.1:8080/anthias" }'),
        "Xã Phú Xuân": ("portal", f'portal = {{ type = "wordpress", url = "{anthias.url}", user = "x", '
                                  'password_env = "LOA_TEST_WP_PASSWORD" }')}
    stations = config_dir / "stations.toml"
    lines = stations.read_text("utf-8").splitlines()
    name = None
    for index, line in enumerate(lines):
        if line.startswith("name = "):
            name = line.split('"')[1]
        elif name in outlets and line.startswith(outlets[name][0] + " = "):
            lines[index] = outlets[name][1]
    stations.write_text("\n".join(lines) + "\n", "utf-8")
    return load_settings(config_dir, env={"LOA_DATABASE_URL": database_url or ""})


def test_wordpress_and_anthias_answer_their_probes_and_a_portal_that_is_not_wordpress_is_a_fault(services, wordpress,
                                                                                                  anthias, monkeypatch):
    monkeypatch.setenv("LOA_TEST_ANTHIAS_PASSWORD", "mat-khau")
    prober = Prober(services.settings.stations)
    try:
        assert prober.run(services.sessions, lambda: T0) == 3
    finally:
        prober.close()
    with unit_of_work(services.sessions) as session:
        health = {(code, row.outlet): (row.source, row.fault, row.beat) for code, row in session.execute(
            select(Station.code, DeviceHealth).join(Station, Station.id == DeviceHealth.station_id))}
    source, fault, beat = health[("99001", "portal")]
    assert source == "probe" and fault is None and beat["probe"]["url"] == wordpress.url
    source, fault, beat = health[("99002", "board")]
    assert source == "probe" and fault is None and beat["probe"] == {"assets": 0}
    assert any(method == "GET" and path == "/api/v2/assets" for method, path, _, _ in anthias.seen)
    _, fault, _ = health[("99003", "portal")]
    assert fault and "/wp-json/ answered 401" in fault  # the player asks for its password before anything
