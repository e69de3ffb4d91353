"""Carts through the API: opened with a secret token, priced from the catalogue on every read (per shop,
VAT per rate, delivery fees), fulfilment per shop, and lines that can no longer be bought flagged, not
dropped."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import support
from support import delivery_to, make_product, vid

BAKERY, BUTCHER, WINE, GROCERY_BOX = (
    0,
    1,
    3,
    12,
)  # tools/demo_data.py: pickup only, 4.5 km, 8 km, delivery only
KORENMARKT = {"lat": 51.0543, "lng": 3.7219}  # ~2 km from the butcher
AALST = {"lat": 50.9378, "lng": 4.0403}  # ~23 km from the butcher


def send(api: Any, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    return support.send(api, method, path, body, {"X-Cart-Token": token} if token is not None else None)


def new_cart(api: Any, lines: list[tuple[str, int]] = ()) -> tuple[dict[str, Any], str]:
    body = {"lines": [{"variant_id": v, "quantity": q} for v, q in lines]}
    status, created = send(api, "POST", "/carts", body)
    assert status == 201, created
    return created["cart"], created["cart_token"]


def read_cart(api: Any, cart_id: str, token: str) -> dict[str, Any]:
    status, cart = send(api, "GET", f"/carts/{cart_id}", token=token)
    assert status == 200, cart
    return cart


def vat_of(gross: int, rate: int) -> int:
    """Independent half-up rounding of the VAT inside a VAT-inclusive amount."""
    exact = Fraction(gross * rate, 10_000 + rate)
    return int(exact + Fraction(1, 2))


def shop_part(cart: dict[str, Any], shop_id: str) -> dict[str, Any]:
    return next(s for s in cart["shops"] if s["shop_id"] == shop_id)


def line_of(cart: dict[str, Any], variant_id: str) -> dict[str, Any]:
    return next(line for s in cart["shops"] for line in s["lines"] if line["variant_id"] == variant_id)


# --- the token ----------------------------------------------------------------------------------------


def test_a_cart_has_an_id_and_a_secret_token_that_every_later_call_needs(api, open_shop):
    _, key = open_shop(BAKERY)
    bread = make_product(api, key, "Sourdough", [(450, 10)])
    cart, token = new_cart(api)
    other_cart, other_token = new_cart(api)

    assert cart["id"] != other_cart["id"] and token != other_token
    assert token.startswith("ct_") and len(token) > 30
    assert cart["status"] == "open" and cart["shops"] == [] and cart["total_cents"] == 0
    assert cart["ready_for_checkout"] is False
    path = f"/carts/{cart['id']}"
    for wrong in (None, "", "ct_guess", other_token):
        for method, route, body in (
            ("GET", path, None),
            ("POST", f"{path}/lines", {"variant_id": vid(bread), "quantity": 1}),
            ("PUT", f"{path}/lines/{vid(bread)}", {"quantity": 2}),
            ("DELETE", f"{path}/lines/{vid(bread)}", None),
        ):
            status, error = send(api, method, route, body, token=wrong)
            assert status == 401, (method, wrong, error)
            assert error["error"]["code"] == "invalid_cart_token"
    assert (
        send(api, "GET", "/carts/cart_doesnotexist0000", token=token)[1]["error"]["code"] == "cart_not_found"
    )
    assert send(api, "GET", "/carts/cart_doesnotexist0000", token=token)[0] == 404

    assert read_cart(api, cart["id"], token)["line_count"] == 0  # the refused calls changed nothing


# --- pricing ------------------------------------------------------------------------------------------


def test_prices_come_from_the_catalogue_never_from_the_client(api, open_shop):
    _, key = open_shop(BAKERY)
    bread = make_product(api, key, "Sourdough", [(450, 10)])
    cart, token = new_cart(api)

    status, error = send(
        api,
        "POST",
        f"/carts/{cart['id']}/lines",
        {"variant_id": vid(bread), "quantity": 2, "unit_price_cents": 1},
        token=token,
    )
    assert status == 400
    assert {f["field"] for f in error["error"]["fields"]} == {"unit_price_cents"}

    status, cart = send(
        api, "POST", f"/carts/{cart['id']}/lines", {"variant_id": vid(bread), "quantity": 2}, token
    )
    assert status == 200, cart
    assert line_of(cart, vid(bread))["unit_price_cents"] == 450
    assert cart["total_cents"] == 900

    status, _ = api.call(
        "PATCH", f"/retailer/products/{bread['id']}/variants/{vid(bread)}", {"price_cents": 520}, key=key
    )
    assert status == 200

    line = line_of(read_cart(api, cart["id"], token), vid(bread))
    assert (line["unit_price_cents"], line["total_cents"], line["vat_cents"]) == (
        520,
        1040,
        vat_of(1040, 600),
    )


def test_a_cart_is_priced_per_shop_with_vat_per_rate_and_totals_that_add_up(api, open_shop):
    bakery, bakery_key = open_shop(BAKERY)
    wine_shop, wine_key = open_shop(WINE)
    bread = make_product(api, bakery_key, "Sourdough", [(455, 20), (763, 20)], vat=600)
    wine = make_product(api, wine_key, "Crémant", [(1895, 20)], vat=2100)
    gift = make_product(api, wine_key, "Gift box", [(333, 20)], vat=600)

    cart, token = new_cart(api, [(vid(bread, 0), 3), (vid(bread, 1), 1), (vid(wine), 2), (vid(gift), 1)])

    assert cart == read_cart(api, cart["id"], token)
    assert [s["shop_id"] for s in cart["shops"]] == [bakery["id"], wine_shop["id"]]
    expected_lines = {
        vid(bread, 0): (455, 3, 600),
        vid(bread, 1): (763, 1, 600),
        vid(wine): (1895, 2, 2100),
        vid(gift): (333, 1, 600),
    }
    for variant_id, (price, quantity, rate) in expected_lines.items():
        line = line_of(cart, variant_id)
        assert line["quantity"] == quantity
        assert line["total_cents"] == price * quantity
        assert line["vat_rate_bps"] == rate
        assert line["vat_cents"] == vat_of(price * quantity, rate)  # rounded per line
        assert line["problem"] is None

    bakery_part = shop_part(cart, bakery["id"])
    assert bakery_part["fulfilment"]["method"] == "pickup"
    assert bakery_part["subtotal_cents"] == bakery_part["total_cents"] == 1365 + 763
    assert bakery_part["vat"] == [
        {"rate_bps": 600, "gross_cents": 2128, "vat_cents": vat_of(1365, 600) + vat_of(763, 600)}
    ]
    wine_part = shop_part(cart, wine_shop["id"])
    assert wine_part["subtotal_cents"] == 3790 + 333
    assert wine_part["delivery_fee_cents"] == 0  # pickup by default
    assert wine_part["vat"] == [
        {"rate_bps": 2100, "gross_cents": 3790, "vat_cents": vat_of(3790, 2100)},
        {"rate_bps": 600, "gross_cents": 333, "vat_cents": vat_of(333, 600)},
    ]
    assert cart["subtotal_cents"] == cart["total_cents"] == 2128 + 4123
    assert cart["delivery_fees_cents"] == 0
    assert cart["vat"] == [
        {"rate_bps": 2100, "gross_cents": 3790, "vat_cents": vat_of(3790, 2100)},
        {
            "rate_bps": 600,
            "gross_cents": 2128 + 333,
            "vat_cents": vat_of(1365, 600) + vat_of(763, 600) + vat_of(333, 600),
        },
    ]
    assert sum(v["gross_cents"] for v in cart["vat"]) == cart["total_cents"]
    assert cart["currency"] == "EUR" and cart["line_count"] == 4
    assert cart["ready_for_checkout"] is True and cart["problems"] == []


# --- lines --------------------------------------------------------------------------------------------


def test_lines_are_added_merged_changed_and_removed(api, open_shop):
    bakery, bakery_key = open_shop(BAKERY)
    butcher, butcher_key = open_shop(BUTCHER)
    bread = make_product(api, bakery_key, "Sourdough", [(450, 50)])
    steak = make_product(api, butcher_key, "Steak", [(1290, 50)], vat=600)
    cart, token = new_cart(api, [(vid(bread), 2)])
    lines = f"/carts/{cart['id']}/lines"

    status, cart = send(api, "POST", lines, {"variant_id": vid(bread), "quantity": 3}, token)
    assert status == 200
    assert cart["line_count"] == 1 and line_of(cart, vid(bread))["quantity"] == 5  # merged, not duplicated

    status, cart = send(api, "POST", lines, {"variant_id": vid(bread), "quantity": 99}, token)
    assert status == 200 and line_of(cart, vid(bread))["quantity"] == 99  # capped at the maximum

    status, cart = send(api, "PUT", f"{lines}/{vid(bread)}", {"quantity": 4}, token)
    assert status == 200 and line_of(cart, vid(bread))["quantity"] == 4

    status, cart = send(api, "POST", lines, {"variant_id": vid(steak), "quantity": 1}, token)
    assert [s["shop_id"] for s in cart["shops"]] == [bakery["id"], butcher["id"]]
    status, cart = send(
        api, "PUT", f"/carts/{cart['id']}/shops/{butcher['id']}/fulfilment", delivery_to(KORENMARKT), token
    )
    assert status == 200, cart
    assert shop_part(cart, butcher["id"])["fulfilment"]["method"] == "delivery"

    status, cart = send(api, "DELETE", f"{lines}/{vid(steak)}", token=token)
    assert status == 200
    assert [s["shop_id"] for s in cart["shops"]] == [bakery["id"]]
    assert cart["total_cents"] == 4 * 450 and cart["delivery_fees_cents"] == 0

    # Back in the cart, the butcher's part starts again from the default (pickup), not the old choice.
    status, cart = send(api, "POST", lines, {"variant_id": vid(steak), "quantity": 1}, token)
    assert shop_part(cart, butcher["id"])["fulfilment"]["method"] == "pickup"

    for method, body in (("PUT", {"quantity": 1}), ("DELETE", None)):
        status, error = send(api, method, f"{lines}/{bread['id']}-zzzzzz", body, token)
        assert status == 404 and error["error"]["code"] == "line_not_found"
    assert read_cart(api, cart["id"], token)["line_count"] == 2


def test_bad_quantities_are_refused_and_change_nothing(api, open_shop):
    _, key = open_shop(BAKERY)
    bread = make_product(api, key, "Sourdough", [(450, 500)])
    cart, token = new_cart(api, [(vid(bread), 2)])
    before = read_cart(api, cart["id"], token)

    for quantity in (0, -1, 100, 1000, "2", 2.5, None, True):
        for method, path, body in (
            ("POST", f"/carts/{cart['id']}/lines", {"variant_id": vid(bread), "quantity": quantity}),
            ("PUT", f"/carts/{cart['id']}/lines/{vid(bread)}", {"quantity": quantity}),
            ("POST", "/carts", {"lines": [{"variant_id": vid(bread), "quantity": quantity}]}),
        ):
            status, error = send(api, method, path, body, token)
            assert status == 400, (quantity, method, path, error)
            assert error["error"]["code"] == "validation_error"
            assert any(f["field"].endswith("quantity") for f in error["error"]["fields"]), error

    assert read_cart(api, cart["id"], token) == before


def test_unknown_or_inactive_variants_cannot_be_added(api, open_shop):
    _, key = open_shop(BAKERY)
    bread = make_product(api, key, "Sourdough", [(450, 10), (760, 10)])
    cake = make_product(api, key, "Cake", [(1500, 10)])
    assert (
        api.call(
            "PATCH", f"/retailer/products/{bread['id']}/variants/{vid(bread, 1)}", {"active": False}, key=key
        )[0]
        == 200
    )
    assert api.call("PATCH", f"/retailer/products/{cake['id']}", {"active": False}, key=key)[0] == 200
    cart, token = new_cart(api, [(vid(bread, 0), 1)])

    for variant_id in (
        f"{bread['id']}-nonono",
        "prod_nothing-abcdef",
        "no-dash-at-all",
        vid(bread, 1),
        vid(cake),
    ):
        status, error = send(
            api, "POST", f"/carts/{cart['id']}/lines", {"variant_id": variant_id, "quantity": 1}, token
        )
        assert status == 422, (variant_id, error)
        assert error["error"]["code"] == "variant_unavailable"
        assert error["error"]["details"]["variant_id"] == variant_id
        status, error = send(api, "POST", "/carts", {"lines": [{"variant_id": variant_id, "quantity": 1}]})
        assert status == 422 and error["error"]["code"] == "variant_unavailable"

    status, error = send(
        api, "POST", f"/carts/{cart['id']}/lines", {"variant_id": "Not An Id!", "quantity": 1}, token
    )
    assert status == 400 and error["error"]["fields"][0]["field"] == "variant_id"
    cart = read_cart(api, cart["id"], token)
    assert cart["line_count"] == 1 and line_of(cart, vid(bread, 0))["quantity"] == 1


def test_lines_that_went_inactive_or_out_of_stock_are_flagged_not_dropped(api, open_shop):
    _, key = open_shop(BAKERY)
    bread = make_product(api, key, "Sourdough", [(450, 10), (760, 10)])
    cake = make_product(api, key, "Cake", [(1500, 10)])
    rolls = make_product(api, key, "Rolls", [(300, 10)])
    tart = make_product(api, key, "Tart", [(900, 10)])
    cart, token = new_cart(
        api, [(vid(bread, 0), 1), (vid(bread, 1), 1), (vid(cake), 1), (vid(rolls), 3), (vid(tart), 2)]
    )
    assert cart["ready_for_checkout"] is True

    stock = "/retailer/products/{}/variants/{}/stock"
    assert (
        api.call(
            "PATCH", f"/retailer/products/{bread['id']}/variants/{vid(bread, 1)}", {"active": False}, key=key
        )[0]
        == 200
    )
    assert api.call("PATCH", f"/retailer/products/{cake['id']}", {"active": False}, key=key)[0] == 200
    assert api.call("POST", stock.format(rolls["id"], vid(rolls)), {"set": 1}, key=key)[0] == 200
    assert api.call("POST", stock.format(tart["id"], vid(tart)), {"set": 0}, key=key)[0] == 200

    cart = read_cart(api, cart["id"], token)

    assert cart["line_count"] == 5
    problems = {line["variant_id"]: line["problem"] for s in cart["shops"] for line in s["lines"]}
    assert problems == {
        vid(bread, 0): None,
        vid(bread, 1): "inactive",
        vid(cake): "inactive",
        vid(rolls): "insufficient_stock",
        vid(tart): "out_of_stock",
    }
    assert line_of(cart, vid(rolls))["available"] == 1
    assert line_of(cart, vid(tart))["available"] == 0
    assert line_of(cart, vid(cake))["available"] == 0
    assert line_of(cart, vid(rolls))["quantity"] == 3  # the customer's choice is kept
    # Only the line that can be bought is charged.
    assert cart["total_cents"] == cart["subtotal_cents"] == 450
    assert cart["vat"] == [{"rate_bps": 600, "gross_cents": 450, "vat_cents": vat_of(450, 600)}]
    assert cart["ready_for_checkout"] is False
    assert sorted(cart["problems"]) == sorted(
        [
            f"{vid(bread, 1)}:inactive",
            f"{vid(cake)}:inactive",
            f"{vid(rolls)}:insufficient_stock",
            f"{vid(tart)}:out_of_stock",
        ]
    )

    # The customer fixes the cart: lower the quantity, drop the rest; it is ready again.
    assert send(api, "PUT", f"/carts/{cart['id']}/lines/{vid(rolls)}", {"quantity": 1}, token)[0] == 200
    for gone in (vid(bread, 1), vid(cake), vid(tart)):
        assert send(api, "DELETE", f"/carts/{cart['id']}/lines/{gone}", token=token)[0] == 200
    cart = read_cart(api, cart["id"], token)
    assert cart["ready_for_checkout"] is True and cart["total_cents"] == 750


def test_lines_of_a_suspended_shop_are_flagged_and_the_rest_is_still_priced(api, open_shop, operator_key):
    _, bakery_key = open_shop(BAKERY)
    butcher, butcher_key = open_shop(BUTCHER)
    bread = make_product(api, bakery_key, "Sourdough", [(450, 10)])
    steak = make_product(api, butcher_key, "Steak", [(1290, 10)])
    cart, token = new_cart(api, [(vid(bread), 1), (vid(steak), 2)])

    assert api.call("POST", f"/operator/shops/{butcher['id']}/suspend", key=operator_key)[0] == 200
    cart = read_cart(api, cart["id"], token)

    assert line_of(cart, vid(steak))["problem"] == "shop_unavailable"
    assert line_of(cart, vid(bread))["problem"] is None
    assert (cart["line_count"], cart["total_cents"], cart["ready_for_checkout"]) == (2, 450, False)
    assert f"{vid(steak)}:shop_unavailable" in cart["problems"]
    status, error = send(
        api, "POST", f"/carts/{cart['id']}/lines", {"variant_id": vid(steak), "quantity": 1}, token
    )
    assert status == 422 and error["error"]["code"] == "variant_unavailable"

    assert api.call("POST", f"/operator/shops/{butcher['id']}/reactivate", key=operator_key)[0] == 200
    cart = read_cart(api, cart["id"], token)
    assert (cart["total_cents"], cart["ready_for_checkout"]) == (450 + 2580, True)


# --- fulfilment ---------------------------------------------------------------------------------------


def test_pickup_is_the_default_where_offered_and_delivery_only_where_offered(api, open_shop):
    bakery, bakery_key = open_shop(BAKERY)
    box_shop, box_key = open_shop(GROCERY_BOX)
    bread = make_product(api, bakery_key, "Sourdough", [(450, 10)])
    box = make_product(api, box_key, "Vegetable box", [(2500, 10)])
    cart, token = new_cart(api, [(vid(bread), 1), (vid(box), 1)])

    bakery_part, box_part = shop_part(cart, bakery["id"]), shop_part(cart, box_shop["id"])
    assert bakery_part["fulfilment"]["method"] == "pickup"
    assert bakery_part["fulfilment"]["available_methods"] == ["pickup"]
    assert bakery_part["fulfilment"]["pickup_address"].startswith("Sint-Pietersnieuwstraat 118")
    assert bakery_part["fulfilment"]["problem"] is None
    # A delivery-only shop cannot default to pickup: it waits for an address, and the cart is not ready.
    assert box_part["fulfilment"]["method"] == "delivery"
    assert box_part["fulfilment"]["available_methods"] == ["delivery"]
    assert box_part["fulfilment"]["problem"] == "delivery_address_required"
    assert cart["ready_for_checkout"] is False
    assert f"{box_shop['id']}:delivery_address_required" in cart["problems"]

    fulfilment = f"/carts/{cart['id']}/shops/{{}}/fulfilment"
    status, error = send(api, "PUT", fulfilment.format(bakery["id"]), delivery_to(KORENMARKT), token)
    assert status == 422 and error["error"]["code"] == "fulfilment_not_offered"
    status, error = send(api, "PUT", fulfilment.format(box_shop["id"]), {"method": "pickup"}, token)
    assert status == 422 and error["error"]["code"] == "fulfilment_not_offered"
    status, error = send(api, "PUT", fulfilment.format("shop_notincart"), {"method": "pickup"}, token)
    assert status == 404 and error["error"]["code"] == "shop_not_in_cart"
    status, error = send(api, "PUT", fulfilment.format(bakery["id"]), {"method": "drone"}, token)
    assert status == 400 and error["error"]["fields"][0]["field"] == "method"

    status, cart = send(api, "PUT", fulfilment.format(box_shop["id"]), delivery_to(KORENMARKT), token)
    assert status == 200, cart
    assert shop_part(cart, box_shop["id"])["fulfilment"]["problem"] is None
    assert shop_part(cart, box_shop["id"])["delivery_fee_cents"] == 295  # under the 50 euro threshold
    assert cart["ready_for_checkout"] is True


def test_delivery_needs_address_and_contact_within_the_radius_and_adds_the_fee(api, open_shop):
    butcher, key = open_shop(BUTCHER)  # delivers within 4.5 km for 3.95, free from 50 euro
    steak = make_product(api, key, "Steak", [(1290, 50)], vat=600)
    cart, token = new_cart(api, [(vid(steak), 2)])
    path = f"/carts/{cart['id']}/shops/{butcher['id']}/fulfilment"

    status, error = send(api, "PUT", path, {"method": "delivery"}, token)
    assert status == 400
    assert {f["field"] for f in error["error"]["fields"]} == {"address", "contact"}
    status, error = send(api, "PUT", path, {**delivery_to(KORENMARKT), "contact": None}, token)
    assert status == 400 and [f["field"] for f in error["error"]["fields"]] == ["contact"]
    bad_phone = delivery_to(KORENMARKT)
    bad_phone["contact"]["phone"] = "call me"
    assert send(api, "PUT", path, bad_phone, token)[0] == 400

    status, error = send(api, "PUT", path, delivery_to(AALST), token)
    assert status == 422
    assert error["error"]["code"] == "outside_delivery_area"
    assert error["error"]["details"]["radius_km"] == 4.5
    assert error["error"]["details"]["distance_km"] > 20
    assert shop_part(read_cart(api, cart["id"], token), butcher["id"])["fulfilment"]["method"] == "pickup"

    status, cart = send(api, "PUT", path, delivery_to(KORENMARKT), token)
    assert status == 200, cart
    part = shop_part(cart, butcher["id"])
    assert part["fulfilment"]["method"] == "delivery"
    assert part["fulfilment"]["address"]["street"] == "Korenmarkt 1"
    assert part["fulfilment"]["contact"]["name"] == "An Peeters"
    assert (part["subtotal_cents"], part["delivery_fee_cents"], part["total_cents"]) == (2580, 395, 2975)
    assert part["vat"] == [
        {"rate_bps": 2100, "gross_cents": 395, "vat_cents": vat_of(395, 2100)},
        {"rate_bps": 600, "gross_cents": 2580, "vat_cents": vat_of(2580, 600)},
    ]
    assert (cart["delivery_fees_cents"], cart["total_cents"]) == (395, 2975)

    # From 50 euro of goods delivery is free; below it again, the fee is back.
    status, cart = send(api, "PUT", f"/carts/{cart['id']}/lines/{vid(steak)}", {"quantity": 4}, token)
    assert (cart["delivery_fees_cents"], cart["total_cents"]) == (0, 5160)
    status, cart = send(api, "PUT", f"/carts/{cart['id']}/lines/{vid(steak)}", {"quantity": 3}, token)
    assert (cart["delivery_fees_cents"], cart["total_cents"]) == (395, 3870 + 395)

    status, cart = send(api, "PUT", path, {"method": "pickup"}, token)
    assert status == 200 and (cart["delivery_fees_cents"], cart["total_cents"]) == (0, 3870)


def test_a_cart_holds_at_most_25_different_variants(api, open_shop):
    _, key = open_shop(BAKERY)
    first = make_product(api, key, "Assortment A", [(100 + i, 10) for i in range(20)], sku="ASSA")
    second = make_product(api, key, "Assortment B", [(200 + i, 10) for i in range(6)], sku="ASSB")
    variants = [v["id"] for v in first["variants"]] + [v["id"] for v in second["variants"]]

    status, error = send(
        api, "POST", "/carts", {"lines": [{"variant_id": v, "quantity": 1} for v in variants]}
    )
    assert status == 400 and error["error"]["fields"][0]["field"] == "lines"

    cart, token = new_cart(api, [(v, 1) for v in variants[:25]])
    assert cart["line_count"] == 25

    status, error = send(
        api, "POST", f"/carts/{cart['id']}/lines", {"variant_id": variants[25], "quantity": 1}, token
    )
    assert status == 409
    assert error["error"]["code"] == "too_many_lines"
    assert error["error"]["details"]["limit"] == 25
    # More of a variant already in the cart is not a new line.
    status, cart = send(
        api, "POST", f"/carts/{cart['id']}/lines", {"variant_id": variants[0], "quantity": 2}, token
    )
    assert status == 200 and cart["line_count"] == 25 and line_of(cart, variants[0])["quantity"] == 3
