"""The security headers every answer carries: a CSP without inline script, no framing, no sniffing."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Scripts only from loa's own static files (no inline script, no ``javascript:`` links); images may come
#: from anywhere an imported article points (they cannot run); forms post only to loa; no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src * data:; media-src 'self'; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"))
#: FastAPI's own API explorer loads its script and styles inline and from a CDN.
EXPLORER = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware adding HEADERS (and CSP, except on the API explorer) to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(HEADERS)
        if not str(scope.get("path", "")).startswith(EXPLORER):
            extra.append((b"content-security-policy", CSP.encode()))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)
