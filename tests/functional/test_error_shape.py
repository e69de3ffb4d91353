"""One error shape for every 4xx, whoever answers: a handler (validation or not), Chalice itself (415, 405) or
the gateway (no route: the gateway responses of infra/mall-stack.yaml, which chalice.test answers from too).
Every enum filter of a list refuses an unknown value, and a browser can read every error (CORS)."""

from __future__ import annotations

import typing
from enum import Enum
from typing import Any

import msgspec
import pytest

from chalicelib.api.gateway_errors import render
from chalicelib.api.routing import ROUTES, ErrorBody
from chalicelib.auth.keys import Role

KEYS = ("code", "message", "fields", "details")
ORIGIN = {"Origin": "https://shop.example"}


def error_of(response: Any, status: int) -> dict[str, Any]:
    """The error object of a response that must be `status` in the one shape, readable cross-origin."""
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = msgspec.json.decode(response.body)
    msgspec.convert(body, ErrorBody)  # exactly the documented shape: no Chalice "Code", no "message" only
    assert list(body) == ["error"] and sorted(body["error"]) == sorted(KEYS), body
    assert isinstance(body["error"]["fields"], list) and isinstance(body["error"]["details"], dict)
    return body["error"]


def test_validation_and_other_errors_carry_the_same_keys(api, open_shop):
    http = api.http
    invalid = error_of(http.get("/shops?limit=0", headers=ORIGIN), 400)
    assert invalid["code"] == "validation_error" and invalid["fields"][0]["field"] == "limit"
    assert invalid["details"] == {}

    missing = error_of(http.get("/shops/shop_0000000000000000", headers=ORIGIN), 404)
    assert missing["fields"] == [] and missing["details"]["id"] == "shop_0000000000000000"

    unauthenticated = error_of(http.get("/retailer/shop", headers=ORIGIN), 401)
    assert unauthenticated["fields"] == [] and unauthenticated["details"] == {}


def test_a_body_that_is_not_json_is_a_415_in_the_error_shape(api, open_shop):
    _, key = open_shop()
    response = api.http.post(
        "/retailer/products",
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {key}", **ORIGIN},
        body=b"name=Rye",
    )
    error = error_of(response, 415)
    assert error["code"] == "unsupported_media_type" and "Code" not in msgspec.json.decode(response.body)


def test_a_method_a_path_lacks_is_a_405_naming_the_allowed_ones(api):
    response = api.http.request("DELETE", "/shops", headers=ORIGIN)
    error = error_of(response, 405)
    assert error["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET" and error["details"] == {"allow": "GET"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer mall_secret_key_never_echoed"}])
def test_an_unknown_path_is_a_404_as_the_deployed_gateway_answers(api, headers):
    response = api.http.get("/no/such/path", headers={**headers, **ORIGIN})
    error = error_of(response, 404)
    assert error["code"] == "not_found"
    # The very answer the MISSING_AUTHENTICATION_TOKEN gateway response gives once deployed.
    request_id = error["details"]["request_id"]
    status, gateway_headers, body = render("MISSING_AUTHENTICATION_TOKEN", 403, {"requestId": request_id})
    assert (status, msgspec.json.decode(body)) == (404, {"error": error})
    assert {k: response.headers[k] for k in gateway_headers} == gateway_headers
    # chalice local echoes an Authorization header into its own 403 body; this answer never does.
    assert b"never_echoed" not in response.body


def _enum_values(type_: Any) -> list[str] | None:
    """The allowed values of an enum-typed query field (Literal, Enum, optionally None), else None."""
    args = [a for a in typing.get_args(type_) if a is not type(None)] if typing.get_origin(type_) else []
    if args and typing.get_origin(type_) is not typing.Literal and len(args) == 1:
        type_ = args[0]
    if typing.get_origin(type_) is typing.Literal:
        return [str(v) for v in typing.get_args(type_)]
    if isinstance(type_, type) and issubclass(type_, Enum):
        return [str(m.value) for m in type_]
    return None


def enum_filters() -> list[tuple[Any, str]]:
    """(route, query field) of every enum-typed filter; ROUTES fills up when the `api` fixture imports app."""
    return [
        (route, field.encode_name)
        for route in ROUTES
        if route.query is not None
        for field in msgspec.structs.fields(route.query)
        # A filter named like one counts even when typed as a plain string (as /retailer/orders' was).
        if _enum_values(field.type) is not None or field.encode_name in ("status", "category")
    ]


# Query fields a filter needs besides the enum (msgspec parses the query before the handler runs).
REQUIRED = {"lat": "51.05", "lng": "3.72", "month": "2026-11"}


def test_every_enum_filter_of_every_list_refuses_an_unknown_value(api, open_shop, operator_key):
    _, retailer_key = open_shop()
    filters = enum_filters()
    found = {(route.path, name) for route, name in filters}
    assert {("/shops", "category"), ("/retailer/orders", "status"), ("/products", "category")} <= found
    for route, name in filters:
        key = {Role.RETAILER: retailer_key, Role.OPERATOR: operator_key, None: None}[route.auth]
        path = route.path
        for param in route.path_params:
            path = path.replace("{" + param + "}", "shop_0000000000000000")
        required = {
            f.encode_name: REQUIRED[f.encode_name]
            for f in msgspec.structs.fields(route.query)
            if f.required and f.encode_name != name
        }
        query = "&".join(f"{k}={v}" for k, v in {**required, name: "bogus"}.items())
        status, body = api.call(route.method, f"{path}?{query}", key=key)
        assert status == 400, (route.path, name, body)
        assert [f["field"] for f in body["error"]["fields"]] == [name], (route.path, body)


def test_retailer_orders_by_a_known_status_still_answer(api, open_shop):
    _, key = open_shop()
    status, page = api.call("GET", "/retailer/orders?status=ready_for_pickup", key=key)
    assert status == 200 and page["items"] == []


def test_a_cors_preflight_is_answered_with_the_allowed_origin_methods_and_headers(api):
    asked = {
        **ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    # chalice.test's Client cannot read the body-less preflight answer (body None): ask its gateway directly.
    answer = api.http._local_gateway.handle_request("OPTIONS", "/retailer/products", asked, b"")
    headers = answer["headers"]
    assert answer["statusCode"] == 200
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert {"GET", "POST", "OPTIONS"} <= set(headers["Access-Control-Allow-Methods"].split(","))
    allowed = {h.lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed


@pytest.mark.parametrize("outcome", ["succeed", "fail"])
@pytest.mark.parametrize("intent_id", ["pi_sim0000000000000000", "pi_unknown"])
def test_finishing_an_unknown_simulated_payment_is_a_404(api, outcome, intent_id):
    response = api.http.post(f"/dev/payments/{intent_id}/{outcome}", headers=ORIGIN)
    error = error_of(response, 404)
    assert error["details"]["id"] == intent_id
