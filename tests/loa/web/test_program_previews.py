"""The calendar's preview of a social program shows each post as a phone-sized card, as the station's adapter will
send it; a print program's preview shows the first page of that week's bulletin as a PNG, the very page the print
outlet writes. Scoped like every preview: a user sees the programs of their stations only."""

from __future__ import annotations

import html
import io
import re
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from channels.portal.feed_all import ALL, item_guid
from channels.print.preview import first_page_png
from channels.social.common import marker
from content.db import unit_of_work
from content.pieces import get_piece
from scheduler.models import Airing, Delivery, DeliveryState, Station

from conftest import MONDAY, ZONE
from servers.shipped_examples import uncomment_examples

WEEK = "2026-11-23"
FRIDAY_7 = datetime.combine(MONDAY.date() + timedelta(days=4), time(7), tzinfo=ZONE)
TITLE = "Gương sáng khuyến học ở thôn Đông"
BODY = "Gia đình ông An, thôn Đông, ba đời hiếu học. Năm nay cả ba cháu đỗ đại học."


@pytest.fixture
def config_dir(config_dir: Path, request) -> Path:
    """The shipped config with its commented social and print examples (and their slots) uncommented; "print only"
    leaves the social outlets out (a push there would need real accounts)."""
    uncomment_examples(config_dir)
    if getattr(request, "param", None) == "print only":
        stations = config_dir / "stations.toml"
        stations.write_text("".join(line for line in stations.read_text("utf-8").splitlines(keepends=True)
                                    if not line.startswith("social = ")), "utf-8")
    return config_dir


def _programs(web, piece_id: int) -> dict[tuple[str, str], list[str]]:
    """The ids of the social and print programs holding ``piece_id``, by (station, outlet), earliest first."""
    found: dict[tuple[str, str], list[str]] = {}
    with unit_of_work(web.services.sessions) as session:
        for code, outlet, delivery_id in session.execute(
                select(Station.code, Delivery.outlet, Delivery.id).join(Station, Station.id == Delivery.station_id)
                .join(Airing, Airing.delivery_id == Delivery.id)
                .where(Airing.piece_id == piece_id, Airing.removed.is_(False),
                       Delivery.outlet.in_(("social", "print")), Delivery.superseded_at.is_(None))
                .order_by(Delivery.start_at)):
            found.setdefault((code, outlet), []).append(delivery_id)
    return found


def _cards(page: str) -> list[dict[str, str]]:
    """Each phone card of a page: its platform, title (Zalo), text and character count."""
    cards = []
    for figure in re.findall(r'<figure class="phone-post post-(\w+)"[^>]*>(.*?)</figure>', page, re.S):
        kind, inner = figure
        field = {name: re.search(rf'<p class="post-{name}[^"]*">(.*?)</p>', inner, re.S)
                 for name in ("title", "text", "count", "link")}
        cards.append({"kind": kind, **{k: html.unescape(m[1]) if m else "" for k, m in field.items()}})
    return cards


