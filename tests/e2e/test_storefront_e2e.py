"""The public storefront over real HTTP against the seeded local stack: what a headless shop front sees.

Expectations come from tools/demo_data.py, the data the stack was seeded with. The retailer/operator
tests share the stack and add shops and products, so these tests only look at demo data they do not touch
(they add no coffee-tea product and change no demo shop but the first one's description).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from openapi_spec_validator import validate

from tools.demo_data import KORENMARKT, demo_products, demo_shops

if TYPE_CHECKING:
    from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

PUBLIC_SHOP_FIELDS = {
    "id", "name", "description", "categories", "address", "location", "timezone", "phone", "email",
    "opening_hours", "closed_dates", "pickup", "delivery", "open_now", "next_opening", "distance_km",
}  # fmt: skip
PRIVATE_SHOP_FIELDS = {"status", "profile", "api_key", "api_key_prefix", "key_digest", "key_prefix", "pk"}
SUMMARY_FIELDS = {
    "id", "shop_id", "shop_name", "name", "category", "currency", "price_from_cents", "price_to_cents",
    "vat_rate_bps", "active",
}  # fmt: skip
ROASTERY = "koffiebranderij-het-boontje"  # a demo shop no other e2e test changes
NEAR_RADIUS_KM = 2.0


def demo_shop(key: str) -> dict[str, Any]:
    return next(shop for shop in demo_shops() if shop["key"] == key)


def name_order(name: str) -> str:
    """Names sort case- and accent-insensitively, punctuation ignored."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^0-9a-z]+", " ", bare).strip()


