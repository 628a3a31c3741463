"""Turns a CAP 1.2 alert into what loa does about it: issue an emergency, replace one, clear one, or nothing (and why).

``plan_intake`` is pure: it reads the alert, the geocode table and the clock, and decides. Nothing it returns
has touched the database; ``receive`` carries the decision out through the emergency service.

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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from content.ingest.cap import Alert, Geocode
from content.models import User
from scheduler.emergencies.service import EmergencyRequest, clear, find_by_cap, issue, replace
from scheduler.models import Emergency, EmergencyState

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


# --- carrying it out (the emergency service) --------------------------------------------------------------------

#: What ``receive`` has to add about a message it carried out (the words are in ``loa.alert_words``).
NOTES = ("already_received", "nothing_to_clear", "reference_unknown", "update_held")


@dataclass(frozen=True)
class Received:
    """What ``receive`` did: the emergency it issued (new, or the successor of those it replaced), the ones it
    ended, or ``note`` (``already_received``, ``nothing_to_clear``, ``reference_unknown``, ``update_held``) when there
    is more to say."""

    intake: Intake
    issued: Emergency | None = None
    draft: bool = False
    replaced: tuple[int, ...] = ()
    cleared: tuple[int, ...] = ()
    note: str | None = None


def request_of(intake: Intake, *, repeat_every: timedelta | None = None) -> EmergencyRequest:
    return EmergencyRequest(title=intake.title, text=intake.text, targets=intake.targets, starts_at=intake.starts_at,
                            repeat_every=repeat_every, until=intake.until, source="cap",
                            cap_identifier=intake.cap_identifier)


def current(session: Session, cap_identifier: str) -> Emergency | None:
    """The open emergency (draft or active) that CAP message ``cap_identifier`` stands for: the one issued from it,
    or the one that replaced it since (senders often name only the first message of a thread)."""
    emergency, seen = find_by_cap(session, cap_identifier), set()
    while emergency is not None and emergency.replaced_by is not None and emergency.id not in seen:
        seen.add(emergency.id)
        emergency = session.get(Emergency, emergency.replaced_by)
    return emergency if emergency is not None and emergency.state in EmergencyState.OPEN else None


def receive(session: Session, intake: Intake, *, trusted: bool, actor: User | None, now: datetime,
            repeat_every: timedelta | None = None) -> Received:
    """Carry out ``intake`` in ``session``: an Alert is issued (a draft unless ``trusted``), an Update replaces the
    open emergencies it references (sent when they were, as the service replaces) or is issued like an Alert when
    none is open, a Cancel clears them. A message received before changes nothing.

    An untrusted feed never puts anything on air: its Update of an emergency already sent waits as a draft beside
    it (``update_held``) until someone with the right sends it and clears the old one."""
    if find_by_cap(session, intake.cap_identifier) is not None:
        return Received(intake, note="already_received")
    if intake.action == "none":
        return Received(intake)
    named = {e.id: e for key in intake.references if (e := current(session, key)) is not None}
    if intake.action == "clear":
        cleared = tuple(clear(session, emergency_id, actor=actor, now=now).id for emergency_id in named)
        return Received(intake, cleared=cleared, note=None if cleared else "nothing_to_clear")
    request = request_of(intake, repeat_every=repeat_every)
    if intake.action == "replace" and named and not trusted and any(
            e.state != EmergencyState.DRAFT for e in named.values()):
        held = issue(session, request, actor=actor, now=now, draft=True)
        return Received(intake, issued=held, draft=True, note="update_held")
    if intake.action == "replace" and named:
        first, *others = named.values()
        successor = replace(session, first.id, request, actor=actor, now=now)
        for other in others:  # one message updates several: one successor, the others end
            clear(session, other.id, actor=actor, now=now)
        return Received(intake, issued=successor, draft=successor.state == EmergencyState.DRAFT,
                        replaced=tuple(named))
    emergency = issue(session, request, actor=actor, now=now, draft=not trusted)
    return Received(intake, issued=emergency, draft=not trusted,
                    note="reference_unknown" if intake.action == "replace" else None)
