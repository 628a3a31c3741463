"""The typed settings the scheduler needs: stations, slots, campaigns and dispatch timing."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from channels import options_model
from channels.base import ChannelOptions, lead_seconds
from scheduler.outlets import OUTLETS, Form, Outlet, rules_of

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LENGTH = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_clock(value: str) -> time:
    """``"06:00"`` → 06:00; refuses ``"25:00"`` and anything not HH:MM."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{value!r} is not a time of day; write HH:MM between 00:00 and 23:59")
    return time(int(match[1]), int(match[2]))


def parse_length(value: str, *, max_hours: int = 24) -> int:
    """``"30m"``, ``"1h30m"``, ``"24h"``, ``"45s"`` → seconds (at most ``max_hours``)."""
    match = _LENGTH.fullmatch(value.strip())
    if not value.strip() or not match:
        raise ValueError(f"{value!r} is not a length; write e.g. 30m, 1h30m, 24h or 45s")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if not 0 < total <= max_hours * 3600:
        raise ValueError(f"{value!r} must be more than 0 and at most {max_hours}h")
    return total


def parse_days(value: str) -> tuple[int, ...]:
    """``"mon-sun"``, ``"mon,wed,fri"``, ``"sat-sun"`` → ISO weekday indexes (Monday = 0)."""
    days: set[int] = set()
    for part in value.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(f"{value!r}: days are mon, tue, wed, thu, fri, sat, sun, as ranges or lists")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(0, end + 1)])
    return tuple(sorted(days))


def parse_month_day(value: str) -> tuple[int, int]:
    """``"10-01"`` → (10, 1); ``"02-29"`` is allowed (it falls on 28 February in common years)."""
    match = _MONTH_DAY.fullmatch(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a month-day; write MM-DD")
    month, day = int(match[1]), int(match[2])
    try:
        date(2024, month, day)  # a leap year accepts every real month-day
    except ValueError:
        raise ValueError(f"{value!r} is not a day of the year") from None
    return month, day


def _outlet_options(value: Any, info: ValidationInfo) -> ChannelOptions | None:
    """``[station.<outlet>]``: the options model its ``type`` names among the channels of that outlet."""
    outlet = info.field_name
    if value is None or isinstance(value, ChannelOptions):
        return value
    if not isinstance(value, dict) or "type" not in value:
        raise ValueError(f"[{outlet}] needs a `type`")
    try:
        model = options_model(f"{outlet}.{value['type']}")
    except KeyError as error:
        raise ValueError(str(error.args[0])) from None
    try:
        options = model.model_validate(value)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        if not where:  # a check of the whole outlet (its message names the keys)
            raise ValueError(problem["msg"].removeprefix("Value error, ")) from None
        raise ValueError(f"{where}: {problem['msg']}") from None
    if options.lead is not None:
        try:
            parse_lead(options.lead, max_hours=_max_lead_hours(options))
        except ValueError as error:
            raise ValueError(f"lead: {error}") from None
    return options


def parse_lead(value: str, *, max_hours: int = 24) -> int:
    """An outlet's ``lead`` in seconds: a length as :func:`parse_length` reads it, or ``"0"`` (pushed at the slot's
    own time: a Zalo OA or a Viber channel shows a post the moment it is pushed)."""
    seconds = lead_seconds(value)
    if seconds > max_hours * 3600:
        raise ValueError(f"{value!r} must be at most {max_hours}h")
    return seconds


def _max_lead_hours(options: ChannelOptions) -> int:
    """How far ahead an outlet may be pushed: a day, or longer where its adapter says (an edge agent caches days)."""
    return int(getattr(options, "max_lead_hours", 24))


#: What a station code may be (letters, digits, ``_`` and ``-``, at most 16).
STATION_CODE = r"^[A-Za-z0-9_-]{1,16}$"


class StationSpec(_Section):
    """``[[station]]`` in stations.toml: one commune and its outlets."""

    code: Annotated[str, Field(pattern=STATION_CODE)]
    name: str
    province: str = ""
    groups: list[str] = []
    #: The commune centre of centres.toml it belongs to (required when there is a centres.toml).
    centre: str | None = None
    # One field per outlet kind (scheduler.outlets.Outlet), named like it.
    loudspeaker: ChannelOptions | None = None
    board: ChannelOptions | None = None
    portal: ChannelOptions | None = None
    social: ChannelOptions | None = None
    print: ChannelOptions | None = None

    _outlets = field_validator(*OUTLETS, mode="before")(_outlet_options)

    def outlet(self, name: str) -> ChannelOptions | None:
        return getattr(self, name)

    def lead(self, name: str, default_minutes: int) -> timedelta:
        """How long before its slot a push to the outlet ``name`` is due: its own ``lead`` when it has one
        (a Facebook Page schedules posts only from 10 minutes ahead), else ``[dispatch] lead_minutes``."""
        options = self.outlet(name)
        if options is None or options.lead is None:
            return timedelta(minutes=default_minutes)
        return timedelta(seconds=parse_lead(options.lead, max_hours=_max_lead_hours(options)))

    @property
    def outlets(self) -> list[str]:
        return [str(name) for name in Outlet if getattr(self, name) is not None]


class RelaySpec(_Section):
    """``[[slot.relay]]`` in schedule.toml: a live program of a higher level (the province's or district's radio)
    relayed by URL into a loudspeaker slot for a fixed ``length``, at ``position`` in the program: ``"first"``
    (the default), ``"last"``, or the number of pieces played before it."""

    url: str
    length: str
    name: str = "Chương trình tiếp sóng"
    position: Literal["first", "last"] | Annotated[int, Field(ge=0, le=100)] = "first"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value.strip()):
            raise ValueError(f"{value!r} is not a stream address; write http(s)://host/path of an Icecast/HTTP "
                             "MP3 or AAC stream or an HLS playlist")
        return value.strip()

    @field_validator("length")
    @classmethod
    def _length(cls, value: str) -> str:
        parse_length(value)
        return value

    @property
    def length_s(self) -> int:
        return parse_length(self.length)


