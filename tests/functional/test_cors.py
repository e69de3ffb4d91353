"""Every route works from a browser on another origin: the preflight allows each method and each header the
API reads, answers expose the headers a page reads (Retry-After), errors carry the CORS headers, and the
deployed preflight (API Gateway's mock OPTIONS) says the same as chalice local's."""

from __future__ import annotations

from typing import Any

import pytest
from chalice import Response

from chalicelib.api.cors import ALLOWED_HEADERS, SERVER_ONLY_HEADERS, allowed_origin, cors_config
from chalicelib.api.routing import ROUTES, chalice_errors_in_our_shape

ORIGIN = "http://127.0.0.1:5173"  # a storefront served from another port than the API


def preflight(api: Any, path: str, method: str, headers: str) -> dict[str, str]:
    asked = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }
    # chalice.test's Client cannot read the body-less preflight answer: ask its local gateway directly.
    answer = api.http._local_gateway.handle_request("OPTIONS", path, asked, b"")
    assert answer["statusCode"] == 200, (path, answer)
    return dict(answer["headers"])


def concrete(path: str) -> str:
    for param in ("shop_id", "product_id", "variant_id", "cart_id", "order_id", "sub_order_id"):
        path = path.replace("{" + param + "}", "x_0000000000000000")
    return path.replace("{", "").replace("}", "")


def test_each_routes_preflight_allows_its_method_and_every_header_it_reads(api):
    assert ROUTES
    allowed_lower = {h.lower() for h in ALLOWED_HEADERS}
    for route in ROUTES:
        read = [h for h in route.headers if h not in SERVER_ONLY_HEADERS]
        assert set(read) <= allowed_lower, (route.path, read)  # a header a route reads is on the list
        asked = ",".join(["content-type", "authorization", *read])
        headers = preflight(api, concrete(route.path), route.method, asked)
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert route.method in headers["Access-Control-Allow-Methods"].split(","), route.path
        allowed = {h.lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
        assert set(asked.split(",")) <= allowed, route.path


@pytest.mark.parametrize("header", ["X-Cart-Token", "X-Order-Token", "Idempotency-Key", "Authorization"])
def test_the_custom_headers_of_the_checkout_pass_the_preflight(api, header):
    paths = {
        "X-Cart-Token": ("GET", "/carts/cart_0000000000000000"),
        "X-Order-Token": ("GET", "/orders/ord_0000000000000000"),
        "Idempotency-Key": ("POST", "/carts/cart_0000000000000000/checkout"),
        "Authorization": ("PATCH", "/retailer/shop"),
    }
    method, path = paths[header]
    headers = preflight(api, path, method, f"{header.lower()},content-type")
    assert header.lower() in {h.lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert method in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Max-Age"] == "600"


def test_answers_and_errors_carry_the_cors_headers_and_expose_retry_after(api, open_shop):
    ok = api.http.get("/shops", headers={"Origin": ORIGIN})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in ok.headers["Access-Control-Expose-Headers"].split(",")
    # A handler's error, and one Chalice answers itself (415) before any handler runs.
    missing = api.http.get("/carts/cart_0000000000000000", headers={"Origin": ORIGIN, "X-Cart-Token": "x"})
    refused = api.http.post("/carts", headers={"Origin": ORIGIN, "Content-Type": "text/plain"}, body=b"x")
    for response, status in ((missing, 404), (refused, 415)):
        assert response.status_code == status
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


def test_the_deployed_preflight_is_generated_from_the_same_config():
    from chalice.deploy.swagger import SwaggerGenerator

    from app import app

    document = SwaggerGenerator(
        "eu-west-1", {"api_handler_arn": "arn:x", "api_handler_name": "x"}
    ).generate_swagger(app)
    options = document["paths"]["/carts/{cart_id}"]["options"]
    parameters = options["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"]
    allow_headers = parameters["method.response.header.Access-Control-Allow-Headers"]
    assert all(h in allow_headers for h in ALLOWED_HEADERS)
    assert "Retry-After" in parameters["method.response.header.Access-Control-Expose-Headers"]
    assert parameters["method.response.header.Access-Control-Allow-Origin"] == "'*'"


def test_a_stage_names_its_one_origin_and_chalices_own_errors_carry_it():
    config = cors_config("https://winkels.example")
    middleware = chalice_errors_in_our_shape(config)
    chalice_415 = Response(body={"Code": "UnsupportedMediaType", "Message": "x"}, status_code=415)
    shaped = middleware({}, lambda event: chalice_415)
    assert shaped.headers["Access-Control-Allow-Origin"] == "https://winkels.example"
    assert "X-Order-Token" in shaped.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("value", ["https://a.example,https://b.example", "mall.example", "https://x/y"])
def test_an_origin_list_or_a_malformed_origin_is_refused_at_start(value):
    with pytest.raises(ValueError, match="CORS_ALLOW_ORIGIN"):
        allowed_origin(value)
    assert allowed_origin("") == "*" and allowed_origin("http://127.0.0.1:8001") == "http://127.0.0.1:8001"
