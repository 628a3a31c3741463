"""Benchmark: a province bulletin sent down at priority level to 1,000 communes: inboxes written and plans made.

Issue 19: the province (1 centre over 10 districts over 1,000 communes, one station each with a loudspeaker
folder outlet and two programs a day) sends one approved bulletin down to its 10 districts at ``priority``. Measured:
the sending's transaction (seal and hash checks, one receipt per commune, the audit entry, the plan request) and
the re-plan that request asks for (``Services.plan_scope``, as the live loop runs it: every receiving station over
the plan's days, the bulletin at the head of each program). Goal: ≤ 10 s together on the 2-core machine. Also
printed: a ``normal`` sending (inboxes only). The floor, measured in the same run: a bare SQLAlchemy Core bulk insert
of the very rows the sending and the re-plan wrote (receipts, deliveries, airings) into an empty database.

Run:  .venv/bin/python bench/send_down.py            (1,000 communes)
      .venv/bin/python bench/send_down.py --quick    (40 communes: a smoke run, not a measurement)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_S = 10.0
DISTRICTS = 10
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def _config(folder: Path, communes: int) -> Path:
    config = folder / "config"
    config.mkdir()
    (config / "loa.toml").write_text("", encoding="utf-8")
    centres = ['[[centre]]\ncode = "TINH"\nname = "Tỉnh"\nlevel = "province"\n']
    centres += [f'[[centre]]\ncode = "H{d:02d}"\nname = "Huyện {d}"\nlevel = "district"\nparent = "TINH"\n'
                for d in range(DISTRICTS)]
    stations = []
    for n in range(communes):
        centres.append(f'[[centre]]\ncode = "X{n:04d}"\nname = "Xã {n}"\nlevel = "commune"\n'
                       f'parent = "H{n % DISTRICTS:02d}"\n')
        stations.append(f'[[station]]\ncode = "{10000 + n}"\nname = "Xã {n}"\ncentre = "X{n:04d}"\n'
                        f'loudspeaker = {{ type = "folder", dir = "{folder / "out"}" }}\n')
    (config / "centres.toml").write_text("".join(centres), encoding="utf-8")
    (config / "stations.toml").write_text("".join(stations), encoding="utf-8")
    (config / "schedule.toml").write_text(
        '[[slot]]\nname = "sang"\noutlet = "loudspeaker"\nstations = "*"\ndays = "mon-sun"\nat = "06:00"\n'
        'length = "30m"\n\n[[slot]]\nname = "chieu"\noutlet = "loudspeaker"\nstations = "*"\ndays = "mon-sun"\n'
        'at = "17:00"\nlength = "30m"\n', encoding="utf-8")
    (config / "campaigns.toml").write_text("", encoding="utf-8")
    return config


def _piece(services, title: str) -> int:
    """An approved province piece for one station only (so the communes get it from the sending alone)."""
    from content import pieces
    from content.db import unit_of_work
    from content.users import get_user

    with unit_of_work(services.sessions) as session:
        piece = pieces.add_piece(session, pieces.PieceContent(
            title=title, body="Trạm y tế xã tổ chức tiêm chủng mở rộng vào sáng thứ Bảy; bà con đưa trẻ đi tiêm đúng "
                              "lịch.", channels=("loudspeaker",), stations=("10000",)),
            author=get_user(session, "bt-TINH"), now=services.now())
        pieces.submit(session, piece.id, actor=get_user(session, "bt-TINH"), now=services.now())
        pieces.approve(session, piece.id, actor=get_user(session, "dd-TINH"), now=services.now())
        return piece.id


def _send(services, piece_id: int, level: str) -> tuple[float, int]:
    from content.db import unit_of_work
    from content.users import get_user
    from scheduler.bulletins import sending

    started = time.perf_counter()
    with unit_of_work(services.sessions) as session:
        bulletin = sending.send(session, piece_id, [f"H{d:02d}" for d in range(DISTRICTS)], level=level,
                                actor=get_user(session, "bt-TINH"), now=services.now())
        bulletin_id = bulletin.id
    return time.perf_counter() - started, bulletin_id


def _rows(services, bulletin_id: int, piece_id: int) -> dict[str, list[dict]]:
    """The rows the priority sending and its re-plan wrote, as plain dicts: the receipts, and the programs holding
    the bulletin on the receiving stations (station 10000 had it before) with their airings."""
    from sqlalchemy import select

    from content.bulletin_models import BulletinReceipt
    from content.db import unit_of_work
    from scheduler.models import Airing, Delivery, Station

    def plain(row) -> dict:
        return {c.key: getattr(row, c.key) for c in row.__table__.columns}

    with unit_of_work(services.sessions) as session:
        receipts = [plain(r) for r in session.scalars(select(BulletinReceipt)
                                                      .where(BulletinReceipt.bulletin_id == bulletin_id))]
        deliveries = [plain(d) for d in session.scalars(
            select(Delivery).join(Station).where(Station.code != "10000", Delivery.id.in_(
                select(Airing.delivery_id).where(Airing.piece_id == piece_id))))]
        ids = {d["id"] for d in deliveries}
        airings = [plain(a) for a in session.scalars(select(Airing).where(Airing.delivery_id.in_(ids)))] if ids \
            else []
    for receipt in receipts:
        receipt["bulletin_id"] = 1
    return {"receipts": receipts, "deliveries": deliveries, "airings": airings}


def _bare(folder: Path, rows: dict[str, list[dict]]) -> float:
    """Bulk-insert the same rows into an empty database (its referenced rows first, untimed)."""
    from sqlalchemy import insert

    import content.models  # noqa: F401 - registers the tables
    import scheduler.models  # noqa: F401
    from content.bulletin_models import Bulletin, BulletinReceipt
    from content.db import Base, make_engine
    from content.models import Piece, Revision, User
    from scheduler.models import Airing, Delivery, Station

    engine = make_engine(f"sqlite:///{folder / 'bare.db'}")
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(User), [dict(id=1, name="u", role="editor", stations=[], created_at=NOW)])
        connection.execute(insert(Piece), [dict(id=1, state="approved", author_id=1, created_at=NOW, updated_at=NOW)])
        connection.execute(insert(Revision), [dict(id=1, piece_id=1, number=1, title="t", body="b", channels=[],
                                                   priority=5, level="normal", sha256="0" * 64, created_by_id=1,
                                                   created_at=NOW)])
        connection.execute(insert(Bulletin), [dict(id=1, piece_id=1, revision_id=1, sha256="0" * 64,
                                                   level="priority", from_centre="TINH", targets=[], note="",
                                                   sent_by="u", sent_at=NOW)])
        stations = sorted({d["station_id"] for d in rows["deliveries"]})
        if stations:
            connection.execute(insert(Station), [dict(id=s, code=str(s), name=str(s), province="", groups=[],
                                                      outlets=[], active=True) for s in stations])
    for airing in rows["airings"]:
        airing["piece_id"], airing["revision_id"] = 1, 1
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(BulletinReceipt), rows["receipts"])
        if rows["deliveries"]:
            connection.execute(insert(Delivery), rows["deliveries"])
        if rows["airings"]:
            connection.execute(insert(Airing), rows["airings"])
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 communes: a smoke run, not a measurement")
    parser.add_argument("--communes", type=int, default=1000)
    args = parser.parse_args()
    communes = 40 if args.quick else args.communes

    from content.db import unit_of_work
    from content.users import add_user
    from loa.settings import load_settings
    from loa.wiring import open_services
    from scheduler.planning import triggers
    from scheduler.planning.triggers import Scope

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        config = _config(folder, communes)
        url = f"sqlite:///{folder / 'loa.db'}"
        services = open_services(load_settings(config, env={"LOA_DATABASE_URL": url}), now=NOW)
        services.init()
        with unit_of_work(services.sessions) as session:
            add_user(session, "bt-TINH", "editor", now=NOW, centre="TINH")
            add_user(session, "dd-TINH", "approver", now=NOW, centre="TINH")
        priority_piece, normal_piece = _piece(services, "Tiêm chủng mở rộng"), _piece(services, "Ngày hội đọc sách")
        services.plan()  # speech rendered and the plan of the week made before anything is sent down
        normal_s, _ = _send(services, normal_piece, "normal")
        send_s, bulletin_id = _send(services, priority_piece, "priority")
        with unit_of_work(services.sessions) as session:
            request = [row for row in triggers.waiting(session) if row.action == "bulletin.send"][-1]
            scope = Scope.of(request)
        started = time.perf_counter()
        changes = services.plan_scope(scope)
        plan_s = time.perf_counter() - started
        assert changes is not None and not changes.unplaced, changes and changes.unplaced
        rows = _rows(services, bulletin_id, priority_piece)
        services.close()
        assert len(rows["receipts"]) == communes and rows["airings"], {k: len(v) for k, v in rows.items()}
        bare_s = _bare(folder, rows)
    total = send_s + plan_s
    print(f"send down (priority)  : {communes} communes under {DISTRICTS} districts, one station each, "
          f"2 loudspeaker programs a day over the plan's days")
    print(f"sending (inboxes)     : {send_s:7.3f} s  ({communes} receipts, sealed, audited, re-plan requested)")
    print(f"re-plan (priority)    : {plan_s:7.3f} s  ({changes.programs_changed} programs, "
          f"{len(rows['deliveries'])} new deliveries, {len(rows['airings'])} airings)")
    print(f"total                 : {total:7.3f} s  (goal ≤ {GOAL_S:.0f} s: {'met' if total <= GOAL_S else 'NOT met'})")
    print(f"normal sending        : {normal_s:7.3f} s  (inboxes only)")
    print(f"bare floor            : {bare_s:7.3f} s  (Core bulk insert of the same "
          f"{sum(len(v) for v in rows.values())} rows into an empty SQLite database)")
    print(f"ratio                 : loa's total is {total / max(bare_s, 1e-6):7.1f} × the bare floor")
    print(json.dumps({"communes": communes, "send_s": round(send_s, 3), "plan_s": round(plan_s, 3),
                      "total_s": round(total, 3), "normal_send_s": round(normal_s, 3), "bare_s": round(bare_s, 3)}))


if __name__ == "__main__":
    main()
