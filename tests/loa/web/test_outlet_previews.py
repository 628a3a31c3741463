"""The piece page previews each social post exactly as its adapter sends it, and the first page of the printed
bulletin (and the slogan poster) as a PNG drawn once per content."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
from outlet_config import add_social_and_print
from PIL import Image

from channels.registry import open_channel
from channels.social.common import marker
from content.db import unit_of_work
from content.pieces import get_piece
from loa.settings import Settings, load_settings
from scheduler.dispatch.payloads import article_of

LONG_BODY = ("Ông Nguyễn Văn An, thôn Đông, 20 năm liền dạy chữ miễn phí cho trẻ em nghèo trong xã. "
             "Năm học 2025-2026 ông mở thêm lớp buổi tối cho người lớn tuổi. ") * 40


@pytest.fixture
def settings(config_dir: Path, database_url: str | None) -> Settings:
    add_social_and_print(config_dir)
    return load_settings(config_dir, env={"LOA_DATABASE_URL": database_url} if database_url else {})


def _post_text(page: str, kind: str) -> str:
    card = re.search(rf'<figure class="phone-post post-{kind}"[^>]*>(.*?)</figure>', page, re.S)
    assert card, f"no {kind} card"
    text = re.search(r'<p class="post-text">(.*?)</p>', card[1], re.S)
    assert text
    return html.unescape(text[1])


def test_each_social_post_is_shown_as_its_adapter_sends_it(web):
    piece = web.piece("Gương sáng thầy giáo làng dạy chữ miễn phí", body=LONG_BODY)
    page = web.client("lan").get(f"/pieces/{piece}").text
    with unit_of_work(web.services.sessions) as session:
        revision = get_piece(session, piece).current_revision
        article = article_of(revision, "Gương điển hình trong học tập, khuyến học", None)
    for station in web.services.settings.stations:
        options = station.outlet("social")
        channel = open_channel(f"social.{options.type}", options)
        sent = channel.compose(article, marker("preview", article.ref))
        assert _post_text(page, options.type) == sent.text  # the very text the adapter sends
        assert f"{len(sent.text)}/{sent.limit} ký tự" in page
    facebook = _post_text(page, "facebook")
    assert facebook.startswith("Gương sáng thầy giáo làng") and "https://tanlap.gov.vn/tin/" in facebook
    assert "#GươngĐiểnHìnhTrongHọcTậpKhuyếnHọc #TânLập" in facebook and len(facebook) <= 2000
    assert "tiêu đề 42/150" in page  # Zalo's title against its limit


def test_the_bulletin_and_poster_first_pages_are_pngs_drawn_once(web, settings):
    slogan = web.piece("Học tập suốt đời", body="Học, học nữa, học mãi!")
    with unit_of_work(web.services.sessions) as session:
        from content.pieces import edit_piece
        from content.users import get_user

        edit_piece(session, slogan, {"slogan": True}, actor=get_user(session, "lan"), now=web.services.now())
    plain = web.piece("Lịch tiêm chủng tháng 12")
    client = web.client("lan")
    page = client.get(f"/pieces/{slogan}").text
    bulletin = re.search(r'src="(/previews/print/\d+/bulletin\.png\?k=[0-9a-f]+)"', page)
    poster = re.search(r'src="(/previews/print/\d+/poster\.png\?k=[0-9a-f]+)"', page)
    assert bulletin and poster
    first = client.get(bulletin[1])
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(first.content))
    assert image.width == 720 and 1000 < image.height < 1030  # A4 upright
    drawn = list((settings.render.renditions_dir / "print").rglob("*.png"))
    assert len(drawn) == 1
    assert client.get(bulletin[1]).content == first.content
    assert list((settings.render.renditions_dir / "print").rglob("*.png")) == drawn  # kept, not drawn again
    wide = Image.open(io.BytesIO(client.get(poster[1]).content))
    assert wide.width == 720 and wide.height < wide.width  # A3 landscape
    other = client.get(f"/pieces/{plain}").text
    assert "/bulletin.png" in other and "/poster.png" not in other  # not a slogan, not of the slogan campaign
    with unit_of_work(web.services.sessions) as session:
        plain_revision = get_piece(session, plain).current_revision_id
    assert client.get(f"/previews/print/{plain_revision}/poster.png").status_code == 404
