"""A planned, approved piece reaches a real WordPress as a post scheduled at the portal's publication time;
retired, it is moved to WordPress's trash by a withdrawal through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import requests
from e2e_support import APPROVER2, ZONE, approved_piece, everything_published, setup_accounts

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


def _on_wordpress(config_dir, wordpress, monkeypatch) -> None:
    """The demo stations' portal is the test WordPress instead of the feed."""
    stations = config_dir / "stations.toml"
    text = stations.read_text(encoding="utf-8")
    feed = 'portal = { type = "feed", dir = "var/out/feeds", title = "Cổng thông tin điện tử" }'
    assert feed in text
    stations.write_text(text.replace(feed, (
        f'portal = {{ type = "wordpress", url = "{wordpress.url}", user = "{wordpress.user}", '
        f'password_env = "{PASSWORD_ENV}", campaign_categories = true }}'), 1), encoding="utf-8")
    monkeypatch.setenv(PASSWORD_ENV, wordpress.password)


def test_an_approved_piece_becomes_a_scheduled_wordpress_post(cli, config_dir, wordpress, monkeypatch):
    _on_wordpress(config_dir, wordpress, monkeypatch)
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


def test_a_retired_piece_is_moved_to_the_trash_through_the_outbox(cli, config_dir, wordpress, monkeypatch):
    _on_wordpress(config_dir, wordpress, monkeypatch)  # 99001 on WordPress; 99002 and 99003 keep their feeds
    title = "Lịch tiêm phòng dại cho chó mèo tại các thôn"
    day = _a_weekday_ahead()
    early = (day + timedelta(hours=5)).isoformat()
    setup_accounts(cli, early)
    piece = approved_piece(cli, title, "Thú y xã tiêm phòng dại tại nhà văn hóa các thôn, từ 7 giờ.", early,
                           "--channels", "portal")
    cli("plan", "--from", day.date().isoformat(), "--days", "1", now=early)
    assert cli.json("dispatch", now=(day + timedelta(hours=7, minutes=29)).isoformat()) == {"delivered": 3}
    [post] = [p for p in wordpress.posts(search="tiêm phòng dại") if p["title"]["raw"] == title]
    assert post["status"] == "future"
    assert everything_published(config_dir).count(title) >= 2  # the two feeds

    retired = (day + timedelta(hours=7, minutes=40)).isoformat()
    cli("piece", "retire", str(piece), "--note", "Lịch tiêm đã dời", now=retired, user=APPROVER2)
    pending = [r for r in cli.json("delivery", "list", "--state", "pending", now=retired) if r["withdraws"]]
    assert len(pending) == 3 and {r["outlet"] for r in pending} == {"portal"}

    assert cli.json("dispatch", now=(day + timedelta(hours=7, minutes=41)).isoformat()) == {"delivered": 3}
    assert not [p for p in wordpress.posts(search="tiêm phòng dại") if p["title"]["raw"] == title]
    [trashed] = [p for p in wordpress.posts(search="tiêm phòng dại", status="trash") if p["title"]["raw"] == title]
    assert trashed["id"] == post["id"]  # in the trash, restorable, not deleted
    assert title not in everything_published(config_dir)  # gone from both feeds (RSS, Atom, items)
    done = [r for r in cli.json("delivery", "list", now=retired) if r["withdraws"]]
    assert {r["state"] for r in done} == {"delivered"}
    on_wordpress = next(r for r in done if r["station"] == "99001")
    shown = cli.json("delivery", "show", on_wordpress["id"], now=retired)
    assert shown["receipt"]["details"]["trashed"] == [
        {"id": post["id"], "slug": post["slug"], "ref": f"piece-{piece}-r1", "status": "trash"}]

    assert cli.json("dispatch", now=(day + timedelta(hours=8)).isoformat()) == {}  # nothing twice
