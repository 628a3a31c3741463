"""Issue 15, point 7: an approver or editor scoped to 99002 cannot act on a piece that airs on 99001,
through the command line, the web pages or the API; and they see only the pieces of their stations."""

from __future__ import annotations

from sqlalchemy import select

from content.db import unit_of_work
from content.models import AuditEvent, Piece, User
from content.pieces import PieceContent, add_piece, approve, get_piece, submit
from content.users import add_user

REFUSED = "chỉ phụ trách xã 99002"


def _state(services, piece_id: int) -> str:
    with unit_of_work(services.sessions) as session:
        return session.get(Piece, piece_id).state


def _actions(services, piece_id: int) -> list[str]:
    with unit_of_work(services.sessions) as session:
        return list(session.scalars(select(AuditEvent.action).where(AuditEvent.subject == f"piece:{piece_id}")
                                    .order_by(AuditEvent.id)))


# --- command line --------------------------------------------------------------------------------------------

def _cli_people(cli) -> None:
    cli("init")
    cli("user", "add", "lan", "--role", "editor")  # the whole centre
    cli("user", "add", "hung", "--role", "approver")  # the whole centre
    cli("user", "add", "dong", "--role", "approver", "--station", "99002")
    cli("user", "add", "ba", "--role", "editor", "--station", "99002")


def _cli_piece(cli, *stations: str, user: str = "lan") -> int:
    args = ["piece", "add", "--title", "Lịch tiêm chủng", "--body", "Trạm y tế xã tiêm chủng sáng thứ Bảy.",
            "--channels", "loudspeaker"]
    if stations:
        args += ["--stations", ",".join(stations)]
    return int(cli(*args, user=user).stdout.strip())


def test_cli_an_approver_of_99002_cannot_approve_a_piece_airing_on_99001(cli, services):
    _cli_people(cli)
    piece = _cli_piece(cli, "99001")
    cli("piece", "submit", str(piece), user="lan")
    refused = cli("piece", "approve", str(piece), user="dong", ok=False)
    assert refused.exit_code == 4
    assert REFUSED in refused.stderr and "99001" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    assert _state(services, piece) == "submitted"
    cli("piece", "approve", str(piece), user="hung")  # someone whose scope covers 99001 may
    assert _state(services, piece) == "approved"


def test_cli_an_editor_of_99002_cannot_retire_edit_or_upload_to_a_piece_airing_on_99001(cli, services, tmp_path):
    from PIL import Image

    _cli_people(cli)
    piece = _cli_piece(cli, "99001")
    cli("piece", "submit", str(piece), user="lan")
    cli("piece", "approve", str(piece), user="hung")
    poster = tmp_path / "poster.png"
    Image.new("RGB", (64, 48), "red").save(poster)
    for args in (("piece", "retire", str(piece)), ("piece", "edit", str(piece), "--title", "Đổi tên"),
                 ("piece", "upload", str(piece), "--image", str(poster)), ("piece", "show", str(piece))):
        refused = cli(*args, user="ba", ok=False)
        assert refused.exit_code == 4, args
        assert REFUSED in refused.stderr, args
    assert _state(services, piece) == "approved"
    assert "piece.retire" not in _actions(services, piece)


def test_cli_a_piece_for_several_stations_needs_an_approver_covering_them_all(cli, services):
    _cli_people(cli)
    piece = _cli_piece(cli, "99001", "99002")
    cli("piece", "submit", str(piece), user="lan")
    assert cli("piece", "approve", str(piece), user="dong", ok=False).exit_code == 4
    # a piece for every station (the default of a whole-centre editor) is beyond any scoped approver too
    everywhere = _cli_piece(cli)
    assert cli.json("piece", "show", str(everywhere), user="lan")["stations"] == ["*"]
    cli("piece", "submit", str(everywhere), user="lan")
    assert cli("piece", "approve", str(everywhere), user="dong", ok=False).exit_code == 4