def test_social_and_print_programs_are_on_the_calendar_and_previewed_as_posts_and_a_first_page(web):
    piece = web.piece(TITLE, approved=True, body=BODY)
    web.services.plan(days=7)
    programs = _programs(web, piece)
    assert set(programs) == {("99001", "social"), ("99002", "social"), ("99003", "social"), ("99001", "print")}
    with unit_of_work(web.services.sessions) as session:
        revision = get_piece(session, piece).approved_revision
        ref = f"piece-{piece}-r{revision.number}"
    client = web.client("lan")

    # the calendar: a row of each new outlet, each program linking to its preview
    calendar = client.get(f"/calendar?week={WEEK}&station=99001").text
    assert "Mạng xã hội" in calendar or "mạng xã hội" in calendar
    for outlet in ("social", "print"):
        assert f'href="/previews/program/{programs[("99001", outlet)][0]}"' in calendar, outlet

    # Facebook (99001): the post's text, its link to the piece's page on loa's portal, the campaign's hashtag and
    # the marker the push ends with (this program's id: a retry finds it)
    social = programs[("99001", "social")][0]
    page = client.get(f"/previews/program/{social}").text
    [card] = _cards(page)
    assert card["kind"] == "facebook"
    assert card["text"].startswith(f"{TITLE}\n") and "Gia đình ông An" in card["text"]
    assert f"http://loa.local:8080/articles/{item_guid(ALL, ref)}" in card["text"]
    assert "#GươngĐiểnHình" in card["text"]
    assert card["text"].rstrip().endswith(marker(social, ref))
    assert card["count"] == f"{len(card['text'])}/2000 ký tự"
    # Zalo (99002): an article with its title against Zalo's 150; Viber (99003): the text post
    [zalo] = _cards(client.get(f"/previews/program/{programs[('99002', 'social')][0]}").text)
    assert zalo["kind"] == "zalo" and zalo["title"] == TITLE and f"tiêu đề {len(TITLE)}/150" in zalo["count"]
    [viber] = _cards(client.get(f"/previews/program/{programs[('99003', 'social')][0]}").text)
    assert viber["kind"] == "viber" and viber["text"].startswith(TITLE)
    assert viber["count"] == f"{len(viber['text'])}/1500 ký tự"  # the outlet's text_chars, within Viber's 7000

    # print (99001): the first page of that week's bulletin, 720 px wide and A4 upright
    printed = programs[("99001", "print")][0]
    page = client.get(f"/previews/program/{printed}").text
    src = re.search(rf'<img src="(/previews/program/{printed}/bulletin\.png\?k=[0-9a-f]{{16}})"', page)
    assert src, page[-2000:]
    png = client.get(src[1])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.width == 720 and 1000 < image.height < 1030
    assert "/poster.png" not in page  # no slogan this week
    assert client.get(f"/previews/program/{printed}/poster.png").status_code == 404
    assert client.get(f"/previews/program/{social}/bulletin.png").status_code == 404  # a social program prints nothing

    # scoped: an approver of 99003 alone sees none of 99001's programs, nor their pages
    other = web.client("xa-khac")
    for path in (f"/previews/program/{social}", f"/previews/program/{printed}", src[1]):
        assert other.get(path).status_code in (403, 404), path
    assert other.get(f"/previews/program/{programs[('99003', 'social')][0]}").status_code == 200


@pytest.mark.parametrize("config_dir", ["print only"], indirect=True)
def test_the_previewed_first_page_is_the_page_the_print_outlet_writes(web, config_dir):
    piece = web.piece(TITLE, approved=True, body=BODY)
    second = web.piece("Lịch tiêm chủng tháng 12", approved=True)
    web.services.plan(days=7)
    [printed] = _programs(web, piece)[("99001", "print")]
    assert _programs(web, second)[("99001", "print")] == [printed]  # one edition holds the week
    client = web.client("lan")

    def previewed() -> bytes:
        page = client.get(f"/previews/program/{printed}").text
        src = re.search(rf'src="(/previews/program/{printed}/bulletin\.png\?k=[0-9a-f]+)"', page)
        assert src
        return client.get(src[1]).content

    before = previewed()  # built from the plan by the dispatcher's payload builder
    dispatcher = web.services.dispatcher("test")
    try:
        dispatcher.run_once(FRIDAY_7 - timedelta(minutes=1))
    finally:
        dispatcher.close()
    with unit_of_work(web.services.sessions) as session:
        assert session.get(Delivery, printed).state == DeliveryState.DELIVERED
    [written] = config_dir.parent.rglob("99001/ban-tin-2026-11-23.pdf")
    assert first_page_png(written.read_bytes(), 720) == before  # the preview was the page it printed
    assert previewed() == before  # and, once pushed, is drawn from the stored payload: the same page
