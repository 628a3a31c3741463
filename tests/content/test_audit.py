"""The audit log: every workflow action is an entry, and any change to the chain is found."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from content import audit
from content.db import Base, make_engine, session_factory, unit_of_work
from content.models import AuditEvent
from content.pieces import PieceContent, add_piece, approve, edit_piece, reject, retire, submit
from content.users import add_user

from conftest import MONDAY, ZONE

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture
def log(tmp_path: Path):
    """A fresh database holding five entries written with UTC times."""
    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    Base.metadata.create_all(engine)
    factory = session_factory(engine)
    with unit_of_work(factory) as session:
        for n in range(1, 6):
            audit.record(session, actor=f"user-{n}", action="piece.edit", subject=f"piece:{n}",
                         at=T0 + timedelta(minutes=n), details={"revision": n, "title": f"Tin số {n}"})
    yield factory
    engine.dispose()


def verify(factory) -> audit.ChainReport:
    with unit_of_work(factory) as session:
        return audit.verify(session)


def sql(factory, statement: str, **params) -> None:
    with unit_of_work(factory) as session:
        session.execute(text(statement), params)


# --- the chain itself ----------------------------------------------------------------------------

def test_untouched_log_verifies(log) -> None:
    report = verify(log)
    assert report.ok and report.broken_at is None
    assert report.checked == 5


def test_entries_chain_to_the_one_before(log) -> None:
    with unit_of_work(log) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.id for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))


def test_entries_written_with_the_local_clock_verify(log) -> None:
    """The clock of loa runs in the configured zone; its entries must verify after a round trip."""
    with unit_of_work(log) as session:
        audit.record(session, actor="system", action="plan.change", subject="plan", at=MONDAY)
    assert MONDAY.tzinfo == ZONE
    report = verify(log)
    assert report.ok, report.reason
    assert report.checked == 6


def forge(factory) -> None:
    with unit_of_work(factory) as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        session.execute(text(
            "INSERT INTO audit_events (id, at, actor, action, subject, details, prev_hash, hash) "
            "VALUES (:id, :at, 'admin', 'piece.approve', 'piece:1', '{}', :prev, :hash)"),
            {"id": last.id + 1, "at": "2026-11-23 02:00:00.000000", "prev": last.hash,
             "hash": hashlib.sha256(b"forged").hexdigest()})


def rehash_after_edit(factory) -> None:
    """Change entry 2 and give it a hash that matches its new content: the next link breaks."""
    with unit_of_work(factory) as session:
        event = session.get(AuditEvent, 2)
        event.actor = "someone-else"
        event.hash = hashlib.sha256(audit.canonical(event)).hexdigest()


TAMPERING = [
    pytest.param(lambda f: sql(f, "UPDATE audit_events SET details = '{\"revision\": 99}' WHERE id = 3"), 3, 2,
                 "changed", id="details-edited"),
    pytest.param(lambda f: sql(f, "UPDATE audit_events SET actor = 'admin' WHERE id = 2"), 2, 1, "changed",
                 id="actor-edited"),
    pytest.param(lambda f: sql(f, "UPDATE audit_events SET at = '2020-01-01 00:00:00.000000' WHERE id = 4"), 4, 3,
                 "changed", id="time-edited"),
    pytest.param(lambda f: sql(f, "DELETE FROM audit_events WHERE id = 3"), 4, 2, "entry 3 is missing",
                 id="row-deleted"),
    pytest.param(lambda f: sql(f, "DELETE FROM audit_events WHERE id = 1"), 2, 0, "entry 1 is missing",
                 id="first-row-deleted"),
    pytest.param(forge, 6, 5, "changed", id="forged-row-inserted"),
    pytest.param(lambda f: sql(f, "UPDATE audit_events SET prev_hash = :h WHERE id = 5", h="0" * 64), 5, 4,
                 "does not link", id="link-edited"),
    pytest.param(rehash_after_edit, 3, 2, "does not link", id="edited-and-rehashed"),
]


@pytest.mark.parametrize(("tamper", "broken_at", "checked", "reason"), TAMPERING)
def test_tampering_is_found_at_the_first_broken_entry(log, tamper, broken_at: int, checked: int,
                                                      reason: str) -> None:
    tamper(log)
    report = verify(log)
    assert not report.ok
    assert report.broken_at == broken_at
    assert report.checked == checked
    assert reason in report.reason


def test_any_utc_entries_verify(tmp_path: Path) -> None:
    """Whatever text and details an entry holds, the chain verifies after a database round trip."""
    engine = make_engine(f"sqlite:///{tmp_path / 'prop.db'}")
    Base.metadata.create_all(engine)
    factory = session_factory(engine)
    words = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
    values = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), words)

    @hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(actor=words, action=words, details=st.dictionaries(words, values, max_size=5),
           at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
    def check(actor: str, action: str, details: dict, at: datetime) -> None:
        with unit_of_work(factory) as session:
            audit.record(session, actor=actor, action=action, subject="piece:1", at=at.replace(tzinfo=UTC),
                         details=details)
        report = verify(factory)
        assert report.ok, report.reason

    try:
        check()
    finally:
        engine.dispose()


# --- the workflow writes the log --------------------------------------------------------------------

@pytest.fixture
def people(services):
    with unit_of_work(services.sessions) as session:
        return (add_user(session, "bien-tap", "editor", now=MONDAY),
                add_user(session, "duyet", "approver", now=MONDAY))


def run_steps(services, steps) -> None:
    """Each step in its own unit of work, as one command or request each."""
    for step in steps:
        with unit_of_work(services.sessions) as session:
            step(session)


def piece_events(services) -> list[tuple[str, str, str]]:
    with unit_of_work(services.sessions) as session:
        return [(e.actor, e.action, e.subject) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.subject == "piece:1").order_by(AuditEvent.id))]


@pytest.fixture
def workflow(services, people):
    """A piece taken through add, submit, approve, edit, submit, approve and retire."""
    editor, approver = people
    run_steps(services, [
        lambda s: add_piece(s, PieceContent("Thông báo", "Nội dung thông báo."), author=editor, now=MONDAY),
        lambda s: submit(s, 1, actor=editor, now=MONDAY),
        lambda s: approve(s, 1, actor=approver, now=MONDAY),
        lambda s: edit_piece(s, 1, {"priority": 8}, actor=editor, now=MONDAY),
        lambda s: submit(s, 1, actor=editor, now=MONDAY),
        lambda s: approve(s, 1, actor=approver, now=MONDAY),
        lambda s: retire(s, 1, actor=approver, now=MONDAY, note="Hết hạn"),
    ])
    return services


def test_every_workflow_action_is_audited_with_actor_action_and_subject(workflow) -> None:
    assert piece_events(workflow) == [
        ("bien-tap", "piece.create", "piece:1"),
        ("bien-tap", "piece.submit", "piece:1"),
        ("duyet", "piece.approve", "piece:1"),
        ("bien-tap", "piece.edit", "piece:1"),
        ("bien-tap", "piece.submit", "piece:1"),
        ("duyet", "piece.approve", "piece:1"),
        ("duyet", "piece.retire", "piece:1"),
    ]


def test_audit_details_record_what_was_decided(workflow) -> None:
    with unit_of_work(workflow.sessions) as session:
        events = {e.action: e.details for e in session.scalars(
            select(AuditEvent).where(AuditEvent.subject == "piece:1").order_by(AuditEvent.id))}
    assert events["piece.create"]["revision"] == 1
    assert events["piece.edit"]["revision"] == 2 and events["piece.edit"]["changed"] == ["priority"]
    assert events["piece.approve"]["sha256"] == events["piece.edit"]["sha256"]
    assert events["piece.retire"]["note"] == "Hết hạn"


def test_user_creation_is_audited(workflow) -> None:
    with unit_of_work(workflow.sessions) as session:
        rows = session.execute(select(AuditEvent.actor, AuditEvent.details)
                               .where(AuditEvent.action == "user.create").order_by(AuditEvent.id)).all()
    assert [(actor, details["name"], details["role"]) for actor, details in rows] == [
        ("system", "bien-tap", "editor"), ("system", "duyet", "approver")]


def test_rejection_is_audited_as_piece_reject_with_its_note(services, people) -> None:
    editor, approver = people
    run_steps(services, [
        lambda s: add_piece(s, PieceContent("Thông báo", "Nội dung thông báo."), author=editor, now=MONDAY),
        lambda s: submit(s, 1, actor=editor, now=MONDAY),
        lambda s: reject(s, 1, actor=approver, now=MONDAY, note="Thiếu nguồn tin"),
    ])
    assert piece_events(services)[-1] == ("duyet", "piece.reject", "piece:1")
    with unit_of_work(services.sessions) as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.details["note"] == "Thiếu nguồn tin"


def test_workflow_log_verifies(workflow) -> None:
    with unit_of_work(workflow.sessions) as session:
        report = audit.verify(session)
    assert report.ok, report.reason
    assert report.checked >= 9


# --- loa audit verify ------------------------------------------------------------------------------

@pytest.fixture
def cli_log(cli):
    cli("init")
    cli("user", "add", "bien-tap", "--role", "editor")
    cli("user", "add", "duyet", "--role", "approver")
    cli("piece", "add", "--title", "Thông báo", "--body", "Nội dung.", user="bien-tap")
    cli("piece", "submit", "1", user="bien-tap")
    cli("piece", "approve", "1", user="duyet")
    return cli


def test_cli_audit_verify_exits_zero_on_an_intact_log(cli_log) -> None:
    result = cli_log("audit", "verify", ok=False)
    assert result.exit_code == 0, result.stderr
    assert "intact" in result.stdout
    assert cli_log.json("audit", "verify")["ok"] is True


def test_cli_audit_verify_fails_on_a_tampered_log(cli_log, settings) -> None:
    engine = make_engine(settings.database_url)  # the suite's database, SQLite or PostgreSQL
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET actor = 'duyet' WHERE action = 'piece.create'"))
    engine.dispose()
    result = cli_log("audit", "verify", ok=False)
    assert result.exit_code != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("loa: error: audit log broken")
    assert "Traceback" not in result.stderr
