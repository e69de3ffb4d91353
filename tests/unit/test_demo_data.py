"""Invariants of the demo mall in tools.demo_data (seed data for ``make run``)."""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tools.demo_data import SHOP_KEYS, TAXONOMY, demo_products, demo_shops

KORENMARKT = (51.0543, 3.7219)
FOOD_CATEGORIES = {"bakery", "butcher", "cheese-deli", "grocery", "coffee-tea", "chocolate-sweets"}
REDUCED_RATE_CATEGORIES = FOOD_CATEGORIES | {"books", "flowers-plants"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SHOP_FIELDS = {
    "key", "name", "description", "categories", "address", "location", "timezone", "phone", "email",
    "opening_hours", "closed_dates", "pickup", "delivery",
}  # fmt: skip
PRODUCT_FIELDS = {"name", "description", "category", "vat_rate_bps", "active", "variants"}
VARIANT_FIELDS = {"sku", "options", "price_cents", "stock", "active"}
HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,63}$")
GHENT_POSTAL_CODES = {"9000", "9030", "9031", "9032", "9040", "9041", "9042", "9050", "9051", "9052"}


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = math.radians(lat2 - lat1), math.radians(lng2 - lng1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def minutes(hh_mm: str) -> int:
    hours, mins = hh_mm.split(":")
    return int(hours) * 60 + int(mins)


@pytest.fixture(scope="module")
def shops() -> list[dict[str, Any]]:
    return demo_shops()


@pytest.fixture(scope="module")
def catalogue(shops: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {shop["key"]: demo_products(shop["key"]) for shop in shops}


@pytest.fixture(scope="module")
def products(catalogue: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [product for items in catalogue.values() for product in items]


@pytest.fixture(scope="module")
def variants(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [variant for product in products for variant in product["variants"]]


# --- taxonomy and keys ------------------------------------------------------------------------------


def test_taxonomy_is_the_agreed_list_in_order() -> None:
    assert TAXONOMY == (
        "bakery", "butcher", "cheese-deli", "grocery", "wine-spirits", "coffee-tea", "chocolate-sweets",
        "fashion", "shoes", "jewellery", "books", "toys", "home-deco", "kitchenware", "flowers-plants",
        "health-beauty", "sports", "electronics", "bikes", "pets", "stationery", "music", "art-crafts",
    )  # fmt: skip


def test_taxonomy_matches_the_catalog_module_when_available() -> None:
    taxonomy = importlib.import_module("chalicelib.catalog.taxonomy")
    assert tuple(taxonomy.CATEGORIES) == TAXONOMY


def test_shop_keys_are_unique_stable_and_aligned(shops: list[dict[str, Any]]) -> None:
    assert [shop["key"] for shop in shops] == SHOP_KEYS
    assert len(set(SHOP_KEYS)) == len(SHOP_KEYS)
    for key in SHOP_KEYS:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key), key
        assert len(key) <= 64


def test_unknown_shop_key_raises() -> None:
    with pytest.raises(KeyError):
        demo_products("no-such-shop")


# --- counts -----------------------------------------------------------------------------------------


def test_counts(shops: list[dict[str, Any]], catalogue: dict[str, list[dict[str, Any]]]) -> None:
    products = [p for items in catalogue.values() for p in items]
    assert len(shops) >= 10
    assert len(products) >= 180
    assert sum(len(p["variants"]) >= 2 for p in products) >= 60
    assert sum(p["active"] is False for p in products) >= 3
    assert sum(v["stock"] == 0 for p in products for v in p["variants"]) >= 5
    for key, items in catalogue.items():
        assert 15 <= len(items) <= 25, key
    assert len({c for shop in shops for c in shop["categories"]}) >= 10


def test_pickup_and_delivery_mix(shops: list[dict[str, Any]]) -> None:
    assert sum(not shop["delivery"]["enabled"] for shop in shops) >= 2
    no_pickup = [shop for shop in shops if not shop["pickup"]["enabled"]]
    assert no_pickup
    assert all(shop["delivery"]["enabled"] for shop in no_pickup)


# --- shops ------------------------------------------------------------------------------------------


def test_shop_shape(shops: list[dict[str, Any]]) -> None:
    names = [shop["name"] for shop in shops]
    assert len(set(names)) == len(names)
    for shop in shops:
        assert set(shop) == SHOP_FIELDS, shop["key"]
        assert 1 <= len(shop["name"]) <= 120
        assert 0 < len(shop["description"]) <= 2000
        assert 1 <= len(shop["categories"]) <= 3
        assert len(set(shop["categories"])) == len(shop["categories"])
        assert set(shop["categories"]) <= set(TAXONOMY)
        assert shop["timezone"] == "Europe/Brussels"
        assert re.fullmatch(r"\+32 9 \d{3} \d{2} \d{2}", shop["phone"]), shop["phone"]
        assert re.fullmatch(r"hallo@[a-z0-9-]+\.be", shop["email"]), shop["email"]
        address = shop["address"]
        assert set(address) == {"street", "postal_code", "city", "country"}
        assert re.fullmatch(r"\D+ \d+", address["street"]), address["street"]
        assert address["postal_code"] in GHENT_POSTAL_CODES
        assert address["city"] == "Gent"
        assert address["country"] == "BE"


def test_shop_coordinates_are_in_ghent(shops: list[dict[str, Any]]) -> None:
    for shop in shops:
        lat, lng = shop["location"]["lat"], shop["location"]["lng"]
        assert isinstance(lat, float) and isinstance(lng, float)
        assert set(shop["location"]) == {"lat", "lng"}
        assert haversine_km(*KORENMARKT, lat, lng) <= 5.0, shop["key"]
    coordinates = [(shop["location"]["lat"], shop["location"]["lng"]) for shop in shops]
    assert len(set(coordinates)) == len(coordinates)


def test_opening_hours_shape(shops: list[dict[str, Any]]) -> None:
    for shop in shops:
        hours = shop["opening_hours"]
        assert tuple(hours) == DAYS, shop["key"]
        assert any(hours.values()), shop["key"]
        for day, intervals in hours.items():
            assert isinstance(intervals, list) and len(intervals) <= 4, (shop["key"], day)
            previous_close = -1
            for interval in intervals:
                assert isinstance(interval, list) and len(interval) == 2
                opens, closes = interval
                assert HH_MM.match(opens) and HH_MM.match(closes), (shop["key"], day, interval)
                assert minutes(opens) < minutes(closes), (shop["key"], day, interval)
                assert minutes(opens) >= previous_close, (shop["key"], day, "sorted, no overlap")
                previous_close = minutes(closes)


def test_opening_hours_vary_realistically(shops: list[dict[str, Any]]) -> None:
    by_key = {shop["key"]: shop for shop in shops}
    bakeries = [shop for shop in shops if "bakery" in shop["categories"]]
    assert bakeries
    for bakery in bakeries:
        hours = bakery["opening_hours"]
        assert hours["sun"], "bakeries open on Sunday morning"
        assert min(minutes(opens) for day in DAYS for opens, _ in hours[day]) <= 7 * 60
    assert sum(not shop["opening_hours"]["mon"] for shop in by_key.values()) >= 3
    assert sum(not shop["opening_hours"]["sun"] for shop in by_key.values()) >= 5
    with_lunch_break = [s for s in shops if any(len(day) >= 2 for day in s["opening_hours"].values())]
    assert len(with_lunch_break) >= 2


def test_closed_dates(shops: list[dict[str, Any]]) -> None:
    for shop in shops:
        dates = shop["closed_dates"]
        assert {"2026-12-25", "2027-01-01"} <= set(dates)
        assert dates == sorted(set(dates))
        for day in dates:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", day)


def test_a_few_pickup_shops_book_slots(shops: list[dict[str, Any]]) -> None:
    slotted = [shop for shop in shops if "slots" in shop["pickup"]]
    assert 2 <= len(slotted) <= 3
    assert all(shop["pickup"]["enabled"] for shop in slotted)
    # The bakery is the demo retailer's shop, used by the e2e flows without choosing a slot.
    assert all(shop["key"] != "bakkerij-de-graanzolder" for shop in slotted)


def test_pickup_and_delivery_values(shops: list[dict[str, Any]]) -> None:
    for shop in shops:
        pickup, delivery = shop["pickup"], shop["delivery"]
        assert set(pickup) - {"slots"} == {"enabled", "ready_within_hours", "instructions"}
        if "slots" in pickup:
            slots = pickup["slots"]
            assert set(slots) == {"length_minutes", "capacity", "preparation_minutes"}
            assert is_int(slots["length_minutes"]) and 15 <= slots["length_minutes"] <= 240
            assert is_int(slots["capacity"]) and 1 <= slots["capacity"] <= 100
            assert is_int(slots["preparation_minutes"]) and 0 <= slots["preparation_minutes"] <= 10080
        assert isinstance(pickup["enabled"], bool)
        assert is_int(pickup["ready_within_hours"]) and 0 <= pickup["ready_within_hours"] <= 336
        assert isinstance(pickup["instructions"], str) and len(pickup["instructions"]) <= 500
        assert set(delivery) == {"enabled", "radius_km", "fee_cents", "free_over_cents"}
        assert isinstance(delivery["enabled"], bool)
        radius = delivery["radius_km"]
        assert isinstance(radius, (int, float)) and not isinstance(radius, bool)
        assert 3 <= radius <= 8
        assert is_int(delivery["fee_cents"]) and 295 <= delivery["fee_cents"] <= 695
        assert delivery["free_over_cents"] in (5000, None)


# --- products ---------------------------------------------------------------------------------------


def test_product_shape(shops: list[dict[str, Any]], catalogue: dict[str, list[dict[str, Any]]]) -> None:
    for shop in shops:
        items = catalogue[shop["key"]]
        names = [p["name"] for p in items]
        assert len(set(names)) == len(names), shop["key"]
        for product in items:
            assert set(product) == PRODUCT_FIELDS, product["name"]
            assert 1 <= len(product["name"]) <= 200
            assert 20 <= len(product["description"]) <= 5000
            assert 1 <= product["description"].count(". ") + 1 <= 3, product["description"]
            assert product["category"] in TAXONOMY
            assert product["category"] in shop["categories"], (shop["key"], product["name"])
            assert isinstance(product["active"], bool)
            assert 1 <= len(product["variants"]) <= 6, product["name"]


def test_vat_rules(products: list[dict[str, Any]]) -> None:
    for product in products:
        expected = 600 if product["category"] in REDUCED_RATE_CATEGORIES else 2100
        assert product["vat_rate_bps"] == expected, (product["name"], product["category"])
        assert is_int(product["vat_rate_bps"])
    food = [p for p in products if p["category"] in FOOD_CATEGORIES]
    assert food and all(p["vat_rate_bps"] == 600 for p in food)
    drinks = [p for p in products if p["category"] == "wine-spirits"]
    assert drinks and all(p["vat_rate_bps"] == 2100 for p in drinks)


def test_skus_unique_and_well_formed(variants: list[dict[str, Any]]) -> None:
    skus = [v["sku"] for v in variants]
    duplicates = [sku for sku, count in Counter(skus).items() if count > 1]
    assert not duplicates
    for sku in skus:
        assert SKU.fullmatch(sku), sku


def test_variant_values(products: list[dict[str, Any]]) -> None:
    for product in products:
        option_sets = []
        for variant in product["variants"]:
            assert set(variant) == VARIANT_FIELDS, product["name"]
            assert is_int(variant["price_cents"]) and 10 <= variant["price_cents"] <= 1_000_000
            assert is_int(variant["stock"]) and 0 <= variant["stock"] <= 200
            assert variant["active"] is True
            options = variant["options"]
            assert isinstance(options, dict) and len(options) <= 3
            for name, value in options.items():
                assert isinstance(name, str) and 1 <= len(name) <= 30
                assert isinstance(value, str) and 1 <= len(value) <= 40
            option_sets.append(tuple(sorted(options.items())))
        if len(product["variants"]) == 1:
            assert option_sets == [()], product["name"]
        else:
            assert all(option_sets), product["name"]
            assert len(set(option_sets)) == len(option_sets), product["name"]
            assert len({tuple(k for k, _ in opts) for opts in option_sets}) == 1, product["name"]


def test_prices_are_realistic(products: list[dict[str, Any]]) -> None:
    for product in products:
        prices = [v["price_cents"] for v in product["variants"]]
        if product["category"] in FOOD_CATEGORIES:
            assert all(price % 10 == 0 for price in prices), product["name"]
            assert max(prices) <= 10_000, product["name"]
    bike_prices = [v["price_cents"] for p in products if p["category"] == "bikes" for v in p["variants"]]
    assert max(bike_prices) >= 100_000, "the bike shop sells bicycles, not just accessories"


# --- determinism and isolation ----------------------------------------------------------------------


def _snapshot() -> str:
    return json.dumps({"shops": demo_shops(), "products": {k: demo_products(k) for k in SHOP_KEYS}})


def test_deterministic_within_a_process() -> None:
    assert demo_shops() == demo_shops()
    for key in SHOP_KEYS:
        assert demo_products(key) == demo_products(key)


def test_deterministic_across_processes() -> None:
    root = Path(__file__).resolve().parents[2]
    code = (
        "import json; from tools.demo_data import SHOP_KEYS, demo_shops, demo_products; "
        "print(json.dumps({'shops': demo_shops(), 'products': {k: demo_products(k) for k in SHOP_KEYS}}))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == _snapshot()


def test_returned_data_is_a_fresh_copy() -> None:
    shops = demo_shops()
    shops[0]["name"] = "changed"
    shops[0]["opening_hours"]["mon"].append(["20:00", "21:00"])
    products = demo_products(SHOP_KEYS[0])
    products[0]["variants"][0]["options"]["x"] = "y"
    assert demo_shops()[0]["name"] != "changed"
    assert ["20:00", "21:00"] not in demo_shops()[0]["opening_hours"]["mon"]
    assert "x" not in demo_products(SHOP_KEYS[0])[0]["variants"][0]["options"]


# --- compatibility with the API's request schemas ------


def test_bodies_match_the_api_request_schemas(catalogue: dict[str, list[dict[str, Any]]]) -> None:
    msgspec = importlib.import_module("msgspec")
    shop_schemas = importlib.import_module("chalicelib.shop.schemas")
    catalog_schemas = importlib.import_module("chalicelib.catalog.schemas")
    for shop in demo_shops():
        body = {k: v for k, v in shop.items() if k != "key"}
        msgspec.convert(body, shop_schemas.ShopProfile)
        for product in catalogue[shop["key"]]:
            msgspec.convert(product, catalog_schemas.ProductIn)


def test_hours_pass_the_service_validator(shops: list[dict[str, Any]]) -> None:
    hours = importlib.import_module("chalicelib.shop.hours")
    for shop in shops:
        assert hours.hours_problems(shop["opening_hours"]) == [], shop["key"]
        assert hours.closed_dates_problems(shop["closed_dates"]) == [], shop["key"]
