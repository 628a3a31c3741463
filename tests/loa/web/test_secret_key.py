"""Without LOA_SECRET_KEY the web app keeps one generated key under var/: a restart keeps people signed in."""

from __future__ import annotations

import dataclasses
import stat

from fastapi.testclient import TestClient

from loa.web import create_app
from tests.servers.web import csrf_of


def _signed_in_cookie(web) -> str:
    client = web.client("lan")
    assert client.get("/account").status_code == 200
    return client.cookies["loa_session"]


def _accepted(app, cookie: str) -> bool:
    client = TestClient(app, follow_redirects=False)
    client.cookies.set("loa_session", cookie)
    response = client.get("/account")
    return response.status_code == 200 and "lan" in response.text


def test_a_second_start_on_the_same_var_dir_accepts_the_first_ones_cookie(web, settings):
    cookie = _signed_in_cookie(web)
    key_file = settings.base_dir / "var" / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    restarted = create_app(web.services)  # a new process reads the same var/ folder
    assert _accepted(restarted, cookie)
    # and the iCal link on the account page stays the same
    before, after = TestClient(web.app), TestClient(restarted)
    before.cookies.set("loa_session", cookie)
    after.cookies.set("loa_session", cookie)
    link, again = before.get("/account").text, after.get("/account").text
    assert csrf_of(link) and "/ical/" in link
    assert [w for w in link.split() if "/ical/" in w] == [w for w in again.split() if "/ical/" in w]


def test_another_var_dir_or_the_environment_variable_means_another_key(web, settings, tmp_path):
    cookie = _signed_in_cookie(web)
    elsewhere = dataclasses.replace(web.services.settings, base_dir=tmp_path / "elsewhere")
    assert not _accepted(create_app(dataclasses.replace(web.services, settings=elsewhere)), cookie)
    with_env = dataclasses.replace(web.services.settings, env={**settings.env, "LOA_SECRET_KEY": "from-the-env"})
    app = create_app(dataclasses.replace(web.services, settings=with_env))
    assert app.state.secret_key == "from-the-env"
    assert not _accepted(app, cookie)
    assert (settings.base_dir / "var" / "secret_key").read_text().strip() != "from-the-env"
