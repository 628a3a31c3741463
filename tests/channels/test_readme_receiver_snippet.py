"""The receiver's verification snippet in the README accepts loa's signatures and nothing else."""

from __future__ import annotations

import re
import time

from channels.signing import signed_headers

from conftest import ROOT


def test_the_readme_snippet_verifies_what_loa_signs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"A receiver checks the signature.*?```python\n(.*?)```", readme, re.S)
    assert code, "the README lost its verification snippet"
    namespace: dict = {}
    exec(code.group(1), namespace)
    genuine = namespace["loa_request_is_genuine"]
    body = '{"id":"d-1","station":"99001","items":[{"title":"Thông báo"}]}'.encode()
    now = int(time.time())
    headers = signed_headers("d-1", body, "bí-mật", now)

    assert genuine(body, headers, "bí-mật")
    assert not genuine(body + b" ", headers, "bí-mật")
    assert not genuine(body, headers, "another")
    assert not genuine(body, signed_headers("d-1", body, "bí-mật", now - 3600), "bí-mật")
    assert not genuine(body, {}, "bí-mật")
