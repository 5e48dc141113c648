"""schemathesis against the server's own OpenAPI document, over real HTTP on 127.0.0.1:
generated requests (bounded, derandomised) never get a 5xx, and every answer has a documented
status code, content type and body schema."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (content_type_conformance, not_a_server_error,  # noqa: E402
                                 response_schema_conformance, status_code_conformance)

from dofkit.serve import Settings, create_app  # noqa: E402
from serve_live import live_server  # noqa: E402

APP = create_app(Settings())
schema = schemathesis.openapi.from_dict(APP.openapi())
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def base_url():
    with live_server(APP) as url:
        yield url


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_with_a_server_error(case, base_url):
    case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=60)
