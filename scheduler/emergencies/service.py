"""Issuing, sending, clearing and replacing emergencies: the one place their rules are written (CLI, web, CAP).

An emergency skips the planner: sending it writes one push per targeted station × outlet straight into the
emergency outbox (``fanout``), due at its start. Issuing needs the ``emergency`` right (the roles in
``session.info["emergency_roles"]``, from ``[emergency] roles`` in loa.toml; approvers and admins by
default), within the actor's stations; ``actor=None`` is the system (a trusted CAP feed). Every step is
audited in its transaction and the row is sealed (``content.seals.emergency_seal``), so a row altered in the
database is refused when pushed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit, scope, seals
from content.errors import InputError, NotAllowed, NotFound, StateError
from content.models import User
from content.render.renditions import file_sha256
from content.text import clean_text
from scheduler.emergencies import fanout
from scheduler.models import Emergency, EmergencyState, Station

#: Who holds the ``emergency`` right unless loa.toml says otherwise.
DEFAULT_ROLES = ("approver", "admin")
SOURCES = ("cli", "web", "cap")
SYSTEM = "system"
MIN_REPEAT = timedelta(minutes=1)
MAX_REPEAT = timedelta(hours=24)
MAX_TITLE = 300


@dataclass(frozen=True)
class EmergencyRequest:
    """What an emergency says, where and when; validated by :func:`issue`."""

    title: str
    text: str = ""
    audio_path: Path | None = None
    stream_url: str | None = None
    targets: tuple[str, ...] = ("*",)  # station codes, station group names, or "*"
    starts_at: datetime | None = None  # None: now
    repeat_every: timedelta | None = None
    until: datetime | None = None
    source: str = "cli"  # "cli" | "web" | "cap"
    cap_identifier: str | None = None  # sender + identifier of the CAP message, to find it on update/cancel


# --- the right ----------------------------------------------------------------------------------------------

def roles_with_right(session: Session) -> tuple[str, ...]:
    return tuple(session.info.get("emergency_roles") or DEFAULT_ROLES)


def may_issue(session: Session, user: User) -> bool:
    """Whether ``user`` holds the emergency right (for showing the red button)."""
    return not user.disabled and user.role in roles_with_right(session)


def _require_right(session: Session, actor: User | None, stations: list[str]) -> str:
    """The actor's name, once they may issue an emergency to ``stations``; NotAllowed otherwise."""
    if actor is None:
        return SYSTEM
    if not may_issue(session, actor):
        raise NotAllowed("user {name!r} is {role}; issuing an emergency needs the emergency right ({roles})",
                         name=actor.name, role=actor.role, roles=", ".join(roles_with_right(session)))
    mine = scope.reach(actor)  # their centre's subtree, narrowed to their listed stations
    if mine is not None and not set(stations) <= mine:
        outside = sorted(set(stations) - mine)
        raise NotAllowed("user {name!r} works for {mine}; this emergency also reaches {outside}",
                         name=actor.name, mine=", ".join(sorted(mine)), outside=", ".join(outside))
    return actor.name


# --- validation -----------------------------------------------------------------------------------------------

def _resolve(session: Session, targets: tuple[str, ...], actor: User | None) -> list[str]:
    """Station codes of the active stations ``targets`` name (codes, group names or ``*``). ``*`` is every station
    of the actor's centre's subtree (content.centres): a commune's ``*`` is its own stations, a district's those of
    its communes; the root's (and the system's, a CAP feed) every station of the install."""
    rows = session.execute(select(Station.code, Station.groups).where(Station.active.is_(True))).all()
    known = {code: set(groups or []) for code, groups in rows}
    below = None if actor is None else scope.tree_for(actor).stations(actor.centre)
    everywhere = set(known) if below is None else set(known) & below
    out: set[str] = set()
    selectors = [part.strip() for item in targets for part in str(item).split(",") if part.strip()]
    if not selectors:
        raise InputError("choose the stations the emergency reaches (codes, group names or *)", where="stations")
    for selector in selectors:
        if selector == "*":
            out.update(everywhere)
        elif selector in known:
            out.add(selector)
        else:
            group = {code for code, groups in known.items() if selector in groups}
            if not group:
                raise InputError("no station or station group {name!r}", where="stations", name=selector)
            out |= group
    if not out:
        raise InputError("no station is configured to receive the emergency", where="stations")
    return sorted(out)


