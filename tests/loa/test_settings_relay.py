"""``[[slot.relay]]`` in schedule.toml: a good relay loads; each mistake is one ConfigError naming the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.errors import ConfigError
from loa.settings import load_settings

from servers.relay_world import RELAY_NAME, RELAY_URL, relay_slot


def _schedule(config_dir: Path, text: str) -> None:
    (config_dir / "schedule.toml").write_text(text, encoding="utf-8")


def _error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_dir, env={})
    return str(caught.value)


def test_a_relay_of_a_loudspeaker_slot_loads_first_by_default(config_dir: Path) -> None:
    _schedule(config_dir, relay_slot("sang", "loudspeaker", length="15m"))
    [slot] = load_settings(config_dir, env={}).slots
    [relay] = slot.relay
    assert (relay.url, relay.name, relay.length_s, relay.position) == (RELAY_URL, RELAY_NAME, 900, "first")
    assert slot.relays_s == 900


def test_a_relay_placed_last_or_after_some_pieces_loads(config_dir: Path) -> None:
    _schedule(config_dir, relay_slot("sang", "loudspeaker", extra='position = 2\n'))
    assert load_settings(config_dir, env={}).slots[0].relay[0].position == 2
    _schedule(config_dir, relay_slot("sang", "loudspeaker", extra='position = "last"\n'))
    assert load_settings(config_dir, env={}).slots[0].relay[0].position == "last"


@pytest.mark.parametrize("url", ["tinh.example/truc-tiep.mp3", "ftp://tinh.example/a.mp3", "http://", "file:///etc/passwd",
                                 "http://tinh.example/truc tiep.mp3"])
def test_a_relay_url_that_is_not_a_stream_address_is_refused(config_dir: Path, url: str) -> None:
    _schedule(config_dir, relay_slot("sang", "loudspeaker", url=url))
    message = _error(config_dir)
    assert "schedule.toml" in message and "slot[0].relay[0].url" in message
    assert "is not a stream address" in message


def test_a_relay_on_a_board_slot_is_refused(config_dir: Path) -> None:
    _schedule(config_dir, relay_slot("bang-tin", "board", slot_length="24h", at="00:00"))
    message = _error(config_dir)
    assert "schedule.toml" in message and "slot[0]" in message
    assert "only a loudspeaker slot can relay a live stream" in message and "board" in message


def test_a_relay_without_a_length_is_refused(config_dir: Path) -> None:
    _schedule(config_dir, relay_slot("sang", "loudspeaker", length=None))
    message = _error(config_dir)
    assert "schedule.toml" in message and "slot[0].relay[0].length" in message and "required" in message.lower()


def test_a_relay_longer_than_its_slot_is_refused(config_dir: Path) -> None:
    _schedule(config_dir, relay_slot("sang", "loudspeaker", length="45m", slot_length="30m"))
    message = _error(config_dir)
    assert "slot[0]" in message and "longer than the slot" in message


def test_a_relay_with_an_unknown_key_is_refused(config_dir: Path) -> None:
    _schedule(config_dir, relay_slot("sang", "loudspeaker", extra='lenght = "15m"\n'))
    assert "slot[0].relay[0].lenght" in _error(config_dir)


def test_the_readme_relay_example_loads(config_dir: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = next(block for block in readme.split("```toml")[1:] if "[[slot.relay]]" in block).split("```")[0]
    _schedule(config_dir, example)
    [slot] = load_settings(config_dir, env={}).slots
    assert slot.relays_s == 900 and slot.relay[0].position == "first"
