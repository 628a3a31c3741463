"""Says in Vietnamese when an approved piece will air, per outlet, or why it will not (web page and API)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from content.db import unit_of_work
from loa.i18n import reason_text
from scheduler.models import PlanRequest
from scheduler.views.piece_airings import PieceAirings, piece_airings, request_done

OUTLET_NAMES = {"loudspeaker": "loa truyền thanh", "board": "bảng tin", "portal": "cổng thông tin",
                "social": "mạng xã hội"}
VERBS = {"loudspeaker": "sẽ phát lúc", "board": "sẽ hiển thị từ", "portal": "sẽ đăng lúc",
         "social": "sẽ đăng lúc"}
#: When the first program that holds the piece has already begun (a rotation running, a portal time just past).
VERBS_BEGUN = {"loudspeaker": "có trong chương trình đang phát", "board": "hiển thị ngay trong lượt đang chạy",
               "portal": "sẽ đăng ngay", "social": "sẽ đăng ngay"}
#: The language of these answers; the planner's reasons (``Unplaced.code`` and its parameters) are said through
#: the catalogs (``planner.po``), the same sentences ``loa plan`` prints.
LANG = "vi"
#: What the level (Circular 39/2020) does to the piece's airings.
LEVEL_LINES = {
    "priority": "Bài ưu tiên: đứng đầu mọi chương trình mà bài còn hiệu lực, trên mọi kênh; giữa các bài ưu tiên, "
                "bài của chiến dịch ưu tiên cao hơn phát trước, rồi bài có mức ưu tiên cao hơn.",
    "emergency": "Bài khẩn cấp: gửi bằng phát khẩn cấp, không xếp lịch.",
}


@dataclass
class AiringAnswer:
    """``status``: planned, partly (planned somewhere, not everywhere), not_airing, scheduling."""

    status: str
    lines: list[str] = field(default_factory=list)
    outlets: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"status": self.status, "message": " ".join(self.lines), "lines": self.lines, "outlets": self.outlets}


def _when(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    day = {today: "hôm nay", today + timedelta(days=1): "ngày mai"}.get(local.date())
    dated = local.strftime("%d/%m")
    return f"{local:%H:%M} {day} ({dated})" if day else f"{local:%H:%M} ngày {dated}"


def words(found: PieceAirings, *, now: datetime, zone: ZoneInfo) -> AiringAnswer:
    """The answer for one piece from what is planned and what the last re-plan said."""
    if found.state == "retired":
        return AiringAnswer("not_airing", ["Bài đã bị thu hồi: không phát nữa."])
    if found.level == "emergency":
        return AiringAnswer("not_airing", [LEVEL_LINES["emergency"]])
    outlets: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for outlet, start, end, station in found.airings:
        outlets.setdefault(outlet, []).append((start, end, station))
    lines, described = [], []
    for outlet in OUTLET_NAMES:
        if outlet not in outlets:
            continue
        rows = outlets[outlet]
        first = rows[0][0]
        stations = sorted({s for start, _, s in rows if start == first})
        when = (f"{VERBS[outlet]} {_when(first, now, zone)}" if first >= now else
                f"{VERBS_BEGUN[outlet]} (khung {_when(first, now, zone)} đã bắt đầu)")
        lines.append(f"{OUTLET_NAMES[outlet].capitalize()}: {when} tại {len(stations)} xã"
                     f"; {len(rows)} lượt đã xếp trong những ngày tới.")
        described.append({"outlet": outlet, "name": OUTLET_NAMES[outlet], "next_at": first.isoformat(),
                          "stations": stations, "airings": len(rows)})
    for item in found.unplaced:
        reason = reason_text("unplaced", item.get("code", ""), item.get("params"), LANG,
                             fallback=item.get("reason", ""))
        lines.append(f"{OUTLET_NAMES.get(item['outlet'], item['outlet']).capitalize()}: không phát tại "
                     f"{item.get('stations', 0)} xã — {reason}.")
    if found.waiting:
        return AiringAnswer("scheduling", ["Đang xếp lịch: bài sẽ có trong lịch phát sau ít giây.", *lines],
                            described)
    if not found.airings:
        if found.state != "approved" and not found.unplaced:
            return AiringAnswer("not_airing", ["Bài chưa được duyệt: chưa có lịch phát."])
        return AiringAnswer("not_airing", lines or ["Bài chưa có lượt phát nào trong những ngày tới."])
    if found.level in LEVEL_LINES:
        lines.append(LEVEL_LINES[found.level])
    return AiringAnswer("partly" if found.unplaced else "planned", lines, described)


def leader_running(sessions: sessionmaker[Session], here: bool) -> bool:
    """Whether some process leads the scheduler (so a plan request will be re-planned): this one (``here``), or,
    on PostgreSQL, whoever holds the leadership lock."""
    if here:
        return True
    from loa.leader import LEADER_KEY

    with unit_of_work(sessions) as session:
        if session.get_bind().dialect.name != "postgresql":
            return False
        # Advisory locks are per database: another loa on the same PostgreSQL server leads its own install.
        return bool(session.execute(text(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = :key "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            {"key": LEADER_KEY}).first())


def newest_request(session: Session) -> int:
    """The id to wait beyond: read before the change commits."""
    return session.scalar(select(PlanRequest.id).order_by(PlanRequest.id.desc()).limit(1)) or 0


def after_approval(sessions: sessionmaker[Session], piece_id: int, *, since: int, clock: Callable[[], datetime],
                   zone: ZoneInfo, wait_s: float, leader: bool) -> AiringAnswer:
    """Wait (at most ``wait_s``, only while a leader runs) for the re-plan of the approval, then say what it gave."""
    deadline = time.monotonic() + (wait_s if leader else 0)
    while time.monotonic() < deadline:
        with unit_of_work(sessions) as session:
            if request_done(session, piece_id, since):
                break
        time.sleep(0.2)
    with unit_of_work(sessions) as session:
        answer = words(piece_airings(session, piece_id, now=clock()), now=clock(), zone=zone)
    if answer.status == "scheduling" and not leader:
        answer.lines[0] = ("Đang chờ xếp lịch: chưa có tiến trình lập lịch (loa serve) nào chạy; bài sẽ được "
                           "xếp khi nó chạy.")
    return answer
