"""Boards follow the day: a correction or withdrawal approved after the morning push reaches every board
outlet (kiosk, http, Anthias) the same day, as a new delivery that supersedes the one already pushed;
loudspeaker programs already pushed stay as they went out; the report counts the rotation once."""

from __future__ import annotations

from urllib.parse import urlsplit

from e2e_support import APPROVER, APPROVER2, EDITOR, approved_piece, at, moment, playlist, setup_accounts
from fastapi.testclient import TestClient

from loa.settings import load_settings
from loa.web import create_app
from loa.wiring import open_services

from servers.receiver import SECRET, Answer

OLD, NEW = "Cụ Nguyễn Văn An, 68 tuổi, hiến đất làm đường.", "Cụ Nguyễn Văn An, 69 tuổi, hiến đất làm đường."
TITLE = "Gương sáng hiến đất làm đường liên thôn"
OTHER = "Lịch trực ban của Ủy ban xã trong tuần"
OTHER_BODY = "Ủy ban xã trực ban cả ngày thứ Bảy và Chủ nhật."
KIOSK = 'board = { type = "kiosk", dir = "var/out/boards", slide_chars = 280, slide_seconds = 15 }'
SECRET_ENV, PASSWORD_ENV = "LOA_E2E_BOARD_SECRET", "LOA_E2E_BOARD_ANTHIAS_PASSWORD"


def _boards(config_dir, receiver, anthias, monkeypatch) -> None:
    """99001's board posts to the receiver, 99002's is a kiosk served by loa, 99003's an Anthias player."""
    path = config_dir / "stations.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count(KIOSK) == 2  # 99001 and 99002; 99003 has its own profile
    text = text.replace(KIOSK, f'board = {{ type = "http", url = "{receiver.url}", secret_env = "{SECRET_ENV}" }}', 1)
    third = 'board = { type = "kiosk", dir = "var/out/boards", slide_chars = 240, slide_seconds = 20 }'
    assert third in text
    text = text.replace(third, (
        f'board = {{ type = "anthias", url = "{anthias.url}", user = "loa", password_env = "{PASSWORD_ENV}", '
        'pages_dir = "var/out/anthias", pages_url = "http://testserver/anthias", skip_asset_check = true }'))
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv(PASSWORD_ENV, "mat-khau")


def _kiosk_texts(cli, hhmm: str) -> list[str]:
    settings = load_settings(cli.config_dir, database_url=cli.database_url or None, env={})
    services = open_services(settings, now=moment(hhmm))
    try:
        response = TestClient(create_app(services)).get("/boards/99002.json")
        assert response.status_code == 200
        return [slide["text"] for slide in response.json()["rotation"]["slides"]]
    finally:
        services.close()


def _anthias_pages(cli, anthias, hhmm: str) -> list[str]:
    """The text of every page the Anthias player shows, fetched from loa as the player would."""
    settings = load_settings(cli.config_dir, database_url=cli.database_url or None, env={})
    services = open_services(settings, now=moment(hhmm))
    try:
        client = TestClient(create_app(services))
        return [client.get(urlsplit(a["uri"]).path).text for a in anthias.assets.values()]
    finally:
        services.close()


def _board_posts(receiver) -> list:
    return [r for r in receiver.requests if r.method == "POST" and "slides" in r.json()]


def _deliveries(cli, hhmm: str, station: str) -> list[dict]:
    return cli.json("delivery", "list", "--station", station, now=at(hhmm))