def relays_seconds(relays: Any) -> int:
    """Seconds a slot's relays take, from their form stored with the slot (``RelaySpec.model_dump()``s, or None)."""
    return sum(parse_length(str(relay["length"])) for relay in relays or () if relay.get("length"))


class SlotSpec(_Section):
    """``[[slot]]`` in schedule.toml: a recurring window on one outlet (``on`` makes it one-off)."""

    name: str | None = None
    #: What editors read for this slot ("Bản tin sáng"); the name is its code.
    label: str | None = None
    outlet: Outlet
    stations: list[str] | str = "*"
    days: str = "mon-sun"
    at: str
    length: str = "30m"
    on: date | None = None
    #: Live programs relayed into the slot (loudspeaker slots only); their length counts like a piece's.
    relay: list[RelaySpec] = []

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        return parse_clock(value).strftime("%H:%M")

    @field_validator("length")
    @classmethod
    def _length(cls, value: str) -> str:
        parse_length(value)
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        parse_days(value)
        return value

    @model_validator(mode="after")
    def _relays(self) -> SlotSpec:
        if self.relay and rules_of(self.outlet).form is not Form.SPEECH:
            raise ValueError(f"relay: only a loudspeaker slot can relay a live stream; this slot is on the "
                             f"{self.outlet} outlet")
        relayed = sum(relay.length_s for relay in self.relay)
        if relayed > parse_length(self.length):
            raise ValueError(f"relay: the relays last {relayed} s, longer than the slot ({self.length})")
        return self

    @property
    def relays_s(self) -> int:
        """Seconds of the slot taken by its relays."""
        return sum(relay.length_s for relay in self.relay)

    @property
    def station_selectors(self) -> list[str]:
        return [self.stations] if isinstance(self.stations, str) else list(self.stations)

    @property
    def weekdays(self) -> tuple[int, ...]:
        return parse_days(self.days)

    @property
    def length_s(self) -> int:
        return parse_length(self.length)

    def default_name(self, index: int) -> str:
        return self.name or f"{self.outlet}-{self.at.replace(':', '')}-{index}"


