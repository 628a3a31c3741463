"""From approval to paper: a weekly print slot is planned, pushed on its day, its bulletin holds the week."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from content.db import unit_of_work
from content.pieces import PieceContent, add_piece, approve, submit
from content.users import add_user
from loa.settings import Settings, load_settings
from scheduler.models import Delivery, DeliveryState, Station

from conftest import MONDAY, ZONE

FRIDAY_7 = datetime.combine(MONDAY.date() + timedelta(days=4), time(7), tzinfo=ZONE)
TITLES = ("Lịch tiêm chủng mở rộng tháng 11", "Hướng dẫn phòng chống rét cho trâu bò", "Thông báo thu gom rác")


@pytest.fixture
def settings(config_dir: Path, database_url: str | None) -> Settings:
    """The demo settings plus a bulletin for 99001 every Friday at 07:00."""
    stations = config_dir / "stations.toml"
    out = config_dir.parent / "print"
    stations.write_text(stations.read_text("utf-8").replace(
        'name = "Xã Tân Lập"\n',
        f'name = "Xã Tân Lập"\nprint = {{ type = "pdf", dir = "{out}", header = "TRUNG TÂM VĂN HÓA HUYỆN" }}\n', 1),
        "utf-8")
    with (config_dir / "schedule.toml").open("a", encoding="utf-8") as schedule:
        schedule.write('\n[[slot]]\nname = "ban-tin-tuan"\nlabel = "Bản tin tuần"\noutlet = "print"\n'
                       'stations = ["99001"]\ndays = "fri"\nat = "07:00"\nlength = "12h"\n')
    return load_settings(config_dir, env={"LOA_DATABASE_URL": database_url} if database_url else {})


def test_the_friday_bulletin_is_planned_pushed_and_holds_the_approved_pieces(services, config_dir):
    now = services.now()
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=now)
        approver = add_user(session, "duyet", "approver", now=now)
        for title in TITLES:
            piece = add_piece(session, PieceContent(title, f"{title}: bà con chú ý theo dõi.", channels=("print",)),
                              author=editor, now=now)
            submit(session, piece.id, actor=editor, now=now)
            approve(session, piece.id, actor=approver, now=now)
        draft = add_piece(session, PieceContent("Bản nháp chưa duyệt", "Không được in.", channels=("print",)),
                          author=editor, now=now)
        assert draft.approved_revision_id is None
    services.plan(days=7)
    with unit_of_work(services.sessions) as session:
        editions = session.scalars(select(Delivery).join(Station).where(Delivery.outlet == "print")).all()
        assert [(d.start_at.astimezone(ZONE), d.state) for d in editions] == [(FRIDAY_7, DeliveryState.PENDING)]
        assert session.scalar(select(Station.code).where(Station.id == editions[0].station_id)) == "99001"
    dispatcher = services.dispatcher("test")
    try:
        dispatcher.run_once(FRIDAY_7 - timedelta(minutes=1))
    finally:
        dispatcher.close()
    with unit_of_work(services.sessions) as session:
        assert session.scalars(select(Delivery.state).where(Delivery.outlet == "print")).all() == ["delivered"]
    pdf = config_dir.parent / "print" / "99001" / "ban-tin-2026-11-23.pdf"
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    for title in TITLES:
        assert f"{title} " in text and f"{title}: bà con chú ý theo dõi." in text
    assert "Bản nháp" not in text and "TRUNG TÂM VĂN HÓA HUYỆN" in text


def test_a_piece_marked_as_a_slogan_is_also_printed_as_a_poster(services, config_dir):
    """No campaign of this outlet is a slogan campaign: the editor's mark alone makes the poster."""
    now = services.now()
    slogan = "Học, học nữa, học mãi!"
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=now)
        approver = add_user(session, "duyet", "approver", now=now)
        for title, body, mark in (("Khẩu hiệu tháng 11", slogan, True), (TITLES[0], "Mời bà con đi tiêm.", False)):
            content = PieceContent(title, body, channels=("print",), slogan=mark)
            piece = add_piece(session, content, author=editor, now=now)
            submit(session, piece.id, actor=editor, now=now)
            approve(session, piece.id, actor=approver, now=now)
    services.plan(days=7)
    dispatcher = services.dispatcher("test")
    try:
        dispatcher.run_once(FRIDAY_7 - timedelta(minutes=1))
    finally:
        dispatcher.close()
    folder = config_dir.parent / "print" / "99001"
    posters = PdfReader(io.BytesIO((folder / "khau-hieu-2026-11-23.pdf").read_bytes()))
    assert len(posters.pages) == 1
    assert " ".join(posters.pages[0].extract_text().split()).endswith(slogan)
    bulletin = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(folder / "ban-tin-2026-11-23.pdf").pages)
    assert slogan in bulletin and TITLES[0] in bulletin  # a slogan is in the bulletin too
