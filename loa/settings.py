"""Reads the TOML configuration and the environment once and validates them into typed settings."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from channels.base import ChannelOptions
from content.centre_config import CentresFile, CentreSpec
from content.config import AudioSettings, RenderSettings, SpeechSettings
from content.errors import ConfigError, NotFound
from content.ingest.config import AlertFeedSpec, FeedSpec, GeocodeSpec, IngestSettings
from loa import settings_checks as check
from scheduler.config import CampaignSpec, DispatchSettings, SlotSpec, StationSpec
from scheduler.devices.settings import DevicesSettings

FILES = ("loa.toml", "stations.toml", "schedule.toml", "campaigns.toml", "geocodes.toml", "centres.toml")
M = TypeVar("M", bound=BaseModel)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSection(_Section):
    url: str = "sqlite:///var/loa.db"


class TimeSection(_Section):
    zone: str = "Asia/Ho_Chi_Minh"

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; e.g. Asia/Ho_Chi_Minh") from None
        return value


class MediaSection(_Section):
    dir: Path = Path("var/media")
    renditions: Path = Path("var/renditions")


class WebSection(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    secret_key_env: str = "LOA_SECRET_KEY"
    #: Where the generated key is kept when the environment variable is not set (relative to the project).
    secret_key_file: Path = Path("var/secret_key")
    base_url: str = "http://127.0.0.1:8080"


class NormalizeSection(_Section):
    abbreviations: dict[str, str] = {}


class EmergencySection(_Section):
    """``[emergency]``: who holds the right to issue an emergency (approvers and admins unless said otherwise)."""

    roles: list[str] = ["approver", "admin"]

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        from content.models import ROLES

        unknown = [role for role in value if role not in ROLES]
        if unknown:
            raise ValueError(f"unknown role {unknown[0]!r}; use {', '.join(ROLES)}")
        return value


class LoaFile(_Section):
    """loa.toml."""

    database: DatabaseSection = DatabaseSection()
    time: TimeSection = TimeSection()
    media: MediaSection = MediaSection()
    speech: SpeechSettings = SpeechSettings()
    audio: AudioSettings = AudioSettings()
    dispatch: DispatchSettings = DispatchSettings()
    web: WebSection = WebSection()
    normalize: NormalizeSection = NormalizeSection()
    ingest: IngestSettings = IngestSettings()
    feed: list[FeedSpec] = []
    alert_feed: list[AlertFeedSpec] = []
    emergency: EmergencySection = EmergencySection()
    devices: DevicesSettings = DevicesSettings()


class StationsFile(_Section):
    station: list[StationSpec] = []


class ScheduleFile(_Section):
    blackout: list[date] = []
    slot: list[SlotSpec] = []


class CampaignsFile(_Section):
    campaign: list[CampaignSpec] = []


class GeocodesFile(_Section):
    """geocodes.toml: which stations a CAP alert's ``<geocode>`` reaches."""

    geocode: list[GeocodeSpec] = []