def test_a_correction_approved_mid_day_replaces_the_text_on_every_board(cli, config_dir, receiver, anthias,
                                                                         monkeypatch):
    _boards(config_dir, receiver, anthias, monkeypatch)
    setup_accounts(cli, at("05:00"))
    piece = approved_piece(cli, TITLE, OLD, at("05:00"))
    cli("plan", "--days", "1", now=at("05:00"))
    cli("dispatch", now=at("05:01"))
    cli("dispatch", now=at("05:59"))  # the 06:00 loudspeaker program goes out with the old text
    cli("dispatch", now=at("07:29"))  # and the 07:30 portal article
    morning = playlist(config_dir, "99002", "0600").read_text(encoding="utf-8")

    [first] = _board_posts(receiver)
    assert [s["text"] for s in first.json()["slides"]] == [OLD] and "replaces" not in first.json()
    assert _kiosk_texts(cli, "09:00") == [OLD]
    assert len(anthias.assets) == 1 and any(OLD in page for page in _anthias_pages(cli, anthias, "09:00"))
    old_assets = set(anthias.assets)

    cli("piece", "edit", str(piece), "--body", NEW, now=at("10:00"), user=EDITOR)
    cli("piece", "submit", str(piece), now=at("10:00"), user=EDITOR)
    cli("piece", "approve", str(piece), now=at("10:00"), user=APPROVER)
    planned = cli.json("plan", "--days", "1", now=at("10:00"))
    assert planned["deliveries_superseded"] == 3  # one running rotation per board, whatever the outlet
    receiver.script = [Answer(503)]  # the receiver is briefly down: the new rotation is retried
    cli("dispatch", now=at("10:00:30"))

    # kiosk: the page's JSON shows the new text the same day
    assert _kiosk_texts(cli, "10:01") == [NEW]
    # Anthias: the old asset is gone, a new one shows the corrected page
    assert len(anthias.assets) == 1 and not old_assets & set(anthias.assets)
    [page] = _anthias_pages(cli, anthias, "10:01")
    assert NEW.split(",")[1].strip() in page and "68 tuổi" not in page
    # http: a new rotation under its own key, naming the one it replaces; its retry repeats key and body
    cli("dispatch", now=at("10:30"))
    _, failed, retried = _board_posts(receiver)
    assert failed.key == retried.key != first.key and failed.body == retried.body
    assert [s["text"] for s in retried.json()["slides"]] == [NEW]
    assert retried.json()["replaces"] == [first.key]
    assert retried.signed

    rows = {row["id"]: row for row in _deliveries(cli, "10:31", "99001")}
    old, new = rows[first.key], rows[retried.key]
    assert old["state"] == "delivered" and old["superseded_at"] and new["replaces"] == first.key
    assert new["state"] == "delivered" and new["attempts"] == 2
    superseded = cli.json("delivery", "list", "--state", "superseded", now=at("10:31"))
    assert {row["station"] for row in superseded} == {"99001", "99002", "99003"}
    assert all(row["outlet"] == "board" for row in superseded)
    shown = cli("delivery", "show", first.key, now=at("10:31")).stdout
    assert "superseded_at: 2026-11-23T10:00" in shown and f"superseded_by: {retried.key}" in shown
    assert f"replaces: {first.key}" in cli("delivery", "show", retried.key, now=at("10:31")).stdout
    assert "retry that one instead" in cli("delivery", "retry", first.key, now=at("10:31"), ok=False).stderr

    # a loudspeaker program already pushed is left as it went out; the evening one takes the correction
    assert playlist(config_dir, "99002", "0600").read_text(encoding="utf-8") == morning
    loud = [row for row in _deliveries(cli, "10:31", "99002") if row["outlet"] == "loudspeaker"]
    assert not any(row["superseded_at"] or row["replaces"] for row in loud)

    # a re-plan with nothing new pushes nothing again
    assert cli.json("plan", "--days", "1", now=at("11:00"))["deliveries_superseded"] == 0
    # the report counts each board's rotation once: one slide, not the old and the new
    report = cli.json("report", "--from", "2026-11-23", "--to", "2026-11-23", now=at("23:59"))
    lines = {line["station"]: line for line in report["by_station"]}
    assert {code: lines[code]["slides"] for code in ("99001", "99002", "99003")} == {
        "99001": 1, "99002": 1, "99003": 1}
    assert all(lines[code]["failed"] == 0 for code in lines)


def test_a_withdrawal_pushes_the_rotation_again_without_the_piece(cli, config_dir, receiver, anthias, monkeypatch):
    _boards(config_dir, receiver, anthias, monkeypatch)
    setup_accounts(cli, at("05:00"))
    approved_piece(cli, OTHER, OTHER_BODY, at("05:00"))
    withdrawn = approved_piece(cli, TITLE, OLD, at("05:00"))
    cli("plan", "--days", "1", now=at("05:00"))
    cli("dispatch", now=at("05:01"))
    assert sorted(_kiosk_texts(cli, "09:00")) == sorted([OLD, OTHER_BODY])
    assert len(anthias.assets) == 2

    cli("piece", "retire", str(withdrawn), "--note", "Thông tin cần xác minh lại", now=at("09:30"), user=APPROVER2)
    assert cli.json("plan", "--days", "1", now=at("09:30"))["deliveries_superseded"] == 3
    cli("dispatch", now=at("09:31"))

    first, second = _board_posts(receiver)
    assert [s["text"] for s in second.json()["slides"]] == [OTHER_BODY] and second.key != first.key
    assert _kiosk_texts(cli, "09:32") == [OTHER_BODY]
    [asset] = anthias.assets.values()  # the withdrawn piece's asset is deleted, not only blanked
    assert asset["name"].startswith(OTHER)
    [page] = _anthias_pages(cli, anthias, "09:32")
    assert OTHER_BODY in page
    # the report counts what each board showed once: the withdrawn piece (shown until 09:30) and the other
    report = cli.json("report", "--from", "2026-11-23", "--to", "2026-11-23", now=at("23:59"))
    board = {line["station"]: line["slides"] for line in report["by_station"]}
    assert board == {"99001": 2, "99002": 2, "99003": 2}


def test_a_rotation_waiting_for_a_retry_is_superseded_and_never_sent(cli, config_dir, receiver, anthias,
                                                                      monkeypatch):
    _boards(config_dir, receiver, anthias, monkeypatch)
    setup_accounts(cli, at("05:00"))
    piece = approved_piece(cli, TITLE, OLD, at("05:00"), "--channels", "board")
    cli("plan", "--days", "1", now=at("05:00"))
    receiver.default = Answer(503)
    cli("dispatch", now=at("05:01"))
    [failed] = _board_posts(receiver)
    receiver.default = Answer()

    cli("piece", "edit", str(piece), "--body", NEW, now=at("10:00"), user=EDITOR)
    cli("piece", "submit", str(piece), now=at("10:00"), user=EDITOR)
    cli("piece", "approve", str(piece), now=at("10:00"), user=APPROVER)
    cli("plan", "--days", "1", now=at("10:00"))
    cli("dispatch", now=at("12:00"))  # well past the old one's backoff

    _, pushed = _board_posts(receiver)
    assert pushed.key != failed.key and [s["text"] for s in pushed.json()["slides"]] == [NEW]
    assert failed.key not in {r.key for r in receiver.requests[1:]}  # the old body never went out again
    states = {row["id"]: row["state"] for row in _deliveries(cli, "12:01", "99001")}
    assert states[failed.key] == "superseded" and states[pushed.key] == "delivered"
