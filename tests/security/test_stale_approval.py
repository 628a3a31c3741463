"""Approving text never seen: an editor swaps the body between the approver opening the piece and clicking
"Duyệt"; the approval names the revision that was read, so the swap is refused, through the form and the API."""

from __future__ import annotations

from sqlalchemy import func, select

from content.db import unit_of_work
from content.models import AuditEvent, Piece, Review

from servers.web import csrf_of, seen_of

SWAPPED = "Nội dung bị tráo sau khi người duyệt đã mở bài."


def _swap(web, piece: int) -> None:
    """The editor's move, through the API as any editor could: a new body, sent for review again."""
    lan, api = web.token("lan"), web.client()
    assert api.patch(f"/api/pieces/{piece}", headers=lan, json={"body": SWAPPED}).status_code == 200
    assert api.post(f"/api/pieces/{piece}/submit", headers=lan).json()["state"] == "submitted"


def _decisions(web, piece: int) -> tuple[str, int]:
    with unit_of_work(web.services.sessions) as session:
        state = session.get(Piece, piece).state
        reviews = session.scalar(select(func.count()).select_from(Review))
        approvals = session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "piece.approve", AuditEvent.subject == f"piece:{piece}"))
        return state, reviews + approvals


def test_the_approve_form_opened_before_an_edit_is_refused_with_the_changes_shown(web):
    piece = web.piece(submitted=True)
    hung = web.client("hung")
    page = hung.get(f"/pieces/{piece}").text  # the approver opens the piece ...
    _swap(web, piece)  # ... the editor swaps the body and resubmits ...
    response = hung.post(f"/pieces/{piece}/approve",  # ... and the approver clicks "Duyệt" on the old page
                         data={"csrf": csrf_of(page), "note": "Đạt", **seen_of(page)})
    assert response.status_code == 409
    assert "đã thay đổi từ khi bạn mở" in response.text and "phiên bản 1" in response.text
    assert SWAPPED in response.text  # the diff shows the new text
    assert _decisions(web, piece) == ("submitted", 0)
    # Read again, the new revision can be approved.
    fresh = hung.get(f"/pieces/{piece}").text
    assert hung.post(f"/pieces/{piece}/approve", data={"csrf": csrf_of(fresh), **seen_of(fresh)}).status_code == 303
    assert _decisions(web, piece)[0] == "approved"


def test_a_form_that_does_not_name_the_revision_is_refused(web):
    piece = web.piece(submitted=True)
    hung = web.client("hung")
    page = hung.get(f"/pieces/{piece}").text
    response = hung.post(f"/pieces/{piece}/approve", data={"csrf": csrf_of(page), "note": "Đạt"})
    assert response.status_code == 400 and "revision_id" in response.text
    assert _decisions(web, piece) == ("submitted", 0)


def test_the_api_refuses_an_approval_of_a_revision_that_is_no_longer_current_with_409_and_the_diff(web):
    piece = web.piece(submitted=True)
    api, hung = web.client(), web.token("hung")
    seen = api.get(f"/api/pieces/{piece}", headers=hung).json()
    _swap(web, piece)
    for decision, note in (("approve", ""), ("reject", "Chưa đạt")):
        response = api.post(f"/api/review/{piece}/{decision}", headers=hung,
                            json={"note": note, "revision_id": seen["revision_id"], "sha256": seen["sha256"]})
        assert response.status_code == 409, response.text
        body = response.json()
        assert "đã thay đổi từ khi bạn mở" in body["detail"]
        assert body["revision"] == 2 and body["sha256"] != seen["sha256"]
        assert f"+{SWAPPED}" in body["diff"]
    assert _decisions(web, piece) == ("submitted", 0)
    current = api.get(f"/api/pieces/{piece}", headers=hung).json()
    forged_sha = api.post(f"/api/review/{piece}/approve", headers=hung,  # the right id with another hash
                          json={"revision_id": current["revision_id"], "sha256": seen["sha256"]})
    assert forged_sha.status_code == 409
    approved = api.post(f"/api/review/{piece}/approve", headers=hung,
                        json={"revision_id": current["revision_id"], "sha256": current["sha256"]})
    assert approved.status_code == 200 and approved.json()["state"] == "approved"


def test_the_cli_refuses_an_approval_whose_sha_is_no_longer_current(cli):
    from e2e.e2e_support import APPROVER, EDITOR, add_piece, at, setup_accounts

    now = at("07:00")
    setup_accounts(cli, now)
    piece = add_piece(cli, "Lịch họp dân", "Họp dân lúc 19 giờ tại nhà văn hóa.", now)
    cli("piece", "submit", str(piece), now=now, user=EDITOR)
    seen = cli.json("piece", "show", str(piece), now=now)["sha256"]
    cli("piece", "edit", str(piece), "--body", SWAPPED, now=now, user=EDITOR)
    cli("piece", "submit", str(piece), now=now, user=EDITOR)
    refused = cli("piece", "approve", str(piece), "--sha", seen, now=now, user=APPROVER, ok=False)
    assert refused.exit_code == 5 and "changed since it was opened" in refused.stderr
    assert cli.json("piece", "show", str(piece), now=now)["state"] == "submitted"
    current = cli.json("piece", "show", str(piece), now=now)["sha256"]
    cli("piece", "approve", str(piece), "--sha", current, now=now, user=APPROVER)
    assert cli.json("piece", "show", str(piece), now=now)["state"] == "approved"