class CampaignSpec(_Section):
    """``[[campaign]]`` in campaigns.toml: a theme with a yearly or one-off window."""

    code: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,64}$")]
    name: str
    yearly: str | None = None
    date_from: date | None = Field(None, alias="from")
    date_to: date | None = Field(None, alias="to")
    lead_days: int = Field(0, ge=0, le=90)
    priority: int = Field(5, ge=1, le=9)
    per_day: int = Field(0, ge=0, le=50)
    outlets: list[Outlet] = list(Outlet)
    #: The centre of centres.toml that runs it (its results roll up there); left out: the root.
    centre: str | None = None

    @field_validator("yearly")
    @classmethod
    def _yearly(cls, value: str | None) -> str | None:
        if value is None:
            return None
        first, sep, last = value.partition("..")
        if not sep:
            raise ValueError(f"{value!r}: write a yearly window as MM-DD..MM-DD, e.g. 10-01..10-07")
        parse_month_day(first)
        parse_month_day(last)
        return value

    @model_validator(mode="after")
    def _one_window(self) -> CampaignSpec:
        if self.yearly and (self.date_from or self.date_to):
            raise ValueError("give either `yearly` or `from`/`to`, not both")
        if not self.yearly and not (self.date_from and self.date_to):
            raise ValueError("a campaign needs `yearly = \"MM-DD..MM-DD\"` or both `from` and `to` dates")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("`to` is before `from`")
        return self


class DispatchSettings(_Section):
    """``[dispatch]`` in loa.toml: when pushes happen and how failures are retried."""

    lead_minutes: int = Field(2, ge=0, le=24 * 60)
    grace_minutes: int = Field(30, ge=0, le=24 * 60)
    max_attempts: int = Field(5, ge=1, le=100)
    retry_base_s: float = Field(30.0, gt=0, le=3600)
    #: The longest wait between two attempts, however many failed before.
    retry_max_s: float = Field(1800.0, gt=0, le=24 * 3600)
    poll_seconds: int = Field(20, ge=1, le=3600)
    claim_batch: int = Field(50, ge=1, le=10_000)
    lease_minutes: int = Field(10, ge=1, le=24 * 60)
    plan_days: int = Field(7, ge=1, le=62)
    #: A change that alters what airs is re-planned this long after the last of a burst of changes, and
    #: at most ``replan_longest_s`` after the first (see ``scheduler.live``).
    replan_quiet_s: float = Field(1.0, ge=0, le=3600)
    replan_longest_s: float = Field(5.0, ge=0, le=3600)
    #: Pushes in flight at once, over all outlets, and at most per outlet.
    workers: int = Field(8, ge=1, le=256)
    per_outlet: int = Field(4, ge=1, le=256)
    #: Consecutive transient failures that open an outlet's circuit, and how long it stays open.
    breaker_failures: int = Field(5, ge=1, le=1000)
    breaker_cooldown_s: float = Field(60.0, gt=0, le=24 * 3600)
    #: The emergency lane (scheduler.emergencies.lane): its own pushing threads and cap per outlet, its claim
    #: batch, how soon a failed emergency push is tried again and how often, and how often it looks for work.
    emergency_workers: int = Field(32, ge=1, le=512)
    emergency_per_outlet: int = Field(16, ge=1, le=512)
    emergency_claim_batch: int = Field(500, ge=1, le=10_000)
    emergency_retry_s: float = Field(5.0, gt=0, le=600)
    emergency_max_attempts: int = Field(30, ge=1, le=1000)
    emergency_lease_s: float = Field(120.0, ge=5, le=3600)
    emergency_poll_s: float = Field(1.0, ge=0.1, le=60)
