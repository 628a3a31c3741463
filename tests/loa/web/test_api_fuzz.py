"""schemathesis against the JSON API's OpenAPI schema: whatever it sends, the server never answers 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

EXAMPLES = 20  # per operation: enough to hit bad dates, huge numbers and odd text, and stay under a minute


def test_the_api_never_answers_with_a_server_error(web):
    web.piece(approved=True)
    web.piece(submitted=True, author="mai")
    web.services.plan(days=1)
    schema = schemathesis.openapi.from_asgi("/openapi.json", web.app)
    headers = web.token("hung")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12, [op.label for op in operations]
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        call()
