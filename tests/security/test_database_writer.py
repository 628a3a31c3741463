"""Someone who can write the database, but has not the key kept outside it, puts nothing on air.

Each attack of issue 15 (points 2-5) is made as an attacker would: SQL on the suite's database (SQLite or
PostgreSQL), with every hash the attacker can compute recomputed. loa's processes run as a user runs them
(``loa`` commands), holding the key ``loa init`` wrote to ``var/audit.key``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import replace

import pytest
from e2e.e2e_support import (
    EDITOR,
    approved_piece,
    at,
    everything_published,
    playlist,
    programs,
    schedule,
    setup_accounts,
)
from sqlalchemy import select, text, update

from content import audit
from content.db import make_engine, session_factory, unit_of_work
from content.models import AuditEvent, AuditHead, Revision
from content.pieces import content_hash, content_of
from content.render.renditions import file_sha256
from scheduler.models import Delivery

TITLE = "Thông báo lịch tiếp công dân của Chủ tịch UBND xã"
BODY = "Chủ tịch UBND xã tiếp công dân vào sáng thứ Năm hằng tuần tại trụ sở xã."
FORGED = "Nội dung giả mạo được chèn vào bằng SQL."


@pytest.fixture
def attacker(settings):
    """A database session without the key: what someone who reaches the database holds."""
    engine = make_engine(settings.database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def planned(cli):
    """An approved piece for every outlet, planned for the day; returns its id."""
    now = at("05:00")
    setup_accounts(cli, now)
    piece = approved_piece(cli, TITLE, BODY, now, "--campaign", "guong-dien-hinh")
    cli("plan", "--days", "1", now=now)
    return piece


def _alerts(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and "ALERT" in r.getMessage()]


def _refused_at_six(cli, needle: str) -> list[dict]:
    rows = schedule(cli, at("05:58:30"), "--days", "1")
    due = programs(rows, "loudspeaker", "06:00")
    assert due
    for program in due:
        assert program["state"] == "refused", program
        assert needle in program["last_error"], program["last_error"]
    return due


def test_a_body_forged_with_every_hash_recomputed_is_refused_at_push_and_found_by_audit_verify(
        cli, config_dir, planned, attacker, caplog):
    cli("audit", "verify")
    with unit_of_work(attacker) as session:
        revision = session.scalars(select(Revision).where(Revision.piece_id == planned)).one()
        forged = content_hash(replace(content_of(revision), body=FORGED))
        session.execute(text("UPDATE revisions SET body = :body, sha256 = :sha WHERE id = :id"),
                        {"body": FORGED, "sha": forged, "id": revision.id})
        session.execute(text("UPDATE pieces SET approved_sha256 = :sha WHERE id = :id"), {"sha": forged, "id": planned})
        session.execute(text("UPDATE reviews SET sha256 = :sha WHERE revision_id = :id"),
                        {"sha": forged, "id": revision.id})

    caplog.set_level(logging.ERROR)
    result = cli("dispatch", now=at("05:58:30"), ok=False)
    assert result.exit_code != 0 and "refused" in result.stdout
    _refused_at_six(cli, "seal")
    assert any("approval's seal" in alert for alert in _alerts(caplog))
    assert FORGED not in everything_published(config_dir)

    verified = cli("audit", "verify", ok=False)
    assert verified.exit_code != 0
    assert f"piece {planned}" in verified.stderr and "audit entry" in verified.stderr


@pytest.mark.parametrize("rehash", [False, True], ids=["level-only", "every-hash-recomputed"])
def test_a_level_changed_in_the_database_is_refused_at_push(cli, config_dir, planned, attacker, caplog, rehash):
    """The level decides what airs first and whether a piece is planned at all: the approval covers it."""
    with unit_of_work(attacker) as session:
        revision = session.scalars(select(Revision).where(Revision.piece_id == planned)).one()
        session.execute(text("UPDATE revisions SET level = 'priority' WHERE id = :id"), {"id": revision.id})
        if rehash:
            forged = content_hash(replace(content_of(revision), level="priority"))
            session.execute(text("UPDATE revisions SET sha256 = :sha WHERE id = :id"),
                            {"sha": forged, "id": revision.id})
            session.execute(text("UPDATE pieces SET approved_sha256 = :sha WHERE id = :id"),
                            {"sha": forged, "id": planned})
            session.execute(text("UPDATE reviews SET sha256 = :sha WHERE revision_id = :id"),
                            {"sha": forged, "id": revision.id})

    caplog.set_level(logging.ERROR)
    result = cli("dispatch", now=at("05:58:30"), ok=False)
    assert result.exit_code != 0 and "refused" in result.stdout
    _refused_at_six(cli, "seal" if rehash else "altered after approval")
    assert TITLE not in everything_published(config_dir)


def test_a_rendition_pointed_at_another_mp3_is_refused_and_never_played(cli, config_dir, planned, attacker, caplog):
    other = config_dir.parent / "other.mp3"
    shutil.copy(config_dir / "jingles" / "outro.mp3", other)
    with unit_of_work(attacker) as session:
        changed = session.execute(text(
            "UPDATE renditions SET path = :path, sha256 = :sha WHERE revision_id IN "
            "(SELECT id FROM revisions WHERE piece_id = :piece)"),
            {"path": str(other), "sha": file_sha256(other), "piece": planned}).rowcount
    assert changed == 1

    caplog.set_level(logging.ERROR)
    cli("dispatch", now=at("05:58:30"), ok=False)
    _refused_at_six(cli, "rendition")
    assert any("speech rendition" in alert for alert in _alerts(caplog))
    for station in ("99001", "99002", "99003"):
        assert not playlist(config_dir, station, "0600").exists()


def test_an_edited_stored_payload_is_refused_at_retry_and_at_push(cli, config_dir, planned, attacker, caplog):
    cli("dispatch", now=at("05:58:30"))
    board = programs(schedule(cli, at("05:59"), "--days", "1"), "board", "00:00")[0]
    assert board["state"] == "delivered"
    with unit_of_work(attacker) as session:
        delivery = session.get(Delivery, board["delivery"])
        payload = json.loads(json.dumps(delivery.payload))
        payload["delivery"]["slides"][0]["text"] = FORGED
        payload["delivery"]["slides"].append({**payload["delivery"]["slides"][0], "ref": "inserted"})
        session.execute(update(Delivery).where(Delivery.id == board["delivery"])
                        .values(payload=payload, state="dead"))

    retried = cli("delivery", "retry", board["delivery"], now=at("06:00"), ok=False)
    assert retried.exit_code != 0 and "stored payload does not match its seal" in retried.stderr

    with unit_of_work(attacker) as session:  # the attacker puts it back in the queue by hand instead
        session.execute(text("UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = NULL, "
                             "claimed_by = NULL, claimed_at = NULL, retried_at = updated_at WHERE id = :id"),
                        {"id": board["delivery"]})
    caplog.set_level(logging.ERROR)
    cli("dispatch", now=at("06:00"), ok=False)
    after = next(p for p in schedule(cli, at("06:01"), "--days", "1") if p["delivery"] == board["delivery"])
    assert after["state"] == "refused" and "does not match its seal" in after["last_error"]
    assert any("stored payload" in alert for alert in _alerts(caplog))
    assert FORGED not in everything_published(config_dir)


def test_a_payload_inserted_for_a_delivery_loa_never_prepared_is_refused(cli, config_dir, planned, attacker):
    cli("dispatch", now=at("05:58:30"))
    rows = schedule(cli, at("05:59"), "--days", "1")
    board = programs(rows, "board", "00:00")[0]
    evening = programs(rows, "loudspeaker", "17:00")[0]
    assert evening["state"] == "pending"
    with unit_of_work(attacker) as session:
        payload = json.loads(json.dumps(session.get(Delivery, board["delivery"]).payload))
        payload["delivery"]["slides"][0]["text"] = FORGED
        session.execute(update(Delivery).where(Delivery.id == evening["delivery"]).values(payload=payload))
    cli("dispatch", now=at("16:58:30"), ok=False)
    after = next(p for p in schedule(cli, at("16:59"), "--days", "1") if p["delivery"] == evening["delivery"])
    assert after["state"] == "refused" and "carries no seal" in after["last_error"]
    assert FORGED not in everything_published(config_dir)


def _strip_and_recompute(attacker, rewrite_actor: str) -> None:
    """Rewrite the first approval's actor, strip every seal, recompute the whole chain and its checkpoint."""
    with unit_of_work(attacker) as session:
        previous = audit.GENESIS
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        for event in events:
            if event.action == "piece.approve":
                event.actor = rewrite_actor
            event.prev_hash = previous
            event.hash = hashlib.sha256(audit.canonical(event)).hexdigest()
            event.seal = None
            previous = event.hash
        head = session.get(AuditHead, 1)
        head.last_id, head.last_hash, head.seal = events[-1].id, previous, None


