"""The agent's one TOML file (``edge.toml``), validated by pydantic; an error names the file and the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: What plays the decoded audio: ffmpeg to ALSA (default), a file of raw PCM (tests), mpv, liquidsoap, or
#: ``command`` (``player_command``, reading raw PCM on its standard input).
Player = Literal["ffmpeg", "file", "mpv", "liquidsoap", "command"]


class EdgeConfigError(Exception):
    """The edge configuration cannot be used; the message names the file and the key."""


class EdgeSettings(BaseModel):
    """``edge.toml``: where loa is, who this device is, how far ahead to cache and how to play."""

    model_config = ConfigDict(extra="forbid")

    server: str = Field(pattern=r"^https?://")
    device_id: int = Field(ge=1)
    token: str = Field(min_length=16)
    key: str = Field(min_length=16)
    station: str
    outlet: str = "loudspeaker"
    #: Where files, the signed schedule and the as-played journal are kept (relative to this file).
    cache_dir: Path = Path("edge-cache")
    days_ahead: int = Field(2, ge=1, le=14)
    player: Player = "ffmpeg"
    #: ``player = "file"``: the raw PCM (s16le, ``rate`` Hz, mono) is appended here (relative to this file).
    file_sink: Path = Path("played.pcm")
    #: ``player = "command"``: the argv, with ``{rate}`` filled; it reads raw s16le mono PCM on stdin.
    player_command: list[str] = []
    alsa_device: str = "default"
    rate: int = Field(22050, ge=8000, le=48000)
    #: Seconds (wall clock) between pulls of the schedule, heartbeats and emergency polls.
    sync_seconds: float = Field(60.0, gt=0)
    heartbeat_seconds: float = Field(30.0, gt=0)
    emergency_seconds: float = Field(3.0, gt=0)
    timeout_seconds: float = Field(10.0, gt=0)


def load_edge_settings(path: Path) -> tuple[EdgeSettings, Path]:
    """The settings in ``path`` and the folder relative paths are read from."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EdgeConfigError(f"{path}: no such file; run `loa edge enrol` first") from None
    except tomllib.TOMLDecodeError as error:
        raise EdgeConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        settings = EdgeSettings.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(file)"
        raise EdgeConfigError(f"{path}: {key}: {first['msg']}") from None
    base = path.resolve().parent
    return settings.model_copy(update={"cache_dir": base / settings.cache_dir,
                                       "file_sink": base / settings.file_sink}), base


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def write_edge_settings(path: Path, values: dict[str, object]) -> None:
    """Write ``values`` as ``path`` (mode 0600: it holds the token and key), keeping keys already there that
    ``values`` does not name."""
    import os

    old: dict[str, object] = {}
    if path.exists():
        old = tomllib.loads(path.read_text(encoding="utf-8"))
    merged = {**old, **values}
    text = "".join(f"{name} = {_toml_value(value)}\n" for name, value in merged.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
