"""``/api/edge/...``: what enrolled ``loa edge`` devices pull and send, every request and answer signed with the
device's key (``loa.edge.protocol``); replays and stale stamps refused, a revoked device answered 401."""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from content.db import unit_of_work
from content.errors import InputError, IntegrityError, LoaError, NotAllowed
from loa.edge import protocol
from scheduler.devices import edge_feed, edges
from scheduler.devices.heartbeats import Heartbeat
from scheduler.models import EdgeDevice

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/edge", tags=["edge"])
_SHA = r"^[0-9a-f]{64}$"


class Nonces:
    """The nonces seen within the stamp window, per device: one seen again is a replay. (Kept in this process:
    with several ``loa serve`` processes on PostgreSQL, a replay sent to another process within the window is
    not caught; the stamp window still bounds it to five minutes.)"""

    def __init__(self) -> None:
        self._seen: dict[tuple[int, str], float] = {}
        self._swept = 0.0
        self._lock = threading.Lock()

    def fresh(self, device_id: int, nonce: str, now_s: float) -> bool:
        with self._lock:
            if abs(now_s - self._swept) > 60:  # forget what is older than the window, once a minute
                self._seen = {k: t for k, t in self._seen.items() if t > now_s - 2 * protocol.WINDOW_S}
                self._swept = now_s
            if (device_id, nonce) in self._seen:
                return False
            self._seen[(device_id, nonce)] = now_s
            return True


_nonces = Nonces()


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(status: int, message: str, now: datetime) -> JSONResponse:
    return JSONResponse({"error": message, "server_time": now.isoformat()}, status_code=status)


def _signed(key: str, nonce: str, document: dict[str, Any], now: datetime) -> Response:
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = protocol.sign_response(key, nonce, body, int(now.timestamp()))
    return Response(body, media_type="application/json", headers=headers)


