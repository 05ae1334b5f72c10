"""The consumer API keeps its OpenAPI document: schemathesis drives every operation
from /consumer/openapi.json, on both dialects; no answer is a 5xx, and every answer's
status, content type, headers and body are the document's."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.consumer import AUTH, Consumer

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


WITH_INPUT = [("POST", "/consumer/orders"), ("GET", "/consumer/orders"),
              ("GET", "/consumer/orders/{order_id}"), ("POST", "/consumer/sync/{target}")]
WITHOUT_INPUT = [("GET", "/consumer/sync/status"), ("GET", "/consumer/credentials"),
                 ("GET", "/consumer/openapi.json")]
# Negative cases (data the document forbids) exist only where there is input to break.
CASES = [(*operation, mode) for operation in WITH_INPUT
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)] + [
    (*operation, GenerationMode.POSITIVE) for operation in WITHOUT_INPUT]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_every_answer_is_the_documents(consumer: Consumer, method: str, path: str,
                                       mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_wsgi("/consumer/openapi.json",
                                            consumer.client.application)
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def answer_matches(case: Any) -> None:
        response = case.call(headers=AUTH)
        case.validate_response(response, checks=CHECKS, headers=AUTH)

    answer_matches()


def test_the_document_is_valid_openapi_3_1(consumer: Consumer) -> None:
    document = consumer.client.get("/consumer/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/consumer/orders", "/consumer/orders/{order_id}", "/consumer/sync/{target}",
        "/consumer/sync/status", "/consumer/credentials", "/consumer/openapi.json"}
    assert {"ApiKey", "Bearer"} == set(document["components"]["securitySchemes"])
