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


def _product(name: str, sku: str, description: str = "", category: str = "bakery") -> dict[str, Any]:
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
    product.update(actions=[ProductItem.search_scheme.set(1), ProductItem.variant_ids.remove()])

    def in_stock() -> list[bool | None]:
        status, page = api.call("GET", "/products?category=bakery")
        assert status == 200, page
        return [item["in_stock"] for item in page["items"] if item["id"] == pid]

    assert in_stock() == [None]  # stored before variant ids: unknown, not "sold out"

    status, _ = api.call("PATCH", f"/retailer/products/{pid}", {"name": "Praline tin"}, key=key)

    assert status == 200
    assert list(SearchEntry.query(legacy[0])) == []
    assert _found(api, "pral") == [pid] and _found(api, "tin") == [pid]
    assert in_stock() == [True]


def _summaries(api: Any, shop_id: str, pid: str) -> list[dict[str, Any]]:
    found = []
    for path in (f"/shops/{shop_id}/products", "/products?category=bakery", "/products?q=rye"):
        status, page = api.call("GET", path)
        assert status == 200, page
        found += [item for item in page["items"] if item["id"] == pid]
    assert len(found) == 3
    return found


def test_lists_and_cart_lines_say_whether_a_variant_is_on_sale_now(api, open_shop):
    shop, key = open_shop(BAKERY)
    body = _product("Rye loaf", "RY-1")
    body["variants"] = [
        {"sku": "RY-1", "price_cents": 400, "stock": 0},
        {"sku": "RY-2", "price_cents": 700, "stock": 2},
    ]
    status, product = api.call("POST", "/retailer/products", body, key=key)
    assert status == 201, product
    pid, (sold_out, on_sale) = product["id"], [v["id"] for v in product["variants"]]

    def in_stock() -> set[bool]:
        return {s["in_stock"] for s in _summaries(api, shop["id"], pid)}

    assert in_stock() == {True}
    variant = f"/retailer/products/{pid}/variants/{on_sale}"
    assert api.call("POST", f"{variant}/stock", {"set": 0}, key=key)[0] == 200
    assert in_stock() == {False}
    assert (
        api.call("POST", f"/retailer/products/{pid}/variants/{sold_out}/stock", {"adjust": 5}, key=key)[0]
        == 200
    )
    assert in_stock() == {True}
    # An inactive variant is not on sale, whatever its stock.
    assert (
        api.call("PATCH", f"/retailer/products/{pid}/variants/{sold_out}", {"active": False}, key=key)[0]
        == 200
    )
    assert in_stock() == {False}

    assert api.call("POST", f"{variant}/stock", {"set": 1}, key=key)[0] == 200
    sold_out_path = f"/retailer/products/{pid}/variants/{sold_out}"
    assert api.call("PATCH", sold_out_path, {"active": True}, key=key)[0] == 200
    assert api.call("POST", f"{sold_out_path}/stock", {"set": 0}, key=key)[0] == 200
    lines = [{"variant_id": v, "quantity": 1} for v in (on_sale, sold_out)]
    status, created = api.call("POST", "/carts", {"lines": lines})
    assert status == 201, created
    cart_lines = {line["variant_id"]: line for s in created["cart"]["shops"] for line in s["lines"]}
    assert (cart_lines[on_sale]["in_stock"], cart_lines[sold_out]["in_stock"]) == (True, False)
    assert cart_lines[on_sale]["cover_url"] is None


def test_a_list_page_with_covers_and_stock_stays_at_two_dynamodb_calls(api, open_shop):
    """The issue's budget (bench/catalog.py): a list or search page is its Query and one BatchGetItem of
    the page's shops' status and its products' variants."""
    from collections import Counter

    from bench.catalog import CallCounter

    shop, key = open_shop(BAKERY)
    for n in range(12):
        body = _product(f"Rye loaf {n}", f"RY-{n}")
        body["variants"] += [{"sku": f"RX-{n}", "price_cents": 600, "stock": 0}]
        _create(api, key, body)
    counter = CallCounter()
    for path in (f"/shops/{shop['id']}/products", "/products?category=bakery", "/products?q=rye",
                 "/products?q=rye%20lo", "/products?q=loafs%20ry&category=bakery"):  # fmt: skip
        with counter.installed():
            status, page = api.call("GET", path)
        assert status == 200 and page["items"], (path, page)
        assert all(item["in_stock"] is True for item in page["items"]), path
        assert Counter(c.operation for c in counter.reset()) == {"Query": 1, "BatchGetItem": 1}, path


def test_a_page_whose_variants_do_not_fit_one_batch_reads_as_unknown(api, open_shop):
    shop, key = open_shop(BAKERY)
    for n in range(6):
        body = _product(f"Assorted box {n}", f"AB-{n}")
        body["variants"] = [{"sku": f"AB-{n}-{v}", "price_cents": 500, "stock": 1} for v in range(20)]
        _create(api, key, body)

    status, page = api.call("GET", f"/shops/{shop['id']}/products")

    assert status == 200
    # 1 shop + 4 x 20 variants fit in one BatchGetItem of 100 keys; the last two products do not.
    assert [item["in_stock"] for item in page["items"]] == [True, True, True, True, None, None]


def test_an_unknown_or_suspended_shop_s_products_are_404(api, open_shop, operator_key):
    shop, key = open_shop(BAKERY)
    _create(api, key, _product("Rye loaf", "RY"))
    assert api.call("GET", "/shops/shop_0000000000000000/products")[0] == 404
    status, _ = api.call("POST", f"/operator/shops/{shop['id']}/suspend", key=operator_key)
    assert status == 200
    status, body = api.call("GET", f"/shops/{shop['id']}/products")
    assert status == 404 and body["error"]["code"] == "shop_not_found"
