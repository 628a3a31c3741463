"""The agent's edge.toml: a mistake is refused naming the file and the key, before anything plays."""

from __future__ import annotations

import pytest

from loa.edge.settings import EdgeConfigError, load_edge_settings, write_edge_settings

GOOD = {"server": "https://loa.example.vn", "device_id": 7, "token": "t" * 32, "key": "k" * 32, "station": "99001"}


def test_enrolment_writes_a_private_file_the_agent_reads_back(tmp_path):
    path = tmp_path / "edge.toml"
    write_edge_settings(path, GOOD)
    settings, base = load_edge_settings(path)
    assert settings.device_id == 7 and settings.player == "ffmpeg" and settings.cache_dir == base / "edge-cache"
    assert path.stat().st_mode & 0o077 == 0  # the token and key are readable by their owner only


@pytest.mark.parametrize(("extra", "key"), [({"player": "vlc"}, "player"), ({"days_ahead": 30}, "days_ahead"),
                                            ({"volum": 80}, "volum"), ({"server": "loa.example.vn"}, "server")])
def test_a_mistake_names_the_file_and_the_key(tmp_path, extra, key):
    path = tmp_path / "edge.toml"
    write_edge_settings(path, {**GOOD, **extra})
    with pytest.raises(EdgeConfigError) as refused:
        load_edge_settings(path)
    assert str(refused.value).startswith(f"{path}: {key}:")


def test_no_file_says_to_enrol_first(tmp_path):
    with pytest.raises(EdgeConfigError, match="run `loa edge enrol` first"):
        load_edge_settings(tmp_path / "edge.toml")
