"""A day in the life, with a real `loa serve` on SQLite and on PostgreSQL and nobody typing `loa plan`: an approval
in the browser (login, CSRF) and one by `loa piece approve` both reach `loa --json schedule` and the 17:00 push
(the folder playlist); a withdrawal takes the piece out again. Rehearsed at 16:57 with LOA_NOW."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests
from e2e_support import APPROVER, APPROVER2, EDITOR, add_piece, at, playlist, programs, read_playlist, titles

from conftest import Cli
from servers import processes
from servers.processes import free_port, wait_for

PASSWORD = "mat-khau-du-dai-1"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_approvals_reach_schedule_and_push_and_a_withdrawal_leaves_without_loa_plan(db, config_dir, request,
                                                                                      monkeypatch):
    url = request.getfixturevalue("postgres_url") if db == "postgresql" else ""
    monkeypatch.setenv("LOA_E2E_PASSWORD", PASSWORD)
    monkeypatch.setenv("LOA_SECRET_KEY", "khoa-bi-mat-thu-nghiem")  # the CLI seals audit entries as serve does
    cli = Cli(config_dir, url)
    start = at("16:56:30")
    cli("init", now=start)
    cli("user", "add", EDITOR, "--role", "editor", now=start)
    cli("user", "add", APPROVER, "--role", "approver", "--password-env", "LOA_E2E_PASSWORD", now=start)
    cli("user", "add", APPROVER2, "--role", "approver", now=start)
    by_web = add_piece(cli, "Họp thôn cuối năm", "Mời bà con đến nhà văn hóa thôn dự họp tổng kết cuối năm.", start,
                       "--campaign", "guong-dien-hinh", "--channels", "loudspeaker")
    by_cli = add_piece(cli, "Lịch tiêm chủng", "Trạm y tế xã tiêm chủng cho trẻ em vào sáng thứ Bảy.", start,
                       "--campaign", "guong-dien-hinh", "--channels", "loudspeaker")
    for piece in (by_web, by_cli):
        cli("piece", "submit", str(piece), now=start, user=EDITOR)

    port = free_port()
    env = {**os.environ, "LOA_CONFIG": str(config_dir), "LOA_DATABASE_URL": url, "LOA_NOW": at("16:57:00"),
           "LOA_USER": "", "LOA_SECRET_KEY": "khoa-bi-mat-thu-nghiem", "LOA_LEADER_RETRY_S": "1"}
    log = (config_dir.parent / "serve.log").open("w+")
    server = processes.start([sys.executable, "-m", "loa", "serve", "--port", str(port)], env=env, stdout=log,
                             stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def healthy():
            try:
                return requests.get(base + "/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, "/healthz")
        web = requests.Session()
        login = web.get(base + "/login", timeout=10)
        assert web.post(base + "/login", data={"name": APPROVER, "password": PASSWORD, "csrf": _csrf(login.text)},
                        timeout=10).url.rstrip("/") != base + "/login"
        page = web.get(f"{base}/pieces/{by_web}", timeout=10)
        read = {name: re.search(rf'name="{name}" value="([^"]+)"', page.text)[1] for name in ("revision_id", "sha256")}
        approved = web.post(f"{base}/pieces/{by_web}/approve", data={"note": "", "csrf": _csrf(page.text), **read},
                            timeout=30)
        assert approved.status_code == 200 and approved.url.endswith(f"/pieces/{by_web}#airings")
        # The answer after the approval: the leader re-planned it within the wait, so it names the time.
        assert "Loa truyền thanh: sẽ phát lúc 17:00 hôm nay (23/11) tại 3 xã" in approved.text

        cli("piece", "approve", str(by_cli), now=at("16:57:10"), user=APPROVER2)

        def at_five() -> list[str]:
            found = programs(cli.json("schedule", "--station", "99001", now=at("16:57:15")), "loudspeaker", "17:00")
            return titles(found[0]) if found else []

        wait_for(lambda: {"Họp thôn cuối năm", "Lịch tiêm chủng"} <= set(at_five()), "both approvals in the schedule",
              timeout=30)
        # The 17:00 program is pushed at 16:58 (lead 2 minutes): the playlist holds both pieces.
        path = playlist(config_dir, "99001", "1700")
        wait_for(path.exists, "the 17:00 playlist", timeout=120)
        pushed = [title for _, title, _ in read_playlist(path)]
        assert "Họp thôn cuối năm" in pushed and "Lịch tiêm chủng" in pushed

        cli("piece", "retire", str(by_web), now=at("16:59"), user=EDITOR)

        def tomorrow_morning() -> list[str]:
            found = programs(cli.json("schedule", "--station", "99001", "--days", "2", now=at("16:59:30")),
                             "loudspeaker", "06:00")
            return titles(found[0]) if found else []

        wait_for(lambda: tomorrow_morning() == ["Lịch tiêm chủng"], "the withdrawn piece to leave tomorrow's program",
              timeout=30)
    finally:
        processes.stop(server, grace_s=20)
        log.seek(0)
        output = log.read()
    assert "Traceback" not in output, output