def _target(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


@contextmanager
def _session(request: Request, write: bool) -> Iterator[Session]:
    """A write transaction, or for a pull a read-only one that never takes SQLite's write lock (with the seal key
    of the write sessions, so every seal is still checked)."""
    services = request.app.state.services
    if write:
        with unit_of_work(services.sessions) as session:
            yield session
        return
    with request.app.state.reads.session() as session:
        session.info.update(services.sessions.kw.get("info", {}))
        yield session


def _serve(request: Request, body: bytes, work: Callable[[Any, EdgeDevice, str], Any], *,
           write: bool = False) -> Response:
    """Authenticate and verify one device request, run ``work(session, device, key)`` in one transaction, and sign
    its answer (a dict) or pass a ready Response through."""
    services = request.app.state.services
    now = services.now()
    headers = request.headers
    auth = headers.get("authorization", "")
    try:
        if not auth.lower().startswith("bearer "):
            raise Refused(401, "missing bearer token")
        try:
            stamp = int(headers.get(protocol.TIMESTAMP, ""))
        except ValueError:
            raise Refused(401, "missing or malformed X-Loa-Timestamp") from None
        nonce, given = headers.get(protocol.NONCE, ""), headers.get(protocol.SIGNATURE, "")
        if not nonce or not given or len(nonce) > 64:
            raise Refused(401, "missing X-Loa-Nonce or X-Loa-Signature")
        if abs(now.timestamp() - stamp) > protocol.WINDOW_S:
            raise Refused(401, "stale timestamp")
        with _session(request, write=False) as session:  # the checks read; SQLite's write lock is not held for them
            try:
                device = edges.authenticate(session, auth[7:].strip())
            except NotAllowed:
                raise Refused(401, "unknown or revoked device") from None
            key = edges.device_key(device, request.app.state.secret_key)
            if not protocol.request_valid(key, request.method, _target(request), body, stamp, nonce, given):
                raise Refused(401, "bad signature")
            if not _nonces.fresh(device.id, nonce, now.timestamp()):
                raise Refused(401, "replayed request")
            if not write:
                answer = work(session, device, key)
        if write:
            with _session(request, write=True) as session:
                writer = session.get(EdgeDevice, device.id)
                assert writer is not None  # devices are revoked, never deleted
                answer = work(session, writer, key)
    except Refused as refused:
        return _error(refused.status, str(refused), now)
    except InputError as error:
        return _error(422, str(error), now)
    except IntegrityError as error:
        return _error(409, str(error), now)
    if isinstance(answer, Response):
        return answer
    answer.setdefault("server_time", now.isoformat())
    return _signed(key, nonce, answer, now)


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise InputError("the body is not JSON", where="body") from None
    if not isinstance(value, dict):
        raise InputError("the body must be a JSON object", where="body")
    return value


def _sealed_items(key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A copy of a program or emergency whose items carry their file URL and this device's item seal."""
    def sealed(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**item, "url": f"/api/edge/files/{item['sha256']}",
                 "seal": protocol.item_seal(key, entry["delivery_id"], item["item"], item["sha256"])} for item in items]

    extra = {"all_clear": sealed(entry["all_clear"])} if "all_clear" in entry else {}
    return {**entry, "items": sealed(entry["items"]), **extra}


def _all_clear_audio(request: Request) -> edge_feed.AllClearAudio:
    """The all-clear message of an emergency ("Hết cảnh báo: <title>"), spoken once per title and settings (kept on
    disk by its content key, so every later pull finds it); None when speech cannot be made."""
    settings = request.app.state.services.settings

    def audio(emergency: Any) -> tuple[Any, str, float] | None:
        from content.render.alerts import render_alert

        try:
            done = render_alert(f"Hết cảnh báo: {emergency.title}", "", None, settings.render,
                                abbreviations=settings.loa.normalize.abbreviations)
        except Exception:  # the edge then stops the repeats without a message
            log.exception("emergency %s: the all-clear message could not be rendered", emergency.id)
            return None
        return done.path, done.sha256, done.duration_s

    return audio


def _feed(request: Request, session: Any, device: EdgeDevice, days: int) -> edge_feed.Feed:
    """The station outlet's feed, shared by its devices: computed again when anything audited changed (every approval,
    retirement, push, emergency) and at least once a minute, so a thousand devices do not each re-check the seals."""
    now = request.app.state.services.now()
    minute = now.replace(second=0, microsecond=0)
    return request.app.state.reads.cached(session, ("edge-feed", device.station_id, device.outlet, days, minute),
                                          lambda: edge_feed.published(session, device, now=now, days=days,
                                                                                all_clear_audio=_all_clear_audio(request)))


@router.post("/enrol")
async def enrol(request: Request) -> Response:
    """Use a one-time code: ``{code, name}`` -> ``{device_id, token, key, station, outlet, server_time}``."""
    body = await request.body()

    def run() -> Response:
        services = request.app.state.services
        now = services.now()
        try:
            data = _json(body)
            code, name = str(data.get("code", "")), str(data.get("name", "edge"))
            with unit_of_work(services.sessions) as session:
                done = edges.enrol(session, code=code, name=name, install_secret=request.app.state.secret_key, now=now)
                answer = {"device_id": done.device.id, "token": done.token, "key": done.key, "station": done.station,
                          "outlet": done.outlet, "server_time": now.isoformat()}
        except NotAllowed as error:  # the code is the credential: a wrong one fails authentication
            return _error(401, str(error), now)
        except LoaError as error:
            return _error(422, str(error), now)
        return JSONResponse(answer)

    return await run_in_threadpool(run)


@router.get("/schedule")
async def schedule(request: Request, days: int = Query(2, ge=1, le=edge_feed.MAX_DAYS)) -> Response:
    """The device's programs (a board device: rotations) for ``days`` ahead, the emergencies in force and what was
    withheld, all signed."""
    body = await request.body()

    def work(session: Any, device: EdgeDevice, key: str) -> dict[str, Any]:
        feed = _feed(request, session, device, days)
        return {"device_id": device.id, "station": device.station.code, "outlet": device.outlet,
                "station_name": device.station.name, "programs": [_sealed_items(key, p) for p in feed.programs],
                "rotations": [_sealed_items(key, r) for r in feed.rotations],
                "emergencies": [_sealed_items(key, e) for e in feed.emergencies], "withheld": feed.withheld}

    return await run_in_threadpool(_serve, request, body, work)


@router.get("/emergencies")
async def emergencies(request: Request) -> Response:
    """Only the emergencies in force for the device's station: cheap enough to poll every few seconds."""
    body = await request.body()

    def work(session: Any, device: EdgeDevice, key: str) -> dict[str, Any]:
        now = request.app.state.services.now()
        bucket = now.replace(second=now.second // 2 * 2, microsecond=0)  # a start at a set time: within 2 s
        found, _ = request.app.state.reads.cached(session, ("edge-emergencies", device.station_id, bucket),
                                                  lambda: edge_feed.in_force(session, device, now=now,
                                                                             all_clear_audio=_all_clear_audio(request)))
        return {"emergencies": [_sealed_items(key, e) for e in found]}

    return await run_in_threadpool(_serve, request, body, work)


_hashed: dict[tuple[str, int, int], str] = {}


def _hash_of(path: Any) -> str:
    stat = path.stat()
    mark = (str(path), stat.st_size, stat.st_mtime_ns)
    if mark not in _hashed:
        _hashed[mark] = protocol.file_sha256(path)
    return _hashed[mark]


@router.get("/files/{sha256}")
async def files(request: Request, sha256: str) -> Response:
    """The bytes of a file the device's schedule lists, hashed before it leaves (an altered file is refused)."""
    body = await request.body()

    def work(session: Any, device: EdgeDevice, key: str) -> Response | dict[str, Any]:
        feed = _feed(request, session, device, edge_feed.MAX_DAYS)
        item = feed.files.get(sha256.lower())
        if item is None or not item.path.is_file():
            return JSONResponse({"error": "no such file in this device's schedule"}, status_code=404)
        if _hash_of(item.path) != item.sha256:
            raise IntegrityError("file {sha} of delivery {delivery} no longer matches its hash", sha=sha256,
                                 delivery=item.delivery_id)
        kind = mimetypes.guess_type(item.path.name)[0] or "audio/mpeg"  # a slide image, else audio
        return Response(item.path.read_bytes(), media_type=kind)

    return await run_in_threadpool(_serve, request, body, work)


def _beat(data: dict[str, Any]) -> Heartbeat:
    def get(name: str, kind: type) -> Any:
        value = data.get(name)
        if value is None:
            return None
        try:
            return datetime.fromisoformat(value) if kind is datetime else kind(value)
        except (TypeError, ValueError):
            raise InputError("{name} is malformed", where=name, name=name) from None

    return Heartbeat(version=get("version", str), clock_offset_s=get("clock_offset_s", float),
                     cache_until=get("cache_until", datetime),
                     disk_free_bytes=get("disk_free_bytes", int),
                     last_error=get("last_error", str), audio_output=get("audio_output", str),
                     volume=get("volume", int))


@router.post("/heartbeat")
async def heartbeat(request: Request) -> Response:
    """The device's heartbeat (``scheduler.devices.heartbeats.Heartbeat`` fields), kept as its outlet's health."""
    body = await request.body()

    def work(session: Any, device: EdgeDevice, key: str) -> dict[str, Any]:
        # through the writer that groups the beats arriving together into one transaction, as http devices' are
        request.app.state.beats.record(station=device.station.code, outlet=device.outlet, source="edge",
                                       beat=_beat(_json(body)), now=request.app.state.services.now())
        return {"ok": True}

    return await run_in_threadpool(_serve, request, body, work)


@router.post("/played")
async def played(request: Request) -> Response:
    """As-played records ``{records: [...]}``; a ``seq`` already kept is ignored. -> ``{accepted_through}``."""
    body = await request.body()

    def work(session: Any, device: EdgeDevice, key: str) -> dict[str, Any]:
        records = _json(body).get("records", [])
        if not isinstance(records, list):
            raise InputError("records must be a list", where="records")
        top = edge_feed.store_played(session, device, records, now=request.app.state.services.now())
        return {"accepted_through": top}

    return await run_in_threadpool(partial(_serve, write=True), request, body, work)
