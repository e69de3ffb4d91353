"""Bad input: malformed JSON, wrong types, unknown fields, out-of-range numbers, non-integer money, overlong
strings, bad cursors and coordinates answer 400 naming every bad field; unknown ids answer 404; nothing
answers 500, and a rejected request changes nothing."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from chalicelib.api.routing import ROUTES
from chalicelib.auth.keys import Role

BASE_PRODUCT: dict[str, Any] = {
    "name": "Rye bread",
    "category": "bakery",
    "vat_rate_bps": 600,
    "variants": [{"sku": "RYE-1", "price_cents": 350, "stock": 4, "options": {"size": "800 g"}}],
}


# 1,500 nested JSON arrays, base64url: within the cursor's 2,048 characters, beyond json's recursion limit.
DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("=")


def product(**changes: Any) -> dict[str, Any]:
    return {**BASE_PRODUCT, **changes}


def variant(**changes: Any) -> dict[str, Any]:
    return product(variants=[{**BASE_PRODUCT["variants"][0], **changes}])


def bad_fields(status: int, body: Any) -> set[str]:
    """The fields a 400 names; fails on any other answer."""
    assert status == 400, body
    assert body["error"]["code"] == "validation_error"
    fields = body["error"]["fields"]
    assert fields and all(f["message"] for f in fields)
    return {f["field"] for f in fields}


@pytest.fixture
def catalog(api, open_shop, product_body) -> dict[str, Any]:
    """A shop with one product; `state()` is everything a write could have changed."""
    shop, key = open_shop()
    status, created = api.call("POST", "/retailer/products", product_body, key=key)
    assert status == 201

    def state() -> dict[str, Any]:
        return {
            "products": api.call("GET", "/retailer/products", key=key),
            "product": api.call("GET", f"/retailer/products/{created['id']}", key=key),
            "public": api.call("GET", f"/shops/{shop['id']}/products"),
            "search": api.call("GET", "/products?q=rye"),
        }

    return {"key": key, "shop": shop, "product": created, "variant": created["variants"][0], "state": state}


# --- products -----------------------------------------------------------------------------------------

MALFORMED_BODIES = [
    b'{"name": "Rye",',
    b"",
    b"[]",
    b'"text"',
    b"null",
    b'{"name": "Rye", "vat_rate_bps": NaN}',
    b"\xff\xfe",
    b'{"name": "Rye"}' + b" " * 300_000,  # over the body size limit
    b"[" * 2000,  # nested past msgspec's recursion limit: RecursionError, not a DecodeError
]


@pytest.mark.parametrize("role", ["retailer", "operator"])
def test_malformed_bodies_name_the_body_and_change_nothing(api, catalog, operator_key, role):
    pid, vid = catalog["product"]["id"], catalog["variant"]["id"]
    key, targets = {
        "retailer": (
            catalog["key"],
            [
                ("POST", "/retailer/products"),
                ("PATCH", f"/retailer/products/{pid}"),
                ("POST", f"/retailer/products/{pid}/variants"),
                ("POST", f"/retailer/products/{pid}/variants/{vid}/stock"),
                ("PATCH", "/retailer/shop"),
            ],
        ),
        "operator": (operator_key, [("POST", "/operator/shops")]),
    }[role]
    before = catalog["state"](), api.call("GET", "/operator/shops", key=operator_key)

    for method, path in targets:
        for raw in MALFORMED_BODIES:
            assert bad_fields(*api.call(method, path, raw=raw, key=key)) == {"body"}, (path, raw[:40])

    assert (catalog["state"](), api.call("GET", "/operator/shops", key=operator_key)) == before


BAD_MONEY = [-1, 0, 10_000_001, 10**30, 12.5, 1e2, "12", "12.50", True, None, [100], {"amount": 100}]


@pytest.mark.parametrize(
    ("action", "field"),
    [("create", "variants[0].price_cents"), ("add", "price_cents"), ("update", "price_cents")],
)
def test_money_must_be_whole_cents_in_range(api, catalog, action, field):
    before = catalog["state"]()

    for value in BAD_MONEY:
        status, body = variant_write(api, catalog, action, {"price_cents": value})
        assert bad_fields(status, body) == {field}, value

    assert catalog["state"]() == before


@pytest.mark.parametrize(
    ("action", "field"),
    [("create", "variants[0].stock"), ("add", "stock"), ("stock-set", "set"), ("stock-adjust", "adjust")],
)
def test_stock_counts_must_be_whole_numbers_in_range(api, catalog, action, field):
    too_low = -1_000_001 if action == "stock-adjust" else -1
    before = catalog["state"]()

    for value in (too_low, 1_000_001, 2.5, "3", True, [1]):
        status, body = variant_write(api, catalog, action, {field.rpartition(".")[2]: value})
        assert bad_fields(status, body) == {field}, value

    assert catalog["state"]() == before


def variant_write(api: Any, catalog: dict[str, Any], action: str, fields: dict[str, Any]) -> tuple[int, Any]:
    """A write carrying variant fields: a new product, a new variant, a variant update or a stock change."""
    pid, vid = catalog["product"]["id"], catalog["variant"]["id"]
    key = catalog["key"]
    if action == "create":
        return api.call("POST", "/retailer/products", variant(**fields), key=key)
    if action == "add":
        body = {"sku": "NEW-1", "price_cents": 1, **fields}
        return api.call("POST", f"/retailer/products/{pid}/variants", body, key=key)
    if action == "update":
        return api.call("PATCH", f"/retailer/products/{pid}/variants/{vid}", fields, key=key)
    return api.call("POST", f"/retailer/products/{pid}/variants/{vid}/stock", fields, key=key)


def test_overlong_strings_are_rejected(api, catalog):
    pid, vid = catalog["product"]["id"], catalog["variant"]["id"]
    key = catalog["key"]
    before = catalog["state"](), api.call("GET", "/retailer/shop", key=key)
    long_instructions = {"pickup": {"enabled": True, "instructions": "x" * 501}}
    cases = [
        ("POST", "/retailer/products", product(name="x" * 201), "name"),
        ("POST", "/retailer/products", product(description="x" * 5001), "description"),
        ("POST", "/retailer/products", variant(sku="S" * 65), "variants[0].sku"),
        ("PATCH", f"/retailer/products/{pid}", {"name": "x" * 201}, "name"),
        ("PATCH", f"/retailer/products/{pid}/variants/{vid}", {"options": {"size": "x" * 41}}, "options"),
        ("PATCH", f"/retailer/products/{pid}/variants/{vid}", {"options": {"x" * 31: "big"}}, "options"),
        ("PATCH", "/retailer/shop", {"name": "x" * 121}, "name"),
        ("PATCH", "/retailer/shop", {"description": "x" * 2001}, "description"),
        ("PATCH", "/retailer/shop", long_instructions, "pickup.instructions"),
        ("PATCH", "/retailer/shop", {"timezone": "Europe/" + "x" * 60}, "timezone"),
        ("GET", "/products?q=" + "x" * 201, None, "q"),
    ]

    for method, path, body, field in cases:
        named = bad_fields(*api.call(method, path, body, key=key))
        assert len(named) == 1 and next(iter(named)).startswith(field), (path, named)

    assert (catalog["state"](), api.call("GET", "/retailer/shop", key=key)) == before


DUPLICATE_SKU = product(
    variants=[BASE_PRODUCT["variants"][0], {**BASE_PRODUCT["variants"][0], "sku": "rye-1"}]
)
CREATE_CASES = [
    pytest.param(
        [
            ({}, {"name", "category", "vat_rate_bps", "variants"}),
            (product(colour="red"), {"colour"}),
            (product(shop_id="shop_0000000000000000"), {"shop_id"}),
        ],
        id="missing-and-unknown-fields",
    ),
    pytest.param(
        [
            (product(name=5, active="yes"), {"name", "active"}),
            (product(vat_rate_bps=12.5), {"vat_rate_bps"}),
            (product(vat_rate_bps=10_001), {"vat_rate_bps"}),
            (product(description=None), {"description"}),
        ],
        id="wrong-types-and-ranges",
    ),
    pytest.param(
        [(product(category="spaceships"), {"category"}), (product(category="Bakery!"), {"category"})],
        id="category",
    ),
    pytest.param(
        [
            (product(variants=[]), {"variants"}),
            (product(variants=[BASE_PRODUCT["variants"][0]] * 21), {"variants"}),
            (product(variants=[1]), {"variants[0]"}),
            (variant(sku="has spaces"), {"variants[0].sku"}),
            (variant(colour="red"), {"variants[0].colour"}),
            (variant(options={"a": "1", "b": "2", "c": "3", "d": "4"}), {"variants[0].options"}),
            (DUPLICATE_SKU, {"variants[1].sku"}),
        ],
        id="variants",
    ),
    pytest.param(
        [
            (
                {
                    "name": "",
                    "category": 5,
                    "vat_rate_bps": 12.5,
                    "variants": [
                        {"sku": "OK-1", "price_cents": "12"},
                        {"sku": "", "price_cents": 100, "stock": -5},
                    ],
                    "extra": 1,
                },
                {
                    "name",
                    "category",
                    "vat_rate_bps",
                    "variants[0].price_cents",
                    "variants[1].sku",
                    "variants[1].stock",
                    "extra",
                },
            )
        ],
        id="every-bad-field-named",
    ),
]


@pytest.mark.parametrize("cases", CREATE_CASES)
def test_create_product_rejects_bad_input_and_writes_nothing(api, catalog, cases):
    before = catalog["state"]()

    for payload, fields in cases:
        status, body = api.call("POST", "/retailer/products", payload, key=catalog["key"])
        assert bad_fields(status, body) == fields, payload

    assert catalog["state"]() == before


UPDATE_CASES = [
    pytest.param(
        "product",
        [
            ({"name": ""}, {"name"}),
            ({"name": None}, {"name"}),
            ({"category": "spaceships"}, {"category"}),
            ({"vat_rate_bps": "600", "active": "no"}, {"vat_rate_bps", "active"}),
            ({"price_cents": 100}, {"price_cents"}),  # a variant's field
            ({"id": "prod_0000000000000000"}, {"id"}),
        ],
        id="product",
    ),
    pytest.param(
        "variant",
        [
            ({"sku": "bad sku", "active": 1}, {"sku", "active"}),
            ({"stock": 5}, {"stock"}),  # stock changes go through the stock route
            ({"options": {"size": None}}, {"options"}),
        ],
        id="variant",
    ),
    pytest.param(
        "add",
        [
            ({"price_cents": 100}, {"sku"}),
            ({"sku": "NEW-1", "price_cents": 1, "id": "x"}, {"id"}),
        ],
        id="add-variant",
    ),
]


@pytest.mark.parametrize(("target", "cases"), UPDATE_CASES)
def test_product_and_variant_writes_reject_bad_input_and_change_nothing(api, catalog, target, cases):
    pid, vid = catalog["product"]["id"], catalog["variant"]["id"]
    method, path = {
        "product": ("PATCH", f"/retailer/products/{pid}"),
        "variant": ("PATCH", f"/retailer/products/{pid}/variants/{vid}"),
        "add": ("POST", f"/retailer/products/{pid}/variants"),
    }[target]
    before = catalog["state"]()

    for payload, fields in cases:
        named = bad_fields(*api.call(method, path, payload, key=catalog["key"]))
        assert _prefixes(named, fields), (payload, named)

    assert catalog["state"]() == before


# --- shop profiles ------------------------------------------------------------------------------------

SHOP_CASES = [
    pytest.param(
        [
            ({"location": {"lat": 91, "lng": -181}}, {"location.lat", "location.lng"}),
            ({"location": {"lat": "51.05", "lng": 3.72}}, {"location.lat"}),
            ({"location": {"lat": 51.05}}, {"location.lng"}),
        ],
        id="coordinates",
    ),
    pytest.param(
        [
            ({"opening_hours": {"mon": [["18:00", "09:00"]]}}, {"opening_hours.mon[0].closes"}),
            ({"opening_hours": {"tue": [["25:00", "26:00"]]}}, {"opening_hours.tue[0]"}),
            (
                {"opening_hours": {"wed": [["09:00", "13:00"], ["12:00", "18:00"]]}},
                {"opening_hours.wed[1].opens"},
            ),
            ({"opening_hours": {"thu": [["09:00", "10:00"]] * 5}}, {"opening_hours.thu"}),
            ({"opening_hours": {"monday": []}}, {"opening_hours.monday"}),
            ({"closed_dates": ["2026-02-30"]}, {"closed_dates[0]"}),
            ({"timezone": "Mars/Olympus"}, {"timezone"}),
        ],
        id="hours-and-dates",
    ),
    pytest.param(
        [
            ({"delivery": {"enabled": True, "radius_km": 0}}, {"delivery.radius_km"}),
            ({"delivery": {"enabled": True, "radius_km": 51}}, {"delivery.radius_km"}),
            ({"delivery": {"enabled": True, "radius_km": 5, "fee_cents": 12.5}}, {"delivery.fee_cents"}),
            ({"pickup": {"enabled": False}, "delivery": {"enabled": False}}, {"pickup.enabled"}),
        ],
        id="fulfilment",
    ),
    pytest.param(
        [
            ({"email": "not-an-email", "phone": "call me"}, {"email", "phone"}),
            ({"categories": []}, {"categories"}),
            ({"categories": ["spaceships"]}, {"categories[0]"}),
        ],
        id="contact-and-categories",
    ),
    pytest.param(
        [
            (
                {"location": {"lat": 91, "lng": 3.7}, "name": "", "colour": "red", "categories": "bakery"},
                {"location.lat", "name", "colour", "categories"},
            ),
            (
                {
                    "categories": ["bakery", "bakery"],
                    "timezone": "Mars/Olympus",
                    "opening_hours": {"mon": [["12:00", "09:00"]]},
                    "closed_dates": ["2026-02-30"],
                },
                {"categories", "timezone", "opening_hours.mon[0].closes", "closed_dates[0]"},
            ),
        ],
        id="every-bad-field-named",
    ),
]


def _prefixes(named: set[str], expected: set[str]) -> bool:
    """Each expected path names a field exactly or as the prefix of a deeper path (e.g. "[0]" of "[0][0]")."""
    return len(named) == len(expected) and all(
        any(n == e or n.startswith((e + "[", e + ".")) for n in named) for e in expected
    )


@pytest.mark.parametrize("cases", SHOP_CASES)
def test_shop_profile_rejects_bad_input_and_changes_nothing(api, open_shop, operator_key, shop_body, cases):
    _, key = open_shop()
    profile_before = api.call("GET", "/retailer/shop", key=key)
    shops_before = api.call("GET", "/operator/shops", key=operator_key)

    for change, fields in cases:
        status, opened = api.call("POST", "/operator/shops", {**shop_body, **change}, key=operator_key)
        named_on_open = bad_fields(status, opened)
        status, patched = api.call("PATCH", "/retailer/shop", change, key=key)
        named_on_patch = bad_fields(status, patched)

        assert _prefixes(named_on_open, fields), (change, named_on_open)
        assert named_on_patch == named_on_open, change

    assert api.call("GET", "/retailer/shop", key=key) == profile_before
    assert api.call("GET", "/operator/shops", key=operator_key) == shops_before


# --- query strings ------------------------------------------------------------------------------------

NEAR = "/shops/near?lat=51.05&lng=3.72"
QUERY_CASES = [
    pytest.param(
        [
            ("/shops/near?lat=91&lng=3.72", {"lat"}),
            ("/shops/near?lat=51.05&lng=-181", {"lng"}),
            ("/shops/near?lat=nan&lng=inf", {"lat", "lng"}),
            ("/shops/near?lat=north&lng=3.72", {"lat"}),
            ("/shops/near", {"lat", "lng"}),
        ],
        id="near-point",
    ),
    pytest.param(
        [
            (f"{NEAR}&radius_km=0", {"radius_km"}),
            (f"{NEAR}&radius_km=51", {"radius_km"}),
            (f"{NEAR}&radius_km=x", {"radius_km"}),
            ("/shops/near?lat=91&lng=-181&radius_km=x", {"lat", "lng", "radius_km"}),
        ],
        id="near-radius",
    ),
    pytest.param(
        [
            (f"{NEAR}&cursor=eyJvIjogLTF9", {"cursor"}),  # offset -1
            (f"{NEAR}&cursor=eyJvIjogMTAwMDB9", {"cursor"}),  # offset 10000
            (f"{NEAR}&cursor=bm90LWpzb24", {"cursor"}),
            (f"{NEAR}&cursor={DEEP_CURSOR}", {"cursor"}),  # json.loads: RecursionError, not a 500
            (f"{NEAR}&category=spaceships", {"category"}),
            (f"{NEAR}&limit=0", {"limit"}),
        ],
        id="near-list",
    ),
    pytest.param(
        [
            ("/products", {"q", "category"}),
            ("/products?category=spaceships", {"category"}),
            ("/products?q=bread&limit=0", {"limit"}),
            ("/products?q=bread&cursor=%25%25", {"cursor"}),
            ("/products?category=bakery&cursor=bm90LWpzb24", {"cursor"}),
            (f"/products?category=bakery&cursor={DEEP_CURSOR}", {"cursor"}),
            ("/products?q=bread&sort=price", {"sort"}),
        ],
        id="products",
    ),
]


@pytest.mark.parametrize("cases", QUERY_CASES)
def test_bad_query_parameters_are_400(api, cases):
    for path, fields in cases:
        assert bad_fields(*api.call("GET", path)) == fields, path


def test_bad_query_parameters_on_keyed_and_shop_lists_are_400(api, catalog, operator_key):
    shop_products = f"/shops/{catalog['shop']['id']}/products"
    for path, key, fields in (
        (f"{shop_products}?cursor=bm90LWpzb24", None, {"cursor"}),
        (f"{shop_products}?limit=abc", None, {"limit"}),
        ("/retailer/products?limit=101", catalog["key"], {"limit"}),
        ("/operator/shops?status=closed", operator_key, {"status"}),
        ("/operator/shops?cursor=e30", operator_key, {"cursor"}),
    ):
        assert bad_fields(*api.call("GET", path, key=key)) == fields, path


# --- unknown ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "retailer", "operator"])
def test_unknown_ids_are_404_and_change_nothing(api, catalog, operator_key, role):
    pid = catalog["product"]["id"]
    unknown_product, unknown_shop = "prod_0000000000000000", "shop_0000000000000000"
    key, calls = {
        None: (
            None,
            [
                ("GET", f"/products/{unknown_product}", None),
                ("GET", f"/shops/{unknown_shop}", None),
                ("GET", f"/shops/{unknown_shop}/products", None),
            ],
        ),
        "retailer": (
            catalog["key"],
            [
                ("GET", f"/retailer/products/{unknown_product}", None),
                ("PATCH", f"/retailer/products/{unknown_product}", {"name": "New"}),
                (
                    "POST",
                    f"/retailer/products/{unknown_product}/variants",
                    {"sku": "NEW-1", "price_cents": 1},
                ),
                ("PATCH", f"/retailer/products/{pid}/variants/{pid}-zzzzzz", {"price_cents": 1}),
                ("POST", f"/retailer/products/{pid}/variants/{pid}-zzzzzz/stock", {"set": 1}),
                (
                    "POST",
                    f"/retailer/products/{unknown_product}/variants/{unknown_product}-z/stock",
                    {"set": 1},
                ),
            ],
        ),
        "operator": (
            operator_key,
            [
                ("GET", f"/operator/shops/{unknown_shop}", None),
                ("POST", f"/operator/shops/{unknown_shop}/suspend", None),
                ("POST", f"/operator/shops/{unknown_shop}/api-key", None),
            ],
        ),
    }[role]
    before = catalog["state"]()

    for method, path, body in calls:
        status, answer = api.call(method, path, body, key=key)
        assert status == 404, (path, answer)
        assert answer["error"]["code"].endswith("not_found"), path

    assert catalog["state"]() == before


# --- never a 500 --------------------------------------------------------------------------------------

JUNK = [
    b"{",
    b"null",
    b"0",
    b"[]",
    b'"text"',
    b'{"": ""}',
    b'{"name": {"$ne": null}}',
    b'{"variants": [[]], "opening_hours": [], "location": "here", "set": {}}',
    b'{"price_cents": 100000000000000000000000000000, "stock": 1e400}',
    '{"name": "\u0000\ud800"}'.encode("utf-8", "surrogatepass"),
    b"\xff\xfe\x00",
]


def test_junk_bodies_never_cause_a_500_or_a_change(api, catalog, operator_key):
    ids = {
        "product_id": catalog["product"]["id"],
        "variant_id": catalog["variant"]["id"],
        "shop_id": catalog["shop"]["id"],
    }
    keys = {Role.RETAILER: catalog["key"], Role.OPERATOR: operator_key}
    targets = [r for r in ROUTES if r.body is not None and r.auth in keys]
    assert len(targets) >= 7  # the app is imported: ROUTES is filled
    before = catalog["state"]()
    shops_before = api.call("GET", "/operator/shops", key=operator_key)

    for route in targets:
        path = re.sub(r"{(\w+)}", lambda m: ids.get(m[1], "x_0000000000000000"), route.path)
        for junk in JUNK:
            status, body = api.call(route.method, path, raw=junk, key=keys[route.auth])
            assert status == 400, (route.method, route.path, junk, body)
            assert body["error"]["fields"], (route.path, junk)

    assert catalog["state"]() == before
    assert api.call("GET", "/operator/shops", key=operator_key) == shops_before
