"""The board edge's kiosk page: ``<cache>/board/index.html``, self-contained (styles, verified slide images as
``data:`` URLs, a few lines of script), written atomically from the cached rotations for a local Chromium in kiosk
mode (``chromium --kiosk file://<cache>/board/index.html``). It keeps the last rotation when loa is down.

The page cycles its slides by their seconds and reloads itself from disk every minute; an emergency in force is a
full-screen red banner in the page and in ``alert.js`` beside it, which the page re-reads every two seconds (a
``<script>`` from ``file://`` loads where ``fetch`` may not), so the banner is up within seconds without a reload.
"""

from __future__ import annotations

import base64
import html
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from loa.edge.cache import Cache, Refused, _write

log = logging.getLogger("loa.edge")
_CSS = Path(__file__).resolve().parent.parent / "web" / "static" / "board.css"
_SNIFF = ((b"\x89PNG", "image/png"), (b"\xff\xd8", "image/jpeg"), (b"GIF8", "image/gif"), (b"RIFF", "image/webp"))
EMPTY = "Chưa có bản tin."

_SCRIPT = """
(function () {
  var slides = document.querySelectorAll('#slides .slide'), at = 0;
  function next() {
    if (slides.length < 2) return;
    slides[at].classList.remove('shown'); at = (at + 1) % slides.length; slides[at].classList.add('shown');
    setTimeout(next, 1000 * (+slides[at].dataset.seconds || 15));
  }
  if (slides.length) setTimeout(next, 1000 * (+slides[0].dataset.seconds || 15));
  setTimeout(function () { location.reload(); }, 60000);
  window.loaAlert = function (alert) {
    var banner = document.getElementById('board-alert');
    banner.querySelector('.alert-title').textContent = alert ? alert.title : '';
    banner.querySelector('.alert-text').textContent = alert ? alert.text : '';
    banner.hidden = !alert;
  };
  setInterval(function () {
    var old = document.getElementById('alert-js'), tag = document.createElement('script');
    tag.id = 'alert-js'; tag.src = 'alert.js?' + Date.now();
    if (old) old.remove();
    document.body.appendChild(tag);
  }, 2000);
})();
"""


def current_rotation(rotations: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """The rotation whose window holds ``now`` (the latest begun), else the last one begun: the screen never goes
    blank while it has something approved to show."""
    begun = sorted((r for r in rotations if datetime.fromisoformat(r["start_at"]) <= now), key=lambda r: r["start_at"])
    on = [r for r in begun if now < datetime.fromisoformat(r["end_at"])]
    return (on or begun or [None])[-1]


def alert_on(emergencies: list[dict[str, Any]], now: datetime) -> dict[str, Any] | None:
    """The newest emergency in force at ``now`` (begun, not ended, not cleared)."""
    on = [e for e in emergencies if not e.get("cleared") and datetime.fromisoformat(e["starts_at"]) <= now
          and (not e.get("until") or now < datetime.fromisoformat(e["until"]))]
    return max(on, key=lambda e: e["starts_at"]) if on else None


def _image(cache: Cache, rotation: dict[str, Any], sha: str | None) -> str | None:
    """The slide image as a ``data:`` URL, after its seal and hash are checked; None when it may not be shown."""
    item = next((i for i in rotation.get("items", []) if i["sha256"] == sha), None)
    if item is None:
        return None
    try:
        data = cache.checked(rotation["delivery_id"], item).read_bytes()
    except Refused as refused:
        log.error("%s", refused)
        return None
    kind = next((k for magic, k in _SNIFF if data.startswith(magic)), None)
    return f"data:{kind};base64,{base64.b64encode(data).decode()}" if kind else None


def page(cache: Cache, station: str, rotation: dict[str, Any] | None, alert: dict[str, Any] | None,
         now: datetime) -> str:
    """The whole kiosk page for ``rotation`` (its slides still valid at ``now``) and ``alert``."""
    e = html.escape
    slides = [s for s in (rotation or {}).get("slides", [])
              if not s.get("valid_until") or now < datetime.fromisoformat(s["valid_until"])]
    parts = []
    for n, slide in enumerate(slides):
        image = _image(cache, rotation or {}, slide.get("image_sha256"))
        parts.append(
            f'<section class="slide{" shown" if n == 0 else ""}" data-ref="{e(slide["ref"])}" '
            f'data-seconds="{int(slide["seconds"])}"><div class="slide-words">'
            + (f'<p class="campaign">{e(slide["campaign"])}</p>' if slide.get("campaign") else "")
            + f'<h2>{e(slide["title"])}</h2><p class="text">{e(slide["text"])}</p></div>'
            + (f'<img class="slide-image" src="{image}" alt="">' if image else "") + "</section>")
    if not parts:
        parts.append(f'<section class="slide shown empty" data-seconds="15"><div class="slide-words">'
                     f'<h2>{e(station)}</h2><p class="text">{EMPTY}</p></div></section>')
    css = _CSS.read_text(encoding="utf-8") if _CSS.is_file() else ""
    hidden = "" if alert else " hidden"
    return (
        '<!doctype html>\n<html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(station)}</title><style>{css}\nbody {{ font-family: sans-serif; }}</style></head>"
        f'<body class="board"><main class="kiosk"><header class="board-head"><span class="station">{e(station)}'
        f'</span></header><div class="slides" id="slides">{"".join(parts)}</div>'
        f'<section class="alert-banner" id="board-alert" role="alert"{hidden}><p class="alert-kind">KHẨN CẤP</p>'
        f'<h2 class="alert-title">{e(alert["title"]) if alert else ""}</h2>'
        f'<p class="alert-text">{e(alert["text"]) if alert else ""}</p></section></main>'
        f"<script>{_SCRIPT}</script></body></html>\n")


def write_board(cache: Cache, station: str, emergencies: list[dict[str, Any]], now: datetime) -> Path:
    """Write ``<cache>/board/index.html`` and ``alert.js`` (each atomically, only when changed); the page's path."""
    folder = cache.folder / "board"
    folder.mkdir(parents=True, exist_ok=True)
    alert = alert_on(emergencies, now)
    shown = {"title": alert["title"], "text": alert["text"]} if alert else None
    files = {folder / "index.html": page(cache, station, current_rotation(cache.rotations(), now), alert, now),
             folder / "alert.js": f"window.loaAlert && window.loaAlert({json.dumps(shown, ensure_ascii=False)});\n"}
    for path, text in files.items():
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            _write(path, data)
    return folder / "index.html"
