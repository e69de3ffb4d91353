"""Retailers and the operator over real HTTP against the seeded local stack.

The demo retailer key (shop "Bakkerij De Graanzolder") edits its profile, creates products and counts
stock; shops opened here with the operator key check that one shop's key never reaches another shop's
data and that suspension takes a shop off the storefront. Bad input must always be a 400 naming the field.
Everything created here has a name of its own, so the storefront tests sharing the stack are not affected.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from tools.demo_data import demo_products, demo_shops

if TYPE_CHECKING:
    from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

_serial = itertools.count(1)
BAKERY = "bakkerij-de-graanzolder"  # the demo retailer's shop (the keys file's retailer key)
OpenShop = Callable[..., tuple[dict[str, Any], str]]


def product_body(name: str, sku: str, *, stock: int = 5, description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "category": "bakery",
        "vat_rate_bps": 600,
        "description": description,
        "variants": [
            {"sku": f"{sku}-S", "price_cents": 450, "stock": stock, "options": {"size": "small"}},
            {"sku": f"{sku}-L", "price_cents": 1250, "stock": 0, "options": {"size": "large"}},
        ],
    }


def listed_ids(api: Api, path: str, key: str | None = None, **params: Any) -> set[str]:
    items, _ = api.walk(path, page_size=100, params=params, key=key)
    return {item["id"] for item in items}


@pytest.fixture(scope="module")
def retailer(info: dict[str, Any]) -> str:
    return info["retailer_key"]


@pytest.fixture(scope="module")
def operator(info: dict[str, Any]) -> str:
    return info["operator_key"]


@pytest.fixture(scope="module")
def open_shop(api: Api, operator: str) -> OpenShop:
    """Opens a shop with the operator key, on a demo shop's profile under a new name; returns (shop, key)."""

    def _open(name: str, template: int = 5) -> tuple[dict[str, Any], str]:
        body = demo_shops()[template]
        body.pop("key")
        body["name"] = name
        created = api.ok("POST", "/operator/shops", 201, key=operator, body=body)
        assert created["api_key"].startswith(created["shop"]["api_key_prefix"])
        assert created["shop"]["status"] == "active"
        return created["shop"], created["api_key"]

    return _open


@pytest.fixture(scope="module")
def own_product(api: Api, info: dict[str, Any]) -> dict[str, Any]:
    """A listed demo product of the demo retailer's shop, with its variants, as the storefront shows it.
    The last one: the first few get a demo photo, processed in the background, which changes them."""
    name = [p for p in demo_products(BAKERY) if p["active"]][-1]["name"]
    products, _ = api.walk(f"/shops/{info['retailer_shop_id']}/products", page_size=100)
    return api.get(f"/products/{next(p['id'] for p in products if p['name'] == name)}")


def test_retailer_updates_its_profile(api: Api, retailer: str, info: dict[str, Any]) -> None:
    before = api.get("/retailer/shop", key=retailer)
    change = {
        "description": "Sourdough baked every night in Sint-Pieters. Updated over HTTP by the e2e tests.",
        "pickup": {"enabled": True, "ready_within_hours": 4, "instructions": "Ring at the side door"},
        "email": None,
    }
    updated = api.ok("PATCH", "/retailer/shop", key=retailer, body=change)
    assert updated["id"] == info["retailer_shop_id"]
    assert updated["profile"]["description"] == change["description"]
    # The fields sent, plus the defaults of the ones not sent (e.g. no_show_days).
    assert {k: updated["profile"]["pickup"][k] for k in change["pickup"]} == change["pickup"]
    assert updated["profile"]["email"] is None
    unchanged = {k: v for k, v in before["profile"].items() if k not in change}
    assert {k: updated["profile"][k] for k in unchanged} == unchanged
    assert updated["updated_at"] >= before["updated_at"]

    assert api.get("/retailer/shop", key=retailer)["profile"] == updated["profile"]
    public = api.get(f"/shops/{info['retailer_shop_id']}")
    assert (public["description"], public["pickup"], public["email"]) == (
        change["description"],
        updated["profile"]["pickup"],
        None,
    )


