"""Loading config/: the shipped files load, and every mistake is one ConfigError naming file and key."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from content.errors import ConfigError, NotFound
from loa.settings import Settings, load_settings


def rewrite(config_dir: Path, name: str, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` by ``new`` in one config file, failing loudly if ``old`` is not there."""
    path = config_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def config_error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env={})
    return str(caught.value)


# --- the shipped configuration -------------------------------------------------------------------

def test_shipped_config_loads_stations_slots_and_campaigns(settings: Settings) -> None:
    assert [s.code for s in settings.stations] == ["99001", "99002", "99003"]
    assert [s.name for s in settings.slots] == ["sang", "chieu", "bang-tin", "cong-thong-tin"]
    assert [c.code for c in settings.campaigns] == ["tuan-hoc-tap", "van-hoa-doc", "guong-dien-hinh"]
    assert settings.zone == ZoneInfo("Asia/Ho_Chi_Minh")
    assert settings.blackout == ()


def test_shipped_slots_are_parsed_to_times_lengths_and_weekdays(settings: Settings) -> None:
    by_name = {slot.name: slot for slot in settings.slots}
    assert (by_name["sang"].at, by_name["sang"].length_s, by_name["sang"].weekdays) == ("06:00", 1800,
                                                                                       (0, 1, 2, 3, 4, 5, 6))
    assert by_name["bang-tin"].length_s == 24 * 3600
    assert by_name["cong-thong-tin"].weekdays == (0, 1, 2, 3, 4)


def test_relative_paths_are_made_absolute_under_the_folder_holding_config(config_dir: Path) -> None:
    settings = load_settings(config_dir, env={})
    base = config_dir.parent.resolve()
    assert settings.base_dir == base
    assert settings.database_url == f"sqlite:///{base / 'var/loa.db'}"
    assert settings.media_dir == base / "var/media"
    assert settings.render.renditions_dir == base / "var/renditions"
    station = settings.station("99001")
    assert station.loudspeaker is not None and station.board is not None and station.portal is not None
    assert station.loudspeaker.dir == base / "var/out/loudspeaker"  # type: ignore[attr-defined]
    assert station.board.dir == base / "var/out/boards"  # type: ignore[attr-defined]
    assert station.portal.dir == base / "var/out/feeds"  # type: ignore[attr-defined]


def test_unknown_station_code_lookup_names_the_code_and_the_file(settings: Settings) -> None:
    with pytest.raises(NotFound, match=r"no station with code '99999' in .*stations\.toml \(known: 99001"):
        settings.station("99999")


# --- one clear error per mistake -----------------------------------------------------------------

