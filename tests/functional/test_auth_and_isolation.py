"""API keys and tenant isolation: who may call what, and one shop never sees or changes another's data."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib.api.routing import ROUTES, RouteSpec
from chalicelib.auth.keys import Role

BAKERY, CHOCOLATE = 0, 5
WELL_FORMED_ID = "x_0000000000000000"


def raw_call(
    api: Any, method: str, path: str, authorization: str | None, body: Any = None
) -> tuple[int, dict, Any]:
    """Like Api.call, but with any Authorization header (or none) and the response headers."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    payload = json.dumps(body).encode() if body is not None else b""
    if method == "GET":
        response = api.http.get(path, headers=headers)
    else:
        response = getattr(api.http, method.lower())(path, headers=headers, body=payload)
    text = response.body.decode() if response.body else ""
    return response.status_code, response.headers, json.loads(text) if text else None


def concrete(route: RouteSpec, **ids: str) -> str:
    """The route's path with the given ids, and well-formed unknown ones for the rest: auth is decided
    before ids are looked up."""
    return re.sub(r"{(\w+)}", lambda m: ids.get(m[1], WELL_FORMED_ID), route.path)


def routes(role: Role | None = None) -> list[RouteSpec]:
    """Secured routes (of one role), read when called: ROUTES fills up when the `api` fixture imports app."""
    found = [r for r in ROUTES if r.auth is not None and (role is None or r.auth == role)]
    assert found, "no routes registered: is the app imported?"
    return found


def test_the_route_table_has_secured_routes_of_both_roles(api):
    # Guards the loops below against silently testing nothing.
    assert len(routes(Role.OPERATOR)) >= 6 and len(routes(Role.RETAILER)) >= 9
    assert all(r.path.startswith("/operator/") for r in routes(Role.OPERATOR))
    assert all(r.path.startswith("/retailer/") for r in routes(Role.RETAILER))


def test_no_key_is_401_with_a_bearer_challenge(api, open_shop):
    open_shop()
    for route in routes():
        status, headers, body = raw_call(api, route.method, concrete(route), None, {})
        assert status == 401, (route.method, route.path, body)
        assert headers.get("WWW-Authenticate") == "Bearer", route.path
        assert body["error"]["code"] == "missing_api_key"


@pytest.mark.parametrize(
    ("code", "headers"),
    [
        pytest.param(
            "missing_api_key",
            ["", "Bearer", "Bearer    ", "Basic ZG1fcnQ6c2VjcmV0", "Token {key}", "{key}"],
            id="missing",
        ),
        pytest.param(
            "invalid_api_key",
            [
                "Bearer not-a-key",
                "Bearer {key}x",
                "Bearer {upper}",
                "Bearer {key} {key}",
                "Bearer dm_rt_00000000000000000000000000000000",  # well-formed, never issued
                "Bearer dm_op_00000000000000000000000000000000",
            ],
            id="invalid",
        ),
    ],
)
def test_malformed_or_unknown_key_is_401(api, open_shop, operator_key, code, headers):
    _, key = open_shop()

    for template in headers:
        header = template.format(key=key, upper=key.upper())
        for route in (r for r in routes() if r.method == "GET"):
            status, answer_headers, body = raw_call(api, "GET", concrete(route), header)
            assert status == 401, (header, route.path, body)
            assert body["error"]["code"] == code, header
            assert answer_headers.get("WWW-Authenticate") == "Bearer"
    # The same key, sent properly, works: the 401 was about the header, not the key.
    assert raw_call(api, "GET", "/retailer/shop", f"bearer {key}")[0] == 200


def test_retailer_key_on_operator_routes_is_403_and_changes_nothing(api, open_shop, operator_key, shop_body):
    shop, key = open_shop()
    _, before = api.call("GET", f"/operator/shops/{shop['id']}", key=operator_key)

    for route in routes(Role.OPERATOR):
        path = concrete(route, shop_id=shop["id"])
        body = shop_body if route.body is not None else None
        status, answer = api.call(route.method, path, body, key=key)
        assert status == 403, (route.method, route.path, answer)
        assert answer["error"]["code"] == "wrong_role"
        assert answer["error"]["details"] == {"required_role": "operator"}

    # Not suspended, not rotated, no second shop opened.
    assert api.call("GET", f"/operator/shops/{shop['id']}", key=operator_key)[1] == before
    assert api.call("GET", "/retailer/shop", key=key)[0] == 200
    assert len(api.call("GET", "/operator/shops", key=operator_key)[1]["items"]) == 1


def test_operator_key_on_retailer_routes_is_403(api, open_shop, operator_key, product_body):
    _, key = open_shop()
    status, product = api.call("POST", "/retailer/products", product_body, key=key)
    assert status == 201
    variant = product["variants"][0]["id"]

    for route in routes(Role.RETAILER):
        path = concrete(route, product_id=product["id"], variant_id=variant)
        body = {"set": 0} if route.path.endswith("/stock") else ({} if route.body is not None else None)
        status, answer = api.call(route.method, path, body, key=operator_key)
        assert status == 403, (route.method, route.path, answer)
        assert answer["error"]["code"] == "wrong_role"
        assert answer["error"]["details"] == {"required_role": "retailer"}

    assert api.call("GET", f"/retailer/products/{product['id']}", key=key)[1] == product


# --- isolation between shops --------------------------------------------------------------------------


