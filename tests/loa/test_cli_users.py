"""`loa user list|set|reset-link`: what the admin's pages do, from the command line, with the same rules."""

from __future__ import annotations

from sqlalchemy import select

from content.db import unit_of_work
from content.models import AuditEvent

from servers.web import csrf_of


def test_set_changes_role_stations_and_disables_with_an_audit_entry(cli, services):
    cli("user", "add", "lan", "--role", "editor")
    cli("user", "set", "lan", "--role", "approver", "--station", "99001", "--station", "99003", "--disable",
        user="quan-tri")
    [lan] = cli.json("user", "list")
    assert (lan["role"], lan["stations"], lan["disabled"], lan["password"]) == ("approver", ["99001", "99003"],
                                                                                True, False)
    with unit_of_work(services.sessions) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.update")).one()
        assert (event.actor, event.details) == ("quan-tri", {"role": "approver", "stations": ["99001", "99003"],
                                                             "disabled": True})
    refused = cli("user", "reset-link", "lan", ok=False)
    assert refused.exit_code == 5 and "lan is disabled; enable the account first" in refused.stderr
    unknown = cli("user", "set", "lan", "--station", "12345", ok=False)
    assert unknown.exit_code == 2 and "stations: no station with code 12345" in unknown.stderr
    cli("user", "set", "lan", "--enable", "--all-stations")
    [lan] = cli.json("user", "list")
    assert (lan["role"], lan["stations"], lan["disabled"]) == ("approver", [], False)


def test_a_reset_link_from_the_command_line_opens_in_the_web_app(cli, web):
    link = cli.json("user", "reset-link", "lan")["link"]
    assert link.startswith(web.services.settings.loa.web.base_url + "/reset/")
    path = link.removeprefix(web.services.settings.loa.web.base_url)
    visitor = web.client()
    page = visitor.get(path)
    assert page.status_code == 200
    done = visitor.post(path, data={"csrf": csrf_of(page.text), "password": "mat-khau-tu-dong-lenh",
                                    "repeated": "mat-khau-tu-dong-lenh"})
    assert done.status_code == 303
    client = web.client()
    login = client.post("/login", data={"name": "lan", "password": "mat-khau-tu-dong-lenh",
                                        "csrf": csrf_of(client.get("/login").text)})
    assert login.status_code == 303
