"""Enrol, authenticate and revoke ``loa edge`` devices: one-time codes, per-device tokens and sealed keys.

A device holds two secrets, both made at enrolment and shown once: a bearer ``token`` (stored as its SHA-256,
so a copied database does not let anyone pull) and an HMAC ``key`` that signs every request and answer
(stored sealed with Fernet under a key derived from the install's secret, never in clear). Revoking a device
makes its token fail at once; every change is audited in the caller's transaction.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit
from content.errors import IntegrityError, NotAllowed, NotFound
from scheduler.models import EdgeDevice, EdgeEnrolment, Station

#: How long an enrolment code stays usable by default.
CODE_HOURS = 48


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _fernet(install_secret: str) -> Fernet:
    derived = hashlib.sha256(b"loa edge device keys." + install_secret.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal_key(install_secret: str, key: str) -> str:
    """``key`` encrypted under the install's secret, as stored in ``edge_devices.key``."""
    return _fernet(install_secret).encrypt(key.encode("ascii")).decode("ascii")


def device_key(device: EdgeDevice, install_secret: str) -> str:
    """The device's HMAC key, unsealed; IntegrityError when it was sealed under another secret or altered."""
    try:
        return _fernet(install_secret).decrypt(device.key.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise IntegrityError("edge device {device}: its key cannot be unsealed with this install's secret; "
                             "enrol it again", device=device.id) from None


def _station(session: Session, code: str) -> Station:
    station = session.scalar(select(Station).where(Station.code == code))
    if station is None:
        raise NotFound("no station with code {code!r}", code=code)
    return station


def make_enrolment_code(session: Session, *, station: str, outlet: str, actor: str, now: datetime,
                        hours: int = CODE_HOURS) -> tuple[EdgeEnrolment, str]:
    """A new one-time code that enrols one device for ``station``'s ``outlet`` within ``hours``; the code is
    returned once (only its hash is stored)."""
    row_station = _station(session, station)
    if outlet not in (row_station.outlets or []):
        raise NotFound("station {code} has no {outlet} outlet", code=station, outlet=outlet)
    code = "-".join(secrets.token_hex(3) for _ in range(3))
    row = EdgeEnrolment(station_id=row_station.id, outlet=outlet, code_hash=_digest(code), created_by=actor,
                        created_at=now, expires_at=now + timedelta(hours=hours))
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="edge.enrol_code", subject=f"station:{station}", at=now,
                 details={"outlet": outlet, "enrolment": row.id, "expires_at": row.expires_at.isoformat()})
    return row, code


@dataclass(frozen=True)
class Enrolled:
    """What the enrolling device is told once: its id, token and key, and where it serves."""

    device: EdgeDevice
    token: str
    key: str
    station: str
    outlet: str


def enrol(session: Session, *, code: str, name: str, install_secret: str, now: datetime) -> Enrolled:
    """Use the one-time ``code``: a new device with a fresh token and key. NotAllowed for an unknown, used or
    expired code (one message for all three, so a guesser learns nothing)."""
    row = session.scalar(select(EdgeEnrolment).where(EdgeEnrolment.code_hash == _digest(code.strip().lower()))
                         .with_for_update())
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise NotAllowed("this enrolment code is unknown, used or expired; ask an admin for a new one")
    token, key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    device = EdgeDevice(station_id=row.station_id, outlet=row.outlet, name=name.strip()[:200] or "edge",
                        token_hash=_digest(token), key=seal_key(install_secret, key), enrolled_at=now)
    session.add(device)
    session.flush()
    row.used_at, row.device_id = now, device.id
    station = session.get(Station, row.station_id)
    assert station is not None
    audit.record(session, actor=f"edge:{device.id}", action="edge.enrol", subject=f"station:{station.code}", at=now,
                 details={"outlet": row.outlet, "device": device.id, "name": device.name, "enrolment": row.id})
    return Enrolled(device, token, key, station.code, row.outlet)


def authenticate(session: Session, token: str) -> EdgeDevice:
    """The device whose bearer ``token`` this is; NotAllowed when none is, or it was revoked."""
    device = session.scalar(select(EdgeDevice).where(EdgeDevice.token_hash == _digest(token)))
    if device is None or device.revoked_at is not None:
        raise NotAllowed("this device token is unknown or revoked")
    return device


def revoke(session: Session, device_id: int, actor: str, now: datetime) -> EdgeDevice:
    """Refuse the device's token from now on (already revoked: unchanged). Audited."""
    device = session.get(EdgeDevice, device_id)
    if device is None:
        raise NotFound("no edge device {device}", device=device_id)
    if device.revoked_at is None:
        device.revoked_at, device.revoked_by = now, actor
        audit.record(session, actor=actor, action="edge.revoke", subject=f"edge:{device.id}", at=now,
                     details={"station": device.station.code, "outlet": device.outlet})
    session.flush()
    return device


def devices(session: Session) -> list[EdgeDevice]:
    """Every enrolled device, newest first."""
    return list(session.scalars(select(EdgeDevice).order_by(EdgeDevice.id.desc())))