@dataclass(frozen=True)
class Settings:
    """Everything loa was configured with, validated, with paths made absolute."""

    config_dir: Path
    base_dir: Path
    database_url: str
    zone: ZoneInfo
    loa: LoaFile
    stations: tuple[StationSpec, ...]
    slots: tuple[SlotSpec, ...]
    blackout: tuple[date, ...]
    campaigns: tuple[CampaignSpec, ...]
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    geocodes: tuple[GeocodeSpec, ...] = ()
    #: centres.toml's ``[[centre]]`` entries; empty: one implicit centre holding every station.
    centres: tuple[CentreSpec, ...] = ()

    @property
    def dispatch(self) -> DispatchSettings:
        return self.loa.dispatch

    @property
    def media_dir(self) -> Path:
        return self.base_dir / self.loa.media.dir

    @property
    def render(self) -> RenderSettings:
        audio = self.loa.audio
        absolute = {key: self.base_dir / value for key in ("intro", "outro") if (value := getattr(audio, key))}
        return RenderSettings(
            renditions_dir=self.base_dir / self.loa.media.renditions,
            media_dir=self.media_dir,
            speech=self.loa.speech,
            audio=audio.model_copy(update=absolute),
        )

    def resolve_stations(self, selectors: Iterable[str], *, where: str) -> tuple[str, ...]:
        """Station codes from codes, group names or ``*`` (every station); an unknown one is refused."""
        from content.scope import resolve

        return resolve(selectors, {spec.code: spec.groups for spec in self.stations}, where=where)

    def geocode_table(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(``valueName``, ``value``) → the station codes it reaches (``("*",)`` for every station)."""
        return {(spec.value_name, spec.value): self.resolve_stations(spec.stations, where="geocodes.toml")
                for spec in self.geocodes}

    def certificates(self, spec: AlertFeedSpec) -> tuple[bytes, ...]:
        """The PEM certificates that may sign ``spec``'s messages (checked to exist when loading)."""
        return tuple((self.base_dir / path).read_bytes() for path in spec.certificates)

    def alert_feed(self, name: str) -> AlertFeedSpec:
        for spec in self.loa.alert_feed:
            if spec.name == name:
                return spec
        known = ", ".join(spec.name for spec in self.loa.alert_feed) or "none"
        raise NotFound("no [[alert_feed]] named {name!r} in loa.toml (known: {known})", name=name, known=known)

    def station(self, code: str) -> StationSpec:
        for spec in self.stations:
            if spec.code == code:
                return spec
        known = ", ".join(spec.code for spec in self.stations) or "none"
        raise NotFound("no station with code {code!r} in {path} (known: {known})", code=code,
                       path=str(self.config_dir / "stations.toml"), known=known)


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("function-") or str(part) in ("ChannelOptions",):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _read(path: Path, model: type[M]) -> M:
    if not path.exists():
        return model()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise ConfigError("{path}: not UTF-8 text ({reason} at byte {byte})", path=str(path), reason=error.reason,
                          byte=error.start) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown key (check its spelling against the documentation)"
        more = f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else ""
        raise ConfigError(f"{path}: {_location(problem['loc'])}: {message}{more}") from None


def _absolute_paths(options: ChannelOptions, base: Path) -> ChannelOptions:
    updates = {
        name: base / value
        for name, value in options
        if isinstance(value, Path) and not value.is_absolute()
    }
    return options.model_copy(update=updates) if updates else options


def _check_database_url(url: str, source: str) -> None:
    """ConfigError unless ``url`` names an SQLite or PostgreSQL database, the two loa runs on."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        raise ConfigError("{source}: {url!r} is not a database URL; write sqlite:///var/loa.db or "
                          "postgresql://user@host/loa", source=source, url=url) from None
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError("{source}: loa runs on SQLite or PostgreSQL, not {backend}; write sqlite:///var/loa.db "
                          "or postgresql://user@host/loa", source=source, backend=backend)


def load_settings(
    config_dir: Path | str,
    *,
    database_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Read and validate the five files of ``config_dir``.

    The database URL is taken from ``database_url`` (the ``--db`` option), then
    ``LOA_DATABASE_URL``, then ``[database] url``. Relative paths are relative to the folder
    that holds the config folder (the project root in the demo layout).
    """
    env = dict(os.environ if env is None else env)
    config_dir = Path(config_dir).resolve()
    if not config_dir.is_dir():
        raise ConfigError("{path}: no such configuration folder; pass --config DIR or set LOA_CONFIG",
                          path=str(config_dir))
    base_dir = config_dir.parent
    loa_file = _read(config_dir / "loa.toml", LoaFile)
    stations = _read(config_dir / "stations.toml", StationsFile)
    schedule = _read(config_dir / "schedule.toml", ScheduleFile)
    campaigns = _read(config_dir / "campaigns.toml", CampaignsFile)
    geocodes = _read(config_dir / "geocodes.toml", GeocodesFile)
    check.references(stations, schedule, campaigns, config_dir)
    check.accounts(stations, config_dir)
    check.alerts(loa_file, geocodes, stations, config_dir)
    centres = _read(config_dir / "centres.toml", CentresFile)
    check.centres(centres, stations, campaigns, config_dir)

    url = database_url or env.get("LOA_DATABASE_URL") or loa_file.database.url
    _check_database_url(url, "--db" if database_url else "LOA_DATABASE_URL" if env.get("LOA_DATABASE_URL")
                        else f"{config_dir / 'loa.toml'} [database] url")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        url = f"sqlite:///{base_dir / url.removeprefix('sqlite:///')}"
    resolved_stations = tuple(
        station.model_copy(update={
            outlet: _absolute_paths(options, base_dir)
            for outlet in station.outlets if (options := station.outlet(outlet)) is not None
        })
        for station in stations.station
    )
    return Settings(
        config_dir=config_dir,
        base_dir=base_dir,
        database_url=url,
        zone=ZoneInfo(loa_file.time.zone),
        loa=loa_file,
        stations=resolved_stations,
        slots=tuple(schedule.slot),
        blackout=tuple(schedule.blackout),
        campaigns=tuple(campaigns.campaign),
        env=env,
        geocodes=tuple(geocodes.geocode),
        centres=tuple(centres.centre),
    )