BAD = [
    pytest.param("loa.toml", "[dispatch]\n", "[dispatch]\nlead_minute = 2\n",
                 ["dispatch.lead_minute", "unknown key"], id="unknown-key"),
    pytest.param("schedule.toml", 'at = "06:00"', 'at = "25:00"', ["slot[0].at", "25:00"], id="slot-at-25h"),
    pytest.param("schedule.toml", 'at = "17:00"', 'at = "6h"', ["slot[1].at", "6h"], id="slot-at-not-hhmm"),
    pytest.param("schedule.toml", 'stations = "*"', 'stations = ["99999"]', ["slot[0].stations", "99999"],
                 id="unknown-station"),
    pytest.param("schedule.toml", 'stations = "*"', 'stations = ["vung-bien"]', ["slot[0].stations", "vung-bien"],
                 id="unknown-group"),
    pytest.param("schedule.toml", 'length = "30m"', 'length = "30 minutes"', ["slot[0].length", "30 minutes"],
                 id="length-words"),
    pytest.param("schedule.toml", 'length = "30m"', 'length = "25h"', ["slot[0].length", "24h"], id="length-25h"),
    pytest.param("schedule.toml", 'length = "30m"', 'length = "0m"', ["slot[0].length"], id="length-zero"),
    pytest.param("schedule.toml", 'days = "mon-sun"', 'days = "mon-sonday"', ["slot[0].days", "mon-sonday"],
                 id="bad-days"),
    pytest.param("schedule.toml", 'days = "mon-sun"', 'days = "mon,funday"', ["slot[0].days"], id="bad-day-list"),
    pytest.param("schedule.toml", 'outlet = "loudspeaker"', 'outlet = "radio"', ["slot[0].outlet"],
                 id="unknown-slot-outlet"),
    pytest.param("loa.toml", 'zone = "Asia/Ho_Chi_Minh"', 'zone = "Asia/Saigon_City"',
                 ["time.zone", "Asia/Saigon_City"], id="unknown-zone"),
    pytest.param("campaigns.toml", "lead_days = 7\npriority = 7",
                 "lead_days = 7\nfrom = 2026-10-01\nto = 2026-10-07\npriority = 7",
                 ["campaign[0]", "yearly", "from"], id="yearly-and-from"),
    pytest.param("campaigns.toml", '"10-01..10-07"', '"02-30..03-01"', ["campaign[0].yearly", "02-30"],
                 id="yearly-02-30"),
    pytest.param("campaigns.toml", '"10-01..10-07"', '"10-01-10-07"', ["campaign[0].yearly"],
                 id="yearly-without-dots"),
    pytest.param("campaigns.toml", "priority = 7", "priority = 12", ["campaign[0].priority"], id="priority-12"),
    pytest.param("stations.toml", 'code = "99002"', 'code = "99001"', ["station[1].code", "99001"],
                 id="duplicate-station"),
    pytest.param("stations.toml", '{ type = "folder", dir = "var/out/loudspeaker" }', '{ dir = "var/out/loudspeaker" }',
                 ["station[0].loudspeaker", "type"], id="outlet-without-type"),
    pytest.param("stations.toml", 'type = "folder"', 'type = "megaphone"',
                 ["station[0].loudspeaker", "megaphone", "loudspeaker.folder"], id="unknown-outlet-type"),
    pytest.param("stations.toml", '{ type = "folder", dir = "var/out/loudspeaker" }', '{ type = "folder" }',
                 ["station[0].loudspeaker", "dir"], id="outlet-without-dir"),
    pytest.param("stations.toml", "slide_chars = 280", "slide_chars = 280, colour = 'red'",
                 ["station[0].board", "colour"], id="unknown-outlet-setting"),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), BAD)
def test_bad_configuration_names_the_file_and_the_key(config_dir: Path, name: str, old: str, new: str,
                                                       expected: list[str]) -> None:
    rewrite(config_dir, name, old, new)
    message = config_error(config_dir)
    assert name in message
    for part in expected:
        assert part in message
    assert "\n" not in message


def test_malformed_toml_names_the_file_and_line(config_dir: Path) -> None:
    (config_dir / "campaigns.toml").write_text('[[campaign]]\ncode = "x"\nname = = "y"\n', encoding="utf-8")
    message = config_error(config_dir)
    assert "campaigns.toml" in message
    assert "line 3" in message


def test_config_file_that_is_not_utf8_is_refused(config_dir: Path) -> None:
    (config_dir / "stations.toml").write_bytes('name = "Xã Tân"\n'.encode("latin-1"))
    message = config_error(config_dir)
    assert "stations.toml" in message and "UTF-8" in message


def test_missing_config_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration folder"):
        load_settings(tmp_path / "nowhere", env={})


def test_leap_day_window_is_accepted(config_dir: Path) -> None:
    rewrite(config_dir, "campaigns.toml", '"10-01..10-07"', '"02-29..03-01"')
    settings = load_settings(config_dir, env={})
    assert settings.campaigns[0].yearly == "02-29..03-01"


def test_one_off_slot_and_blackout_dates_load(config_dir: Path) -> None:
    rewrite(config_dir, "schedule.toml", "blackout = []", "blackout = [2026-12-01]")
    rewrite(config_dir, "schedule.toml", 'at = "06:00"', 'at = "06:00"\non = 2026-12-02')
    settings = load_settings(config_dir, env={})
    assert [str(day) for day in settings.blackout] == ["2026-12-01"]
    assert str(settings.slots[0].on) == "2026-12-02"