@pytest.fixture
def two_shops(api, open_shop, product_body) -> dict[str, Any]:
    """Shop A (bakery) and shop B (chocolaterie); B has one product."""
    a_shop, a_key = open_shop(BAKERY)
    b_shop, b_key = open_shop(CHOCOLATE)
    status, b_product = api.call("POST", "/retailer/products", product_body, key=b_key)
    assert status == 201
    return {"a_key": a_key, "a_shop": a_shop, "b_key": b_key, "b_shop": b_shop, "b_product": b_product}


def test_retailer_cannot_read_or_change_another_shops_product(api, two_shops):
    a_key, b_key, product = two_shops["a_key"], two_shops["b_key"], two_shops["b_product"]
    pid, variant = product["id"], product["variants"][0]["id"]
    public_before = api.call("GET", f"/products/{pid}")
    attempts = [
        ("GET", f"/retailer/products/{pid}", None),
        ("PATCH", f"/retailer/products/{pid}", {"name": "Stolen"}),
        ("PATCH", f"/retailer/products/{pid}", {"active": False}),
        ("POST", f"/retailer/products/{pid}/variants", {"sku": "A-NEW-1", "price_cents": 1}),
        ("PATCH", f"/retailer/products/{pid}/variants/{variant}", {"price_cents": 1, "sku": "A-NEW-2"}),
        ("PATCH", f"/retailer/products/{pid}/variants/{variant}", {"active": False}),
        ("POST", f"/retailer/products/{pid}/variants/{variant}/stock", {"set": 0}),
        ("POST", f"/retailer/products/{pid}/variants/{variant}/stock", {"adjust": -1}),
        ("POST", f"/retailer/products/{pid}/variants/{variant}/stock", {"adjust": 1000}),
    ]

    for method, path, body in attempts:
        status, answer = api.call(method, path, body, key=a_key)
        assert status == 404, (method, path, answer)
        assert answer["error"]["code"] in {"product_not_found", "variant_not_found"}

    # B's product is exactly as it was, for B and for storefronts.
    assert api.call("GET", f"/retailer/products/{pid}", key=b_key) == (200, product)
    assert api.call("GET", f"/products/{pid}") == public_before
    assert pid in {
        i["id"] for i in api.call("GET", f"/shops/{two_shops['b_shop']['id']}/products")[1]["items"]
    }
    # A's refused writes claimed no SKU in B's shop.
    status, _ = api.call(
        "POST", f"/retailer/products/{pid}/variants", {"sku": "A-NEW-2", "price_cents": 5}, key=b_key
    )
    assert status == 201


def test_another_shops_product_looks_exactly_like_an_unknown_one(api, two_shops):
    pid = two_shops["b_product"]["id"]
    unknown = "prod_0000000000000000"

    _, foreign = api.call("GET", f"/retailer/products/{pid}", key=two_shops["a_key"])
    _, missing = api.call("GET", f"/retailer/products/{unknown}", key=two_shops["a_key"])

    assert json.dumps(foreign).replace(pid, "ID") == json.dumps(missing).replace(unknown, "ID")


def test_each_retailer_sees_only_its_own_shop_and_products(api, two_shops):
    a_key, b_key = two_shops["a_key"], two_shops["b_key"]
    status, a_product = api.call(
        "POST",
        "/retailer/products",
        {
            "name": "Rye",
            "category": "bakery",
            "vat_rate_bps": 600,
            "variants": [{"sku": "R", "price_cents": 1}],
        },
        key=a_key,
    )
    assert status == 201

    assert api.call("GET", "/retailer/shop", key=a_key)[1]["id"] == two_shops["a_shop"]["id"]
    assert api.call("GET", "/retailer/shop", key=b_key)[1]["id"] == two_shops["b_shop"]["id"]
    assert [i["id"] for i in api.call("GET", "/retailer/products", key=a_key)[1]["items"]] == [
        a_product["id"]
    ]
    assert [i["id"] for i in api.call("GET", "/retailer/products", key=b_key)[1]["items"]] == [
        two_shops["b_product"]["id"]
    ]


def test_a_retailer_cannot_page_into_another_shops_list(api, two_shops, product_body):
    b_key = two_shops["b_key"]
    second = dict(product_body, variants=[dict(product_body["variants"][0], sku="OTHER-SKU")])
    assert api.call("POST", "/retailer/products", second, key=b_key)[0] == 201
    status, page = api.call("GET", "/retailer/products?limit=1", key=b_key)
    assert status == 200 and page["next_cursor"]

    status, body = api.call(
        "GET", f"/retailer/products?limit=1&cursor={page['next_cursor']}", key=two_shops["a_key"]
    )

    assert status == 400
    assert [f["field"] for f in body["error"]["fields"]] == ["cursor"]


def test_a_retailer_cannot_create_a_product_in_another_shop(api, two_shops, product_body):
    body = dict(product_body, shop_id=two_shops["b_shop"]["id"])
    body["variants"] = [dict(v, sku=f"A-{i}") for i, v in enumerate(body["variants"])]

    status, answer = api.call("POST", "/retailer/products", body, key=two_shops["a_key"])

    assert status == 400
    assert [f["field"] for f in answer["error"]["fields"]] == ["shop_id"]
    assert len(api.call("GET", "/retailer/products", key=two_shops["b_key"])[1]["items"]) == 1
    assert api.call("GET", "/retailer/products", key=two_shops["a_key"])[1]["items"] == []
