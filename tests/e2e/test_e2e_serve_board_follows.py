"""With a real `loa serve` process running, a correction approved mid-day reaches the kiosk board's JSON and
an http board receiver the same day, as a new rotation superseding the one pushed in the morning."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import requests
from e2e_support import APPROVER, EDITOR, approved_piece

from servers import processes
from servers.processes import free_port, wait_for
from servers.receiver import SECRET

OLD, NEW = "Cụ Nguyễn Văn An, 68 tuổi, hiến đất làm đường.", "Cụ Nguyễn Văn An, 69 tuổi, hiến đất làm đường."
TITLE = "Gương sáng hiến đất làm đường liên thôn"
KIOSK = 'board = { type = "kiosk", dir = "var/out/boards", slide_chars = 280, slide_seconds = 15 }'
SECRET_ENV = "LOA_E2E_SERVE_BOARD_SECRET"


def _posted(receiver, text: str):
    """The rotation posted to the http board whose slides read ``text``, if one came."""
    return next((r for r in receiver.requests if r.method == "POST"
                 and [s["text"] for s in r.json().get("slides", [])] == [text]), None)


def test_serve_pushes_a_mid_day_correction_to_the_kiosk_and_the_http_board(cli, config_dir, receiver):
    stations = config_dir / "stations.toml"
    text = stations.read_text(encoding="utf-8")
    assert text.count(KIOSK) == 2
    http = f'board = {{ type = "http", url = "{receiver.url}", secret_env = "{SECRET_ENV}" }}'
    stations.write_text(text.replace(KIOSK, http, 1), encoding="utf-8")  # 99001 posts; 99002 stays a kiosk
    settings = config_dir / "loa.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("[dispatch]\n", "[dispatch]\npoll_seconds = 1\n"),
                        encoding="utf-8")

    cli("init")
    cli("user", "add", EDITOR, "--role", "editor")
    cli("user", "add", APPROVER, "--role", "approver")
    piece = approved_piece(cli, TITLE, OLD, None, "--channels", "board")
    cli("plan", "--days", "1")

    env = {**os.environ, "LOA_CONFIG": str(config_dir), "LOA_DATABASE_URL": cli.database_url, "LOA_NOW": "",
           SECRET_ENV: SECRET}
    port = free_port()
    server = processes.start([sys.executable, "-m", "loa", "serve", "--port", str(port)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def kiosk() -> list[str] | None:
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/boards/99002.json", timeout=5)
        except (requests.ConnectionError, requests.Timeout):
            return None
        rotation = answer.json()["rotation"] if answer.status_code == 200 else None
        return [slide["text"] for slide in rotation["slides"]] if rotation else None

    try:
        assert wait_for(lambda: kiosk() == [OLD], "the morning rotation on the kiosk")
        first = wait_for(lambda: _posted(receiver, OLD), "the morning rotation on the http board")

        cli("piece", "edit", str(piece), "--body", NEW, user=EDITOR)
        cli("piece", "submit", str(piece), user=EDITOR)
        cli("piece", "approve", str(piece), user=APPROVER)

        assert wait_for(lambda: kiosk() == [NEW], "the corrected rotation on the kiosk")
        second = wait_for(lambda: _posted(receiver, NEW), "the corrected rotation on the http board")
        assert second.key != first.key and second.json()["replaces"] == [first.key] and second.signed
    finally:
        processes.stop(server, grace_s=20)
        output = server.stdout.read()
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output, output