def test_cli_a_scoped_editor_writes_for_their_stations_and_lists_only_those(cli, services):
    _cli_people(cli)
    other = _cli_piece(cli, "99001")
    mine = _cli_piece(cli, user="ba")  # default: every station of the author's scope
    assert cli.json("piece", "show", str(mine), user="ba")["stations"] == ["99002"]
    refused = cli("piece", "add", "--title", "T", "--body", "B", "--stations", "99001", user="ba", ok=False)
    assert refused.exit_code == 4 and REFUSED in refused.stderr
    assert [row["id"] for row in cli.json("piece", "list", user="ba")] == [mine]
    assert {row["id"] for row in cli.json("piece", "list", user="lan")} >= {mine, other}
    # the scoped approver decides on what is theirs
    cli("piece", "submit", str(mine), user="ba")
    cli("piece", "approve", str(mine), user="dong")
    assert _state(services, mine) == "approved"


def test_cli_moving_a_piece_to_other_stations_is_an_edit_that_needs_approval_again(cli, services):
    _cli_people(cli)
    piece = _cli_piece(cli, "99002")
    cli("piece", "submit", str(piece), user="lan")
    cli("piece", "approve", str(piece), user="dong")
    with unit_of_work(services.sessions) as session:
        approved_hash = session.get(Piece, piece).approved_sha256
    cli("piece", "edit", str(piece), "--stations", "vung-thap", user="lan")  # a group: 99001 and 99002
    shown = cli.json("piece", "show", str(piece), user="lan")
    assert shown["stations"] == ["99001", "99002"] and shown["state"] == "draft"
    assert shown["sha256"] != approved_hash
    # the approved revision (99002 only) is still what airs; the piece now reaches 99001 too, beyond dong
    assert cli("piece", "show", str(piece), user="dong", ok=False).exit_code == 4


def test_cli_unknown_stations_are_refused_with_the_known_codes(cli, services):
    cli("init")
    refused = cli("user", "add", "x", "--role", "editor", "--station", "00000", ok=False)
    assert refused.exit_code == 2
    assert "--station" in refused.stderr and "'00000'" in refused.stderr and "99001" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    with unit_of_work(services.sessions) as session:
        assert session.scalar(select(User).where(User.name == "x")) is None
    cli("user", "add", "lan", "--role", "editor")
    refused = cli("piece", "add", "--title", "T", "--body", "B", "--stations", "99001,00000", user="lan", ok=False)
    assert refused.exit_code == 2 and "--stations" in refused.stderr and "'00000'" in refused.stderr
    cli("user", "add", "y", "--role", "editor", "--station", "vung-thap")  # a group names its stations
    with unit_of_work(services.sessions) as session:
        assert session.scalar(select(User).where(User.name == "y")).stations == ["99001", "99002"]


# --- web pages and API -----------------------------------------------------------------------------------------

def _web_people(web) -> None:
    from servers.web import _HASH

    with unit_of_work(web.services.sessions) as session:
        for name, role in (("dong", "approver"), ("ba", "editor")):
            web.ids[name] = add_user(session, name, role, now=web.services.now(), stations=["99002"],
                                     password_hash=_HASH).id


def _web_piece(web, stations: tuple[str, ...], *, approved: bool = False, author: str = "lan") -> int:
    with unit_of_work(web.services.sessions) as session:
        writer = session.get(User, web.ids[author])
        piece = add_piece(session, PieceContent("Thu gom rác", "Xe thu gom rác đi qua các thôn chiều thứ Năm.",
                                                stations=stations), author=writer, now=web.services.now())
        submit(session, piece.id, actor=writer, now=web.services.now())
        if approved:
            approve(session, piece.id, actor=session.get(User, web.ids["hung"]), now=web.services.now())
        return piece.id


def _form(client, page: str) -> dict[str, str]:
    from servers.web import csrf_of

    return {"csrf": csrf_of(client.get(page).text)}


