"""Schemathesis over /openapi.json against a live server: no 5xx, no response outside the
documented status codes, content types and schemas. Bounded so it runs in seconds."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from .conftest import LiveServer

schemathesis = pytest.importorskip("schemathesis")

pytestmark = pytest.mark.integration

LIMITS = "[subscribe]\nip_per_minute = 0\naddress_per_hour = 0\n"


def _checks() -> tuple[list[object], list[object]]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    positive = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        response_headers_conformance,
    ]
    return positive, [not_a_server_error, response_schema_conformance]


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_public_api_conforms_to_its_openapi(
    live_server: Callable[..., LiveServer], mode: str
) -> None:
    """Generated requests (valid, then invalid) never get a 5xx or an undocumented answer."""
    live = live_server(LIMITS)
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    positive, negative = _checks()
    checks = positive if mode == "positive" else negative
    generation = (
        schemathesis.GenerationMode.POSITIVE
        if mode == "positive"
        else schemathesis.GenerationMode.NEGATIVE
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    calls: list[int] = []
    assert len(operations) >= 6

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=generation))
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: object) -> None:
            case.call_and_validate(base_url=live.url, checks=checks)  # type: ignore[attr-defined]
            calls.append(1)

        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid in an operation without parameters or body (GET /healthz).
            assert mode == "negative"
    assert len(calls) >= 5 * len(operations) // 2  # the run really sent requests