def words(request: EmergencyRequest) -> tuple[str, str]:
    """The title and text as :func:`issue` stores them, so that a preview renders what the lane will render."""
    return clean_text(request.title or "").replace("\n", " ").strip(), clean_text(request.text or "").strip()


def _validated(session: Session, request: EmergencyRequest, now: datetime, actor: User | None) -> dict[str, Any]:
    title, text = words(request)
    if not title:
        raise InputError("an emergency needs a title", where="title")
    if len(title) > MAX_TITLE:
        raise InputError("a title has at most {limit} characters", where="title", limit=MAX_TITLE)
    stream = (request.stream_url or "").strip() or None
    if not (text or request.audio_path or stream):
        raise InputError("an emergency needs a text, a recording or a stream URL", where="text")
    if stream and not stream.startswith(("http://", "https://")):
        raise InputError("{url!r} is not a stream URL (http:// or https://)", where="stream_url", url=stream)
    audio_path = audio_sha = None
    if request.audio_path is not None:
        path = Path(request.audio_path)
        if not path.is_file():
            raise InputError("no recording at {path}", where="audio", path=str(path))
        audio_path, audio_sha = str(path.resolve()), file_sha256(path)
    if request.source not in SOURCES:
        raise InputError("unknown source {source!r}", where="source", source=request.source)
    starts_at = request.starts_at or now
    for name, moment in (("starts_at", request.starts_at), ("until", request.until)):
        if moment is not None and moment.tzinfo is None:
            raise InputError("{name} needs a time zone", where=name, name=name)
    if request.until is not None and request.until <= starts_at:
        raise InputError("the end ({until}) is not after the start ({start})", where="until",
                         until=request.until.isoformat(timespec="minutes"),
                         start=starts_at.isoformat(timespec="minutes"))
    repeat = request.repeat_every
    if repeat is not None and not MIN_REPEAT <= repeat <= MAX_REPEAT:
        raise InputError("repeat every {minutes} minutes: choose between 1 minute and 24 hours", where="repeat_every",
                         minutes=round(repeat.total_seconds() / 60, 1))
    return dict(title=title, text=text, audio_path=audio_path, audio_sha256=audio_sha, stream_url=stream,
                targets=list(request.targets), stations=_resolve(session, request.targets, actor), starts_at=starts_at,
                repeat_every_s=int(repeat.total_seconds()) if repeat else None, until=request.until,
                source=request.source, cap_identifier=request.cap_identifier)


# --- seals --------------------------------------------------------------------------------------------------

def sealed_content(emergency: Emergency) -> dict[str, Any]:
    """What an emergency's seal covers: what it says, where, when, and who issued it."""
    return {
        "title": emergency.title, "text": emergency.text, "audio_path": emergency.audio_path,
        "audio_sha256": emergency.audio_sha256, "stream_url": emergency.stream_url,
        "targets": list(emergency.targets), "stations": list(emergency.stations),
        "starts_at": emergency.starts_at.timestamp(), "repeat_every_s": emergency.repeat_every_s,
        "until": emergency.until.timestamp() if emergency.until else None, "issued_by": emergency.issued_by,
        "source": emergency.source, "cap_identifier": emergency.cap_identifier,
    }


def _seal(session: Session, emergency: Emergency) -> None:
    if (key := seals.key_of(session)) is not None:
        emergency.seal = seals.emergency_seal(key, emergency.id, sealed_content(emergency))