def test_stripped_seals_and_a_recomputed_chain_are_found_and_not_resealed_by_the_next_write(
        cli, planned, attacker):
    kept = cli.json("audit", "verify")["head"]  # a head an admin kept outside the database
    _strip_and_recompute(attacker, rewrite_actor=EDITOR)

    broken = cli("audit", "verify", ok=False)
    assert broken.exit_code != 0 and "seal" in broken.stderr
    # The next ordinary write does not seal the forged log (which would make it verify again): it is refused.
    write = cli("user", "add", "nguoi-moi", "--role", "editor", now=at("07:00"), ok=False)
    assert write.exit_code != 0 and "stripped the seals" in write.stderr
    with unit_of_work(attacker) as session:
        assert session.scalar(text("SELECT count(*) FROM users WHERE name = 'nguoi-moi'")) == 0
    again = cli("audit", "verify", ok=False)
    assert again.exit_code != 0
    against_kept = cli("audit", "verify", "--expect", f"{kept['id']}:{kept['hash']}", ok=False)
    assert against_kept.exit_code != 0 and "not the one you kept" in against_kept.stderr


def test_a_forged_start_of_sealing_does_not_make_a_stripped_log_verify(cli, planned, attacker):
    _strip_and_recompute(attacker, rewrite_actor=EDITOR)
    with unit_of_work(attacker) as session:  # the attacker appends the marker loa writes, but cannot seal it
        head = session.get(AuditHead, 1)
        event = AuditEvent(id=head.last_id + 1, at=head_time(session), actor="system", action=audit.SEAL_START,
                           subject="audit", details={"unsealed": head.last_id, "last_hash": head.last_hash},
                           prev_hash=head.last_hash)
        event.hash = hashlib.sha256(audit.canonical(event)).hexdigest()
        event.seal = hashlib.sha256(b"a guess").hexdigest()
        session.add(event)
        head.last_id, head.last_hash = event.id, event.hash
    verified = cli("audit", "verify", ok=False)
    assert verified.exit_code != 0 and "wrong seal" in verified.stderr