def test_new_product_is_found_by_search_in_its_shop_and_category(
    api: Api, retailer: str, info: dict[str, Any]
) -> None:
    shop_id = info["retailer_shop_id"]
    listing = f"/shops/{shop_id}/products"
    before = listed_ids(api, listing)
    assert api.get("/products", params={"q": "zwanzetaart"})["items"] == []

    body = product_body(
        "Crème brûlée tartelette", "E2E-CB", description="Vanilla custard under burnt sugar, our zwanzetaart."
    )
    created = api.ok("POST", "/retailer/products", 201, key=retailer, body=body)
    product_id = created["id"]
    assert (created["shop_id"], created["shop_name"]) == (shop_id, info["retailer_shop_name"])
    assert [(v["sku"], v["stock"], v["in_stock"]) for v in created["variants"]] == [
        ("E2E-CB-S", 5, True),
        ("E2E-CB-L", 0, False),
    ]

    assert [p["id"] for p in api.get("/products", params={"q": "zwanzetaart"})["items"]] == [product_id]
    by_words = api.get("/products", params={"q": "creme brulee", "limit": 100})["items"]  # accents folded
    assert product_id in {p["id"] for p in by_words}
    summary = next(p for p in by_words if p["id"] == product_id)
    assert (summary["price_from_cents"], summary["price_to_cents"]) == (450, 1250)
    assert listed_ids(api, listing) == before | {product_id}
    assert product_id in listed_ids(api, "/products", category="bakery")
    assert product_id in listed_ids(api, "/retailer/products", key=retailer)
    assert api.get(f"/products/{product_id}")["variants"] == created["variants"]

    taken = api.error(
        "POST", "/retailer/products", 409, key=retailer, body=product_body("Another tartelette", "E2E-CB")
    )
    assert taken["code"] == "sku_taken"
    assert listed_ids(api, listing) == before | {product_id}


def test_inactive_products_stay_off_the_storefront_until_activated(
    api: Api, retailer: str, info: dict[str, Any]
) -> None:
    retired = next(p for p in demo_products(BAKERY) if not p["active"])  # seasonal: "Christmas stollen"
    mine, _ = api.walk("/retailer/products", page_size=100, key=retailer)
    product = next(p for p in mine if p["name"] == retired["name"])
    assert product["active"] is False
    listing = f"/shops/{info['retailer_shop_id']}/products"
    word = retired["name"].split()[-1]

    assert product["id"] not in listed_ids(api, listing)
    assert product["id"] not in {p["id"] for p in api.get("/products", params={"q": word})["items"]}
    assert api.error("GET", f"/products/{product['id']}", 404)["code"] == "product_not_found"

    activated = api.ok("PATCH", f"/retailer/products/{product['id']}", key=retailer, body={"active": True})
    assert activated["active"] is True
    try:
        assert product["id"] in listed_ids(api, listing)
        assert product["id"] in {p["id"] for p in api.get("/products", params={"q": word})["items"]}
        assert api.get(f"/products/{product['id']}")["name"] == retired["name"]
    finally:
        api.ok("PATCH", f"/retailer/products/{product['id']}", key=retailer, body={"active": False})
    assert product["id"] not in listed_ids(api, listing)
    assert api.error("GET", f"/products/{product['id']}", 404)["code"] == "product_not_found"


