"""``[devices]`` in loa.toml is read with the other settings; a setting that cannot work is refused naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.errors import ConfigError
from loa.settings import load_settings


def _with(config_dir: Path, text: str) -> Path:
    loa = config_dir / "loa.toml"
    loa.write_text(loa.read_text("utf-8").split("[devices]")[0] + text, "utf-8")
    return config_dir


def test_the_shipped_devices_settings_load(config_dir):
    devices = load_settings(config_dir, env={}).loa.devices
    assert (devices.beat_s, devices.offline_after_s, devices.alert_before_slot_minutes) == (30, 270, 30)


@pytest.mark.parametrize(("text", "words"), [
    ('[devices]\nalert_webhook_url = "https://x.example.vn/hook"\n', "alert_webhook_url needs alert_secret_env"),
    ('[devices]\nalert_mail_to = ["a@example.vn"]\n', "alert_mail_to needs smtp_host"),
    ("[devices]\nlate_after_s = 300\noffline_after_s = 200\n", "offline_after_s must be more than late_after_s"),
    ("[devices]\nbeat_seconds = 30\n", "devices.beat_seconds: unknown key"),
])
def test_devices_settings_that_cannot_work_are_refused_by_name(config_dir, text, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(_with(config_dir, text), env={})
