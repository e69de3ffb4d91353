"""Shops through the API: the storefront browses them, the retailer keeps its profile, the operator opens,
lists, suspends and reactivates them and rotates their keys."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from datetime import datetime
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from relist_support import run_relisting

from chalicelib.core.config import settings
from tools.demo_data import demo_shops

KORENMARKT = (51.0543, 3.7219)
AALST = {"lat": 50.9378, "lng": 4.0403}  # ~25.8 km from the Korenmarkt

# Demo shops by index (tools/demo_data.py).
BAKERY, BUTCHER, CHEESE, WINE, COFFEE, CHOCOLATE, FASHION, GROCERY_BOX = 0, 1, 2, 3, 4, 5, 6, 12


def demo_name(index: int) -> str:
    return demo_shops()[index]["name"]


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Independent of chalicelib.shop.geo on purpose: the API's distances are checked, not reused."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def walk(api: Any, path: str, limit: int, key: str | None = None) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_cursor; fails on a repeated cursor or more than 20 pages."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    seen: set[str] = set()
    separator = "&" if "?" in path else "?"
    while True:
        url = f"{path}{separator}limit={limit}" + (f"&cursor={quote(cursor)}" if cursor else "")
        status, page = api.call("GET", url, key=key)
        assert status == 200, page
        assert len(page["items"]) <= limit
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert cursor not in seen and len(pages) < 20, "pagination does not terminate"
        seen.add(cursor)


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


def shop_names(api: Any, query: str = "") -> list[str]:
    status, page = api.call("GET", f"/shops{query}")
    assert status == 200, page
    return names(page["items"])


def near(api: Any, query: str) -> list[dict[str, Any]]:
    status, page = api.call("GET", f"/shops/near?{query}")
    assert status == 200, page
    return page["items"]


def pin_clock(monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    """Pins the time the shop service judges opening hours by (an ISO instant with its offset)."""
    fixed = datetime.fromisoformat(moment)
    monkeypatch.setattr("chalicelib.shop.service.now", lambda: fixed)


def create_product(api: Any, key: str, name: str, sku: str, price: int = 500, **extra: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "category": extra.pop("category", "bakery"),
        "vat_rate_bps": 600,
        "variants": [{"sku": sku, "price_cents": price, "stock": 3}],
        **extra,
    }
    status, product = api.call("POST", "/retailer/products", body, key=key)
    assert status == 201, product
    return product


def storefront_product_ids(api: Any, path: str) -> set[str]:
    status, page = api.call("GET", path)
    assert status == 200, page
    return {item["id"] for item in page["items"]}


# --- storefront: list ---------------------------------------------------------------------------------


def test_shops_are_listed_by_name_with_their_public_profile(api, open_shop):
    for index in (WINE, BAKERY, COFFEE, BUTCHER, CHEESE):
        open_shop(index)

    status, page = api.call("GET", "/shops")

    assert status == 200
    assert names(page["items"]) == [
        "Bakkerij De Graanzolder",
        "Kaashandel Het Melkmeisje",
        "Koffiebranderij Het Boontje",
        "Slagerij Vandenbroucke",
        "Wijnhuis De Keldermeester",
    ]
    assert page["next_cursor"] is None
    bakery = page["items"][0]
    sent = demo_shops()[BAKERY]
    assert bakery["address"] == sent["address"]
    assert bakery["categories"] == ["bakery"]
    assert bakery["delivery"]["enabled"] is False
    assert isinstance(bakery["open_now"], bool)
    assert bakery["distance_km"] is None  # only a near-me search has a distance
    assert not {"status", "api_key", "api_key_prefix", "key_digest"} & set(bakery)


def test_shop_list_follows_a_rename_in_its_order(api, open_shop):
    open_shop(BAKERY)
    _, key = open_shop(CHEESE)
    assert shop_names(api) == ["Bakkerij De Graanzolder", "Kaashandel Het Melkmeisje"]

    assert api.call("PATCH", "/retailer/shop", {"name": "Aardige Kaasjes"}, key=key)[0] == 200

    assert shop_names(api) == ["Aardige Kaasjes", "Bakkerij De Graanzolder"]


def test_shop_list_filters_by_category(api, open_shop):
    for index in (BAKERY, CHEESE, WINE, GROCERY_BOX):
        open_shop(index)

    assert shop_names(api, "?category=wine-spirits") == [
        "Kaashandel Het Melkmeisje",
        "Wijnhuis De Keldermeester",
    ]
    assert shop_names(api, "?category=grocery") == [
        "Groentepakket Het Moestuintje",
        "Kaashandel Het Melkmeisje",
    ]
    assert shop_names(api, "?category=bakery") == ["Bakkerij De Graanzolder"]
    assert shop_names(api, "?category=toys") == []


def test_shop_list_pages_with_a_cursor(api, open_shop):
    for index in (BAKERY, BUTCHER, CHEESE, WINE, COFFEE):
        open_shop(index)
    everything = shop_names(api)

    pages = walk(api, "/shops", limit=2)

    assert len(pages) >= 3
    assert [len(p) for p in pages[:3]] == [2, 2, 1]
    assert [name for page in pages for name in names(page)] == everything


def test_category_filtered_shop_list_pages_with_a_cursor(api, open_shop):
    for index in (BAKERY, CHEESE, WINE, GROCERY_BOX, COFFEE):
        open_shop(index)

    pages = walk(api, "/shops?category=wine-spirits", limit=1)

    assert [name for page in pages for name in names(page)] == [
        "Kaashandel Het Melkmeisje",
        "Wijnhuis De Keldermeester",
    ]


def _cursor(flat: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(flat).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("field", "queries"),
    [
        pytest.param("limit", ["limit=0", "limit=101", "limit=abc", "limit=2.5", "limit="], id="limit"),
        pytest.param(
            "cursor",
            [
                "cursor=not-a-cursor",
                "cursor=" + "A" * 2049,
                # Well-formed, but issued for the operator's list of suspended shops.
                "cursor="
                + _cursor({"pk": "SHOP#s", "sk": "PROFILE", "gsi1pk": "SHOPS#suspended", "gsi1sk": "a"}),
                # An offset cursor of the near-me list.
                "cursor=" + _cursor({"o": 2}),
            ],
            id="cursor",
        ),
        pytest.param("category", ["category=spaceships", "category=Bakery!", "category="], id="category"),
    ],
)
def test_shop_list_rejects_bad_parameters(api, open_shop, field, queries):
    open_shop()
    for query in queries:
        status, body = api.call("GET", f"/shops?{query}")

        assert status == 400, (query, body)
        assert body["error"]["code"] == "validation_error"
        assert [f["field"] for f in body["error"]["fields"]] == [field], query


# --- storefront: near me ------------------------------------------------------------------------------


def test_shops_near_are_sorted_by_distance_within_the_radius(api, open_shop):
    for index in (BAKERY, CHEESE, WINE, CHOCOLATE):
        open_shop(index)
    open_shop(COFFEE, name="Koffie Aalst", location=AALST)
    lat, lng = KORENMARKT

    found = near(api, f"lat={lat}&lng={lng}&radius_km=5")

    assert names(found) == [
        "Chocolaterie Pralinette",  # 0.25 km
        "Kaashandel Het Melkmeisje",  # 0.41 km
        "Bakkerij De Graanzolder",  # 1.23 km
        "Wijnhuis De Keldermeester",  # 1.86 km
    ]
    for shop in found:
        expected = haversine_km(lat, lng, shop["location"]["lat"], shop["location"]["lng"])
        assert shop["distance_km"] == pytest.approx(expected, abs=0.005)
    # The radius cuts between shops, not around cells.
    assert names(near(api, f"lat={lat}&lng={lng}&radius_km=1.5")) == names(found)[:3]
    assert names(near(api, f"lat={lat}&lng={lng}&radius_km=0.3")) == names(found)[:1]
    wide = near(api, f"lat={lat}&lng={lng}&radius_km=30")
    assert names(wide) == [*names(found), "Koffie Aalst"]
    assert wide[-1]["distance_km"] == pytest.approx(25.77, abs=0.05)
    # Nothing near Antwerp.
    assert near(api, "lat=51.2194&lng=4.4025&radius_km=10") == []


def test_shops_near_filter_by_category(api, open_shop):
    for index in (BAKERY, CHEESE, WINE, CHOCOLATE):
        open_shop(index)
    open_shop(BAKERY, name="Bakkerij Aalst", location=AALST)
    lat, lng = KORENMARKT

    assert names(near(api, f"lat={lat}&lng={lng}&category=wine-spirits")) == [
        "Kaashandel Het Melkmeisje",
        "Wijnhuis De Keldermeester",
    ]
    assert names(near(api, f"lat={lat}&lng={lng}&radius_km=30&category=bakery")) == [
        "Bakkerij De Graanzolder",
        "Bakkerij Aalst",
    ]
    assert near(api, f"lat={lat}&lng={lng}&category=toys") == []


def test_shops_near_pages_with_a_cursor(api, open_shop):
    for index in (BAKERY, CHEESE, WINE, CHOCOLATE, FASHION):
        open_shop(index)
    lat, lng = KORENMARKT
    everything = names(near(api, f"lat={lat}&lng={lng}"))
    assert len(everything) == 5

    pages = walk(api, f"/shops/near?lat={lat}&lng={lng}", limit=2)

    assert [len(p) for p in pages] == [2, 2, 1]
    assert [name for page in pages for name in names(page)] == everything


def test_moving_a_shop_moves_it_in_near_me(api, open_shop):
    _, key = open_shop(BAKERY)
    lat, lng = KORENMARKT
    assert names(near(api, f"lat={lat}&lng={lng}")) == ["Bakkerij De Graanzolder"]

    status, _ = api.call("PATCH", "/retailer/shop", {"location": AALST}, key=key)

    assert status == 200
    assert near(api, f"lat={lat}&lng={lng}") == []
    moved = near(api, f"lat={AALST['lat']}&lng={AALST['lng']}&radius_km=1")
    assert names(moved) == ["Bakkerij De Graanzolder"]
    assert moved[0]["distance_km"] == pytest.approx(0, abs=0.001)


# --- storefront: open now -----------------------------------------------------------------------------

# Bakery: closed Monday, Tue-Fri 06:30-18:30, closed on 2026-12-25. Butcher: Tue 08:00-12:30, 13:30-18:00.
# Coffee: Mon-Fri 08:00-18:00. Chocolate: Mon-Fri 10:00-18:00. All in Europe/Brussels (UTC+1 in winter).
OPENING_CASES = [
    pytest.param(
        "2026-11-30T09:00:00+01:00",
        {
            "Bakkerij De Graanzolder": (False, "2026-12-01T05:30:00Z"),
            "Slagerij Vandenbroucke": (False, "2026-12-01T07:00:00Z"),
            "Koffiebranderij Het Boontje": (True, None),
            "Chocolaterie Pralinette": (False, "2026-11-30T09:00:00Z"),
        },
        id="monday-morning",
    ),
    pytest.param(
        "2026-12-01T12:45:00+01:00",
        {
            "Bakkerij De Graanzolder": (True, None),
            "Slagerij Vandenbroucke": (False, "2026-12-01T12:30:00Z"),  # lunch break
            "Koffiebranderij Het Boontje": (True, None),
            "Chocolaterie Pralinette": (True, None),
        },
        id="tuesday-lunch",
    ),
    pytest.param(
        "2026-12-01T18:30:00+01:00",
        {
            "Bakkerij De Graanzolder": (False, "2026-12-02T05:30:00Z"),  # closing time is exclusive
            "Slagerij Vandenbroucke": (False, "2026-12-02T07:00:00Z"),
            "Koffiebranderij Het Boontje": (False, "2026-12-02T07:00:00Z"),
            "Chocolaterie Pralinette": (False, "2026-12-02T09:00:00Z"),
        },
        id="tuesday-closing-time",
    ),
    pytest.param(
        "2026-12-25T11:00:00+01:00",
        {
            "Bakkerij De Graanzolder": (False, "2026-12-26T05:30:00Z"),  # a closed date beats Friday hours
            "Slagerij Vandenbroucke": (False, "2026-12-26T06:30:00Z"),
            "Koffiebranderij Het Boontje": (False, "2026-12-26T08:00:00Z"),
            "Chocolaterie Pralinette": (False, "2026-12-26T09:00:00Z"),
        },
        id="christmas",
    ),
]


@pytest.mark.parametrize(("moment", "expected"), OPENING_CASES)
def test_open_now_follows_opening_hours_in_every_view(api, open_shop, monkeypatch, moment, expected):
    pin_clock(monkeypatch, moment)
    ids = {}
    for index in (BAKERY, BUTCHER, COFFEE, CHOCOLATE):
        shop, _ = open_shop(index)
        ids[shop["profile"]["name"]] = shop["id"]
    lat, lng = KORENMARKT

    status, listed = api.call("GET", "/shops")
    assert status == 200
    views = {
        "list": {s["name"]: (s["open_now"], s["next_opening"]) for s in listed["items"]},
        "near": {s["name"]: (s["open_now"], s["next_opening"]) for s in near(api, f"lat={lat}&lng={lng}")},
        "get": {},
    }
    for name, shop_id in ids.items():
        status, shop = api.call("GET", f"/shops/{shop_id}")
        assert status == 200
        views["get"][name] = (shop["open_now"], shop["next_opening"])

    for view, answer in views.items():
        assert answer == expected, view


def test_changing_opening_hours_changes_open_now(api, open_shop, monkeypatch):
    pin_clock(monkeypatch, "2026-11-30T10:00:00+01:00")  # a Monday: the bakery is closed
    shop, key = open_shop(BAKERY)
    assert api.call("GET", f"/shops/{shop['id']}")[1]["open_now"] is False

    hours = dict(demo_shops()[BAKERY]["opening_hours"], mon=[["09:00", "12:00"]])
    assert api.call("PATCH", "/retailer/shop", {"opening_hours": hours}, key=key)[0] == 200

    status, view = api.call("GET", f"/shops/{shop['id']}")
    assert status == 200
    assert (view["open_now"], view["next_opening"]) == (True, None)
    assert view["opening_hours"]["mon"] == [["09:00", "12:00"]]


# --- storefront: one shop -----------------------------------------------------------------------------


def test_get_shop_shows_pickup_and_delivery(api, open_shop):
    bakery, _ = open_shop(BAKERY)
    butcher, _ = open_shop(BUTCHER)

    status, shop = api.call("GET", f"/shops/{bakery['id']}")
    assert status == 200
    assert shop["id"] == bakery["id"]
    assert shop["pickup"] == {
        "enabled": True,
        "ready_within_hours": 1,
        "instructions": "Ask at the counter, orders are kept on the shelf behind the till",
        "no_show_days": 3,  # not sent: the default
    }
    assert shop["delivery"]["enabled"] is False
    assert shop["opening_hours"] == demo_shops()[BAKERY]["opening_hours"]
    assert shop["closed_dates"] == demo_shops()[BAKERY]["closed_dates"]

    status, shop = api.call("GET", f"/shops/{butcher['id']}")
    assert status == 200
    assert shop["delivery"] == {"enabled": True, "radius_km": 4.5, "fee_cents": 395, "free_over_cents": 5000}
    assert shop["pickup"]["ready_within_hours"] == 3


def test_get_unknown_or_malformed_shop_is_404(api, open_shop):
    shop, _ = open_shop()
    malformed = ["..%2Fx", "..%2F..%2Fetc%2Fpasswd", "a" * 300, shop["id"].upper(), "shop.dot", "%00"]

    for shop_id in ["shop_0000000000000000", *malformed]:
        for path in (f"/shops/{shop_id}", f"/shops/{shop_id}/products"):
            status, body = api.call("GET", path)
            assert status == 404, (path, body)
            assert body["error"]["code"] in {"not_found", "shop_not_found"}


# --- retailer: own profile ----------------------------------------------------------------------------


def test_retailer_reads_its_own_profile(api, open_shop):
    sent = dict(demo_shops()[CHEESE])
    sent.pop("key")
    shop, key = open_shop(CHEESE)

    status, mine = api.call("GET", "/retailer/shop", key=key)

    assert status == 200
    assert mine["id"] == shop["id"]
    assert mine["status"] == "active"
    # What was sent, with the defaults of what was not (days a ready pickup waits before it is cancelled).
    assert mine["profile"] == {**sent, "pickup": {**sent["pickup"], "no_show_days": 3}}
    assert mine["api_key_prefix"] == key[:10]
    assert key not in json.dumps(mine)


def test_profile_patch_changes_only_the_fields_sent(api, open_shop):
    shop, key = open_shop(BUTCHER)
    _, before = api.call("GET", "/retailer/shop", key=key)
    change = {
        "description": "Dry-aged beef from East Flanders.",
        "phone": None,
        "pickup": {"enabled": True, "ready_within_hours": 6, "instructions": "Side door", "no_show_days": 5},
    }

    status, after = api.call("PATCH", "/retailer/shop", change, key=key)

    assert status == 200
    assert after["profile"] == {**before["profile"], **change}
    assert api.call("GET", "/retailer/shop", key=key)[1]["profile"] == after["profile"]
    status, public = api.call("GET", f"/shops/{shop['id']}")
    assert public["description"] == "Dry-aged beef from East Flanders."
    assert public["phone"] is None
    assert public["pickup"]["ready_within_hours"] == 6
    assert public["delivery"] == before["profile"]["delivery"]


def test_rename_reaches_the_shops_product_listings_and_search(api, open_shop):
    shop, key = open_shop(BAKERY)
    loaf = create_product(api, key, "Sourdough loaf", "SD-1", category="bakery")
    tart = create_product(api, key, "Rice tart", "RT-1", category="bakery")
    assert storefront_product_ids(api, "/products?q=graanzolder") == {loaf["id"], tart["id"]}

    status, _ = api.call("PATCH", "/retailer/shop", {"name": "Bakkerij Korenbloem"}, key=key)
    assert status == 200
    assert run_relisting() == 1  # off the request: one message for the change

    for path in (f"/shops/{shop['id']}/products", "/products?category=bakery", "/products?q=loaf"):
        status, page = api.call("GET", path)
        assert status == 200
        assert page["items"], path
        assert {item["shop_name"] for item in page["items"]} == {"Bakkerij Korenbloem"}, path
    assert api.call("GET", f"/products/{loaf['id']}")[1]["shop_name"] == "Bakkerij Korenbloem"
    assert (
        api.call("GET", f"/retailer/products/{tart['id']}", key=key)[1]["shop_name"] == "Bakkerij Korenbloem"
    )
    # Products are found by their shop's name: the new one, no longer the old one.
    assert storefront_product_ids(api, "/products?q=korenbloem") == {loaf["id"], tart["id"]}
    assert storefront_product_ids(api, "/products?q=graanzolder") == set()


# --- operator -----------------------------------------------------------------------------------------


def test_open_shop_returns_its_key_once_and_the_key_works(api, operator_key, shop_body):
    status, created = api.call("POST", "/operator/shops", shop_body, key=operator_key)

    assert status == 201
    key = created["api_key"]
    assert key.startswith("dm_rt_") and len(key) == 38
    assert created["shop"]["status"] == "active"
    assert created["shop"]["api_key_prefix"] == key[:10]
    status, mine = api.call("GET", "/retailer/shop", key=key)
    assert status == 200 and mine["id"] == created["shop"]["id"]
    # Later reads never show the key again.
    for path in (f"/operator/shops/{created['shop']['id']}", "/operator/shops"):
        status, body = api.call("GET", path, key=operator_key)
        assert status == 200
        assert key not in json.dumps(body)
        assert "api_key" not in json.dumps(body).replace("api_key_prefix", "")


def test_api_keys_are_stored_only_as_sha256_digests(api, open_shop, operator_key):
    shop, key = open_shop(BAKERY)
    status, rotated = api.call("POST", f"/operator/shops/{shop['id']}/api-key", key=operator_key)
    assert status == 200
    new_key = rotated["api_key"]

    items = boto3.resource("dynamodb").Table(settings().table_name).scan()["Items"]

    stored = json.dumps(items, default=str)
    for plaintext in (key, new_key, operator_key):
        assert plaintext not in stored
    key_items = {item["pk"]: item for item in items if item["kind"] == "api_key"}
    assert f"APIKEY#{hashlib.sha256(new_key.encode()).hexdigest()}" in key_items
    assert f"APIKEY#{hashlib.sha256(operator_key.encode()).hexdigest()}" in key_items
    # The rotated-out key's record is gone, not merely flagged.
    assert f"APIKEY#{hashlib.sha256(key.encode()).hexdigest()}" not in key_items


def test_operator_lists_shops_by_status(api, open_shop, operator_key):
    ids = {}
    for index in (BAKERY, CHEESE, WINE):
        shop, _ = open_shop(index)
        ids[index] = shop["id"]
    assert api.call("POST", f"/operator/shops/{ids[CHEESE]}/suspend", key=operator_key)[0] == 200

    status, active = api.call("GET", "/operator/shops", key=operator_key)
    assert status == 200
    assert names([s["profile"] for s in active["items"]]) == [demo_name(BAKERY), demo_name(WINE)]
    assert {s["status"] for s in active["items"]} == {"active"}

    status, suspended = api.call("GET", "/operator/shops?status=suspended", key=operator_key)
    assert status == 200
    assert [(s["id"], s["status"]) for s in suspended["items"]] == [(ids[CHEESE], "suspended")]

    pages = walk(api, "/operator/shops?status=active", limit=1, key=operator_key)
    assert [s["id"] for page in pages for s in page] == [ids[BAKERY], ids[WINE]]


def test_operator_reads_one_shop_and_404s_an_unknown_one(api, open_shop, operator_key):
    shop, _ = open_shop(WINE)

    status, body = api.call("GET", f"/operator/shops/{shop['id']}", key=operator_key)
    assert status == 200
    assert body == shop

    for method, suffix in (("GET", ""), ("POST", "/suspend"), ("POST", "/reactivate"), ("POST", "/api-key")):
        status, body = api.call(method, f"/operator/shops/shop_0000000000000000{suffix}", key=operator_key)
        assert status == 404, (method, suffix, body)


def test_rotating_a_key_retires_the_old_one(api, open_shop, operator_key):
    shop, old_key = open_shop(BAKERY)

    status, rotated = api.call("POST", f"/operator/shops/{shop['id']}/api-key", key=operator_key)

    assert status == 200
    new_key = rotated["api_key"]
    assert new_key != old_key and rotated["api_key_prefix"] == new_key[:10]
    status, body = api.call("GET", "/retailer/shop", key=old_key)
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    assert api.call("GET", "/retailer/shop", key=new_key)[0] == 200
    assert api.call("PATCH", "/retailer/shop", {"description": "new key"}, key=new_key)[0] == 200
    assert (
        api.call("GET", f"/operator/shops/{shop['id']}", key=operator_key)[1]["api_key_prefix"]
        == new_key[:10]
    )
    # And again: the second key is retired in turn.
    _, again = api.call("POST", f"/operator/shops/{shop['id']}/api-key", key=operator_key)
    assert api.call("GET", "/retailer/shop", key=new_key)[0] == 401
    assert api.call("GET", "/retailer/shop", key=again["api_key"])[0] == 200


def _storefront_snapshot(api: Any, shop_id: str, product_ids: list[str]) -> dict[str, Any]:
    lat, lng = KORENMARKT
    return {
        "shops": shop_names(api),
        "bakery_shops": shop_names(api, "?category=bakery"),
        "near": names(near(api, f"lat={lat}&lng={lng}")),
        "shop": api.call("GET", f"/shops/{shop_id}"),
        "shop_products": api.call("GET", f"/shops/{shop_id}/products"),
        "category": api.call("GET", "/products?category=bakery"),
        "search": api.call("GET", "/products?q=loaf"),
        "products": [api.call("GET", f"/products/{pid}")[0] for pid in product_ids],
    }


def test_suspension_hides_a_shop_and_its_products_and_reactivation_restores_them(
    api, open_shop, operator_key
):
    shop, key = open_shop(BAKERY)
    _, other_key = open_shop(CHOCOLATE, categories=["chocolate-sweets", "bakery"])
    loaf = create_product(api, key, "Sourdough loaf", "SD-1")
    tart = create_product(api, key, "Rice tart", "RT-1")
    other_loaf = create_product(api, other_key, "Chocolate loaf", "CL-1")
    before = _storefront_snapshot(api, shop["id"], [loaf["id"], tart["id"]])
    assert before["shop"][0] == 200 and before["products"] == [200, 200]
    assert {i["id"] for i in before["category"][1]["items"]} == {loaf["id"], tart["id"], other_loaf["id"]}

    status, suspended = api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)

    assert status == 200 and suspended["status"] == "suspended"
    during = _storefront_snapshot(api, shop["id"], [loaf["id"], tart["id"]])
    assert during["shops"] == during["bakery_shops"] == during["near"] == ["Chocolaterie Pralinette"]
    assert during["shop"][0] == 404
    assert during["shop_products"][0] == 404
    assert {i["id"] for i in during["category"][1]["items"]} == {other_loaf["id"]}
    assert {i["id"] for i in during["search"][1]["items"]} == {other_loaf["id"]}
    assert during["products"] == [404, 404]
    # That was before the relist worker ran (storefront reads leave out a suspended shop's products);
    # after it, the products are off the listings themselves, and nothing shows either.
    assert run_relisting() == 1
    assert _storefront_snapshot(api, shop["id"], [loaf["id"], tart["id"]]) == during
    # The retailer still sees everything it owns.
    status, mine = api.call("GET", "/retailer/shop", key=key)
    assert status == 200 and mine["status"] == "suspended"
    status, own = api.call("GET", "/retailer/products", key=key)
    assert status == 200 and {i["id"] for i in own["items"]} == {loaf["id"], tart["id"]}
    assert api.call("GET", f"/retailer/products/{loaf['id']}", key=key)[0] == 200

    status, reactivated = api.call("POST", f"/operator/shops/{shop['id']}/reactivate", key=operator_key)

    assert status == 200 and reactivated["status"] == "active"
    assert run_relisting() == 1
    assert _storefront_snapshot(api, shop["id"], [loaf["id"], tart["id"]]) == before
    assert api.call("PATCH", "/retailer/shop", {"description": "We are back"}, key=key)[0] == 200


def test_suspended_retailer_can_read_but_not_write(api, open_shop, operator_key):
    shop, key = open_shop(BAKERY)
    product = create_product(api, key, "Sourdough loaf", "SD-1")
    variant = product["variants"][0]["id"]
    api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)
    _, profile_before = api.call("GET", "/retailer/shop", key=key)
    pid = product["id"]
    writes = [
        ("PATCH", "/retailer/shop", {"description": "sneaky"}),
        ("POST", "/retailer/products", {**_product_body("New", "NEW-1")}),
        ("PATCH", f"/retailer/products/{pid}", {"name": "Renamed"}),
        ("PATCH", f"/retailer/products/{pid}", {"active": False}),
        ("POST", f"/retailer/products/{pid}/variants", {"sku": "SD-2", "price_cents": 900}),
        ("PATCH", f"/retailer/products/{pid}/variants/{variant}", {"price_cents": 1}),
        ("POST", f"/retailer/products/{pid}/variants/{variant}/stock", {"set": 0}),
        ("POST", f"/retailer/products/{pid}/variants/{variant}/stock", {"adjust": 5}),
    ]

    for method, path, body in writes:
        status, answer = api.call(method, path, body, key=key)
        assert status == 403, (method, path, answer)
        assert answer["error"]["code"] == "shop_suspended"

    assert api.call("GET", "/retailer/shop", key=key)[1] == profile_before
    status, now = api.call("GET", f"/retailer/products/{pid}", key=key)
    assert status == 200 and now == product
    assert len(api.call("GET", "/retailer/products", key=key)[1]["items"]) == 1


def test_a_key_rotated_during_suspension_stays_read_only_until_reactivation(api, open_shop, operator_key):
    shop, _ = open_shop(BAKERY)
    api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)
    _, rotated = api.call("POST", f"/operator/shops/{shop['id']}/api-key", key=operator_key)
    key = rotated["api_key"]

    assert api.call("GET", "/retailer/shop", key=key)[0] == 200
    status, body = api.call("PATCH", "/retailer/shop", {"description": "x"}, key=key)
    assert status == 403 and body["error"]["code"] == "shop_suspended"

    api.call("POST", f"/operator/shops/{shop['id']}/reactivate", key=operator_key)

    assert api.call("PATCH", "/retailer/shop", {"description": "x"}, key=key)[0] == 200


def _product_body(name: str, sku: str) -> dict[str, Any]:
    return {
        "name": name,
        "category": "bakery",
        "vat_rate_bps": 600,
        "variants": [{"sku": sku, "price_cents": 100}],
    }


def test_near_me_refuses_a_radius_that_would_need_hundreds_of_queries_near_a_pole(api):
    """Geohash cells are slivers near the poles: the request is refused before any Query is made."""
    status, body = api.call("GET", "/shops/near?lat=89.9&lng=179.9&radius_km=50")

    assert status == 400
    assert [f["field"] for f in body["error"]["fields"]] == ["radius_km"]
    status, body = api.call("GET", "/shops/near?lat=60.0&lng=10.0&radius_km=50")
    assert status == 200, body
