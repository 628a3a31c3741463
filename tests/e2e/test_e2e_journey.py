"""The whole path, through the CLI at simulated times: accounts, a piece reviewed, a plan, the pushes,
and what a playout engine, a board's browser and a portal reader then get."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlsplit

import feedparser
from e2e_support import (
    APPROVER2,
    EDITOR,
    INTRO,
    OUTRO,
    STATIONS,
    ZONE,
    at,
    moment,
    out_dir,
    playlist,
    programs,
    read_playlist,
    schedule,
    setup_accounts,
    titles,
)
from fastapi.testclient import TestClient

from content.render.audio import decode
from loa.web import create_app
from loa.wiring import open_services

TITLE = "Bà Lò Thị Hoa, người giữ lửa khuyến học ở bản Nà Xẻ"
BODY = ("Mười lăm năm qua, bà Lò Thị Hoa đã vận động được hơn một trăm triệu đồng cho quỹ khuyến học "
        "của bản. Nhờ bà, nhiều em học sinh nghèo được tiếp tục đến trường.")


def _web(settings, now: datetime) -> tuple[TestClient, object]:
    services = open_services(settings, now=now)
    return TestClient(create_app(services)), services


def test_a_reviewed_piece_goes_out_on_every_outlet_on_time(cli, config_dir, settings):
    # --- accounts and review, Monday 05:00 local ---------------------------------------------------------
    early = at("05:00")
    setup_accounts(cli, early)
    added = cli("piece", "add", "--title", TITLE, "--body", BODY, "--campaign", "guong-dien-hinh",
                now=early, user=EDITOR)
    piece = int(added.stdout.strip())
    assert cli("piece", "submit", str(piece), now=early, user=EDITOR).stdout.strip() == f"piece {piece}: submitted"
    approved = cli.json("piece", "approve", str(piece), now=early, user=APPROVER2)
    assert approved == {"id": piece, "state": "approved"}
    shown = cli.json("piece", "show", str(piece), now=early)
    assert (shown["title"], shown["body"], shown["state"], shown["author"]) == (TITLE, BODY, "approved", EDITOR)
    assert shown["approved_revision_id"] is not None

    # --- plan two days; the schedule shows the piece in each outlet's first slot -------------------------
    planned = cli.json("plan", "--days", "2", now=early)
    assert planned["deliveries_created"] > 0 and planned["unplaced"] == []
    rows = schedule(cli, early)
    morning = [p for p in programs(rows, "loudspeaker", "06:00")
               if datetime.fromisoformat(p["start_at"]) == moment("06:00")]
    boards = [p for p in programs(rows, "board", "00:00")
              if datetime.fromisoformat(p["start_at"]) == moment("00:00")]
    portal = [p for p in programs(rows, "portal", "07:30")
              if datetime.fromisoformat(p["start_at"]) == moment("07:30")]
    for group in (morning, boards, portal):
        assert sorted(p["station"] for p in group) == list(STATIONS)
        for program in group:
            assert TITLE in titles(program), program
            assert program["state"] == "pending"

    # --- 05:58:30: the 06:00 programs and the day's board rotations go out -------------------------------
    first = cli.json("dispatch", now=at("05:58:30"))
    assert first.get("delivered") == 6, first
    assert not first.get("refused") and not first.get("dead") and not first.get("missed")
    for station in STATIONS:
        assert not playlist(config_dir, station, "1700").exists()  # not due yet
        entries = read_playlist(playlist(config_dir, station, "0600"))
        assert [title for _, title, _ in entries] == [INTRO, TITLE, OUTRO]  # as the assembled program plays them
        for seconds, _, mp3 in entries:
            assert mp3.is_file() and mp3.parent == playlist(config_dir, station, "0600").parent
            audio = decode(mp3)
            assert audio.duration_seconds > 1.0
            assert abs(audio.duration_seconds - seconds) <= 1.0, (audio.duration_seconds, seconds)
    assert not (out_dir(config_dir) / "feeds").exists() or not any((out_dir(config_dir) / "feeds").rglob("rss.xml"))

    # Idempotent: the same run again pushes nothing and leaves the playlist as it was.
    before = playlist(config_dir, "99001", "0600").read_bytes()
    again = cli.json("dispatch", now=at("05:58:30"))
    assert sum(again.values()) == 0, again
    assert playlist(config_dir, "99001", "0600").read_bytes() == before
    rows = schedule(cli, at("05:58:30"))
    pushed = [p for p in programs(rows, "loudspeaker", "06:00") + programs(rows, "board", "00:00")
              if datetime.fromisoformat(p["start_at"]).astimezone(ZONE).date() == moment("06:00").date()]
    assert len(pushed) == 6 and {p["state"] for p in pushed} == {"delivered"}
    assert {p["state"] for p in programs(rows, "portal")} == {"pending"}

    # --- the board's browser at 06:10 ------------------------------------------------------------------
    client, services = _web(settings, moment("06:10"))
    try:
        with client:
            document = client.get("/boards/99001.json")
            assert document.status_code == 200
            rotation = document.json()["rotation"]
            assert rotation is not None
            assert datetime.fromisoformat(rotation["valid_from"]) == moment("00:00")
            assert datetime.fromisoformat(rotation["valid_until"]) == moment("00:00", day=24)
            assert all(slide["title"] == TITLE for slide in rotation["slides"])
            assert " ".join(slide["text"] for slide in rotation["slides"]) == BODY
            page = client.get("/boards/99001")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert TITLE in page.text and "Xã Tân Lập" in page.text
            assert client.get("/feeds/99001.rss").status_code == 404  # nothing published yet
    finally:
        services.close()

    # --- 07:29: the portal slot ----------------------------------------------------------------------
    third = cli.json("dispatch", now=at("07:29"))
    assert third.get("delivered") == 3, third
    fourth = cli.json("dispatch", now=at("07:29"))
    assert sum(fourth.values()) == 0, fourth
    rows = schedule(cli, at("07:29"))
    published = [p for p in programs(rows, "portal", "07:30")
                 if datetime.fromisoformat(p["start_at"]) == moment("07:30")]
    assert len(published) == 3 and {p["state"] for p in published} == {"delivered"}
    assert {p["state"] for p in programs(rows, "loudspeaker", "17:00")} == {"pending"}

    client, services = _web(settings, moment("07:40"))
    try:
        with client:
            for url in ("/feeds/99001.rss", "/feeds/99001.atom", "/feeds/all.rss"):
                response = client.get(url)
                assert response.status_code == 200, url
                feed = feedparser.parse(response.content)
                assert not feed.bozo, (url, feed.get("bozo_exception"))
                entry_titles = [entry.title for entry in feed.entries]
                assert TITLE in entry_titles, (url, entry_titles)
                assert any(BODY[:40] in (entry.get("summary", "") + json.dumps(entry.get("content", []),
                                                                                ensure_ascii=False))
                           for entry in feed.entries), url
            station_feed = feedparser.parse(client.get("/feeds/99001.rss").content)
            assert len(station_feed.entries) == 1  # published once per station, not once per re-run
            all_feed = feedparser.parse(client.get("/feeds/all.rss").content)
            assert len(all_feed.entries) == 1  # one article, sent to three communes, listed once
            communes = {station.name for station in settings.stations if station.portal is not None}
            assert {tag.term for tag in all_feed.entries[0].tags} >= communes
            article = client.get(urlsplit(station_feed.entries[0].link).path)  # a commune's link finds it
            assert article.status_code == 200 and TITLE in article.text
            health = client.get("/healthz")
            assert health.status_code == 200 and health.json()["status"] == "ok"
    finally:
        services.close()

    # The pushes are in the audit log, whose chain is intact.
    assert "audit log intact" in cli("audit", "verify", now=at("07:40")).stdout
