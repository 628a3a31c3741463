"""Uploads through the web: the request size limited while it streams in, then content/ingest/uploads.py."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from content.errors import InputError
from content.ingest.uploads import Upload, UploadRefused, display_name, store_audio, store_image

#: Room for the form's other fields and the multipart framing around the largest allowed file.
SLACK_BYTES = 1024 * 1024
CHOOSE = "choose a file to upload"
KIND = "attach a recording or an image"


class BodyTooLarge(InputError):
    """A request body over the limit, stopped while it was still arriving."""

    http_status = 413


def _too_large_text(limit: int) -> str:
    return f"Yêu cầu quá lớn: tối đa {limit / 1048576:.0f} MB (giới hạn [ingest] trong loa.toml)."


class BodyLimit:
    """ASGI middleware refusing a request body larger than ``max_bytes``: at once when Content-Length says
    so, otherwise as soon as the bytes received pass it, so nothing big is read before the check."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = HTMLResponse(f"<p role=alert>{_too_large_text(self.max_bytes)}</p>", status_code=413,
                                    headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(_too_large_text(self.max_bytes))
            return message

        await self.app(scope, counted, send)


def body_limit(settings: Any) -> int:
    """The largest request body loa accepts: the largest upload allowed in ``[ingest]`` plus the form."""
    ingest = settings.loa.ingest
    return int(max(ingest.max_audio_mb, ingest.max_image_mb) * 1048576) + SLACK_BYTES


def receive_upload(form: FormData, settings: Any) -> Upload:
    """The posted file checked and stored by the same code as ``loa piece upload``; read from the
    spooled upload a chunk at a time, never whole into memory."""
    file = form.get("file")
    if not isinstance(file, StarletteUploadFile) or not (file.filename or file.size):
        raise UploadRefused("file", CHOOSE)
    kind = str(form.get("kind") or "")
    store = {"audio": store_audio, "image": store_image}.get(kind)
    if store is None:
        raise UploadRefused(display_name(file.filename or ""), KIND)
    file.file.seek(0)
    return store(file.file, file.filename or "", settings.media_dir, settings.loa.ingest)


def receive_recording(form: FormData, field: str, settings: Any) -> Upload | None:
    """The recording posted in ``field``, checked and stored as :func:`receive_upload` stores one (the same
    ``store_audio`` as ``loa emergency send --audio``); None when no file was chosen."""
    file = form.get(field)
    if not isinstance(file, StarletteUploadFile) or not (file.filename or file.size):
        return None
    file.file.seek(0)
    return store_audio(file.file, file.filename or "", settings.media_dir, settings.loa.ingest)


def refusal(error: InputError, gettext: Any) -> str:
    """An upload refusal in the page's language, naming the file."""
    if isinstance(error, UploadRefused):
        return f"{error.name}: {gettext(error.template) % error.params}"
    return str(error)