# --- the command line turns a bad configuration into one line --------------------------------------

@pytest.mark.parametrize(("name", "old", "new", "where"), [
    ("loa.toml", "[dispatch]\n", "[dispatch]\nlead_minute = 2\n", "dispatch.lead_minute"),
    ("schedule.toml", 'at = "06:00"', 'at = "25:00"', "slot[0].at"),
    ("campaigns.toml", "priority = 7", "priority = = 7", "campaigns.toml"),
])
def test_cli_reports_a_bad_config_in_one_line_without_traceback(config_dir: Path, cli, name: str, old: str,
                                                                 new: str, where: str) -> None:
    rewrite(config_dir, name, old, new)
    result = cli("init", ok=False)
    assert result.exit_code != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("loa: error:")
    assert name in lines[0] and where in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


# --- where the database URL comes from -----------------------------------------------------------

@pytest.mark.parametrize(("argument", "env", "expected"), [
    ("postgresql+psycopg://arg/loa", {"LOA_DATABASE_URL": "postgresql+psycopg://env/loa"},
     "postgresql+psycopg://arg/loa"),
    (None, {"LOA_DATABASE_URL": "postgresql+psycopg://env/loa"}, "postgresql+psycopg://env/loa"),
    (None, {"LOA_DATABASE_URL": ""}, "file"),
    (None, {}, "file"),
    ("", {}, "file"),
])
def test_database_url_precedence_argument_then_env_then_file(config_dir: Path, argument: str | None,
                                                             env: dict[str, str], expected: str) -> None:
    settings = load_settings(config_dir, database_url=argument, env=env)
    if expected == "file":
        expected = f"sqlite:///{config_dir.parent.resolve() / 'var/loa.db'}"
    assert settings.database_url == expected


def test_database_url_from_file_is_used_when_nothing_overrides(config_dir: Path) -> None:
    rewrite(config_dir, "loa.toml", 'url = "sqlite:///var/loa.db"', 'url = "postgresql+psycopg://file/loa"')
    assert load_settings(config_dir, env={}).database_url == "postgresql+psycopg://file/loa"
    assert load_settings(config_dir, env={"LOA_DATABASE_URL": "sqlite:////srv/env.db"}).database_url \
        == "sqlite:////srv/env.db"


def test_relative_sqlite_url_from_env_is_made_absolute(config_dir: Path) -> None:
    settings = load_settings(config_dir, env={"LOA_DATABASE_URL": "sqlite:///data/other.db"})
    assert settings.database_url == f"sqlite:///{config_dir.parent.resolve() / 'data/other.db'}"


def _with_extra_slot(config_dir, slot: str) -> None:
    path = config_dir / "schedule.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[[slot]]\n" + slot, encoding="utf-8")


def test_overlapping_loudspeaker_slots_are_refused_naming_both(config_dir):
    _with_extra_slot(config_dir, 'name = "tin-nhanh"\noutlet = "loudspeaker"\nstations = ["99002"]\n'
                                 'days = "sat-sun"\nat = "06:15"\nlength = "15m"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(config_dir, env={})
    message = str(error.value)
    assert "schedule.toml: slot[4]: overlaps slot[0] (sang at 06:00, 30m) on sat at station 99002" in message


@pytest.mark.parametrize("slot", [  # right after the morning program; the same moment on another outlet
    'outlet = "loudspeaker"\nstations = "*"\nat = "06:30"\nlength = "10m"\n',
    'outlet = "board"\nstations = "*"\nat = "06:00"\nlength = "2h"\n',
])
def test_slots_that_do_not_share_a_loudspeaker_moment_are_accepted(config_dir, slot):
    _with_extra_slot(config_dir, slot)
    assert len(load_settings(config_dir, env={}).slots) == 5
