"""Issue 19: the ``loa bulletin`` commands name their own options in an error (``--reason``), not the web form's
field names (``reason``)."""

from __future__ import annotations

from sqlalchemy import select

from content import pieces
from content.db import unit_of_work
from content.models import User
from scheduler.bulletins import sending


def _sent_down(tree) -> int:
    services = tree.services
    with unit_of_work(services.sessions) as session:
        def user(name):
            return session.scalar(select(User).where(User.name == name))

        now = services.now()
        content = pieces.PieceContent("Lịch cắt điện", "Tỉnh thông báo lịch cắt điện tuần này.",
                                      channels=("loudspeaker",))
        piece = pieces.add_piece(session, content, author=user("bt-TINH"), now=now)
        pieces.submit(session, piece.id, actor=user("bt-TINH"), now=now)
        pieces.approve(session, piece.id, actor=user("dd-TINH"), now=now)
        return sending.send(session, piece.id, ["DONG"], level="normal", actor=user("bt-TINH"), now=now).id


def test_declining_without_a_reason_names_the_reason_option(centre_tree):
    bulletin = _sent_down(centre_tree)
    refused = centre_tree.cli("bulletin", "decline", str(bulletin), user="bt-HOABINH", ok=False)
    assert refused.exit_code == 2
    assert "--reason:" in refused.stderr and "Traceback" not in refused.stderr


def test_sending_to_an_unknown_centre_names_the_to_option(centre_tree):
    bulletin = _sent_down(centre_tree)
    with unit_of_work(centre_tree.services.sessions) as session:
        from content.bulletin_models import Bulletin

        piece = session.get(Bulletin, bulletin).piece_id
    refused = centre_tree.cli("bulletin", "send", str(piece), "--to", "KHONGCO", user="bt-TINH", ok=False)
    assert refused.exit_code == 2
    assert "--to:" in refused.stderr and "KHONGCO" in refused.stderr


def test_the_bulletin_commands_speak_vietnamese_unless_asked_for_english(centre_tree, monkeypatch):
    """The inbox, a decision and a bulletin's status read in the reader's language (they used to be Vietnamese
    whatever ``--lang`` said)."""
    monkeypatch.setenv("COLUMNS", "250")
    cli = centre_tree.cli
    bulletin = _sent_down(centre_tree)
    inbox = cli("bulletin", "inbox", user="bt-HOABINH", lang=None).stdout
    for words in ("Bản tin cấp trên (1)", "Số", "Tiêu đề", "Mức độ", "Từ trung tâm", "Gửi lúc", "Trạng thái",
                  "Lịch cắt điện", "Thông thường", "đã nhận"):
        assert words in inbox, (words, inbox)
    english = cli("bulletin", "inbox", user="bt-HOABINH", lang="en").stdout
    assert "Bulletins from above (1)" in english and "received" in english and "Bản tin" not in english
    declined = cli("bulletin", "decline", str(bulletin), "--reason", "Đã phát tuần trước", user="bt-HOABINH",
                   lang=None).stdout
    assert declined == f"Đã từ chối bản tin {bulletin}.\n"
    status = cli("bulletin", "status", str(bulletin), user="bt-TINH", lang="en").stdout
    assert f"Bulletin {bulletin}: Lịch cắt điện (normal), sent by bt-TINH" in status and "by commune" in status
    assert "theo xã" in cli("bulletin", "status", str(bulletin), user="bt-TINH", lang=None).stdout