def test_retailer_sets_and_adjusts_stock(api: Api, retailer: str) -> None:
    product = api.ok(
        "POST", "/retailer/products", 201, key=retailer, body=product_body("Stock loaf", "E2E-ST")
    )
    variant = product["variants"][1]
    stock = f"/retailer/products/{product['id']}/variants/{variant['id']}/stock"

    counted = api.ok("POST", stock, key=retailer, body={"set": 12})
    assert (counted["id"], counted["stock"], counted["in_stock"]) == (variant["id"], 12, True)
    assert api.get(f"/retailer/products/{product['id']}", key=retailer)["variants"][1] == counted
    assert api.ok("POST", stock, key=retailer, body={"adjust": -5})["stock"] == 7
    short = api.error("POST", stock, 409, key=retailer, body={"adjust": -8})
    assert short["code"] == "stock_would_go_negative"
    assert api.get(f"/products/{product['id']}")["variants"][1]["stock"] == 7

    emptied = api.ok("POST", stock, key=retailer, body={"set": 0})
    assert (emptied["stock"], emptied["in_stock"]) == (0, False)
    for both_or_neither in ({"set": 1, "adjust": 1}, {}):
        error = api.error("POST", stock, 400, key=retailer, body=both_or_neither)
        assert {f["field"] for f in error["fields"]} == {"set", "adjust"}
    other_variant = f"/retailer/products/{product['id']}/variants/{product['id']}-zzzzzz/stock"
    assert api.error("POST", other_variant, 404, key=retailer, body={"set": 1})["code"] == "variant_not_found"
    assert api.get(f"/products/{product['id']}")["variants"][1]["stock"] == 0


def test_a_shops_key_never_reaches_another_shops_products(
    api: Api, retailer: str, operator: str, open_shop: OpenShop, own_product: dict[str, Any]
) -> None:
    second, second_key = open_shop(f"E2E Tweede Winkel {next(_serial)}")
    theirs = api.ok(
        "POST", "/retailer/products", 201, key=second_key, body=product_body("Their loaf", "E2E-TH")
    )
    assert theirs["shop_id"] == second["id"]

    mine = own_product["id"]
    variant = own_product["variants"][0]
    missing = api.error("GET", "/retailer/products/prod_0000000000000000", 404, key=second_key)
    attempts: list[tuple[str, str, Any]] = [
        ("GET", f"/retailer/products/{mine}", None),
        ("PATCH", f"/retailer/products/{mine}", {"name": "Stolen"}),
        ("POST", f"/retailer/products/{mine}/variants", {"sku": "E2E-STOLEN", "price_cents": 100}),
        ("PATCH", f"/retailer/products/{mine}/variants/{variant['id']}", {"price_cents": 1}),
        ("POST", f"/retailer/products/{mine}/variants/{variant['id']}/stock", {"set": 0}),
        ("POST", f"/retailer/products/{mine}/variants/{variant['id']}/stock", {"adjust": -1}),
    ]
    for method, path, body in attempts:
        error = api.error(method, path, 404, key=second_key, body=body)
        assert error["code"] in {"product_not_found", "variant_not_found"}, (method, path, error)
        if method == "GET":
            assert error["code"] == missing["code"], "another shop's product looks exactly like a missing one"
    assert api.get(f"/products/{mine}") == own_product, "nothing changed"

    assert (
        api.error("GET", f"/retailer/products/{theirs['id']}", 404, key=retailer)["code"] == missing["code"]
    )
    assert listed_ids(api, "/retailer/products", key=second_key) == {theirs["id"]}
    assert api.get("/retailer/shop", key=second_key)["id"] == second["id"]

    assert api.error("GET", "/operator/shops", 403, key=second_key)["code"] == "wrong_role"
    assert api.error("GET", "/retailer/shop", 403, key=operator)["code"] == "wrong_role"
    response = api.call("GET", "/retailer/shop")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert api.error("GET", "/retailer/shop", 401, key="dm_rt_" + "x" * 32)["code"] == "invalid_api_key"


