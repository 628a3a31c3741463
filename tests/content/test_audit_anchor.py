"""The audit log's anchors: its checkpoint finds entries cut off or added at the end, its seals find forgeries."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from content import audit
from content.db import Base, make_engine, session_factory, unit_of_work
from content.errors import ConfigError
from content.models import AuditEvent, AuditHead

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
KEY = b"khoa-bi-mat-cua-trung-tam"


def open_log(path: Path, key: bytes | None, entries: int = 5):
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    factory = keyed(engine, key)
    append(factory, entries)
    return engine, factory


def keyed(engine, key: bytes | None):
    factory = session_factory(engine)
    factory.configure(info={"audit_key": key})
    return factory


def append(factory, count: int) -> None:
    with unit_of_work(factory) as session:
        start = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
        for n in range(start + 1, start + count + 1):
            audit.record(session, actor=f"user-{n}", action="piece.edit", subject=f"piece:{n}",
                         at=T0 + timedelta(minutes=n), details={"tiêu đề": f"Tin số {n}"})


@pytest.fixture(params=[None, KEY], ids=["unkeyed", "keyed"])
def log(request, tmp_path: Path):
    engine, factory = open_log(tmp_path / "audit.db", request.param)
    yield factory
    engine.dispose()


def verify(factory) -> audit.ChainReport:
    with unit_of_work(factory) as session:
        return audit.verify(session)


def sql(factory, statement: str, **params) -> None:
    with unit_of_work(factory) as session:
        session.execute(text(statement), params)


def forge_entry(factory, *, move_head: bool) -> None:
    """Append an entry by SQL with a correct link and a correct hash, as someone who read the code would."""
    with unit_of_work(factory) as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        fake = AuditEvent(id=last.id + 1, at=T0 + timedelta(hours=5), actor="duyet", action="piece.approve",
                          subject="piece:1", details={}, prev_hash=last.hash)
        fake.hash = hashlib.sha256(audit.canonical(fake)).hexdigest()
        session.execute(text(
            "INSERT INTO audit_events (id, at, actor, action, subject, details, prev_hash, hash, seal) "
            "VALUES (:id, :at, 'duyet', 'piece.approve', 'piece:1', '{}', :prev, :hash, :seal)"),
            {"id": fake.id, "at": "2026-11-23 06:00:00.000000", "prev": last.hash, "hash": fake.hash,
             "seal": hashlib.sha256(b"a guess").hexdigest() if last.seal else None})
        if move_head:
            session.execute(text("UPDATE audit_head SET last_id = :id, last_hash = :hash"),
                            {"id": fake.id, "hash": fake.hash})


def test_the_checkpoint_names_the_last_entry(log) -> None:
    report = verify(log)
    assert report.ok, report.reason
    with unit_of_work(log) as session:
        last = session.get(AuditEvent, 5)
    assert (report.head_id, report.head_hash) == (5, last.hash)


@pytest.mark.parametrize("cut", [1, 3])
def test_entries_cut_off_the_end_are_found(log, cut: int) -> None:
    sql(log, "DELETE FROM audit_events WHERE id > :keep", keep=5 - cut)
    report = verify(log)
    assert not report.ok
    assert report.broken_at == 6 - cut
    assert f"entries {6 - cut}..5 are missing from the end" in report.reason


def test_a_forged_entry_appended_with_a_recomputed_hash_is_found(log) -> None:
    forge_entry(log, move_head=False)
    report = verify(log)
    assert (report.ok, report.broken_at) == (False, 6)


def test_deleting_the_checkpoint_is_found(log) -> None:
    sql(log, "DELETE FROM audit_head")
    report = verify(log)
    assert not report.ok and "checkpoint" in report.reason


def test_with_a_key_a_forged_entry_is_found_even_when_the_checkpoint_is_moved(tmp_path: Path) -> None:
    engine, factory = open_log(tmp_path / "a.db", KEY)
    forge_entry(factory, move_head=True)
    report = verify(factory)
    assert (report.ok, report.broken_at) == (False, 6)
    assert "seal" in report.reason
    engine.dispose()


def test_with_a_key_cutting_the_end_and_moving_the_checkpoint_is_found(tmp_path: Path) -> None:
    engine, factory = open_log(tmp_path / "a.db", KEY)
    with unit_of_work(factory) as session:
        third = session.get(AuditEvent, 3)
        session.execute(text("DELETE FROM audit_events WHERE id > 3"))
        session.execute(text("UPDATE audit_head SET last_id = 3, last_hash = :h"), {"h": third.hash})
    report = verify(factory)
    assert not report.ok and "checkpoint has a wrong seal" in report.reason
    engine.dispose()


def test_with_a_key_stripping_every_seal_is_found(tmp_path: Path) -> None:
    engine, factory = open_log(tmp_path / "a.db", KEY)
    sql(factory, "UPDATE audit_events SET seal = NULL")
    sql(factory, "UPDATE audit_head SET seal = NULL")
    assert not verify(factory).ok
    engine.dispose()


def test_without_the_key_sealed_entries_verify_their_chain_but_are_counted_unchecked(tmp_path: Path) -> None:
    engine, _ = open_log(tmp_path / "a.db", KEY)
    report = verify(keyed(engine, None))
    assert report.ok and report.sealed_unchecked == 5
    engine.dispose()


def test_a_log_started_without_a_key_is_sealed_from_an_explicit_start_and_verifies(tmp_path: Path) -> None:
    engine, _ = open_log(tmp_path / "a.db", None, entries=3)
    factory = keyed(engine, KEY)
    with pytest.raises(ConfigError, match="seal-approvals"):  # a new key never silently seals an unsealed log
        append(factory, 1)
    with unit_of_work(factory) as session:
        start = audit.start_sealing(session, actor="admin", at=T0 + timedelta(hours=1))
        assert start is not None and start.details == {"unsealed": 3, "last_hash": start.prev_hash}
    append(factory, 2)
    report = verify(factory)
    assert report.ok, report.reason
    assert (report.checked, report.unsealed) == (6, 3)
    with unit_of_work(factory) as session:
        assert session.get(AuditHead, 1).seal is not None
    engine.dispose()


def test_a_sealed_log_refuses_entries_without_its_key_and_keeps_the_change_out(tmp_path: Path) -> None:
    engine, _ = open_log(tmp_path / "a.db", KEY)
    for other in (None, b"another key"):
        with pytest.raises(ConfigError, match="LOA_AUDIT_KEY"):
            append(keyed(engine, other), 1)
    report = verify(keyed(engine, KEY))
    assert report.ok and report.checked == 5
    engine.dispose()


def test_entries_filter_by_actor_subject_action_and_time(log) -> None:
    append(log, 0)
    with unit_of_work(log) as session:
        audit.record(session, actor="duyet", action="piece.approve", subject="piece:12", at=T0 + timedelta(hours=2))
        audit.record(session, actor="system", action="plan.change", subject="plan", at=T0 + timedelta(hours=3))

        def ids(**filters) -> list[int]:
            return [e.id for e in audit.entries(session, **filters)]

        assert ids(actor="duyet") == [6]
        assert ids(subject="piece:12") == [6]
        assert ids(subject="piece") == [1, 2, 3, 4, 5, 6]
        assert ids(subject="plan") == [7]
        assert ids(action="piece") == [1, 2, 3, 4, 5, 6]
        assert ids(action="piece.approve") == [6]
        assert ids(since=T0 + timedelta(minutes=4), until=T0 + timedelta(hours=3)) == [4, 5, 6]
        assert ids(limit=2) == [6, 7]
