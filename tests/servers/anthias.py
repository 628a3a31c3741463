"""A local stand-in for an Anthias (Screenly OSE) player's REST API v2 assets endpoints, strict about fields.

It follows Anthias's own serializers (api/serializers/v2.py, mixins.py, views/v2.py):

- ``POST /api/v2/assets`` (CreateAssetSerializerV2): ``name``, ``uri``, ``start_date``,
  ``end_date``, ``duration`` (integer), ``mimetype``, ``is_enabled`` (boolean) are required;
  ``nocache``, ``skip_asset_check``, ``is_processing`` (booleans), ``play_order`` (integer),
  ``ext`` are optional. The player makes the ``asset_id`` (uuid4 hex) and renames a duplicate
  name ``name-1``; unless ``skip_asset_check`` it fetches the ``uri`` and refuses one that fails.
  Answers 201 with the asset.
- ``GET /api/v2/assets`` lists assets; ``GET/PATCH/PUT/DELETE /api/v2/assets/<asset_id>``.
  An update (UpdateAssetSerializerV2) takes ``name``, ``start_date``, ``end_date``,
  ``duration``, ``is_enabled`` (all required by PUT) and the optional flags; ``uri`` and
  ``mimetype`` cannot change.

Stricter than the real player in one way, to catch typos: unknown fields are refused (400).
``faults`` queues canned answers (status, headers) returned before any real handling.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import requests

_CREATE_REQUIRED = {"name": str, "uri": str, "start_date": "date", "end_date": "date", "duration": int,
                    "mimetype": str, "is_enabled": bool}
_OPTIONAL = {"nocache": bool, "skip_asset_check": bool, "is_processing": bool, "play_order": int}
_UPDATE_REQUIRED = {"name": str, "start_date": "date", "end_date": "date", "duration": int, "is_enabled": bool}


def _problems(data: Any, required: dict[str, Any], optional: dict[str, Any], partial: bool) -> dict[str, list[str]]:
    if not isinstance(data, dict):
        return {"non_field_errors": ["Invalid data. Expected a dictionary."]}
    errors: dict[str, list[str]] = {}
    allowed = {**required, **optional}
    for key in data:
        if key not in allowed:
            errors[key] = ["Unknown field."]
    for key, kind in allowed.items():
        if key not in data:
            if key in required and not partial:
                errors[key] = ["This field is required."]
            continue
        value = data[key]
        if kind == "date":
            try:
                datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                errors[key] = ["Datetime has wrong format."]
        elif kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            errors[key] = ["A valid integer is required."]
        elif kind is bool and not isinstance(value, bool):
            errors[key] = ["Must be a valid boolean."]
        elif kind is str and (not isinstance(value, str) or not value.strip()):
            errors[key] = ["This field may not be blank."]
    return errors


class AnthiasPlayer(http.server.ThreadingHTTPServer):
    """The player's state: assets by id, the requests seen, queued faults, optional Basic auth."""

    daemon_threads = True

    def __init__(self, auth: tuple[str, str] | None = None) -> None:
        self.assets: dict[str, dict[str, Any]] = {}
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.auth = auth
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def names(self) -> list[str]:
        return sorted(asset["name"] for asset in self.assets.values())

    def playing(self, at: datetime) -> list[dict[str, Any]]:
        """The assets the player shows at ``at``, as Anthias's ``Asset.is_active`` decides (anthias_app/models.py):
        enabled, and ``start_date < now < end_date``; in play order."""
        def moment(value: str) -> datetime:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))

        return sorted((a for a in self.assets.values()
                       if a["is_enabled"] and moment(a["start_date"]) < at < moment(a["end_date"])),
                      key=lambda a: a.get("play_order", 0))


class _Handler(http.server.BaseHTTPRequestHandler):
    server: AnthiasPlayer

    def _send(self, status: int, document: Any = None, headers: dict[str, str] | None = None) -> None:
        body = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        server = self.server
        server.seen.append((self.command, self.path, dict(self.headers), raw))
        if server.faults:
            status, headers = server.faults.pop(0)
            return self._send(status, {"error": "injected"}, headers)
        if server.auth is not None:
            expected = "Basic " + base64.b64encode(":".join(server.auth).encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._send(401, {"detail": "Authentication credentials were not provided."})
        path = self.path.split("?")[0].rstrip("/")
        if not path.startswith("/api/v2/assets"):
            return self._send(404, {"detail": "Not found."})
        asset_id = path.removeprefix("/api/v2/assets").strip("/") or None
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            return self._send(400, {"detail": "JSON parse error"})
        with server.lock:
            if asset_id is None:
                if self.command == "GET":
                    return self._send(200, list(server.assets.values()))
                if self.command == "POST":
                    return self._create(data)
                return self._send(405, {"detail": f'Method "{self.command}" not allowed.'})
            asset = server.assets.get(asset_id)
            if asset is None:
                return self._send(404, {"detail": "Not found."})
            if self.command == "GET":
                return self._send(200, asset)
            if self.command == "DELETE":
                del server.assets[asset_id]
                return self._send(204)
            if self.command in ("PATCH", "PUT"):
                errors = _problems(data, _UPDATE_REQUIRED, _OPTIONAL, partial=self.command == "PATCH")
                if errors:
                    return self._send(400, errors)
                asset.update(data)
                return self._send(200, asset)
            return self._send(405, {"detail": f'Method "{self.command}" not allowed.'})

    def _create(self, data: Any) -> None:
        errors = _problems(data, _CREATE_REQUIRED, {**_OPTIONAL, "ext": str}, partial=False)
        if errors:
            return self._send(400, errors)
        uri = data["uri"]
        if not uri.startswith(("http://", "https://", "/")):
            return self._send(400, {"uri": ["Invalid URL. Failed to add asset."]})
        if not data.get("skip_asset_check", False):
            try:
                ok = requests.get(uri, timeout=5).ok
            except requests.RequestException:
                ok = False
            if not ok:
                return self._send(400, {"error": "Could not retrieve file. Check the asset URL."})
        name, names = data["name"], {a["name"] for a in self.server.assets.values()}
        if name in names:  # get_unique_name
            n = 1
            while f"{name}-{n}" in names:
                n += 1
            name = f"{name}-{n}"
        asset = {"asset_id": uuid.uuid4().hex, "nocache": False, "play_order": 0, "skip_asset_check": False,
                 "is_processing": False, **{k: v for k, v in data.items() if k != "ext"}, "name": name,
                 "is_active": True, "is_reachable": True, "last_reachability_check": None}
        self.server.assets[asset["asset_id"]] = asset
        return self._send(201, asset)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class _Running:
    player: AnthiasPlayer
    thread: threading.Thread


def _start(player: AnthiasPlayer) -> _Running:
    thread = threading.Thread(target=player.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return _Running(player, thread)


@pytest.fixture
def anthias() -> Iterator[AnthiasPlayer]:
    """A fresh stand-in player with Basic auth ``loa`` / ``mat-khau``."""
    running = _start(AnthiasPlayer(auth=("loa", "mat-khau")))
    yield running.player
    running.player.shutdown()
    running.player.server_close()
