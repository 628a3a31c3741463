"""JSON bodies encoded once (plain and gzipped) and reused, then sent in the encoding the client accepts."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response


@dataclass(frozen=True, slots=True)
class Encoded:
    plain: bytes
    gzipped: bytes


def encode_json(value: Any) -> Encoded:
    """``value`` as compact UTF-8 JSON, and gzipped (a day's schedule shrinks ~10x: the centres' links are slow)."""
    plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return Encoded(plain, gzip.compress(plain, compresslevel=6, mtime=0))


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (``gzip`` or ``*`` with a non-zero q)."""
    for part in header.split(","):
        name, _, params = part.partition(";")
        if name.strip().lower() not in ("gzip", "*"):
            continue
        quality = params.strip()
        if not quality.startswith("q="):
            return True
        try:
            return float(quality[2:]) > 0
        except ValueError:
            return False
    return False


def json_response(request: Request, body: Encoded) -> Response:
    headers = {"Vary": "Accept-Encoding"}
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        return Response(body.gzipped, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(body.plain, media_type="application/json", headers=headers)
