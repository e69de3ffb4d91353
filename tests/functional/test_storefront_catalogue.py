"""What a storefront page needs from the catalogue in one call: the categories with their names, product
lists that carry a cover image and an in-stock flag, and a search that finds words by their beginning."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from chalicelib.catalog.taxonomy import CATEGORIES


def test_categories_are_named_in_three_languages_and_cacheable(api: Any) -> None:
    response = api.http.get("/categories")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    items = json.loads(response.body)["items"]
    assert [c["slug"] for c in items] == list(CATEGORIES)
    bakery = items[0]
    assert bakery == {"slug": "bakery", "names": {"fr": "Boulangerie", "nl": "Bakkerij", "en": "Bakery"}}
    assert all(c["names"]["fr"] and c["names"]["nl"] and c["names"]["en"] for c in items)


BAKERY, CHOCOLATE = 0, 5  # demo shops


def _product(
    name: str, sku: str, description: str = "", category: str = "bakery"
) -> dict[str, Any]:
    variant = {"sku": sku, "price_cents": 500, "stock": 5}
    return {
        "name": name,
        "category": category,
        "vat_rate_bps": 600,
        "variants": [variant],
        "description": description,
    }


def _create(api: Any, key: str, body: dict[str, Any]) -> str:
    status, product = api.call("POST", "/retailer/products", body, key=key)
    assert status == 201, product
    return product["id"]


def _found(api: Any, q: str) -> list[str]:
    status, page = api.call("GET", f"/products?q={quote(q)}")
    assert status == 200, page
    return [item["id"] for item in page["items"]]


def test_search_finds_words_by_their_beginning_and_ranks_the_better_matches_first(api, open_shop):
    _, key = open_shop(BAKERY)  # "Bakkerij De Graanzolder", category bakery: no word of theirs is searched
    made = {
        "truffles": _create(api, key, _product("Truffles", "TR", "Rolled in chocolate powder")),
        "bar": _create(api, key, _product("Dark chocolate bar", "DCB")),
        "tour": _create(api, key, _product("Chocolatier tour", "CT", "An afternoon in the workshop")),
        "taarten": _create(api, key, _product("Kleine taarten", "KT", "Zes stuks")),
        "bijoux": _create(api, key, _product("Bijoux en chocolat", "BC")),
    }

    def names(q: str) -> list[str]:
        by_id = {v: k for k, v in made.items()}
        return [by_id[pid] for pid in _found(api, q)]

    # Whole word in the name, then a word beginning with it in the name, then the description.
    assert names("chocolate") == ["bar", "truffles"]
    assert names("choco") == ["bijoux", "tour", "bar", "truffles"]  # the name, by name; then the rest
    assert names("choc") == names("choco")
    assert names("chocolatier") == ["tour"]
    # Every word must match, the other words by their beginning too (the last word is still being typed).
    assert names("dark choc") == ["bar"]
    assert names("chocolate pow") == ["truffles"]
    # Plurals of the mall's languages.
    assert names("taart") == ["taarten"]
    assert names("bijou") == ["bijoux"]
    # A 2-letter word is found whole only; a beginning that begins nothing finds nothing.
    assert names("zes") == ["taarten"] and names("chocx") == []


def test_a_product_indexed_by_whole_words_is_moved_to_prefix_keys_on_its_next_write(api, open_shop):
    from chalicelib.catalog.listing import name_key
    from chalicelib.catalog.models import ProductItem, SearchEntry

    _, key = open_shop(CHOCOLATE)
    pid = _create(api, key, _product("Praline box", "PB"))
    # As stored before prefix search: entries at WORD#<word>, the product at search scheme 1.
    product = ProductItem.get(*ProductItem.key_for(pid), consistent_read=True)
    for entry in SearchEntry.query("PREFIX#pra", SearchEntry.sk.startswith("praline#")):
        entry.delete()
    legacy = SearchEntry.legacy_key_for("praline", name_key(product))
    SearchEntry(*legacy, product_id=pid, shop_id=product.shop_id, shop_name="x", name="Praline box",
                category="chocolate-sweets", vat_rate_bps=600, price_from=500, price_to=500,
                words=["praline"]).save()  # fmt: skip
    product.update(actions=[ProductItem.search_scheme.set(1)])

    status, _ = api.call("PATCH", f"/retailer/products/{pid}", {"name": "Praline tin"}, key=key)

    assert status == 200
    assert list(SearchEntry.query(legacy[0])) == []
    assert _found(api, "pral") == [pid] and _found(api, "tin") == [pid]
