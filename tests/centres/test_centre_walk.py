"""Issue 19: a commune's users cannot see or touch a sibling commune's pieces, deliveries, airings, users,
emergencies or reports, through any page or API route (the route walk of tests/loa/web/test_permissions.py); a
district's users see their communes and not the other district's."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from centres_support import PASSWORD
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from content.accounts import create_token
from content.db import unit_of_work
from content.models import AuditEvent, Piece
from content.pieces import PieceContent, add_piece, approve, submit
from content.users import get_user
from loa.web import create_app
from scheduler.devices import edges
from scheduler.models import Airing, Delivery, EdgeDevice, Station

from servers.web import routes_behind_login

#: As tests/loa/web/test_permissions.py: the routes anyone may open (their own tests check them), and those a device
#: signs with its own key rather than a user's login (tests/loa/web/test_edge_api.py, test_device_health.py).
PUBLIC = re.compile(r"^/(boards|feeds|articles|healthz|metrics|login|lang|ical|docs|redoc|openapi\.json|anthias|media"
                    r"|favicon|reset/|api/edge/|api/devices/heartbeat)")

#: (the acting user, the centre whose things they must not reach)
OUTSIDERS = [("bt-TANLAP", "HOABINH"), ("dd-TANLAP", "HOABINH"), ("dd-DONG", "PHUXUAN"), ("qt-DONG", "ANTHAI")]
#: Routes about the acting user's own account, which hold nothing of another centre.
OWN = re.compile(r"^/(account|logout)")


@dataclass
class Theirs:
    """One centre's things: a submitted piece, an approved one airing on its board, that airing's delivery, a
    user and a draft emergency."""

    centre: str
    submitted: int
    revision: int
    sha256: str
    approved: int
    title: str
    delivery: str
    airing: int
    user: int
    emergency: int
    bulletin: int = 0  # a province bulletin sent down to this centre alone (issue 19's send-down)
    device: int = 0  # a loa edge device enrolled for its station (issue 20)

    def ids(self) -> dict[str, str]:
        return {"piece_id": str(self.submitted), "revision_id": str(self.revision), "delivery_id": self.delivery,
                "airing_id": str(self.airing), "user_id": str(self.user), "emergency_id": str(self.emergency),
                "what": "poster", "token_id": "1", "bulletin_id": str(self.bulletin),
                "device_id": str(self.device)}

    def subjects(self) -> set[str]:
        return {f"piece:{self.submitted}", f"piece:{self.approved}", f"delivery:{self.delivery}",
                f"user:{self.user}", f"emergency:{self.emergency}", f"airing:{self.airing}",
                f"edge:{self.device}"}


def _things_of(services, centre: str) -> Theirs:
    from scheduler.emergencies.service import EmergencyRequest, issue

    now = services.now()
    title = f"Tin riêng của {centre}"
    with unit_of_work(services.sessions) as session:
        editor, approver = get_user(session, f"bt-{centre}"), get_user(session, f"dd-{centre}")
        approved = add_piece(session, PieceContent(title, "Chỉ bà con trong xã được nghe.", channels=("board",)),
                             author=editor, now=now)
        submit(session, approved.id, actor=editor, now=now)
        approve(session, approved.id, actor=approver, now=now)
        waiting = add_piece(session, PieceContent(f"{title} (chờ duyệt)", "Đang chờ duyệt.", channels=("board",)),
                            author=editor, now=now)
        submit(session, waiting.id, actor=editor, now=now)
        revision = waiting.current_revision
        code = session.scalar(select(Station.code).where(Station.centre == centre))
        emergency = issue(session, EmergencyRequest(f"Khẩn cấp {centre}", "Lũ về.", targets=(code,)),
                          actor=get_user(session, "qt-TINH"), now=now, draft=True)
        ids = (approved.id, waiting.id, revision.id, revision.sha256, editor.id, emergency.id)
        bulletin = _sent_down(session, centre, code, title, now)
        _, one_time = edges.make_enrolment_code(session, station=code, outlet="loudspeaker", actor="qt-TINH", now=now)
        device = edges.enrol(session, code=one_time, name=f"edge {centre}", install_secret="bi-mat", now=now)
    services.plan(days=1)
    with unit_of_work(services.sessions) as session:
        airing = session.scalar(select(Airing).where(Airing.piece_id == ids[0], Airing.removed.is_(False)))
        delivery = session.get(Delivery, airing.delivery_id)
        delivery.state = "dead"  # so that a retry would change it
        return Theirs(centre, ids[1], ids[2], ids[3], ids[0], title, delivery.id, airing.id, ids[4], ids[5], bulletin,
                      device.device.id)


def _sent_down(session, centre: str, code: str, title: str, now) -> int:
    """A province piece for ``centre``'s station, sent down to it alone, its title starting with the centre's
    secret title."""
    from scheduler.bulletins.sending import send

    editor, approver = get_user(session, "bt-TINH"), get_user(session, "dd-TINH")
    piece = add_piece(session, PieceContent(f"{title} (bản tin cấp trên)", "Chỉ gửi xuống một xã.",
                                            channels=("board",), stations=(code,)), author=editor, now=now)
    submit(session, piece.id, actor=editor, now=now)
    approve(session, piece.id, actor=approver, now=now)
    return send(session, piece.id, [centre], level="normal", actor=editor, now=now).id


def _client(app, name: str) -> tuple[TestClient, str]:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
    assert client.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf}).status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/account").text)[1]
    return client, csrf


def _events(services, subjects: set[str]) -> int:
    with unit_of_work(services.sessions) as session:
        return session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.subject.in_(sorted(subjects))))


@pytest.mark.parametrize(("who", "sibling"), OUTSIDERS)
def test_every_route_keeps_another_centres_things_out_of_reach(centre_tree, who, sibling):
    services = centre_tree.services
    theirs = _things_of(services, sibling)
    before = _events(services, theirs.subjects())
    app = create_app(services)
    client, csrf = _client(app, who)
    with unit_of_work(services.sessions) as session:
        bearer = {"Authorization": f"Bearer {create_token(session, get_user(session, who), 't', now=services.now())}"}
    form = {"csrf": csrf, "revision_id": str(theirs.revision), "sha256": theirs.sha256, "title": "Đổi tên",
            "body": "Đổi nội dung.", "channels": "board", "note": "không", "role": "editor", "stations": "",
            "centre": sibling, "to": theirs.delivery}
    body = {"revision_id": theirs.revision, "sha256": theirs.sha256, "title": "Đổi tên", "note": "không"}
    # An emergency preview's audio is named by a token signed for the user who previewed it: theirs.
    heard = URLSafeSerializer(app.state.secret_key, salt="loa-emergency-heard").dumps({"u": theirs.user,
                                                                                       "key": "0" * 64})
    ids = {**theirs.ids(), "token": heard}
    walked = 0
    for method, original in sorted(set(routes_behind_login(app, PUBLIC))):
        if OWN.match(original):
            continue
        target = re.sub(r"\{(\w+)\}", lambda m: ids[m[1]], original)
        api = target.startswith("/api/")
        if method == "GET":
            response = client.get(target, headers=bearer if api else None)
        elif api:
            response = client.request(method, target, json=body, headers=bearer)
        else:
            response = client.request(method, target, data=form)
        walked += 1
        assert response.status_code < 500, (method, target, response.status_code)
        text = response.text.replace(target, "")  # a page may link to its own address (the language switch)
        for secret in (theirs.title, theirs.delivery, f"bt-{sibling}", f"Khẩn cấp {sibling}"):
            assert secret not in text, (method, target, secret)
        if "{" in original and method == "GET":  # one of theirs, by id: not found or refused, never shown
            assert response.status_code in (303, 400, 403, 404), (method, target, response.status_code)
    assert walked > 40
    assert _events(services, theirs.subjects()) == before  # nothing of theirs changed
    with unit_of_work(services.sessions) as session:
        assert session.get(Piece, theirs.submitted).state == "submitted"
        assert session.get(Delivery, theirs.delivery).state == "dead"
        assert session.get(EdgeDevice, theirs.device).revoked_at is None


def test_a_district_sees_its_communes_and_not_the_other_districts(centre_tree):
    services = centre_tree.services
    mine, other = _things_of(services, "HOABINH"), _things_of(services, "ANTHAI")
    app = create_app(services)
    client, _ = _client(app, "dd-DONG")
    pieces = client.get("/pieces").text
    assert mine.title in pieces and other.title not in pieces
    deliveries = client.get("/deliveries").text
    assert mine.delivery[:12] in deliveries and other.delivery[:12] not in deliveries
    assert client.get(f"/pieces/{mine.submitted}").status_code == 200
    assert client.get(f"/pieces/{other.submitted}").status_code in (403, 404)
    admin, _ = _client(app, "qt-DONG")
    users = admin.get("/users").text
    assert "bt-HOABINH" in users and "bt-ANTHAI" not in users and "bt-TINH" not in users


def test_the_command_line_keeps_a_commune_to_its_own(centre_tree):
    services, cli = centre_tree.services, centre_tree.cli
    theirs = _things_of(services, "HOABINH")
    before = _events(services, theirs.subjects())
    for args in (("piece", "show", str(theirs.approved)), ("piece", "edit", str(theirs.submitted), "--title", "Đổi"),
                 ("piece", "submit", str(theirs.submitted)), ("piece", "approve", str(theirs.submitted)),
                 ("piece", "retire", str(theirs.approved)), ("delivery", "show", theirs.delivery),
                 ("delivery", "retry", theirs.delivery), ("user", "set", "bt-HOABINH", "--role", "approver"),
                 ("schedule", "--station", "99012")):
        refused = cli(*args, user="dd-TANLAP", ok=False)
        assert refused.exit_code in (2, 4), (args, refused.exit_code, refused.stdout, refused.stderr)
        assert "Traceback" not in refused.stdout + refused.stderr
    assert theirs.approved not in {row["id"] for row in cli.json("piece", "list", user="dd-TANLAP")}
    assert theirs.approved in {row["id"] for row in cli.json("piece", "list", user="dd-DONG")}
    assert all(row["station"] == "99011" for row in cli.json("delivery", "list", user="dd-TANLAP"))
    assert {row["name"] for row in cli.json("user", "list", user="qt-DONG")} >= {"bt-HOABINH", "bt-TANLAP"}
    assert "bt-ANTHAI" not in {row["name"] for row in cli.json("user", "list", user="qt-DONG")}
    assert _events(services, theirs.subjects()) == before


def test_an_approver_approves_only_their_own_subtrees_pieces(centre_tree):
    services, cli = centre_tree.services, centre_tree.cli
    theirs = _things_of(services, "TANLAP")
    assert cli("piece", "approve", str(theirs.submitted), user="dd-HOABINH", ok=False).exit_code == 4
    assert cli("piece", "approve", str(theirs.submitted), user="dd-TAY", ok=False).exit_code == 4
    cli("piece", "approve", str(theirs.submitted), user="dd-DONG")  # the district above may
    with unit_of_work(services.sessions) as session:
        assert session.get(Piece, theirs.submitted).state == "approved"


def test_emergencies_reach_only_the_users_stations(centre_tree):
    services = centre_tree.services
    app = create_app(services)
    client, csrf = _client(app, "dd-TANLAP")
    before = client.get("/emergencies").text
    response = client.post("/emergencies/preview", data={"csrf": csrf, "title": "Lũ", "text": "Lũ về",
                                                          "stations": "99012"})
    refused = client.post("/emergencies", data={"csrf": csrf, "title": "Lũ", "text": "Lũ về", "stations": "99012"})
    assert refused.status_code in (400, 403), refused.status_code
    assert response.status_code in (200, 400, 403)
    assert client.get("/emergencies").text.count("Lũ về") == before.count("Lũ về")


def test_an_admin_places_users_only_in_their_own_subtree(centre_tree):
    services = centre_tree.services
    app = create_app(services)
    client, csrf = _client(app, "qt-DONG")
    page = client.get("/users").text
    assert 'value="HOABINH"' in page and 'value="ANTHAI"' not in page and 'value="TINH"' not in page
    refused = client.post("/users", data={"csrf": csrf, "name": "moi-tay", "role": "editor", "centre": "ANTHAI"})
    assert refused.status_code == 400 and "ANTHAI" in refused.text
    added = client.post("/users", data={"csrf": csrf, "name": "moi-hoabinh", "role": "editor", "centre": "HOABINH"})
    assert added.status_code == 303
    with unit_of_work(services.sessions) as session:
        assert get_user(session, "moi-hoabinh").centre == "HOABINH"
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.details["name"].as_string() == "moi-tay")) == 0


def test_the_devices_page_filters_by_the_centres_below_the_user(centre_tree):
    app = create_app(centre_tree.services)
    province, _ = _client(app, "dd-TINH")
    page = province.get("/devices").text
    assert 'value="centre:DONG"' in page and 'value="centre:ANTHAI"' in page
    east = province.get("/devices", params={"only": "centre:DONG"}).text
    assert set(re.findall(r'data-station="(\d+)"', east)) == {"99011", "99012"}

    district, _ = _client(app, "dd-TAY")
    page = district.get("/devices").text
    assert 'value="centre:PHUXUAN"' in page and 'value="centre:DONG"' not in page
    assert set(re.findall(r'data-station="(\d+)"', page)) == {"99021", "99022"}
    assert set(re.findall(r'data-station="(\d+)"', district.get("/devices", params={"only": "centre:DONG"}).text)) \
        == {"99021", "99022"}  # a centre outside their reach is no filter at all