def test_operator_suspends_a_shop_and_it_leaves_the_storefront(
    api: Api, operator: str, open_shop: OpenShop
) -> None:
    shop, key = open_shop(f"E2E Geschorste Winkel {next(_serial)}")
    product = api.ok(
        "POST", "/retailer/products", 201, key=key, body=product_body("Kwarktaartje e2esuspended", "E2E-SU")
    )
    location = shop["profile"]["location"]
    near = {"lat": location["lat"], "lng": location["lng"], "radius_km": 1}
    assert shop["id"] in listed_ids(api, "/shops")
    assert shop["id"] in listed_ids(api, "/shops/near", **near)
    assert [p["id"] for p in api.get("/products", params={"q": "e2esuspended"})["items"]] == [product["id"]]

    suspended = api.ok("POST", f"/operator/shops/{shop['id']}/suspend", key=operator)
    assert suspended["status"] == "suspended"

    assert shop["id"] not in listed_ids(api, "/shops")
    assert shop["id"] not in listed_ids(api, "/shops/near", **near)
    assert api.error("GET", f"/shops/{shop['id']}", 404)["code"] == "shop_not_found"
    assert api.error("GET", f"/shops/{shop['id']}/products", 404)["code"] == "shop_not_found"
    assert api.error("GET", f"/products/{product['id']}", 404)["code"] == "product_not_found"
    assert api.get("/products", params={"q": "e2esuspended"})["items"] == []
    assert product["id"] not in listed_ids(api, "/products", category="bakery")

    assert shop["id"] in listed_ids(api, "/operator/shops", key=operator, status="suspended")
    assert shop["id"] not in listed_ids(api, "/operator/shops", key=operator)
    assert api.get(f"/operator/shops/{shop['id']}", key=operator)["status"] == "suspended"
    # Its retailer can still read, but not write.
    assert api.get("/retailer/shop", key=key)["status"] == "suspended"
    assert api.get(f"/retailer/products/{product['id']}", key=key)["id"] == product["id"]
    for method, path, body in [
        ("PATCH", "/retailer/shop", {"description": "still here"}),
        ("POST", "/retailer/products", product_body("Smuggled", "E2E-SM")),
        ("PATCH", f"/retailer/products/{product['id']}", {"name": "Renamed"}),
    ]:
        assert api.error(method, path, 403, key=key, body=body)["code"] == "shop_suspended"

    assert api.ok("POST", f"/operator/shops/{shop['id']}/reactivate", key=operator)["status"] == "active"
    assert shop["id"] in listed_ids(api, "/shops")
    # Its products are listed again by the relist worker, fed by the relist queue (off the request).
    deadline = time.monotonic() + 15
    while not api.get("/products", params={"q": "e2esuspended"})["items"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p["id"] for p in api.get("/products", params={"q": "e2esuspended"})["items"]] == [product["id"]]


PIE = product_body("Pie", "E2E-BAD")
NEW_SHOP_REQUIRED = ("name", "categories", "address", "location", "opening_hours", "pickup", "delivery")
STOCK = "/retailer/products/{product}/variants/{variant}/stock"


def bad(method: str, path: str, body: Any, who: str, *fields: str, id: str) -> Any:
    """One bad request: body is JSON or raw bytes; who is "retailer", "operator" or "" (no key); fields
    are exactly those the 400 must name. {product} and {variant} in the path are one of our own."""
    return pytest.param(method, path, body, who, set(fields), id=id)


