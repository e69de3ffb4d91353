"""API Gateway's own answers (infra/mall-stack.yaml) are in the API's error shape, with the CORS headers the
API's own answers carry, and only where a REST API has been named (the local stack creates none)."""

from __future__ import annotations

import msgspec
import pytest
import yaml
from chalice import CORSConfig

from chalicelib.api.gateway_errors import TEMPLATE, gateway_responses, render
from chalicelib.api.routing import ErrorBody

# A message with what JSON must escape: API Gateway quotes $context.error.messageString itself.
CONTEXT = {
    "requestId": "c0ffee",
    "error.responseType": "BAD_REQUEST_BODY",
    "error.message": 'Invalid request body: "x" \\ y',
}


@pytest.mark.parametrize("response_type", sorted(gateway_responses()))
def test_each_gateway_response_renders_the_error_shape(response_type: str) -> None:
    status, headers, body = render(response_type, 400 if "4XX" in response_type else 500, CONTEXT)
    error = msgspec.json.decode(body, type=ErrorBody).error  # the same struct the app answers with
    assert error.code and error.message and error.fields == []
    assert error.details["request_id"] == "c0ffee"
    assert 400 <= status < 600
    assert headers["Content-Type"] == "application/json"


def test_the_main_gateway_answers_are_covered() -> None:
    covered = set(gateway_responses())
    assert {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"} <= covered
    status, _, body = render("MISSING_AUTHENTICATION_TOKEN", 403, CONTEXT)
    assert status == 404 and msgspec.json.decode(body)["error"]["code"] == "not_found"
    _, _, body = render("DEFAULT_4XX", 400, CONTEXT)
    assert msgspec.json.decode(body)["error"]["message"] == CONTEXT["error.message"]


def test_gateway_answers_carry_the_cors_headers_of_the_apis_answers() -> None:
    from app import app

    expected = {
        name: value
        for name, value in app.api.cors.get_access_control_headers().items()
        if name != "Access-Control-Max-Age"  # a preflight's, not an answer's
    }
    assert isinstance(app.api.cors, CORSConfig) and "X-Cart-Token" in expected["Access-Control-Allow-Headers"]
    assert expected["Access-Control-Expose-Headers"].startswith("Retry-After")
    for response_type in gateway_responses():
        _, headers, _ = render(response_type, 400, CONTEXT)
        assert {name: headers.get(name) for name in expected} == expected, response_type


def test_gateway_responses_exist_only_once_a_rest_api_is_named() -> None:
    document = yaml.safe_load(TEMPLATE.read_text())
    assert document["Parameters"]["RestApiId"]["Default"] == ""
    responses = [r for r in document["Resources"].values() if r["Type"] == "AWS::ApiGateway::GatewayResponse"]
    assert responses and all(r["Condition"] == "HasRestApi" for r in responses)
    assert all(r["Properties"]["RestApiId"] == {"Ref": "RestApiId"} for r in responses)


def test_the_document_marks_every_key_of_the_error_shape_required() -> None:
    _, components = msgspec.json.schema_components([ErrorBody])
    assert components["ErrorDetail"]["required"] == ["code", "message", "fields", "details"]
