"""A batched audit append writes exactly the chain, seals and checkpoint that one append each would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from content import audit
from content.db import Base, make_engine, session_factory, unit_of_work
from content.errors import ConfigError
from content.models import AuditEvent, AuditHead

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
KEY = b"khoa-bi-mat-cua-trung-tam"


def _factory(path: Path, key: bytes | None):
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    factory = session_factory(engine)
    factory.configure(info={"audit_key": key})
    return engine, factory


def _entries(first: int, count: int) -> list[audit.Entry]:
    return [audit.Entry(actor="dispatcher", action="delivery.push", subject=f"delivery:{n}",
                        at=T0 + timedelta(seconds=n), details={"trạng thái": 200, "nơi": f"Bảng tin xã {n}"})
            for n in range(first, first + count)]


def _log(factory) -> list[tuple]:
    with unit_of_work(factory) as session:
        rows = [(e.id, e.at, e.actor, e.action, e.subject, e.details, e.prev_hash, e.hash, e.seal)
                for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        head = session.get(AuditHead, 1)
        return [*rows, (head.last_id, head.last_hash, head.seal)]


@pytest.mark.parametrize("key", [KEY, None])
def test_batch_writes_the_same_log_as_single_appends(tmp_path: Path, key: bytes | None) -> None:
    one_engine, one = _factory(tmp_path / "one.db", key)
    many_engine, many = _factory(tmp_path / "many.db", key)
    try:
        for factory in (one, many):  # both logs start with the same ordinary entry
            with unit_of_work(factory) as session:
                audit.record(session, actor="duyet", action="piece.approve", subject="piece:1", at=T0)
        with unit_of_work(one) as session:
            for entry in _entries(1, 7):
                audit.record(session, actor=entry.actor, action=entry.action, subject=entry.subject, at=entry.at,
                             details=entry.details)
        with unit_of_work(many) as session:
            audit.record_many(session, _entries(1, 7))
        assert _log(one) == _log(many)
        with unit_of_work(many) as session:  # a single append after a batch continues the chain
            audit.record(session, actor="duyet", action="piece.retire", subject="piece:1", at=T0)
            report = audit.verify(session)
        assert report.ok, report.reason
        assert report.checked == 9
    finally:
        one_engine.dispose()
        many_engine.dispose()


def test_batch_refuses_a_sealed_log_without_its_key_and_writes_nothing(tmp_path: Path) -> None:
    engine, sealed = _factory(tmp_path / "log.db", KEY)
    try:
        with unit_of_work(sealed) as session:
            audit.record_many(session, _entries(1, 3))
        unkeyed = session_factory(engine)
        with pytest.raises(ConfigError, match="LOA_AUDIT_KEY"), unit_of_work(unkeyed) as session:
            audit.record_many(session, _entries(4, 3))
        with unit_of_work(sealed) as session:
            report = audit.verify(session)
        assert report.ok and report.checked == 3
    finally:
        engine.dispose()
