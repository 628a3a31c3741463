"""The review workflow of pieces: drafts, revisions, hashes, approvals, and what may air."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from content.db import unit_of_work
from content.errors import InputError, IntegrityError, NotAllowed, StateError
from content.models import Review, Revision, User
from content.pieces import (
    PieceContent,
    add_piece,
    airable_revisions,
    approve,
    check_airable,
    content_hash,
    edit_piece,
    get_piece,
    reject,
    retire,
    submit,
)
from content.users import add_user

from conftest import MONDAY

NOW = MONDAY
#: Validity times in tests that are not about time zones are given in UTC (see the zone test below).
NOW_UTC = MONDAY.astimezone(UTC)
TITLE = "Thông báo lịch tiêm chủng mở rộng"
BODY = "Trạm y tế xã tổ chức tiêm chủng cho trẻ em vào sáng thứ Bảy, ngày 28/11/2026."


@dataclass
class People:
    editor: User
    approver: User
    second_approver: User


class Desk:
    """Runs each workflow step in its own unit of work, as one CLI command or web request does."""

    def __init__(self, services) -> None:
        self.services = services

    def __call__(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with unit_of_work(self.services.sessions) as session:
            return action(session, *args, **kwargs)


@pytest.fixture
def people(services) -> People:
    with unit_of_work(services.sessions) as session:
        return People(
            editor=add_user(session, "bien-tap", "editor", now=NOW),
            approver=add_user(session, "duyet-1", "approver", now=NOW),
            second_approver=add_user(session, "duyet-2", "approver", now=NOW),
        )


@pytest.fixture
def desk(services, people) -> Desk:
    return Desk(services)


def content(**changes) -> PieceContent:
    return replace(PieceContent(title=TITLE, body=BODY), **changes)


def add(desk: Desk, author: User, **changes) -> int:
    return desk(add_piece, content(**changes), author=author, now=NOW).id


def approved_piece(desk: Desk, people: People, **changes) -> int:
    piece_id = add(desk, people.editor, **changes)
    desk(submit, piece_id, actor=people.editor, now=NOW)
    desk(approve, piece_id, actor=people.approver, now=NOW)
    return piece_id


def piece_of(desk: Desk, piece_id: int):
    return desk(get_piece, piece_id)


def revision_of(desk: Desk, revision_id: int) -> Revision:
    return desk(lambda session: session.get(Revision, revision_id))


def airable(desk: Desk) -> list[int]:
    return [revision.id for revision in desk(airable_revisions)]


# --- adding ------------------------------------------------------------------------------------

def test_add_makes_a_draft_with_revision_1_and_its_hash(desk, people) -> None:
    piece = piece_of(desk, add(desk, people.editor))
    revision = revision_of(desk, piece.current_revision_id)
    assert piece.state == "draft"
    assert revision.number == 1
    assert revision.sha256 == content_hash(content().checked())
    assert len(revision.sha256) == 64 and int(revision.sha256, 16) >= 0
    assert piece.approved_revision_id is None
    assert airable(desk) == []


def test_title_and_body_are_stored_in_nfc(desk, people) -> None:
    nfd_title, nfd_body = unicodedata.normalize("NFD", TITLE), unicodedata.normalize("NFD", BODY)
    assert nfd_title != TITLE
    piece_id = desk(add_piece, PieceContent(title=f"  {nfd_title} ", body=nfd_body), author=people.editor,
                    now=NOW).id
    revision = revision_of(desk, piece_of(desk, piece_id).current_revision_id)
    assert (revision.title, revision.body) == (TITLE, BODY)
    assert revision.sha256 == content_hash(content().checked())


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": "  "}, "title"),
    ({"body": ""}, "body"),
    ({"body": " \n\t "}, "body"),
    ({"title": "T" * 301}, "title"),
    ({"priority": 0}, "priority"),
    ({"priority": 10}, "priority"),
    ({"channels": ("loudspeaker", "radio")}, "channels"),
    ({"channels": ()}, "channels"),
    ({"valid_from": NOW, "valid_until": NOW - timedelta(days=1)}, "valid_until"),
    ({"valid_from": NOW, "valid_until": NOW}, "valid_until"),
    ({"valid_from": NOW.replace(tzinfo=None)}, "valid_from"),
    ({"level": "urgent"}, "level"),
    ({"level": "Priority"}, "level"),
])
def test_bad_content_is_refused_naming_the_field(desk, people, changes, field) -> None:
    with pytest.raises(InputError) as caught:
        add(desk, people.editor, **changes)
    assert caught.value.where == field
    assert str(caught.value).startswith(f"{field}:")


CHANGES = [
    {"title": "Thông báo lịch tiêm chủng (sửa)"},
    {"body": BODY + " Mang theo sổ tiêm."},
    {"campaign": "guong-dien-hinh"},
    {"channels": ("loudspeaker",)},
    {"valid_from": NOW_UTC + timedelta(days=1)},
    {"valid_until": NOW_UTC + timedelta(days=5)},
    {"priority": 8},
    {"level": "priority"},
    {"level": "emergency"},
    {"slogan": True},
    {"audio_sha256": "a" * 64},
    {"image_sha256": "b" * 64},
]


@pytest.mark.parametrize("changes", CHANGES, ids=lambda c: next(iter(c)))
def test_hash_changes_when_any_field_changes(desk, people, changes) -> None:
    piece_id = add(desk, people.editor)
    before = revision_of(desk, piece_of(desk, piece_id).current_revision_id)
    revision = desk(edit_piece, piece_id, changes, actor=people.editor, now=NOW)
    assert revision.number == 2
    assert revision.sha256 != before.sha256
    assert revision.sha256 == content_hash(replace(content(), **changes).checked())


def test_edit_that_changes_nothing_is_refused(desk, people) -> None:
    piece_id = add(desk, people.editor)
    with pytest.raises(InputError, match="nothing changed"):
        desk(edit_piece, piece_id, {"title": f" {TITLE} "}, actor=people.editor, now=NOW)


# --- review --------------------------------------------------------------------------------------

def test_submit_then_approve_by_another_approver_records_the_approved_hash(desk, people) -> None:
    piece_id = add(desk, people.editor)
    assert desk(submit, piece_id, actor=people.editor, now=NOW).state == "submitted"
    approved = desk(approve, piece_id, actor=people.approver, now=NOW, note=" ok ")
    revision = revision_of(desk, approved.current_revision_id)
    assert approved.state == "approved"
    assert approved.approved_revision_id == revision.id
    assert approved.approved_sha256 == revision.sha256
    review = desk(lambda session: session.scalar(select(Review).where(Review.revision_id == revision.id)))
    assert (review.decision, review.reviewer_id, review.sha256, review.note) == (
        "approved", people.approver.id, revision.sha256, "ok")
    assert airable(desk) == [revision.id]


def test_author_cannot_approve_even_as_approver_but_another_approver_can(desk, people) -> None:
    piece_id = add(desk, people.approver)
    desk(submit, piece_id, actor=people.approver, now=NOW)
    with pytest.raises(NotAllowed, match="duyet-1"):
        desk(approve, piece_id, actor=people.approver, now=NOW)
    assert piece_of(desk, piece_id).state == "submitted"
    assert desk(approve, piece_id, actor=people.second_approver, now=NOW).state == "approved"


def test_approver_who_wrote_the_new_revision_cannot_approve_it(desk, people) -> None:
    piece_id = approved_piece(desk, people)
    desk(edit_piece, piece_id, {"priority": 9}, actor=people.approver, now=NOW)
    desk(submit, piece_id, actor=people.editor, now=NOW)
    with pytest.raises(NotAllowed):
        desk(approve, piece_id, actor=people.approver, now=NOW)
    assert desk(approve, piece_id, actor=people.second_approver, now=NOW).state == "approved"


def test_editor_role_cannot_approve(desk, people) -> None:
    other = desk(add_user, "bien-tap-2", "editor", now=NOW)
    piece_id = add(desk, people.editor)
    desk(submit, piece_id, actor=people.editor, now=NOW)
    with pytest.raises(NotAllowed, match="approver"):
        desk(approve, piece_id, actor=other, now=NOW)
    assert piece_of(desk, piece_id).state == "submitted"


@pytest.mark.parametrize("decide", [
    lambda s, pid, actor: approve(s, pid, actor=actor, now=NOW),
    lambda s, pid, actor: reject(s, pid, actor=actor, now=NOW, note="sai chính tả"),
], ids=["approve", "reject"])
def test_deciding_on_a_draft_is_a_state_error(desk, people, decide) -> None:
    piece_id = add(desk, people.editor)
    with pytest.raises(StateError, match="draft"):
        desk(decide, piece_id, people.approver)


def test_approving_twice_is_a_state_error(desk, people) -> None:
    piece_id = approved_piece(desk, people)
    with pytest.raises(StateError):
        desk(approve, piece_id, actor=people.second_approver, now=NOW)


@pytest.mark.parametrize("note", ["", "   "])
def test_reject_needs_a_note(desk, people, note) -> None:
    piece_id = add(desk, people.editor)
    desk(submit, piece_id, actor=people.editor, now=NOW)
    with pytest.raises(InputError) as caught:
        desk(reject, piece_id, actor=people.approver, now=NOW, note=note)
    assert caught.value.where == "note"
    assert piece_of(desk, piece_id).state == "submitted"


def test_rejected_piece_goes_back_with_the_note_and_can_be_resubmitted(desk, people) -> None:
    piece_id = add(desk, people.editor)
    desk(submit, piece_id, actor=people.editor, now=NOW)
    rejected = desk(reject, piece_id, actor=people.approver, now=NOW, note=" Thiếu nguồn tin ")
    assert rejected.state == "rejected" and rejected.approved_revision_id is None
    assert desk(lambda s: s.scalar(select(Review.note).where(Review.decision == "rejected"))) == "Thiếu nguồn tin"
    assert airable(desk) == []
    desk(edit_piece, piece_id, {"body": BODY + " Nguồn: Trạm y tế xã."}, actor=people.editor, now=NOW)
    assert desk(submit, piece_id, actor=people.editor, now=NOW).state == "submitted"


def test_piece_with_a_validity_window_in_local_time_can_be_approved(desk, people) -> None:
    """Editors give dates in the configured zone (``--valid-until 2026-12-01``); approval must work."""
    piece_id = add(desk, people.editor, valid_from=NOW, valid_until=NOW + timedelta(days=7))
    desk(submit, piece_id, actor=people.editor, now=NOW)
    approved = desk(approve, piece_id, actor=people.approver, now=NOW)
    assert approved.state == "approved"
    assert desk(check_airable, approved.approved_revision_id, NOW) is None


def test_edit_and_review_in_one_unit_of_work_approve_the_new_revision(services, people) -> None:
    """A web request may edit, submit and review in one transaction: the revision reviewed is the
    current one, so its writer cannot approve it and approving it makes it the aired one."""
    with unit_of_work(services.sessions) as session:
        piece = add_piece(session, content(), author=people.editor, now=NOW)
        submit(session, piece.id, actor=people.editor, now=NOW)
        approve(session, piece.id, actor=people.approver, now=NOW)
        second = edit_piece(session, piece.id, {"priority": 9}, actor=people.editor, now=NOW)
        submit(session, piece.id, actor=people.editor, now=NOW)
        approve(session, piece.id, actor=people.approver, now=NOW)
        assert piece.approved_revision_id == second.id
        assert [revision.id for revision in airable_revisions(session)] == [second.id]


# --- revisions and what may air -------------------------------------------------------------------

def test_editing_an_approved_piece_keeps_the_approved_revision_airing(desk, people) -> None:
    piece_id = approved_piece(desk, people)
    first_id = piece_of(desk, piece_id).approved_revision_id
    second = desk(edit_piece, piece_id, {"body": BODY + " Cập nhật."}, actor=people.editor, now=NOW)
    piece = piece_of(desk, piece_id)
    assert (second.number, piece.state) == (2, "draft")
    assert piece.current_revision_id == second.id
    assert piece.approved_revision_id == first_id
    assert airable(desk) == [first_id]
    assert desk(check_airable, first_id, NOW) is None
    assert "not the approved one" in desk(check_airable, second.id, NOW)

    desk(submit, piece_id, actor=people.editor, now=NOW)
    desk(approve, piece_id, actor=people.approver, now=NOW)
    assert airable(desk) == [second.id]
    assert desk(check_airable, second.id, NOW) is None
    assert "not the approved one" in desk(check_airable, first_id, NOW)
    assert revision_of(desk, first_id).body == BODY  # what was approved was never changed in place


def test_rejecting_a_new_revision_keeps_the_approved_one_airing(desk, people) -> None:
    piece_id = approved_piece(desk, people)
    first_id = piece_of(desk, piece_id).approved_revision_id
    desk(edit_piece, piece_id, {"title": "Tiêu đề mới"}, actor=people.editor, now=NOW)
    desk(submit, piece_id, actor=people.editor, now=NOW)
    desk(reject, piece_id, actor=people.approver, now=NOW, note="Chưa đúng")
    assert airable(desk) == [first_id]


def test_retired_pieces_are_not_airable_and_cannot_be_edited(desk, people) -> None:
    piece_id = approved_piece(desk, people)
    revision_id = piece_of(desk, piece_id).approved_revision_id
    keep_id = approved_piece(desk, people, title="Tin khác")
    desk(retire, piece_id, actor=people.editor, now=NOW, note="hết hạn")
    assert [r.piece_id for r in desk(airable_revisions)] == [keep_id]
    assert "retired" in desk(check_airable, revision_id, NOW)
    with pytest.raises(StateError, match="retired"):
        desk(edit_piece, piece_id, {"priority": 9}, actor=people.editor, now=NOW)
    with pytest.raises(StateError):
        desk(retire, piece_id, actor=people.editor, now=NOW)


def test_expired_revision_gets_a_reason(desk, people) -> None:
    until = NOW_UTC + timedelta(days=1)
    piece_id = approved_piece(desk, people, valid_until=until)
    revision_id = piece_of(desk, piece_id).approved_revision_id
    assert desk(check_airable, revision_id, NOW) is None
    assert desk(check_airable, revision_id, until - timedelta(seconds=1)) is None
    assert "expired" in desk(check_airable, revision_id, until)
    assert "expired" in desk(check_airable, revision_id, until + timedelta(days=3))


def test_unknown_revision_gets_a_reason(desk) -> None:
    assert "no longer exists" in desk(check_airable, 999_999, NOW)


@pytest.mark.parametrize(("column", "value"), [
    ("body", "Nội dung đã bị sửa trực tiếp trong cơ sở dữ liệu."),
    ("title", "Tiêu đề khác"),
    ("priority", 9),
    ("level", "priority"),
    ("level", "emergency"),
    ("slogan", True),
    ("channels", '["loudspeaker"]'),
])
def test_revision_changed_in_the_database_after_approval_is_refused(desk, people, column, value) -> None:
    piece_id = approved_piece(desk, people)
    revision_id = piece_of(desk, piece_id).approved_revision_id
    assert desk(check_airable, revision_id, NOW) is None
    desk(lambda s: s.execute(text(f"UPDATE revisions SET {column} = :value WHERE id = :id"),
                             {"value": value, "id": revision_id}))
    with pytest.raises(IntegrityError, match="altered"):
        desk(check_airable, revision_id, NOW)


@pytest.mark.parametrize("value", ["normal", "emergency"])
def test_a_priority_piece_whose_level_is_changed_in_the_database_is_refused(desk, people, value) -> None:
    """The level is part of what the approval covers: it decides what airs first, or whether it is planned."""
    piece_id = approved_piece(desk, people, level="priority")
    revision_id = piece_of(desk, piece_id).approved_revision_id
    assert desk(check_airable, revision_id, NOW) is None
    desk(lambda s: s.execute(text("UPDATE revisions SET level = :value WHERE id = :id"),
                             {"value": value, "id": revision_id}))
    with pytest.raises(IntegrityError, match="altered"):
        desk(check_airable, revision_id, NOW)


def test_revision_changed_before_approval_cannot_be_approved(desk, people) -> None:
    piece_id = add(desk, people.editor)
    revision_id = desk(submit, piece_id, actor=people.editor, now=NOW).current_revision_id
    desk(lambda s: s.execute(text("UPDATE revisions SET body = 'Khác' WHERE id = :id"), {"id": revision_id}))
    with pytest.raises(IntegrityError):
        desk(approve, piece_id, actor=people.approver, now=NOW)
    assert piece_of(desk, piece_id).state == "submitted"
