"""Turns a CAP 1.2 alert into what loa does about it: issue an emergency, replace one, clear one, or nothing (and why).

``plan_intake`` is pure: it reads the alert, the geocode table and the clock, and decides. Nothing it returns
has touched the database; ``receive`` (with the emergency service) carries the decision out.

- ``Alert`` → a new emergency (a draft an approver sends, or sent at once when the feed is trusted);
- ``Update`` → replaces the emergencies its ``<references>`` name (a new one when none of them was received), or
  clears them when its areas no longer reach any station or it has already expired;
- ``Cancel`` → clears the emergencies its ``<references>`` name;
- ``Ack`` and ``Error`` messages, and any alert whose ``<status>`` is not ``Actual`` or whose ``<scope>`` is not
  ``Public``, change nothing. Neither does an alert whose areas reach no station, or one already expired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from content.ingest.cap import Alert, Geocode

#: An emergency's title is at most this long (``scheduler.emergencies.service.MAX_TITLE``); CAP asks senders to
#: keep ``<headline>`` under 160 characters, so a longer one is cut.
MAX_TITLE = 300
#: Why a message changes nothing (the words for each are in ``loa.alert_words``).
REASONS = ("not_actual", "not_public", "not_an_alert", "no_info", "expired", "no_stations")


@dataclass(frozen=True)
class Intake:
    """What one CAP message asks of loa. ``action`` is ``issue``, ``replace``, ``clear`` or ``none`` (then
    ``reason`` says why); the request fields follow ``scheduler.emergencies.service.EmergencyRequest``."""

    alert: Alert
    action: str
    reason: str | None = None
    title: str = ""
    text: str = ""
    targets: tuple[str, ...] = ()
    starts_at: datetime | None = None
    until: datetime | None = None
    #: the emergencies an Update or a Cancel names, as ``sender,identifier``
    references: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    #: geocodes of the alert that geocodes.toml does not list
    unknown_geocodes: tuple[Geocode, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def cap_identifier(self) -> str:
        return self.alert.key

    def as_dict(self) -> dict[str, Any]:
        info = self.alert.info()
        return {
            "cap_identifier": self.cap_identifier, "msg_type": self.alert.msg_type, "status": self.alert.status,
            "action": self.action, "reason": self.reason, "title": self.title, "text": self.text,
            "targets": list(self.targets), "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "until": self.until.isoformat() if self.until else None, "references": list(self.references),
            "areas": list(self.areas), "language": info.language if info else None,
            "severity": info.severity if info else None, "urgency": info.urgency if info else None,
            "certainty": info.certainty if info else None,
            "unknown_geocodes": [[g.value_name, g.value] for g in self.unknown_geocodes],
        }


def targets_of(alert: Alert, table: Mapping[tuple[str, str], tuple[str, ...]]) -> tuple[tuple[str, ...],
                                                                                          tuple[Geocode, ...]]:
    """The station codes the alert's geocodes reach (``("*",)`` if any reaches every station), and the
    geocodes the table does not list."""
    stations: set[str] = set()
    unknown = []
    for geocode in alert.geocodes:
        reached = table.get((geocode.value_name, geocode.value))
        if reached is None:
            unknown.append(geocode)
        else:
            stations.update(reached)
    return (("*",) if "*" in stations else tuple(sorted(stations))), tuple(unknown)


def plan_intake(alert: Alert, table: Mapping[tuple[str, str], tuple[str, ...]], *, now: datetime,
                language: str = "vi") -> Intake:
    """Decide what ``alert`` asks for, against the geocode table (``(valueName, value)`` → station codes)."""
    references = tuple(dict.fromkeys(reference.key for reference in alert.references))
    if alert.status != "Actual":
        return Intake(alert, "none", "not_actual", details={"status": alert.status})
    if alert.scope != "Public":
        return Intake(alert, "none", "not_public", details={"scope": alert.scope})
    if alert.msg_type not in ("Alert", "Update", "Cancel"):
        return Intake(alert, "none", "not_an_alert", details={"msg_type": alert.msg_type})
    if alert.msg_type == "Cancel":
        return Intake(alert, "clear", references=references)
    info = alert.info(language)
    if info is None:
        return Intake(alert, "none", "no_info", references=references)
    areas = tuple(dict.fromkeys(area.description for area in info.areas if area.description))
    text = "\n\n".join(part for part in (info.description, info.instruction) if part)
    targets, unknown = targets_of(alert, table)
    title = info.headline or info.event
    title = title if len(title) <= MAX_TITLE else title[:MAX_TITLE - 1].rstrip() + "…"
    found = dict(alert=alert, title=title, text=text, until=info.expires,
                 starts_at=info.effective if info.effective and info.effective > now else None,
                 references=references, areas=areas, unknown_geocodes=unknown, targets=targets)
    reason = "expired" if info.expires is not None and info.expires <= now else None if targets else "no_stations"
    if reason:  # an update that no longer reaches us (or is over) ends what it updates
        return Intake(action="clear" if alert.msg_type == "Update" else "none", reason=reason, **found)
    return Intake(action="replace" if alert.msg_type == "Update" else "issue", **found)
