"""Issue 19: centres.toml is checked like the other files; an error names the file and the key, never a traceback."""

from __future__ import annotations

import pytest
from centres_support import write_centre_tree

from content.errors import ConfigError
from loa.settings import load_settings

TREE = """
[[centre]]
code = "TINH"
name = "Tỉnh"
level = "province"

[[centre]]
code = "DONG"
name = "Huyện Đông"
level = "district"
parent = "TINH"
"""


def _load_with(config_dir, centres: str, stations_from=None):
    write_centre_tree(config_dir)
    (config_dir / "centres.toml").write_text(centres, encoding="utf-8")
    return load_settings(config_dir, env={})


def _commune(code: str, parent: str, level: str = "commune") -> str:
    return f'\n[[centre]]\ncode = "{code}"\nname = "{code}"\nlevel = "{level}"\nparent = "{parent}"\n'


@pytest.mark.parametrize(("centres", "where", "words"), [
    (TREE + _commune("XA", "HUYEN-KHAC"), "centre[2].parent", "no centre 'HUYEN-KHAC'"),
    (TREE + _commune("XA", "XA"), "centre[2].parent", "its own parent"),
    (TREE + _commune("A", "B", "district") + _commune("B", "A", "district"), "centre[2].parent", "cycle"),
    (TREE + '\n[[centre]]\ncode = "TINH2"\nname = "Tỉnh khác"\nlevel = "province"\n', "centre[2].parent",
     "one root"),
    (TREE + _commune("XA", "DONG") + _commune("THON", "XA"), "centre[3].parent", "is a commune centre"),
    (TREE + _commune("TINH-CON", "DONG", "province"), "centre[2].level", "cannot be below"),
    (TREE + _commune("DONG", "TINH"), "centre[2].code", "used by another centre"),
    (TREE.replace('level = "province"', 'level = "quoc-gia"'), "centre[0].level", "province"),
])
def test_a_wrong_tree_is_refused_naming_the_file_and_key(config_dir, centres, where, words):
    with pytest.raises(ConfigError) as error:
        _load_with(config_dir, centres)
    message = str(error.value)
    assert "centres.toml" in message and where in message and words in message, message


def test_a_station_must_name_a_commune_centre_of_the_tree(config_dir):
    write_centre_tree(config_dir)
    stations = (config_dir / "stations.toml").read_text(encoding="utf-8")
    for wrong, words in (('centre = "KHONG-CO"', "no centre 'KHONG-CO'"), ('centre = "DONG"', "district centre"),
                         ("", "name the commune centre")):
        (config_dir / "stations.toml").write_text(stations.replace('centre = "TANLAP"', wrong), encoding="utf-8")
        with pytest.raises(ConfigError) as error:
            load_settings(config_dir, env={})
        assert "stations.toml: station[0].centre" in str(error.value) and words in str(error.value)


def test_without_centres_toml_a_station_names_no_centre_and_the_install_is_one_centre(config_dir):
    settings = load_settings(config_dir, env={})
    assert settings.centres == ()
    stations = (config_dir / "stations.toml").read_text(encoding="utf-8")
    (config_dir / "stations.toml").write_text(stations.replace('code = "99001"', 'code = "99001"\ncentre = "X"', 1),
                                              encoding="utf-8")
    with pytest.raises(ConfigError, match=r"station\[0\]\.centre: no centre 'X': there is no centres.toml"):
        load_settings(config_dir, env={})


def test_a_campaign_names_a_centre_of_the_tree(config_dir):
    write_centre_tree(config_dir)
    campaigns = (config_dir / "campaigns.toml").read_text(encoding="utf-8")
    (config_dir / "campaigns.toml").write_text(campaigns.replace('code = "tuan-hoc-tap"',
                                                                 'code = "tuan-hoc-tap"\ncentre = "NOWHERE"', 1),
                                               encoding="utf-8")
    with pytest.raises(ConfigError, match=r"campaigns.toml: campaign\[0\]\.centre: no centre 'NOWHERE'"):
        load_settings(config_dir, env={})
    (config_dir / "campaigns.toml").write_text(campaigns.replace('code = "tuan-hoc-tap"',
                                                                 'code = "tuan-hoc-tap"\ncentre = "DONG"', 1),
                                               encoding="utf-8")
    assert load_settings(config_dir, env={}).campaigns[0].centre == "DONG"


def test_the_cli_says_what_is_wrong_without_a_traceback(config_dir, cli):
    _ = write_centre_tree(config_dir)
    (config_dir / "centres.toml").write_text(TREE + _commune("XA", "HUYEN-KHAC"), encoding="utf-8")
    result = cli("init", ok=False)
    assert result.exit_code == 3 and "centre[2].parent" in result.stderr and "Traceback" not in result.stderr