def head_time(session):
    return session.scalar(select(AuditEvent.at).order_by(AuditEvent.id.desc()).limit(1))


def test_an_upgraded_install_seals_its_approvals_once_and_then_pushes(cli, config_dir, planned, attacker):
    with unit_of_work(attacker) as session:  # what migration 0011 leaves: approvals and renditions unsealed
        session.execute(text("UPDATE reviews SET seal = NULL"))
        session.execute(text("UPDATE renditions SET seal = NULL"))
    unsealed = cli("audit", "verify", ok=False)
    assert unsealed.exit_code != 0 and "seal-approvals" in unsealed.stderr
    sealed = cli.json("audit", "seal-approvals", now=at("05:30"))
    assert sealed["reviews"] == 1 and sealed["renditions"] >= 1 and sealed["refused"] == 0
    cli("audit", "verify")
    cli("dispatch", now=at("05:58:30"))
    assert {p["state"] for p in programs(schedule(cli, at("05:59"), "--days", "1"), "loudspeaker", "06:00")} == \
        {"delivered"}
    assert BODY in everything_published(config_dir)


def test_a_retired_piece_brought_back_in_sql_is_found_by_audit_verify(cli, planned, attacker):
    cli("piece", "retire", str(planned), now=at("05:10"), user=EDITOR)
    with unit_of_work(attacker) as session:
        session.execute(text("UPDATE pieces SET state = 'approved' WHERE id = :id"), {"id": planned})
    verified = cli("audit", "verify", ok=False)
    assert verified.exit_code != 0 and f"piece {planned}: retired in the audit log" in verified.stderr