def check_sealed(session: Session, emergency: Emergency) -> None:
    """IntegrityError unless the emergency is as loa stored it (and its speech, once rendered)."""
    seals.check_emergency(session, emergency.id, sealed_content(emergency), emergency.seal)
    if emergency.speech_sha256 is not None:
        seals.check_speech(session, emergency.id, emergency.seal, emergency.speech_path or "", emergency.speech_sha256,
                           emergency.speech_duration_s or 0.0, emergency.speech_seal)


def store_speech(session: Session, emergency: Emergency, path: Path, sha256: str, duration_s: float) -> None:
    """Keep what the emergency's loudspeakers play, sealed to it (``fanout`` renders it ahead of the pushes)."""
    emergency.speech_path, emergency.speech_sha256 = str(path), sha256
    emergency.speech_duration_s = round(duration_s, 3)
    if (key := seals.key_of(session)) is not None:
        emergency.speech_seal = seals.speech_seal(key, emergency.seal or "", str(path), sha256,
                                                  emergency.speech_duration_s)


# --- the public API -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reach:
    """Who an emergency reaches: the station codes, and how many outlets of each kind."""

    stations: tuple[str, ...]
    outlets: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.outlets.values())


def preview(session: Session, request: EmergencyRequest, *, now: datetime, actor: User | None = None) -> Reach:
    """Check ``request`` as :func:`issue` would and say what it would reach (``*``: of ``actor``'s centre); nothing
    is stored (the confirmation shows it before anything is sent)."""
    stations = _validated(session, request, now, actor)["stations"]
    outlets: dict[str, int] = {}
    for _, _, outlet in fanout.reach(session, stations):
        outlets[outlet] = outlets.get(outlet, 0) + 1
    return Reach(tuple(stations), outlets)


def issue(session: Session, request: EmergencyRequest, *, actor: User | None, now: datetime,
          draft: bool = False) -> Emergency:
    """Store an emergency and, unless ``draft``, send it at once (its pushes are due at its start)."""
    values = _validated(session, request, now, actor)
    name = _require_right(session, actor, values["stations"])
    emergency = Emergency(**values, state=EmergencyState.DRAFT, issued_by=name, repeats=0, created_at=now,
                          updated_at=now)
    session.add(emergency)
    session.flush()
    _seal(session, emergency)
    audit.record(session, actor=name, action="emergency.issue", subject=f"emergency:{emergency.id}", at=now,
                 details={"title": emergency.title, "stations": len(emergency.stations), "targets": emergency.targets,
                          "source": emergency.source, "draft": draft, "cap": emergency.cap_identifier,
                          "seal": emergency.seal})
    if not draft:
        _send(session, emergency, name, now)
    return emergency


def get(session: Session, emergency_id: int) -> Emergency:
    """The emergency ``emergency_id``; NotFound when there is none."""
    emergency = session.get(Emergency, emergency_id)
    if emergency is None:
        raise NotFound("no emergency {id}", id=emergency_id, hint="`loa emergency list` shows them")
    return emergency


def _send(session: Session, emergency: Emergency, name: str, now: datetime) -> None:
    check_sealed(session, emergency)
    emergency.state = EmergencyState.ACTIVE
    emergency.sent_by, emergency.sent_at, emergency.updated_at = name, now, now
    due = max(emergency.starts_at, now)
    count = fanout.fan_out(session, emergency, kind=fanout.ALERT, repeat=0, due_at=due, now=now)
    emergency.next_push_at = due + timedelta(seconds=emergency.repeat_every_s) if emergency.repeat_every_s else None
    audit.record(session, actor=name, action="emergency.send", subject=f"emergency:{emergency.id}", at=now,
                 details={"pushes": count, "due_at": due.isoformat()})


def send(session: Session, emergency_id: int, *, actor: User, now: datetime) -> Emergency:
    """A draft goes out (one click or ``loa emergency send --draft ID``)."""
    emergency = get(session, emergency_id)
    if emergency.state != EmergencyState.DRAFT:
        raise StateError("emergency {id} is {state}; only a draft can be sent", id=emergency_id, state=emergency.state)
    _send(session, emergency, _require_right(session, actor, emergency.stations), now)
    return emergency


