"""Every answer carries the security headers; the CSP allows no inline script, and no template needs one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import loa.web

TEMPLATES = Path(loa.web.__file__).parent / "templates"


@pytest.mark.parametrize("path", ["/login", "/pieces", "/boards/99001", "/feeds/99001/rss.xml", "/healthz",
                                  "/no-such-page"])
def test_every_answer_forbids_framing_sniffing_and_inline_script(web, path):
    response = web.client("lan").get(path)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_holds_script_the_policy_would_block(template):
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", text), "an inline event handler"
    assert "javascript:" not in text and "<style" not in text and " style=" not in text