def test_web_an_approver_of_99002_cannot_approve_and_an_editor_cannot_retire_a_piece_on_99001(web):
    _web_people(web)
    piece = _web_piece(web, ("99001",))
    dong = web.client("dong")
    response = dong.post(f"/pieces/{piece}/approve", data={**_form(dong, "/account"), "note": "ok"})
    assert response.status_code == 403 and REFUSED in response.text
    assert _state(web.services, piece) == "submitted"
    assert dong.get(f"/pieces/{piece}").status_code == 403

    hung = web.client("hung")
    assert hung.post(f"/pieces/{piece}/approve", data=_form(hung, "/account")).status_code == 303
    ba = web.client("ba")
    response = ba.post(f"/pieces/{piece}/retire", data={**_form(ba, "/account"), "note": "rút"})
    assert response.status_code == 403 and REFUSED in response.text
    response = ba.post(f"/pieces/{piece}/edit", data={**_form(ba, "/account"), "title": "Đổi", "body": "Mới",
                                                      "channels": "board"})
    assert response.status_code == 403
    assert _state(web.services, piece) == "approved"
    assert "piece.retire" not in _actions(web.services, piece)


def test_web_lists_and_form_follow_the_users_stations(web):
    _web_people(web)
    other = _web_piece(web, ("99001",))
    ours = _web_piece(web, ("99002",))
    listing = web.client("ba").get("/pieces").text
    assert f'href="/pieces/{ours}"' in listing and f'href="/pieces/{other}"' not in listing
    everyone = web.client("lan").get("/pieces").text
    assert f'href="/pieces/{other}"' in everyone and f'href="/pieces/{ours}"' in everyone

    ba = web.client("ba")
    form = ba.get("/pieces/new").text
    assert 'name="stations" value="99002" checked' in form and 'value="99001"' not in form
    fields = {"title": "Họp dân", "body": "Mời bà con họp tại nhà văn hóa thôn.", "channels": "loudspeaker",
              "stations_shown": "1"}
    refused = ba.post("/pieces/new", data={**_form(ba, "/pieces/new"), **fields, "stations": "99001"})
    assert refused.status_code == 403 and REFUSED in refused.text
    empty = ba.post("/pieces/new", data={**_form(ba, "/pieces/new"), **fields})
    assert empty.status_code == 400 and "chọn ít nhất một xã" in empty.text
    created = ba.post("/pieces/new", data={**_form(ba, "/pieces/new"), **fields, "stations": "99002"})
    assert created.status_code == 303
    piece_id = int(created.headers["location"].rsplit("/", 1)[1])
    with unit_of_work(web.services.sessions) as session:
        assert get_piece(session, piece_id).current_revision.stations == ("99002",)
    lan = web.client("lan")
    assert 'name="stations" value="*" checked' in lan.get("/pieces/new").text


def test_api_the_same_attack_is_refused(web):
    _web_people(web)
    piece = _web_piece(web, ("99001",))
    client = web.client()
    response = client.post(f"/api/review/{piece}/approve", headers=web.token("dong"), json={"note": ""})
    assert response.status_code == 403 and REFUSED in response.json()["detail"]
    assert piece not in [p["id"] for p in client.get("/api/review", headers=web.token("dong")).json()]
    assert client.post(f"/api/review/{piece}/approve", headers=web.token("hung"), json={}).status_code == 200
    response = client.post(f"/api/pieces/{piece}/retire", headers=web.token("ba"), json={"note": "rút"})
    assert response.status_code == 403 and REFUSED in response.json()["detail"]
    assert client.patch(f"/api/pieces/{piece}", headers=web.token("ba"), json={"title": "Đổi"}).status_code == 403
    assert client.get(f"/api/pieces/{piece}", headers=web.token("ba")).status_code == 403
    assert _state(web.services, piece) == "approved"
    # those whose scope covers the piece may retire it
    retired = client.post(f"/api/pieces/{piece}/retire", headers=web.token("lan"), json={"note": "hết hạn"})
    assert retired.status_code == 200 and retired.json()["state"] == "retired"


