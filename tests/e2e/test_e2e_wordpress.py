"""A planned, approved piece reaches a real WordPress as a post scheduled at the portal's publication time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import requests
from e2e_support import ZONE, approved_piece, setup_accounts

TITLE = "Thư viện xã Tân Lập mở cửa cả ngày Chủ nhật"
BODY = ("Từ tháng này, thư viện xã mở cửa từ 7 giờ đến 17 giờ cả ngày Chủ nhật. "
        "Mời bà con và các em học sinh đến đọc sách, mượn sách miễn phí.")
PASSWORD_ENV = "LOA_E2E_WORDPRESS_PASSWORD"


def _a_weekday_ahead() -> datetime:
    """Midnight of a Monday–Friday at least three weeks after the real today: WordPress schedules by
    its own clock, so the publication time must be in its future, and the portal slot runs mon-fri."""
    day = datetime.now(ZONE).date() + timedelta(days=21)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=ZONE)


def test_an_approved_piece_becomes_a_scheduled_wordpress_post(cli, config_dir, wordpress, monkeypatch):
    stations = config_dir / "stations.toml"
    text = stations.read_text(encoding="utf-8")
    feed = 'portal = { type = "feed", dir = "var/out/feeds", title = "Cổng thông tin điện tử" }'
    assert feed in text
    stations.write_text(text.replace(feed, (
        f'portal = {{ type = "wordpress", url = "{wordpress.url}", user = "{wordpress.user}", '
        f'password_env = "{PASSWORD_ENV}", campaign_categories = true }}'), 1), encoding="utf-8")
    monkeypatch.setenv(PASSWORD_ENV, wordpress.password)
    day = _a_weekday_ahead()
    early = (day + timedelta(hours=5)).isoformat()

    setup_accounts(cli, early)
    approved_piece(cli, TITLE, BODY, early, "--campaign", "guong-dien-hinh", "--channels", "portal")
    cli("plan", "--from", day.date().isoformat(), "--days", "1", now=early)

    ran = cli.json("dispatch", now=(day + timedelta(hours=7, minutes=29)).isoformat())
    assert ran.get("delivered", 0) >= 3, ran  # the 07:30 portal pushes of the three demo stations
    assert not ran.get("dead") and not ran.get("refused"), ran

    posts = [p for p in wordpress.posts(search="Tân Lập mở cửa") if p["title"]["raw"] == TITLE]
    assert len(posts) == 1, posts
    [post] = posts
    assert post["status"] == "future"
    publication = (day + timedelta(hours=7, minutes=30)).astimezone(UTC)
    assert post["date_gmt"] == publication.strftime("%Y-%m-%dT%H:%M:%S")
    assert "mượn sách miễn phí" in post["content"]["raw"]
    [category] = post["categories"]
    named = requests.get(f"{wordpress.api}/categories/{category}", timeout=30).json()
    assert named["name"] == "Gương điển hình trong học tập, khuyến học"

    # a later run finds nothing more to push to WordPress: still one post
    cli("dispatch", now=(day + timedelta(hours=7, minutes=31)).isoformat())
    assert len([p for p in wordpress.posts(search="Tân Lập mở cửa") if p["title"]["raw"] == TITLE]) == 1
