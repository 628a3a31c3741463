"""The checks of the configuration that span its files: every reference names something that exists, slots
of one outlet do not overlap, an account belongs to one station, alert feeds and geocodes agree with the
stations, and stations sit in commune centres. Each refuses with a ConfigError naming the file and key."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from content.centre_config import station_problem
from content.errors import ConfigError

if TYPE_CHECKING:
    from content.centre_config import CentresFile
    from loa.settings import CampaignsFile, GeocodesFile, LoaFile, ScheduleFile, StationsFile


def references(stations: StationsFile, schedule: ScheduleFile, campaigns: CampaignsFile, config_dir: Path) -> None:
    codes = [station.code for station in stations.station]
    seen: set[str] = set()
    for index, station in enumerate(stations.station):
        if station.code in seen:
            raise ConfigError("{path}: station[{index}].code: {code!r} is used by another station",
                              path=str(config_dir / "stations.toml"), index=index, code=station.code)
        seen.add(station.code)
    groups = {group for station in stations.station for group in station.groups}
    for index, slot in enumerate(schedule.slot):
        for selector in slot.station_selectors:
            if selector != "*" and selector not in seen and selector not in groups:
                raise ConfigError(
                    "{path}: slot[{index}].stations: no station or group {selector!r} (stations: {codes})",
                    path=str(config_dir / "schedule.toml"), index=index, selector=selector,
                    codes=", ".join(codes) or "none")
    names = [slot.default_name(index) for index, slot in enumerate(schedule.slot)]
    for index, name in enumerate(names):
        if names.index(name) != index:
            raise ConfigError("{path}: slot[{index}].name: {name!r} is used twice",
                              path=str(config_dir / "schedule.toml"), index=index, name=name)
    overlaps(stations, schedule, config_dir / "schedule.toml")
    campaign_codes: set[str] = set()
    for index, campaign in enumerate(campaigns.campaign):
        if campaign.code in campaign_codes:
            raise ConfigError("{path}: campaign[{index}].code: {code!r} is used twice",
                              path=str(config_dir / "campaigns.toml"), index=index, code=campaign.code)
        campaign_codes.add(campaign.code)


def overlaps(stations: StationsFile, schedule: ScheduleFile, path: Path) -> None:
    """Two programs of an outlet that plays one at a time (a commune's loudspeakers) cannot overlap."""
    from scheduler.config import WEEKDAYS, parse_clock
    from scheduler.outlets import rules_of

    spans = []
    for index, slot in enumerate(schedule.slot):
        if not rules_of(slot.outlet).one_at_a_time:
            continue
        selectors = set(slot.station_selectors)
        codes = {s.code for s in stations.station
                 if "*" in selectors or s.code in selectors or selectors & set(s.groups)}
        clock = parse_clock(slot.at)
        start = clock.hour * 60 + clock.minute
        days = {slot.on.weekday()} if slot.on else set(slot.weekdays)
        spans.append((index, slot, codes, days, start, start + slot.length_s / 60))
    for position, (i, first, codes_i, days_i, start_i, end_i) in enumerate(spans):
        for j, second, codes_j, days_j, start_j, end_j in spans[position + 1:]:
            if first.outlet != second.outlet or (first.on and second.on and first.on != second.on):
                continue
            shared_days, shared_codes = days_i & days_j, codes_i & codes_j
            if shared_days and shared_codes and start_i < end_j and start_j < end_i:
                raise ConfigError(
                    "{path}: slot[{second}]: overlaps slot[{first}] ({name} at {at}, {length}) on {day} at station "
                    "{station}; one {outlet} cannot play two programs at once", path=str(path), second=j, first=i,
                    name=first.default_name(i), at=first.at, length=first.length, day=WEEKDAYS[min(shared_days)],
                    station=min(shared_codes), outlet=first.outlet)


def accounts(stations: StationsFile, config_dir: Path) -> None:
    """No two stations publish on the same account (a Facebook Page, a Zalo OA, a Viber channel: the settings
    each outlet kind names in ``account_keys``): each station would post every piece again on it. One Page for
    several communes waits for a centre-level outlet; until then it belongs to one station."""
    seen: dict[tuple[str, str, str], tuple[int, str]] = {}
    for index, station in enumerate(stations.station):
        for outlet in station.outlets:
            options = station.outlet(outlet)
            for key in getattr(options, "account_keys", ()):
                value = getattr(options, key)
                if isinstance(value, Path) and not value.is_absolute():
                    value = config_dir.parent / value
                first = seen.setdefault((options.type, key, str(value)), (index, station.code))
                if first[0] != index:
                    raise ConfigError(
                        "{path}: station[{index}].{outlet}.{key}: {value!r} is station {code}'s already "
                        "(station[{first}]); a Page, Official Account or channel belongs to one station, or each "
                        "would post every piece on it again", path=str(config_dir / "stations.toml"), index=index,
                        outlet=outlet, key=key, value=str(getattr(options, key)), code=first[1], first=first[0])


def alerts(loa_file: LoaFile, geocodes: GeocodesFile, stations: StationsFile, config_dir: Path) -> None:
    """``[[alert_feed]]`` names are unique and their certificates exist; ``[[geocode]]`` entries are unique and name
    stations or groups that exist."""
    names: set[str] = set()
    for index, feed in enumerate(loa_file.alert_feed):
        if feed.name in names:
            raise ConfigError("{path}: alert_feed[{index}].name: {name!r} is used twice",
                              path=str(config_dir / "loa.toml"), index=index, name=feed.name)
        names.add(feed.name)
        for certificate in feed.certificates:
            path = certificate if certificate.is_absolute() else config_dir.parent / certificate
            if not path.is_file():
                raise ConfigError("{path}: alert_feed[{index}].certificates: no file {file}",
                                  path=str(config_dir / "loa.toml"), index=index, file=str(path))
    known = {station.code for station in stations.station} | {g for s in stations.station for g in s.groups} | {"*"}
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(geocodes.geocode):
        where = str(config_dir / "geocodes.toml")
        if (entry.value_name, entry.value) in seen:
            raise ConfigError("{path}: geocode[{index}]: {kind} {value!r} is listed twice", path=where, index=index,
                              kind=entry.value_name, value=entry.value)
        seen.add((entry.value_name, entry.value))
        unknown = [name for name in entry.stations if name not in known]
        if unknown:
            raise ConfigError("{path}: geocode[{index}].stations: no station or group {selector!r} in stations.toml",
                              path=where, index=index, selector=unknown[0])


def centres(centres: CentresFile, stations: StationsFile, campaigns: CampaignsFile, config_dir: Path) -> None:
    """Every station names a commune centre of centres.toml (none without one); a campaign's centre exists."""
    problem = station_problem(centres.centre, {station.code: station.centre for station in stations.station})
    if problem is not None:
        index = [station.code for station in stations.station].index(problem[0])
        raise ConfigError(f"{config_dir / 'stations.toml'}: station[{index}].centre: {problem[1]}")
    codes = {centre.code for centre in centres.centre}
    for index, campaign in enumerate(campaigns.campaign):
        if campaign.centre is not None and campaign.centre not in codes:
            raise ConfigError(f"{config_dir / 'campaigns.toml'}: campaign[{index}].centre: no centre "
                              f"{campaign.centre!r} in centres.toml (centres: {', '.join(codes) or 'none'})")