BAD_INPUT = [
    bad("POST", "/retailer/products", b"{not json", "retailer", "body", id="malformed-json"),
    bad("POST", "/retailer/products", b'{"name": "x",}', "retailer", "body", id="trailing-comma"),
    bad("POST", "/retailer/products", b"\xff\xfe\x00", "retailer", "body", id="not-utf8"),
    bad("POST", "/retailer/products", b"", "retailer", "body", id="empty-body"),
    bad("POST", "/retailer/products", b"[]", "retailer", "body", id="array-body"),
    bad("POST", "/retailer/products", b"null", "retailer", "body", id="null-body"),
    bad("POST", "/retailer/products", {**PIE, "colour": "red"}, "retailer", "colour", id="unknown-field"),
    bad(
        "POST", "/retailer/products", {"nmae": "Pie"}, "retailer",
        "nmae", "name", "category", "vat_rate_bps", "variants", id="typo-and-missing-fields",
    ),
    bad("POST", "/retailer/products", {**PIE, "category": "rockets"}, "retailer", "category", id="category"),
    bad("POST", "/retailer/products", {**PIE, "variants": []}, "retailer", "variants", id="no-variants"),
    bad(
        "POST", "/retailer/products", {**PIE, "variants": [{"sku": "E2E-BAD", "price_cents": "4.50"}]},
        "retailer", "variants[0].price_cents", id="price-as-string",
    ),
    bad("POST", "/retailer/products", {**PIE, "vat_rate_bps": 99999}, "retailer", "vat_rate_bps", id="vat"),
    bad("PATCH", "/retailer/shop", {"nmae": "x"}, "retailer", "nmae", id="profile-unknown-field"),
    bad("PATCH", "/retailer/shop", {"name": None}, "retailer", "name", id="profile-null-name"),
    bad(
        "PATCH", "/retailer/shop", {"address": {"street": "Veldstraat 1", "floor": 2}}, "retailer",
        "address.floor", "address.postal_code", "address.city", "address.country", id="nested-fields",
    ),
    bad(
        "PATCH", "/retailer/shop", {"opening_hours": {"mon": [["18:00", "09:00"]]}}, "retailer",
        "opening_hours.mon[0].closes", id="closes-before-opens",
    ),
    bad("PATCH", "/retailer/shop", {"location": {"lat": 91, "lng": 3}}, "retailer", "location.lat", id="lat"),
    bad("PATCH", "/retailer/shop", {"timezone": "Europe/Gent"}, "retailer", "timezone", id="timezone"),
    bad("PATCH", "/retailer/products/{product}", {"price": 100}, "retailer", "price", id="product-unknown"),
    bad("POST", STOCK, {"set": -1}, "retailer", "set", id="negative-stock"),
    bad("POST", STOCK, {"sett": 1}, "retailer", "sett", id="stock-typo"),
    bad("POST", "/operator/shops", {}, "operator", *NEW_SHOP_REQUIRED, id="empty-shop"),
    bad("GET", "/shops?limit=abc", None, "", "limit", id="limit-not-a-number"),
    bad("GET", "/shops?limit=1000", None, "", "limit", id="limit-too-large"),
    bad("GET", "/shops?sort=name", None, "", "sort", id="unknown-query-parameter"),
    bad("GET", "/shops?cursor=garbage", None, "", "cursor", id="cursor"),
    bad("GET", "/shops/near?lat=abc&lng=3.72", None, "", "lat", id="near-lat"),
    bad("GET", "/shops/near", None, "", "lat", "lng", id="near-without-point"),
    bad("GET", "/shops/near?lat=51.05&lng=3.72&radius_km=0", None, "", "radius_km", id="near-radius"),
    bad("GET", "/products?q=the", None, "", "q", id="only-stop-words"),
    bad("GET", "/operator/shops?status=closed", None, "operator", "status", id="operator-status"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "who", "fields"), BAD_INPUT)
def test_bad_input_is_a_400_naming_the_field(
    api: Api,
    info: dict[str, Any],
    own_product: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    who: str,
    fields: set[str],
) -> None:
    key = {"retailer": info["retailer_key"], "operator": info["operator_key"], "": None}[who]
    path = path.format(product=own_product["id"], variant=own_product["variants"][0]["id"])
    sent = {"raw": body} if isinstance(body, bytes) else {"body": body}
    response = api.call(method, path, key=key, **sent)
    assert response.status_code == 400, f"{method} {path}: {response.status_code} {response.text[:800]}"
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {f["field"] for f in error["fields"]} == fields
    assert all(f["message"] for f in error["fields"])


def test_bad_input_changes_nothing(api: Api, retailer: str, own_product: dict[str, Any]) -> None:
    before = listed_ids(api, "/retailer/products", key=retailer)
    bad = {**product_body("Half a pie", "E2E-HALF"), "colour": "red"}
    api.error("POST", "/retailer/products", 400, key=retailer, body=bad)
    variant = own_product["variants"][0]
    stock = f"/retailer/products/{own_product['id']}/variants/{variant['id']}/stock"
    api.error("POST", stock, 400, key=retailer, body={"set": 3, "adjust": 1})
    assert listed_ids(api, "/retailer/products", key=retailer) == before
    assert api.get(f"/products/{own_product['id']}") == own_product


def test_a_body_that_is_not_json_is_refused_not_crashed_on(api: Api, retailer: str) -> None:
    response = api.call(
        "POST", "/retailer/products", key=retailer, raw=b"name=Pie", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.headers["Content-Type"] == "application/json"
