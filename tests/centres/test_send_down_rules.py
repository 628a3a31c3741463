"""Issue 19, the rules of sending down: only approved, sealed, unaltered revisions go down and are planned below;
only those whose reach covers the targets send; only editors of the receiving commune decide; an editorial board
appraises first where its centre asks; an emergency goes out through the emergency broadcast with its right; every
step is in the audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from content import pieces
from content.bulletin_models import Bulletin, BulletinReceipt
from content.db import unit_of_work
from content.errors import IntegrityError, NotAllowed, NotFound, StateError
from content.models import AuditEvent, User
from content.users import add_user
from scheduler.bulletins import decisions, sending
from scheduler.bulletins.planning import received_levels
from scheduler.models import Emergency

BODY = "Ủy ban nhân dân tỉnh thông báo lịch cắt điện luân phiên trong tuần để bảo dưỡng đường dây."


def _user(session, name: str) -> User:
    return session.scalar(select(User).where(User.name == name))


def _piece(tree, *, approve: bool = True, level: str = "normal") -> int:
    with unit_of_work(tree.services.sessions) as session:
        now = tree.services.now()
        piece = pieces.add_piece(session, pieces.PieceContent("Lịch cắt điện", BODY, channels=("loudspeaker",),
                                                              level=level),
                                 author=_user(session, "bt-TINH"), now=now)
        if approve:
            pieces.submit(session, piece.id, actor=_user(session, "bt-TINH"), now=now)
            pieces.approve(session, piece.id, actor=_user(session, "dd-TINH"), now=now)
        return piece.id


def _send(tree, piece_id: int, to=("DONG",), level: str = "normal", by: str = "bt-TINH") -> int:
    with unit_of_work(tree.services.sessions) as session:
        return sending.send(session, piece_id, list(to), level=level, actor=_user(session, by),
                            now=tree.services.now()).id


def _decide(tree, action, bulletin_id: int, by: str, **kwargs):
    with unit_of_work(tree.services.sessions) as session:
        return action(session, bulletin_id, actor=_user(session, by), now=tree.services.now(), **kwargs).state


def test_only_an_approved_piece_goes_down_and_only_to_centres_below_within_reach(centre_tree):
    draft = _piece(centre_tree, approve=False)
    with pytest.raises(StateError):
        _send(centre_tree, draft)
    piece = _piece(centre_tree)
    with pytest.raises(NotAllowed):  # a district cannot send the province's piece
        _send(centre_tree, piece, to=("TANLAP",), by="bt-DONG")
    with pytest.raises(NotAllowed):  # nor a commune
        _send(centre_tree, piece, to=("TANLAP",), by="bt-TANLAP")
    from content.errors import InputError

    with pytest.raises(InputError):  # the piece's own centre is not below it
        _send(centre_tree, piece, to=("TINH",))
    with pytest.raises(InputError):
        _send(centre_tree, piece, to=("KHONGCO",))
    # A district's own piece goes down to its communes only.
    with unit_of_work(centre_tree.services.sessions) as session:
        now = centre_tree.services.now()
        own = pieces.add_piece(session, pieces.PieceContent("Tin huyện", BODY, channels=("loudspeaker",)),
                               author=_user(session, "bt-DONG"), now=now)
        pieces.submit(session, own.id, actor=_user(session, "bt-DONG"), now=now)
        pieces.approve(session, own.id, actor=_user(session, "dd-DONG"), now=now)
        own_id = own.id
    with pytest.raises(InputError):
        _send(centre_tree, own_id, to=("PHUXUAN",), by="bt-DONG")
    bulletin = _send(centre_tree, own_id, to=("TANLAP",), by="bt-DONG")
    with unit_of_work(centre_tree.services.sessions) as session:
        assert list(session.scalars(select(BulletinReceipt.centre).where(BulletinReceipt.bulletin_id == bulletin))) \
            == ["TANLAP"]


def test_a_revision_altered_after_approval_is_refused_when_sent_accepted_and_planned(centre_tree):
    piece = _piece(centre_tree)
    bulletin = _send(centre_tree, piece, to=("DONG",))
    assert _decide(centre_tree, decisions.accept, bulletin, "bt-TANLAP") == "accepted"
    with unit_of_work(centre_tree.services.sessions) as session:
        assert received_levels(session) != {}
    with unit_of_work(centre_tree.services.sessions) as session:  # a database writer edits the approved text
        session.execute(text("UPDATE revisions SET body = body || ' (đã sửa)'"))
    with pytest.raises(IntegrityError):
        _send(centre_tree, piece, to=("TAY",))
    with pytest.raises(IntegrityError):  # the receiving side checks again before taking it in
        _decide(centre_tree, decisions.accept, bulletin, "bt-HOABINH")
    with unit_of_work(centre_tree.services.sessions) as session:
        assert received_levels(session) == {}  # and the plan leaves out what it already took in


def test_a_bulletin_altered_in_the_database_is_refused(centre_tree):
    piece = _piece(centre_tree)
    bulletin = _send(centre_tree, piece, to=("DONG",))
    with unit_of_work(centre_tree.services.sessions) as session:
        session.execute(text("UPDATE bulletins SET level = 'priority'"))
        session.execute(text("UPDATE bulletin_receipts SET state = 'planned'"))
    with unit_of_work(centre_tree.services.sessions) as session:
        assert received_levels(session) == {}
    with unit_of_work(centre_tree.services.sessions) as session:
        session.execute(text("UPDATE bulletin_receipts SET state = 'received'"))
    with pytest.raises(IntegrityError):
        _decide(centre_tree, decisions.accept, bulletin, "bt-TANLAP")


def test_only_the_receiving_communes_editors_decide_and_a_decision_is_final(centre_tree):
    piece = _piece(centre_tree)
    bulletin = _send(centre_tree, piece, to=("TANLAP", "HOABINH"))
    with pytest.raises(NotFound):  # not sent there
        _decide(centre_tree, decisions.accept, bulletin, "bt-PHUXUAN")
    with pytest.raises(NotFound):  # the district above is not the receiving centre
        _decide(centre_tree, decisions.accept, bulletin, "bt-DONG")
    from content.errors import InputError

    with pytest.raises(InputError):
        _decide(centre_tree, decisions.decline, bulletin, "bt-HOABINH", reason="  ")
    assert _decide(centre_tree, decisions.decline, bulletin, "dd-HOABINH", reason="Trùng nội dung") == "declined"
    with pytest.raises(StateError):
        _decide(centre_tree, decisions.accept, bulletin, "bt-HOABINH")
    assert _decide(centre_tree, decisions.accept, bulletin, "bt-TANLAP") == "accepted"
    with unit_of_work(centre_tree.services.sessions) as session:
        actions = [(e.action, e.actor, e.details.get("centre")) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("bulletin.%")).order_by(AuditEvent.id))]
    assert actions == [("bulletin.send", "bt-TINH", None), ("bulletin.decline", "dd-HOABINH", "HOABINH"),
                       ("bulletin.accept", "bt-TANLAP", "TANLAP")]
    assert "audit log intact" in centre_tree.cli("audit", "verify").stdout


def test_a_centre_that_appraises_accepts_only_what_its_board_passed(centre_tree):
    centres = centre_tree.config_dir / "centres.toml"
    centres.write_text(centres.read_text(encoding="utf-8").replace(
        'name = "Đài xã Tân Lập"', 'name = "Đài xã Tân Lập"\nappraisal = true'), encoding="utf-8")
    from loa.settings import load_settings
    from loa.wiring import open_services

    services = open_services(load_settings(centre_tree.config_dir, env={
        "LOA_DATABASE_URL": str(centre_tree.services.engine.url.render_as_string(hide_password=False))}),
        now=centre_tree.services.now())
    services.init()
    services.close()
    with unit_of_work(centre_tree.services.sessions) as session:
        add_user(session, "tdv-TANLAP", "appraiser", now=centre_tree.services.now(), centre="TANLAP")
    first, second = _piece(centre_tree), _piece(centre_tree)
    passed, failed = _send(centre_tree, first, to=("TANLAP",)), _send(centre_tree, second, to=("TANLAP",))
    with pytest.raises(StateError):
        _decide(centre_tree, decisions.accept, passed, "bt-TANLAP")
    with pytest.raises(NotAllowed):  # an editor is not the board
        _decide(centre_tree, decisions.appraise, passed, "bt-TANLAP", passed=True)
    assert _decide(centre_tree, decisions.appraise, passed, "tdv-TANLAP", passed=True) == "appraised"
    assert _decide(centre_tree, decisions.accept, passed, "bt-TANLAP") == "accepted"
    assert _decide(centre_tree, decisions.appraise, failed, "tdv-TANLAP", passed=False,
                   note="Nội dung không phù hợp địa bàn") == "declined"
    with unit_of_work(centre_tree.services.sessions) as session:
        receipt = session.scalar(select(BulletinReceipt).where(BulletinReceipt.bulletin_id == failed))
        assert (receipt.reason, receipt.appraised_by) == ("Nội dung không phù hợp địa bàn", "tdv-TANLAP")
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "bulletin.appraise")) is not None


def test_sending_down_at_emergency_level_issues_an_emergency_to_the_communes_stations(centre_tree):
    piece = _piece(centre_tree)
    with pytest.raises(NotAllowed):  # an editor lacks the emergency right
        _send(centre_tree, piece, to=("TAY",), level="emergency")
    with unit_of_work(centre_tree.services.sessions) as session:
        assert session.scalar(select(Bulletin.id)) is None  # nothing half-sent
    bulletin = _send(centre_tree, piece, to=("TAY",), level="emergency", by="dd-TINH")
    with unit_of_work(centre_tree.services.sessions) as session:
        sent = session.get(Bulletin, bulletin)
        emergency = session.get(Emergency, sent.emergency_id)
        assert emergency.state == "active" and sorted(emergency.stations) == ["99021", "99022"]
        assert emergency.text == BODY
        assert {r.state for r in sent.receipts} == {"alerted"}


def test_a_commune_schedules_a_bulletin_into_chosen_programs_where_it_stays_pinned(centre_tree):
    services = centre_tree.services
    with unit_of_work(services.sessions) as session:  # the commune's own piece gives it an afternoon program
        now = services.now()
        own = pieces.add_piece(session, pieces.PieceContent("Họp thôn", "Họp thôn tối thứ Năm tại nhà văn hóa.",
                                                            channels=("loudspeaker",)),
                               author=_user(session, "bt-TANLAP"), now=now)
        pieces.submit(session, own.id, actor=_user(session, "bt-TANLAP"), now=now)
        pieces.approve(session, own.id, actor=_user(session, "dd-TANLAP"), now=now)
    services.plan(days=1)
    from scheduler.models import Airing, Delivery, Station

    with unit_of_work(services.sessions) as session:
        program = session.scalar(select(Delivery.id).join(Station).where(Station.code == "99011",
                                                                         Delivery.slot_name == "chieu"))
        elsewhere = session.scalar(select(Delivery.id).join(Station).where(Station.code != "99011"))
    piece = _piece(centre_tree)
    bulletin = _send(centre_tree, piece, to=("TANLAP",))
    services.plan(days=1)  # as the live loop does after the approval: its speech is rendered
    from content.errors import NotAllowed as Refused

    if elsewhere is not None:
        with pytest.raises(Refused):  # not a program of the commune's stations
            _decide(centre_tree, decisions.accept, bulletin, "bt-TANLAP", programs=[elsewhere])
    assert _decide(centre_tree, decisions.accept, bulletin, "bt-TANLAP", programs=[program]) == "scheduled"
    services.plan(days=1)
    with unit_of_work(services.sessions) as session:
        pinned = session.scalar(select(Airing).where(Airing.delivery_id == program, Airing.piece_id == piece))
        assert pinned is not None and pinned.pinned and not pinned.removed and pinned.held is None
        assert pinned.seconds > 0  # the length of its speech, rendered after its approval
