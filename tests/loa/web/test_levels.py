"""The level of a piece (Circular 39/2020) through every way in: the web form, the JSON API (with the older
``urgent`` flag still read), the command line (``--level``, and ``--urgent`` as its hidden alias); shown as a
badge in the lists and on the piece page, and said in words after an approval."""

from __future__ import annotations

import re
from html import unescape

from content.db import unit_of_work
from content.models import Piece

from servers.web import csrf_of

TITLE = "Thông báo cắt điện thôn Đông"
BODY = "Thứ Tư cắt điện từ 7 giờ đến 11 giờ, bà con chủ động."


def _level_of(web, piece_id: int) -> str:
    with unit_of_work(web.services.sessions) as session:
        return session.get(Piece, piece_id).current_revision.level


def _new(client, **fields):
    token = csrf_of(client.get("/pieces/new").text)
    return client.post("/pieces/new", data={"csrf": token, "title": TITLE, "body": BODY, "channels": ["loudspeaker"],
                                            "priority": "5", **fields})


def test_the_web_form_offers_the_three_levels_and_stores_the_one_chosen(web):
    lan = web.client("lan")
    form = lan.get("/pieces/new").text
    options = re.findall(r'<option value="(normal|priority|emergency)"[^>]*>([^<]*)<', form)
    assert options == [("normal", "Thông thường"), ("priority", "Ưu tiên"), ("emergency", "Khẩn cấp")]
    assert 'value="normal" selected' in form
    created = _new(lan, level="emergency")
    assert created.status_code == 303, created.text
    piece = int(created.headers["location"].rsplit("/", 1)[1])
    assert _level_of(web, piece) == "emergency"
    page = lan.get(f"/pieces/{piece}").text
    assert '<span class="level level-emergency">Khẩn cấp</span>' in page
    edit = lan.get(f"/pieces/{piece}/edit").text
    assert 'value="emergency" selected' in edit
    edited = lan.post(f"/pieces/{piece}/edit", data={"csrf": csrf_of(edit), "title": TITLE, "body": BODY,
                                                     "channels": "loudspeaker", "priority": "5", "level": "priority"})
    assert edited.status_code == 303, edited.text
    assert _level_of(web, piece) == "priority"
    listed = lan.get("/pieces").text
    assert '<span class="level level-priority">Ưu tiên</span>' in listed


def test_a_wrong_level_is_named_beside_the_select_in_vietnamese_and_english(web):
    lan = web.client("lan")
    refused = _new(lan, level="khẩn")
    assert refused.status_code == 400
    error = re.search(r'id="error-level"[^>]*>([^<]*)<', refused.text)
    assert error and unescape(error[1]) == "Mức độ phải là Thông thường hoặc Ưu tiên hoặc Khẩn cấp (đã nhập khẩn)"
    assert 'aria-invalid="true" aria-describedby="error-level"' in refused.text
    lan.get("/lang/en")
    english = _new(lan, level="khẩn")
    error = re.search(r'id="error-level"[^>]*>([^<]*)<', english.text)
    assert error and unescape(error[1]) == "level must be normal or priority or emergency; got khẩn"


def test_a_normal_piece_shows_no_badge(web):
    piece = web.piece()
    lan = web.client("lan")
    assert 'class="level ' not in lan.get("/pieces").text
    assert 'class="level ' not in lan.get(f"/pieces/{piece}").text


