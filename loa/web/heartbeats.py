"""``POST /api/devices/heartbeat``: an ``http`` outlet's device says how it is, signed with that outlet's secret.

The device signs exactly as loa signs its pushes to it (``channels/signing.py``): ``X-Loa-Timestamp`` (unix
seconds) and ``X-Loa-Signature: sha256=<hex HMAC-SHA256 of f"{t}." + body>`` keyed with the outlet's secret (the
variable its ``secret_env`` names). Body: ``{"station", "outlet"}`` plus any ``Heartbeat`` field (``version``,
``clock_offset_s``, ``cache_until``, ``disk_free_bytes``, ``last_error``, ``audio_output``, ``volume``). Refusals
are JSON ``{"detail": ...}``: 401 unsigned (checked first) or wrongly signed, 400 malformed or stamped too far
from loa's clock, 404 no such station or outlet, 503 the outlet's secret is not set here. A beat without
``clock_offset_s`` gets the device's timestamp minus loa's clock (to the second).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from channels.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from scheduler.devices.heartbeats import Heartbeat
from scheduler.devices.roster import watch_of

router = APIRouter(tags=["devices"])
#: How far a device's stamp may be from loa's clock (the receivers of loa's pushes allow the same).
TOLERANCE_S = 300


class HeartbeatBody(BaseModel):
    """What an ``http`` device posts; unknown fields are refused so a typo is found at once."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    station: Annotated[str, Field(min_length=1, max_length=16)]
    outlet: Annotated[str, Field(min_length=1, max_length=16)]
    version: Annotated[str, Field(max_length=100)] | None = None
    clock_offset_s: Annotated[float, Field(ge=-1e7, le=1e7)] | None = None
    cache_until: AwareDatetime | None = None
    disk_free_bytes: Annotated[int, Field(ge=0)] | None = None
    last_error: Annotated[str, Field(max_length=1000)] | None = None
    audio_output: Literal["ok", "fault", "unknown"] | None = None
    volume: Annotated[int, Field(ge=0, le=100)] | None = None


def _refuse(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def raw_body(request: Request) -> bytes:
    """The body's bytes exactly as signed (read on the event loop; the handler runs in a thread)."""
    return await request.body()


def _problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "body"
    return f"{where}: {problem['msg']}"


@router.post("/api/devices/heartbeat", openapi_extra={"requestBody": {"required": True, "content": {
    "application/json": {"schema": HeartbeatBody.model_json_schema()}}}})
def heartbeat(request: Request, body: bytes = Depends(raw_body)) -> JSONResponse:
    """Record a heartbeat of the device behind one ``http`` outlet (see the module docstring)."""
    services = request.app.state.services
    settings = services.settings
    stamp, signature = request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER)
    if not stamp or not signature:
        return _refuse(401, f"unsigned: send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} (HMAC-SHA256 of "
                            "'<timestamp>.<body>' with the outlet's secret)")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "body: not JSON; send a JSON object with station, outlet and the heartbeat fields")
    if not isinstance(data, dict) or not all(isinstance(data.get(key), str) for key in ("station", "outlet")):
        return _refuse(400, "body: a JSON object naming the station and the outlet (both strings) is needed")
    station, outlet = data["station"], data["outlet"]
    spec = next((s for s in settings.stations if s.code == station), None)
    if spec is None:
        return _refuse(404, f"station: no station with code {station!r}")
    options = spec.outlet(outlet) if outlet in spec.outlets else None
    if options is None:
        return _refuse(404, f"outlet: station {station} has no outlet {outlet!r}")
    variable = getattr(options, "secret_env", None)
    if watch_of(f"{outlet}.{options.type}") != "http" or not variable:
        return _refuse(400, f"outlet: the {outlet} of station {station} (type {options.type}) does not send "
                            "heartbeats to loa")
    secret = settings.env.get(variable, "")
    if not secret:
        return _refuse(503, f"the secret of the {outlet} of station {station} is not set on this server "
                            f"(environment variable {variable})")
    try:
        timestamp = int(stamp)
    except ValueError:
        return _refuse(400, f"{TIMESTAMP_HEADER}: {stamp[:40]!r} is not unix seconds")
    now: datetime = services.now()
    ahead_s = timestamp - now.timestamp()
    if abs(ahead_s) > TOLERANCE_S:
        return _refuse(400, f"{TIMESTAMP_HEADER}: {ahead_s:+.0f} s from loa's clock (more than {TOLERANCE_S} s): "
                            "set the device's clock (NTP) and sign with the current time")
    if not verify(body, secret, request.headers, now=int(now.timestamp()), tolerance_s=TOLERANCE_S):
        return _refuse(401, f"{SIGNATURE_HEADER}: does not match the body and timestamp signed with the outlet's "
                            "secret")
    try:
        beat = HeartbeatBody.model_validate(data)
    except ValidationError as error:
        return _refuse(400, _problem(error))
    offset = beat.clock_offset_s if beat.clock_offset_s is not None else round(ahead_s, 1)
    request.app.state.beats.record(station=station, outlet=outlet, source="http", now=now, beat=Heartbeat(
        version=beat.version, clock_offset_s=offset, cache_until=beat.cache_until, disk_free_bytes=beat.disk_free_bytes,
        last_error=beat.last_error, audio_output=beat.audio_output, volume=beat.volume))
    return JSONResponse({"recorded": True, "station": station, "outlet": outlet, "server_time": now.isoformat()})
