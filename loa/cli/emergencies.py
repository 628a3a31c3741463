"""``loa emergency …``: issue an emergency now (khẩn cấp), list them, send a draft, and clear one (hết cảnh báo).

After the command's commit this process pushes at once through the emergency lane (a running ``loa serve`` or
``loa worker`` pushes alongside it; the outbox claim decides who pushes which).
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from loa.cli.state import State, state_of

emergency_app = typer.Typer(no_args_is_help=True)
OUTLET_NAMES = {"loudspeaker": "loa", "board": "bảng tin", "portal": "cổng thông tin"}
STATE_NAMES = {"draft": "nháp", "active": "đang phát", "cleared": "đã hết cảnh báo", "expired": "đã hết hạn"}
PUSH_STATES = {"pending": "chờ gửi", "sending": "đang gửi", "delivered": "đã nhận", "dead": "hỏng",
               "refused": "bị từ chối", "cancelled": "đã huỷ"}
#: How ``list`` names the pushes that are not the emergency itself: its all-clear, and its end without one.
KIND_NAMES = {"all_clear": "hết cảnh báo", "end": "hết hiệu lực"}
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?$")


def parse_duration(text: str, option: str) -> timedelta:
    """``15m``, ``1h``, ``1h30m``."""
    from content.errors import InputError

    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or not match:
        raise InputError("{text!r} is not a duration; write e.g. 15m, 1h or 1h30m", where=option, text=text)
    return timedelta(hours=int(match[1] or 0), minutes=int(match[2] or 0))


def _until(state: State, text: str | None, start: datetime) -> datetime | None:
    """``--until``: a duration after the start (``2h``), a time today or tomorrow (``22:00``), or a full time."""
    if not text:
        return None
    if _DURATION.fullmatch(text.strip()) and text.strip():
        return start + parse_duration(text, "--until")
    if re.fullmatch(r"\d{1,2}:\d{2}", text.strip()):
        zone = state.services().settings.zone
        hour, minute = (int(part) for part in text.strip().split(":"))
        local = start.astimezone(zone)
        moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return moment if moment > local else moment + timedelta(days=1)
    return state.parse_time(text, "--until")


def _describe(reach: Any) -> str:
    outlets = ", ".join(f"{count} {OUTLET_NAMES.get(outlet, outlet)}"
                        for outlet, count in sorted(reach.outlets.items()))
    return f"{len(reach.stations)} xã, {reach.total} điểm phát ({outlets or 'không có'})"


def _on_terminal() -> bool:
    """Whether someone is there to answer the confirmation (a script passes ``--yes`` instead)."""
    return sys.stdin.isatty()


def _push_now(state: State) -> dict[str, int]:
    """Push what is due now through the emergency lane of this process; what became of the pushes."""
    services = state.services()
    dispatcher = services.dispatcher()
    try:
        return dict(dispatcher.run_emergencies(services.now()))
    finally:
        dispatcher.close()


def _say_pushed(counts: dict[str, int]) -> None:
    delivered = counts.get("delivered", 0)
    waiting = counts.get("pending", 0) + counts.get("deferred", 0)
    line = f"Đã tới {delivered} điểm phát"
    if waiting:
        line += f"; {waiting} điểm chưa nhận, đang thử lại"
    failed = counts.get("dead", 0) + counts.get("refused", 0)
    if failed:
        line += f"; {failed} điểm không gửi được (xem `loa emergency list`)"
    typer.echo(line + ".")


@emergency_app.command("send")
def send(
    ctx: typer.Context,
    stations: Annotated[str, typer.Option(
        help="Station codes, group names, or * for every station of your centre and the centres below it "
             "(every station for a root-centre account).")] = "*",
    text: Annotated[Optional[str], typer.Option(help="What boards show and loudspeakers speak.")] = None,  # noqa: UP045
    audio: Annotated[Optional[Path], typer.Option(help="A recording loudspeakers play instead.")] = None,  # noqa: UP045
    stream: Annotated[Optional[str], typer.Option(help="A live stream URL loudspeakers relay.")] = None,  # noqa: UP045
    title: Annotated[Optional[str], typer.Option(help="Title; default: Tin khẩn cấp.")] = None,  # noqa: UP045
    repeat_every: Annotated[Optional[str], typer.Option(help="Repeat, e.g. 15m.")] = None,  # noqa: UP045
    until: Annotated[Optional[str], typer.Option(  # noqa: UP045
        help="When it ends by itself: 2h (after the start), 22:00, or 31/12/2026 06:00.")] = None,
    start: Annotated[Optional[str], typer.Option(help="When it starts; default now.")] = None,  # noqa: UP045
    draft: Annotated[bool, typer.Option("--draft", help="Store it for someone with the right to send.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")] = False,
) -> None:
    """Issue an emergency to every outlet of the chosen stations now, outside any plan."""
    from content.db import unit_of_work
    from content.errors import InputError
    from content.users import get_user
    from scheduler.emergencies import service

    app_state = state_of(ctx)
    services = app_state.services()
    now = services.now()
    starts_at = app_state.parse_time(start, "--start") if start else None
    if audio is not None:
        from content.ingest.uploads import store_audio

        if not audio.is_file():
            raise InputError("no recording at {path}", where="--audio", path=str(audio))
        with audio.open("rb") as handle:
            audio = store_audio(handle, audio.name, services.settings.media_dir, services.settings.loa.ingest).path
    request = service.EmergencyRequest(
        title=title or "Tin khẩn cấp", text=text or "", audio_path=audio, stream_url=stream,
        targets=tuple(part.strip() for part in stations.split(",") if part.strip()), starts_at=starts_at,
        repeat_every=parse_duration(repeat_every, "--repeat-every") if repeat_every else None,
        until=_until(app_state, until, starts_at or now), source="cli")
    with unit_of_work(services.sessions) as session:
        reach = service.preview(session, request, now=now, actor=get_user(session, app_state.user))
    if not yes and not draft:
        if not _on_terminal():
            raise InputError("an emergency needs confirmation: run it on a terminal, or pass --yes in a script",
                             where="--yes")
        typer.echo(f"PHÁT KHẨN CẤP: «{request.title}» tới {_describe(reach)}.")
        typer.confirm("Phát ngay?", abort=True)
    with unit_of_work(services.sessions) as session:
        emergency = service.issue(session, request, actor=get_user(session, app_state.user), now=now, draft=draft)
        emergency_id = emergency.id
    if draft:
        typer.echo(f"Đã lưu bản nháp tin khẩn cấp {emergency_id} ({_describe(reach)}); "
                   f"người có quyền gửi bằng `loa emergency confirm {emergency_id}`.")
        return
    typer.echo(f"Tin khẩn cấp {emergency_id} đã phát lệnh tới {_describe(reach)}.")
    if starts_at is not None and starts_at > now:
        typer.echo(f"Bắt đầu phát lúc {starts_at.astimezone(services.settings.zone):%H:%M %d/%m/%Y}; "
                   "loa serve (hoặc loa worker) sẽ đẩy đi đúng giờ.")
        return
    counts = _push_now(app_state)
    if app_state.as_json:
        typer.echo(json.dumps({"id": emergency_id, "pushes": counts}))
    else:
        _say_pushed(counts)


@emergency_app.command("confirm")
def confirm(ctx: typer.Context, emergency_id: Annotated[int, typer.Argument(help="The draft's id.")]) -> None:
    """Send a draft emergency (one from a CAP feed, say) now."""
    from content.db import unit_of_work
    from content.users import get_user
    from scheduler.emergencies import service

    app_state = state_of(ctx)
    services = app_state.services()
    with unit_of_work(services.sessions) as session:
        service.send(session, emergency_id, actor=get_user(session, app_state.user), now=services.now())
    typer.echo(f"Tin khẩn cấp {emergency_id} đã phát lệnh.")
    _say_pushed(_push_now(app_state))


@emergency_app.command("clear")
def clear(ctx: typer.Context, emergency_id: Annotated[int, typer.Argument(help="The emergency's id.")]) -> None:
    """The all-clear (hết cảnh báo): pushed to every outlet the emergency reached; its repeats stop."""
    from content.db import unit_of_work
    from content.users import get_user
    from scheduler.emergencies import service

    app_state = state_of(ctx)
    services = app_state.services()
    with unit_of_work(services.sessions) as session:
        emergency = service.clear(session, emergency_id, actor=get_user(session, app_state.user), now=services.now())
        sent = emergency.sent_at is not None
    typer.echo(f"Tin khẩn cấp {emergency_id}: hết cảnh báo." if sent else f"Đã huỷ bản nháp {emergency_id}.")
    if sent:
        _say_pushed(_push_now(app_state))


def _push_state(key: str) -> str:
    prefix, _, state = key.rpartition(" ")
    return f"{prefix} {PUSH_STATES.get(state, state)}".strip()


@emergency_app.command("list")
def list_(ctx: typer.Context,
          limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50) -> None:
    """Emergencies, newest first: state, reach, and how many outlets have it."""
    from sqlalchemy import func, select

    from content.db import unit_of_work
    from scheduler.models import Emergency, EmergencyDelivery

    app_state = state_of(ctx)
    services = app_state.services()
    zone = services.settings.zone
    reach = app_state.reach()  # with --as: only those reaching a station of the user's
    with unit_of_work(services.sessions) as session:
        emergencies = list(session.scalars(select(Emergency).order_by(Emergency.id.desc()).limit(limit)))
        emergencies = [e for e in emergencies if reach is None or set(e.stations) & reach]
        counts: dict[int, dict[str, int]] = {}
        for emergency_id, kind, state, n in session.execute(
                select(EmergencyDelivery.emergency_id, EmergencyDelivery.kind, EmergencyDelivery.state, func.count())
                .where(EmergencyDelivery.emergency_id.in_([e.id for e in emergencies]))
                .group_by(EmergencyDelivery.emergency_id, EmergencyDelivery.kind, EmergencyDelivery.state)):
            key = state if kind == "alert" else f"{KIND_NAMES.get(kind, kind)} {state}"
            counts.setdefault(emergency_id, {})[key] = counts.get(emergency_id, {}).get(key, 0) + n
        rows = [{
            "id": e.id, "state": e.state, "title": e.title, "stations": len(e.stations), "source": e.source,
            "issued_by": e.issued_by, "sent_by": e.sent_by,
            "starts_at": e.starts_at.astimezone(zone).isoformat(),
            "until": e.until.astimezone(zone).isoformat() if e.until else None,
            "repeat_every_s": e.repeat_every_s, "repeats": e.repeats, "pushes": counts.get(e.id, {}),
        } for e in emergencies]
    if app_state.as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"tin khẩn cấp ({len(rows)})")
    for column in ("số", "trạng thái", "tiêu đề", "xã", "bắt đầu", "đến", "lặp", "điểm phát"):
        table.add_column(column, overflow="fold")
    for row in rows:
        pushes = row["pushes"]
        reached = f"{pushes.get('delivered', 0)} đã nhận" + "".join(
            f", {n} {_push_state(state)}" for state, n in sorted(pushes.items()) if state != "delivered")
        table.add_row(str(row["id"]), STATE_NAMES.get(row["state"], row["state"]), row["title"], str(row["stations"]),
                      row["starts_at"][:16].replace("T", " "), (row["until"] or "—")[:16].replace("T", " "),
                      f"{row['repeat_every_s'] // 60} phút" if row["repeat_every_s"] else "—", reached)
    Console().print(table)
