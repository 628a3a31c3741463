"""stations.toml accepts the Icecast, Anthias and WordPress outlets, and names the key of each mistake in them."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.errors import ConfigError
from loa.settings import load_settings

FEED = 'portal = { type = "feed", dir = "var/out/feeds", title = "Cổng thông tin điện tử" }'
FOLDER = 'loudspeaker = { type = "folder", dir = "var/out/loudspeaker" }'
KIOSK = 'board = { type = "kiosk", dir = "var/out/boards", slide_chars = 280, slide_seconds = 15 }'


def _first_station(config_dir: Path, old: str, new: str) -> None:
    path = config_dir / "stations.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_real_outlets_load_with_their_settings(config_dir: Path) -> None:
    _first_station(config_dir, FOLDER, 'loudspeaker = { type = "icecast", password_env = "ICECAST_PASSWORD", '
                                       'url = "http://radio.example:8000/tanlap.mp3" }')
    _first_station(config_dir, KIOSK, 'board = { type = "anthias", url = "http://10.0.0.5", pages_dir = "var/anthias", '
                                      'pages_url = "http://loa.local:8080/anthias" }')
    _first_station(config_dir, FEED, 'portal = { type = "wordpress", url = "https://tanlap.example.gov.vn", '
                                     'user = "loa", password_env = "WP_PASSWORD", categories = { "Văn hóa đọc" = 4 } }')

    station = load_settings(config_dir, env={}).stations[0]

    assert (station.loudspeaker.host, station.loudspeaker.port, station.loudspeaker.mount) == (
        "radio.example", 8000, "/tanlap.mp3")
    assert station.board.pages_dir == config_dir.parent / "var" / "anthias"  # relative to the project, like dir
    assert station.portal.categories == {"Văn hóa đọc": 4}


@pytest.mark.parametrize(("old", "new", "where"), [
    (FEED, 'portal = { type = "wordpress", url = "https://x.example", user = "loa" }', "password_env"),
    (FEED, 'portal = { type = "wordpress", url = "https://x.example", user = "loa", password = "lo-ra", '
           'password_env = "P" }', "password"),
    (FOLDER, 'loudspeaker = { type = "icecast", mount = "tanlap.mp3", password_env = "P" }', "mount"),
    (KIOSK, 'board = { type = "anthias", url = "10.0.0.5", pages_dir = "d", pages_url = "http://x/a" }', "url"),
])
def test_a_mistake_names_the_station_outlet_and_key(config_dir: Path, old: str, new: str, where: str) -> None:
    _first_station(config_dir, old, new)

    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env={})

    message = str(caught.value)
    assert "stations.toml" in message
    assert where in message