def km_between(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    half_dlng = math.radians(lng2 - lng1) / 2
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(half_dlng) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def open_at(shop: dict[str, Any], moment: datetime) -> bool:
    """Whether the shop's published hours say it is open at `moment`: an independent reading of them."""
    local = moment.astimezone(ZoneInfo(shop["timezone"]))
    if local.date().isoformat() in shop["closed_dates"]:
        return False
    now = local.strftime("%H:%M")
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
    return any(opens <= now < closes for opens, closes in shop["opening_hours"][day])


def shop_named(api: Api, name: str) -> dict[str, Any]:
    shops, _ = api.walk("/shops", page_size=100)
    return next(shop for shop in shops if shop["name"] == name)


def test_lists_the_demo_shops_by_name_across_pages(api: Api) -> None:
    response = api.call("GET", "/shops", headers={"Origin": "https://winkel.example"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # headless storefronts call from browsers

    shops, pages = api.walk("/shops", page_size=5)
    names = [shop["name"] for shop in shops]
    assert len(shops) >= 8
    assert pages >= 2
    assert {shop["name"] for shop in demo_shops()} <= set(names)
    assert [name_order(n) for n in names] == sorted(name_order(n) for n in names)
    for shop in shops:
        assert set(shop) >= PUBLIC_SHOP_FIELDS
        assert not PRIVATE_SHOP_FIELDS & set(shop), "a storefront must not see keys or internal fields"
        assert not [field for field in shop if field.startswith("gsi")]
        assert isinstance(shop["open_now"], bool)
        assert shop["distance_km"] is None
    one_page = api.get("/shops", params={"limit": 100})
    assert [shop["id"] for shop in one_page["items"]] == [shop["id"] for shop in shops]
    assert one_page["next_cursor"] is None

    bakeries = api.get("/shops", params={"category": "bakery", "limit": 100})["items"]
    assert bakeries and all("bakery" in shop["categories"] for shop in bakeries)
    assert "Bakkerij De Graanzolder" in {shop["name"] for shop in bakeries}


def test_shops_near_korenmarkt_nearest_first_with_opening_state(api: Api) -> None:
    lat, lng = KORENMARKT
    asked_at = datetime.now(UTC)
    page = api.get("/shops/near", params={"lat": lat, "lng": lng, "radius_km": NEAR_RADIUS_KM, "limit": 100})
    shops = page["items"]
    assert page["next_cursor"] is None

    distances = [shop["distance_km"] for shop in shops]
    assert distances == sorted(distances)
    expected_near = set()
    for demo in demo_shops():
        km = km_between(lat, lng, demo["location"]["lat"], demo["location"]["lng"])
        if km <= NEAR_RADIUS_KM - 0.01:
            expected_near.add(demo["name"])
        elif km > NEAR_RADIUS_KM + 0.01:
            assert demo["name"] not in {shop["name"] for shop in shops}, f"{demo['name']} is {km:.2f} km away"
    assert len(expected_near) >= 5
    assert expected_near <= {shop["name"] for shop in shops}

    for shop in shops:
        km = km_between(lat, lng, shop["location"]["lat"], shop["location"]["lng"])
        assert shop["distance_km"] == pytest.approx(km, abs=0.002)
        assert shop["distance_km"] <= NEAR_RADIUS_KM
        assert isinstance(shop["open_now"], bool)
        if shop["open_now"]:
            assert shop["next_opening"] is None
        else:
            opens = datetime.fromisoformat(shop["next_opening"])
            assert asked_at - timedelta(minutes=1) < opens < asked_at + timedelta(days=8)
            assert open_at(shop, opens + timedelta(seconds=30)), f"{shop['name']} is not open at {opens}"
        # Compare with the published hours, except within a few minutes of an opening or closing time.
        around = {open_at(shop, asked_at + timedelta(minutes=m)) for m in (-3, 0, 3)}
        if len(around) == 1:
            assert shop["open_now"] is around.pop(), shop["name"]

    walked, pages = api.walk(
        "/shops/near", page_size=3, params={"lat": lat, "lng": lng, "radius_km": NEAR_RADIUS_KM}
    )
    assert pages >= 2
    assert [shop["id"] for shop in walked] == [shop["id"] for shop in shops]


def test_one_shop_as_its_profile_says(api: Api) -> None:
    demo = demo_shop(ROASTERY)
    listed = shop_named(api, demo["name"])
    shop = api.get(f"/shops/{listed['id']}")
    assert shop["id"] == listed["id"]
    for field in ("name", "description", "categories", "address", "location", "timezone", "phone", "email"):
        assert shop[field] == demo[field], field
    assert shop["closed_dates"] == demo["closed_dates"]
    # What the demo sets, plus defaults for what it leaves out (e.g. no_show_days).
    assert {k: shop["pickup"][k] for k in demo["pickup"]} == demo["pickup"]
    assert shop["delivery"] == demo["delivery"]
    assert {day: hours for day, hours in shop["opening_hours"].items() if hours} == {
        day: hours for day, hours in demo["opening_hours"].items() if hours
    }

    missing = api.error("GET", "/shops/shop_0000000000000000", 404)
    assert missing["code"] == "shop_not_found"
    assert api.error("GET", "/shops/NOT%20AN%20ID", 404)["code"].endswith("not_found")


def test_products_of_a_shop_page_by_page(api: Api) -> None:
    demo = demo_shop(ROASTERY)
    expected = {product["name"]: product for product in demo_products(ROASTERY) if product["active"]}
    shop = shop_named(api, demo["name"])

    products, pages = api.walk(f"/shops/{shop['id']}/products", page_size=5)
    assert len(products) == len(expected)
    # As with DynamoDB, a full last page may still carry a cursor, to an empty page.
    assert math.ceil(len(expected) / 5) <= pages <= math.ceil(len(expected) / 5) + 1
    assert {p["name"] for p in products} == set(expected)
    assert [name_order(p["name"]) for p in products] == sorted(name_order(p["name"]) for p in products)
    for product in products:
        assert set(product) >= SUMMARY_FIELDS
        assert (product["shop_id"], product["shop_name"]) == (shop["id"], demo["name"])
        assert product["currency"] == "EUR"
        prices = [v["price_cents"] for v in expected[product["name"]]["variants"]]
        assert (product["price_from_cents"], product["price_to_cents"]) == (min(prices), max(prices))
        assert product["category"] == expected[product["name"]]["category"]

    first = api.get(f"/shops/{shop['id']}/products", params={"limit": 5})
    for cursor in (first["next_cursor"][:-3], "bm90IGEgY3Vyc29y", "!"):
        error = api.error("GET", f"/shops/{shop['id']}/products", 400, params={"cursor": cursor})
        assert [f["field"] for f in error["fields"]] == ["cursor"]
    other = shop_named(api, "Bakkerij De Graanzolder")
    error = api.error("GET", f"/shops/{other['id']}/products", 400, params={"cursor": first["next_cursor"]})
    assert [f["field"] for f in error["fields"]] == ["cursor"], "a cursor only works for its own list"


def test_browse_a_category_mall_wide(api: Api) -> None:
    expected = {
        (shop["name"], product["name"])
        for shop in demo_shops()
        for product in demo_products(shop["key"])
        if product["category"] == "coffee-tea" and product["active"]
    }
    products, pages = api.walk("/products", page_size=4, params={"category": "coffee-tea"})
    assert pages >= 2
    assert {(p["shop_name"], p["name"]) for p in products} == expected
    assert all(p["category"] == "coffee-tea" for p in products)
    assert [name_order(p["name"]) for p in products] == sorted(name_order(p["name"]) for p in products)

    error = api.error("GET", "/products", 400, params={"category": "spaceships"})
    assert [f["field"] for f in error["fields"]] == ["category"]


def test_search_by_words(api: Api) -> None:
    def search(**params: Any) -> list[dict[str, Any]]:
        items, _ = api.walk("/products", page_size=50, params=params)
        return items

    sourdough = search(q="sourdough")
    assert "Sourdough country loaf" in {p["name"] for p in sourdough}
    both = search(q="SOURDOUGH Loaf")  # case-insensitive; every word must match
    assert {p["id"] for p in both} <= {p["id"] for p in sourdough}
    assert "Sourdough country loaf" in {p["name"] for p in both}

    pralines = search(q="pralines")
    assert pralines and {p["id"] for p in pralines} == {p["id"] for p in search(q="praline")}

    sweets = search(q="chocolate", category="chocolate-sweets")
    assert sweets and all(p["category"] == "chocolate-sweets" for p in sweets)
    assert len(search(q="chocolate")) > len(sweets)

    assert search(q="zzyzxquux") == []
    error = api.error("GET", "/products", 400, params={"q": "the and of"})
    assert [f["field"] for f in error["fields"]] == ["q"]
    error = api.error("GET", "/products", 400)
    assert {f["field"] for f in error["fields"]} == {"q", "category"}


def test_one_product_with_its_variants(api: Api) -> None:
    demo = next(p for p in demo_products("bakkerij-de-graanzolder") if p["name"] == "Sourdough country loaf")
    found = api.get("/products", params={"q": "sourdough country loaf"})["items"]
    summary = next(p for p in found if p["name"] == demo["name"])

    product = api.get(f"/products/{summary['id']}")
    assert product["id"] == summary["id"]
    assert (product["shop_id"], product["shop_name"]) == (summary["shop_id"], "Bakkerij De Graanzolder")
    for field in ("name", "description", "category", "vat_rate_bps"):
        assert product[field] == demo[field], field
    assert product["currency"] == "EUR" and product["active"] is True
    assert len(product["variants"]) == len(demo["variants"]) >= 2
    for variant, expected in zip(product["variants"], demo["variants"], strict=True):
        assert variant["id"].startswith(product["id"] + "-")
        for field in ("sku", "options", "price_cents", "stock"):
            assert variant[field] == expected[field], field
        assert variant["in_stock"] is (variant["active"] and variant["stock"] > 0)

    assert api.error("GET", "/products/prod_0000000000000000", 404)["code"] == "product_not_found"


def test_openapi_document_is_valid(api: Api) -> None:
    response = api.call("GET", "/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    spec = response.json()
    validate(spec)  # raises on an invalid OpenAPI document
    assert spec["openapi"].startswith("3.1")
    storefront = {"/shops", "/shops/near", "/shops/{shop_id}", "/shops/{shop_id}/products", "/products"}
    storefront.add("/products/{product_id}")
    assert storefront | {"/retailer/products", "/operator/shops"} <= set(spec["paths"])
    assert set(spec["paths"]["/retailer/products"]) == {"get", "post"}
    assert spec["paths"]["/retailer/products"]["post"]["security"] == [{"retailerKey": []}]


@pytest.mark.parametrize(
    "method,path,headers,status,code",
    [
        ("POST", "/carts", {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        ("DELETE", "/shops", {}, 405, "method_not_allowed"),
        ("GET", "/no/such/path", {"Authorization": "Bearer never_echoed"}, 404, "not_found"),
    ],
)
def test_chalices_and_the_gateways_own_answers_keep_the_error_shape_over_http(
    api: Api, method: str, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    response = api.call(method, path, raw=b"name=x" if method == "POST" else None, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert list(body) == ["error"] and sorted(body["error"]) == ["code", "details", "fields", "message"]
    assert body["error"]["code"] == code and body["error"]["fields"] == []
    assert "never_echoed" not in response.text