def test_api_pieces_carry_their_stations(web):
    _web_people(web)
    client = web.client()
    body = {"title": "Tin xã", "body": "Nội dung cho xã."}
    made = client.post("/api/pieces", headers=web.token("ba"), json=body).json()
    assert made["stations"] == ["99002"]
    assert client.post("/api/pieces", headers=web.token("ba"), json={**body, "stations": ["99001"]}
                       ).status_code == 403
    unknown = client.post("/api/pieces", headers=web.token("lan"), json={**body, "stations": ["00000"]})
    assert unknown.status_code == 400 and "'00000'" in unknown.json()["detail"]
    grouped = client.post("/api/pieces", headers=web.token("lan"), json={**body, "title": "Vùng cao",
                                                                          "stations": ["vung-cao"]}).json()
    assert grouped["stations"] == ["99003"]
    listed = {p["id"] for p in client.get("/api/pieces", headers=web.token("ba")).json()}
    assert made["id"] in listed and grouped["id"] not in listed
    edited = client.patch(f"/api/pieces/{grouped['id']}", headers=web.token("lan"), json={"stations": ["*"]})
    assert edited.json()["stations"] == ["*"]


def test_the_stations_are_part_of_what_was_approved(services):
    """Widening a piece's stations in SQL, as an attacker would, makes its push refused like any altered content."""
    import pytest
    from sqlalchemy import text

    from content.errors import IntegrityError
    from content.pieces import check_airable

    now = services.now()
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "lan", "editor", now=now)
        piece = add_piece(session, PieceContent("Tin", "Nội dung.", stations=("99001",)), author=editor, now=now)
        submit(session, piece.id, actor=editor, now=now)
        approve(session, piece.id, actor=add_user(session, "hung", "approver", now=now), now=now)
        revision_id = piece.approved_revision_id
    with unit_of_work(services.sessions) as session:
        assert check_airable(session, revision_id, now) is None
        session.execute(text("UPDATE revision_stations SET station = '*' WHERE revision_id = :r"), {"r": revision_id})
    with unit_of_work(services.sessions) as session, pytest.raises(IntegrityError):
        check_airable(session, revision_id, now)


def test_web_previews_show_only_pieces_that_air_on_the_users_stations(web):
    _web_people(web)
    other, everywhere = _web_piece(web, ("99001",)), _web_piece(web, ("*",))
    with unit_of_work(web.services.sessions) as session:
        other_rev, everywhere_rev = (session.get(Piece, p).current_revision_id for p in (other, everywhere))
    ba = web.client("ba")
    assert ba.get(f"/previews/revision/{other_rev}").status_code == 404
    assert ba.get(f"/previews/speech/{other_rev}.mp3").status_code == 404
    assert ba.get(f"/previews/revision/{everywhere_rev}").status_code == 200  # it airs on 99002 too
    assert web.client("lan").get(f"/previews/revision/{other_rev}").status_code == 200


def test_web_today_and_api_schedule_show_a_scoped_user_only_their_stations(web):
    _web_people(web)
    _web_piece(web, ("99001",), approved=True)
    with unit_of_work(web.services.sessions) as session:
        writer, approver = session.get(User, web.ids["lan"]), session.get(User, web.ids["hung"])
        everywhere = add_piece(session, PieceContent("Phòng cháy", "Mùa khô, bà con chú ý phòng cháy."),
                               author=writer, now=web.services.now())
        submit(session, everywhere.id, actor=writer, now=web.services.now())
        approve(session, everywhere.id, actor=approver, now=web.services.now())
    web.services.plan(days=2)
    names = {spec.code: spec.name for spec in web.services.settings.stations}
    today = web.client("ba").get("/").text
    assert names["99002"] in today and names["99001"] not in today and names["99003"] not in today
    assert names["99001"] in web.client("lan").get("/").text
    schedule = web.client().get("/api/schedule?days=2", headers=web.token("ba")).json()
    assert schedule and {p["station"] for p in schedule} == {"99002"}
    titles = {item["title"] for p in schedule for item in p["items"]}
    assert "Phòng cháy" in titles and "Thu gom rác" not in titles  # that one airs on 99001 only
    everyone = web.client().get("/api/schedule?days=2", headers=web.token("lan")).json()
    assert {p["station"] for p in everyone if any(i["title"] == "Thu gom rác" for i in p["items"])} == {"99001"}