def clear(session: Session, emergency_id: int, *, actor: User | None, now: datetime) -> Emergency:
    """The all-clear (hết cảnh báo): pushed to every outlet the emergency reached; its repeats stop. A draft
    is discarded without any push."""
    emergency = get(session, emergency_id)
    if emergency.state not in EmergencyState.OPEN:
        raise StateError("emergency {id} is {state}; only a draft or an active emergency can be cleared",
                         id=emergency_id, state=emergency.state)
    name = _require_right(session, actor, emergency.stations)
    was = emergency.state
    _end(session, emergency, EmergencyState.CLEARED, now)
    emergency.cleared_by, emergency.cleared_at = name, now
    count = 0
    if was == EmergencyState.ACTIVE:
        check_sealed(session, emergency)
        count = fanout.fan_out(session, emergency, kind=fanout.ALL_CLEAR, repeat=0, due_at=now, now=now)
    audit.record(session, actor=name, action="emergency.clear", subject=f"emergency:{emergency.id}", at=now,
                 details={"was": was, "pushes": count})
    return emergency


def _end(session: Session, emergency: Emergency, state: str, now: datetime) -> None:
    emergency.state, emergency.next_push_at, emergency.updated_at = state, None, now
    fanout.cancel_pending(session, emergency.id, now=now)


def replace(session: Session, emergency_id: int, request: EmergencyRequest, *, actor: User | None,
            now: datetime) -> Emergency:
    """End an emergency (its all-clear goes out when it was active) and issue its successor, sent when the
    ended one was (a CAP ``Update``)."""
    old = get(session, emergency_id)
    if old.state not in EmergencyState.OPEN:
        raise StateError("emergency {id} is {state}; only a draft or an active emergency can be replaced",
                         id=emergency_id, state=old.state)
    draft = old.state == EmergencyState.DRAFT
    new = issue(session, request, actor=actor, now=now, draft=draft)
    clear(session, emergency_id, actor=actor, now=now)
    old.replaced_by = new.id
    audit.record(session, actor=new.issued_by, action="emergency.replace", subject=f"emergency:{old.id}", at=now,
                 details={"by": new.id})
    return new


def find_by_cap(session: Session, cap_identifier: str) -> Emergency | None:
    """The latest emergency issued from the CAP message ``cap_identifier`` (sender + identifier)."""
    return session.scalar(select(Emergency).where(Emergency.cap_identifier == cap_identifier)
                          .order_by(Emergency.id.desc()).limit(1))


def active(session: Session, now: datetime) -> list[Emergency]:
    """The emergencies under way at ``now``: sent, started, neither cleared nor past their end."""
    query = (select(Emergency).where(Emergency.state == EmergencyState.ACTIVE, Emergency.starts_at <= now)
             .order_by(Emergency.starts_at.desc(), Emergency.id.desc()))
    return [e for e in session.scalars(query) if e.until is None or e.until > now]


def expire(session: Session, now: datetime) -> list[int]:
    """Active emergencies whose end has passed become ``expired`` (audited); their unsent pushes are cancelled,
    and their end is pushed, due at the end itself, to the outlets that keep an emergency until told (a folder's
    playlist, a sticky post, a feed's top item: ``fanout.END``). The end says nothing: no all-clear is announced,
    as nobody declared the danger over."""
    ended = list(session.scalars(select(Emergency).where(Emergency.state == EmergencyState.ACTIVE,
                                                        Emergency.until.is_not(None), Emergency.until <= now)
                                 .with_for_update(skip_locked=True)))
    for emergency in ended:
        assert emergency.until is not None
        _end(session, emergency, EmergencyState.EXPIRED, now)  # the lane checks its seal before each push
        count = fanout.fan_out(session, emergency, kind=fanout.END, repeat=0, due_at=emergency.until, now=now)
        audit.record(session, actor=SYSTEM, action="emergency.expire", subject=f"emergency:{emergency.id}", at=now,
                     details={"until": emergency.until.isoformat(), "pushes": count})
    return [emergency.id for emergency in ended]
