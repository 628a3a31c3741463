"""Helpers for the dispatch tests: a config whose outlets POST to a test receiver, an approved piece, and
deliveries written straight into the outbox (no planning needed).

Not a test module; the dispatch tests import it by name.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from content.db import unit_of_work
from content.pieces import PieceContent, add_piece, approve, submit
from content.users import add_user
from loa.settings import load_settings
from loa.wiring import Services, open_services
from scheduler.models import Airing, Delivery, DeliveryState, Station

SECRET_ENV = "LOA_TEST_OUTLET_SECRET"
FACEBOOK_TOKEN_ENV = "LOA_TEST_FACEBOOK_TOKEN"
ZALO_SECRET_ENV, ZALO_REFRESH_ENV = "LOA_TEST_ZALO_SECRET", "LOA_TEST_ZALO_REFRESH"
TITLE = "Thông báo lịch tiêm chủng mở rộng tháng 11"
BODY = "Trạm y tế xã tiêm vắc-xin cho trẻ dưới 5 tuổi vào sáng thứ Năm. Đề nghị phụ huynh đưa con đến đúng giờ."


#: The read and connect timeout of this world's http outlets, in seconds.
HTTP_TIMEOUT_S = 2.0

def write_config(config_dir: Path, urls: dict[str, str], *, dispatch: dict[str, Any] | None = None,
                 facebook: str | None = None, zalo: tuple[str, str, Path] | None = None) -> None:
    """Stations ``urls`` (code → receiver URL), each with a board and a loudspeaker over HTTP, and with
    ``facebook`` (a Graph API stand-in's URL) a social outlet posting on its own Page ``page-<code>``; with
    ``zalo`` (station code, a Zalo stand-in's URL, the token file) that station's social outlet is the Zalo OA
    instead; no slots."""
    settings = {"lead_minutes": 2, "grace_minutes": 30, "max_attempts": 4, "retry_base_s": 60,
                "breaker_failures": 10, "breaker_cooldown_s": 300, "workers": 4, "per_outlet": 2,
                **(dispatch or {})}
    lines = ["[dispatch]", *(f"{key} = {value!r}".replace("'", '"') for key, value in settings.items())]
    (config_dir / "loa.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    stations = []
    for code, url in urls.items():
        # A receiver of this world answers at once: 2 s covers a loaded 2-core machine (0.5 s did not, and a
        # 400 read as a timeout); the slow and hanging answers of the fault tests wait longer than this.
        outlet = (f'{{ type = "http", url = "{url}", secret_env = "{SECRET_ENV}", timeout_s = {HTTP_TIMEOUT_S}, '
                  f'connect_timeout_s = {HTTP_TIMEOUT_S}, media_url = "http://loa.test/media" }}')
        social = (f'social = {{ type = "facebook", page_id = "page-{code}", token_env = "{FACEBOOK_TOKEN_ENV}", '
                  f'graph_url = "{facebook}", connect_timeout_s = 0.5, read_timeout_s = 2 }}\n') if facebook else ""
        if zalo is not None and zalo[0] == code:
            social = (f'social = {{ type = "zalo", app_id = "app-1", secret_env = "{ZALO_SECRET_ENV}", '
                      f'refresh_token_env = "{ZALO_REFRESH_ENV}", token_file = "{zalo[2]}", author = "Xã {code}", '
                      f'cover_url = "https://xa.gov.vn/bia.jpg", api_url = "{zalo[1]}", oauth_url = "{zalo[1]}", '
                      'connect_timeout_s = 0.5, read_timeout_s = 2 }\n')
        stations.append(f'[[station]]\ncode = "{code}"\nname = "Xã {code}"\nprovince = "Tỉnh Thử"\n'
                        f"board = {outlet}\nloudspeaker = {outlet}\n{social}")
    (config_dir / "stations.toml").write_text("\n".join(stations), encoding="utf-8")
    (config_dir / "schedule.toml").write_text("", encoding="utf-8")


def open_http_services(config_dir: Path, now: datetime, env: dict[str, str] | None = None) -> Services:
    services = open_services(load_settings(config_dir, env=env or {}), now=now)
    services.init()
    return services


def approved_revision(services: Services, now: datetime) -> int:
    """An editor's piece approved by an approver; returns the approved revision id."""
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=now)
        approver = add_user(session, "duyet", "approver", now=now)
        piece = add_piece(session, PieceContent(TITLE, BODY, channels=("loudspeaker", "board")), author=editor,
                          now=now)
        submit(session, piece.id, actor=editor, now=now)
        approve(session, piece.id, actor=approver, now=now)
        assert piece.approved_revision_id is not None
        return piece.approved_revision_id


def add_deliveries(services: Services, revision_id: int, *, station: str, outlet: str, starts: list[datetime],
                   length: timedelta, now: datetime) -> list[str]:
    """Pending deliveries of the approved revision at ``starts``, due ``lead_minutes`` before each."""
    lead = timedelta(minutes=services.settings.dispatch.lead_minutes)
    with unit_of_work(services.sessions) as session:
        station_id = session.scalar(select(Station.id).where(Station.code == station))
        from content.models import Revision

        piece_id = session.get(Revision, revision_id).piece_id
        rows = [dict(id=uuid.uuid4().hex, station_id=station_id, outlet=outlet, slot_name="thu", start_at=start,
                     end_at=start + length, due_at=start - lead, state=DeliveryState.PENDING, attempts=0,
                     created_at=now, updated_at=now) for start in starts]
        session.execute(insert(Delivery), rows)
        session.execute(insert(Airing), [dict(delivery_id=row["id"], position=0, piece_id=piece_id,
                                              revision_id=revision_id, seconds=10.0, pinned=False, removed=False)
                                         for row in rows])
    return [row["id"] for row in rows]


def delivery(services: Services, delivery_id: str) -> Delivery:
    with unit_of_work(services.sessions) as session:
        found = session.get(Delivery, delivery_id)
        assert found is not None
        return found