def test_the_api_takes_level_and_still_reads_urgent_as_priority(web):
    api, lan = web.client(), web.token("lan")
    made = api.post("/api/pieces", headers=lan, json={"title": TITLE, "body": BODY, "level": "emergency"})
    assert made.status_code == 201, made.text
    assert (made.json()["level"], made.json()["urgent"]) == ("emergency", False)
    legacy = api.post("/api/pieces", headers=lan, json={"title": TITLE, "body": BODY, "urgent": True})
    assert legacy.status_code == 201, legacy.text
    assert (legacy.json()["level"], legacy.json()["urgent"]) == ("priority", True)
    plain = api.post("/api/pieces", headers=lan, json={"title": TITLE, "body": BODY, "urgent": False}).json()
    assert plain["level"] == "normal"
    piece = legacy.json()["id"]
    back = api.patch(f"/api/pieces/{piece}", headers=lan, json={"urgent": False})
    assert back.status_code == 200 and back.json()["level"] == "normal"
    up = api.patch(f"/api/pieces/{piece}", headers=lan, json={"level": "emergency"})
    assert up.status_code == 200 and up.json()["level"] == "emergency" and up.json()["revision"] == 3
    wrong = api.post("/api/pieces", headers=lan, json={"title": TITLE, "body": BODY, "level": "urgent"})
    assert wrong.status_code == 422 and "level" in wrong.text
    both = api.post("/api/pieces", headers=lan, json={"title": TITLE, "body": BODY, "urgent": True,
                                                     "level": "normal"})
    assert both.status_code == 422 and "urgent" in both.text
    null = api.patch(f"/api/pieces/{piece}", headers=lan, json={"level": None})
    assert null.status_code == 400 and "level" in null.json()["detail"]
    schema = api.get("/openapi.json").json()["components"]["schemas"]
    assert schema["PieceIn"]["properties"]["level"]["enum"] == ["normal", "priority", "emergency"]


def test_the_command_line_takes_level_and_urgent_as_its_hidden_alias(cli):
    cli("init")
    cli("user", "add", "bien-tap", "--role", "editor")
    piece = cli("piece", "add", "--title", TITLE, "--body", BODY, "--level", "priority", user="bien-tap").stdout
    assert cli.json("piece", "show", piece.strip())["level"] == "priority"
    old = cli("piece", "add", "--title", TITLE, "--body", BODY, "--urgent", user="bien-tap").stdout.strip()
    assert cli.json("piece", "show", old)["level"] == "priority"
    plain = cli("piece", "add", "--title", TITLE, "--body", BODY, user="bien-tap").stdout.strip()
    assert cli.json("piece", "show", plain)["level"] == "normal"
    cli("piece", "edit", plain, "--level", "emergency", user="bien-tap")
    assert cli.json("piece", "show", plain)["level"] == "emergency"
    assert "[emergency]" in cli("piece", "list").stdout
    assert "level: emergency" in cli("piece", "show", plain).stdout
    cli("piece", "edit", old, "--not-urgent", user="bien-tap")
    assert cli.json("piece", "show", old)["level"] == "normal"
    wrong = cli("piece", "add", "--title", TITLE, "--body", BODY, "--level", "gấp", user="bien-tap", ok=False)
    assert wrong.exit_code == 2 and "level: level must be normal or priority or emergency; got gấp" in wrong.stderr
    clash = cli("piece", "add", "--title", TITLE, "--body", BODY, "--urgent", "--level", "normal", user="bien-tap",
                ok=False)
    assert clash.exit_code == 2 and "--urgent means --level priority, not normal" in clash.stderr
    helped = cli("piece", "add", "--help").stdout
    assert "--level" in helped and "--urgent" not in helped


def test_the_plan_report_names_the_priority_pieces_in_their_order_and_why(cli):
    cli("init")
    cli("user", "add", "bien-tap", "--role", "editor")
    cli("user", "add", "duyet", "--role", "approver")
    ids = []
    for title, priority in (("Lịch cắt điện", "3"), ("Lịch tiêm chủng", "8")):
        piece = cli("piece", "add", "--title", title, "--body", BODY, "--channels", "board,portal", "--priority",
                    priority, "--level", "priority", user="bien-tap").stdout.strip()
        cli("piece", "submit", piece, user="bien-tap")
        cli("piece", "approve", piece, user="duyet")
        ids.append(int(piece))
    printed = cli("plan", "--days", "1").stdout
    assert (f"priority: piece {ids[1]} «Lịch tiêm chủng», piece {ids[0]} «Lịch cắt điện» (priority pieces lead "
            "every program they are valid for; among them: higher campaign priority first, then higher piece "
            "priority") in printed
    assert [p["piece"] for p in cli.json("plan", "--days", "1")["leading"]] == [ids[1], ids[0]]
