"""The order as its customer and its shops read it: what was refunded per shop and per line, the delivery fee
as its own line, a sub-order refunded in part reading as partly refunded whatever its status, and the
pickup customer's name and phone shown to that shop's retailer only."""

from __future__ import annotations

from typing import Any

import pytest
from support import bread_and_steak, delivery_to, send, vid

BAKERY, BUTCHER, FLORIST = 0, 1, 2
CONTACT = {"name": "Lotte Claes", "phone": "+32 475 98 76 54"}


@pytest.fixture
def mall(api, open_shop) -> dict[str, Any]:
    return bread_and_steak(api, open_shop, bread=(333, 10))


def place(api: Any, mall: dict[str, Any], pickup_contact: dict[str, str] | None = None) -> dict[str, Any]:
    """Paid: 3 breads picked up at the bakery (with a contact if given), 1 steak delivered by the butcher."""
    body = {
        "lines": [
            {"variant_id": vid(mall["bread"]), "quantity": 3},
            {"variant_id": vid(mall["steak"]), "quantity": 1},
        ]
    }
    status, created = send(api, "POST", "/carts", body)
    assert status == 201, created
    cart_id, headers = created["cart"]["id"], {"X-Cart-Token": created["cart_token"]}
    assert (
        send(
            api, "PUT", f"/carts/{cart_id}/shops/{mall['butcher']['id']}/fulfilment", delivery_to(), headers
        )[0]
        == 200
    )
    if pickup_contact:
        choice = {"method": "pickup", "contact": pickup_contact}
        status, cart = send(
            api, "PUT", f"/carts/{cart_id}/shops/{mall['bakery']['id']}/fulfilment", choice, headers
        )
        assert status == 200, cart
    key = {**headers, "Idempotency-Key": f"key-views-{cart_id}"}
    status, result = send(api, "POST", f"/carts/{cart_id}/checkout", {"email": "an.peeters@example.be"}, key)
    assert status == 201, result
    assert send(api, "POST", f"/dev/payments/{result['payment_intent_id']}/succeed")[0] == 200
    return result


def order_of(api: Any, placed: dict[str, Any]) -> dict[str, Any]:
    status, order = send(
        api, "GET", f"/orders/{placed['order_id']}", headers={"X-Order-Token": placed["order_token"]}
    )
    assert status == 200, order
    return order


def shop_part(order: dict[str, Any], shop_id: str) -> dict[str, Any]:
    return next(sub for sub in order["shops"] if sub["shop_id"] == shop_id)


def test_a_partial_refund_before_hand_over_reads_as_partly_refunded(api, mall):
    placed = place(api, mall)
    body = {"lines": [{"variant_id": vid(mall["bread"]), "quantity": 1}], "restock": True}
    status, refund = api.call(
        "POST", f"/retailer/orders/{placed['order_id']}/refunds", body, key=mall["bakery_key"]
    )
    assert status in (200, 201), refund

    order = order_of(api, placed)
    bakery = shop_part(order, mall["bakery"]["id"])
    assert bakery["status"] == "paid"  # still to prepare, with the two breads left
    assert bakery["refund_status"] == "partially_refunded"
    assert bakery["refunded_cents"] == refund["amount_cents"] > 0
    (line,) = bakery["lines"]
    assert (line["refunded_quantity"], line["refunded_cents"]) == (1, refund["amount_cents"])
    assert bakery["fee_lines"] == []  # pickup: no fee
    butcher = shop_part(order, mall["butcher"]["id"])
    assert (butcher["refund_status"], butcher["refunded_cents"]) == (None, 0)
    assert order["refunded_cents"] == refund["amount_cents"]


def test_the_delivery_fee_is_its_own_line_and_goes_back_with_a_cancellation(api, mall):
    placed = place(api, mall)
    butcher = shop_part(order_of(api, placed), mall["butcher"]["id"])
    fee = butcher["delivery_fee_cents"]
    assert fee > 0
    (fee_line,) = butcher["fee_lines"]
    assert fee_line == {
        "kind": "delivery",
        "amount_cents": fee,
        "vat_rate_bps": 2100,
        "vat_cents": fee_line["vat_cents"],
        "refunded_cents": 0,
    }
    assert 0 < fee_line["vat_cents"] < fee
    assert sum(line["total_cents"] for line in butcher["lines"]) + fee == butcher["total_cents"]

    path = f"/orders/{placed['order_id']}/shops/{mall['butcher']['id']}/cancel"
    status, refund = send(api, "POST", path, headers={"X-Order-Token": placed["order_token"]})
    assert status == 200, refund

    order = order_of(api, placed)
    butcher = shop_part(order, mall["butcher"]["id"])
    assert butcher["fee_lines"][0]["refunded_cents"] == fee
    assert butcher["refunded_cents"] == butcher["total_cents"] == refund["amount_cents"]
    assert butcher["refund_status"] == "refunded"
    assert order["refunded_cents"] == butcher["total_cents"]


def test_the_pickup_customers_name_and_phone_reach_that_shop_only(api, mall, open_shop):
    placed = place(api, mall, pickup_contact=CONTACT)
    order_id = placed["order_id"]

    status, bakery = api.call("GET", f"/retailer/orders/{order_id}", key=mall["bakery_key"])
    assert status == 200, bakery
    assert (bakery["customer_name"], bakery["customer_phone"]) == (CONTACT["name"], CONTACT["phone"])
    assert bakery["fulfilment"]["method"] == "pickup" and bakery["fulfilment"]["contact"] == CONTACT
    status, listed = api.call("GET", "/retailer/orders", key=mall["bakery_key"])
    assert [sub["customer_phone"] for sub in listed["items"]] == [CONTACT["phone"]]

    # The butcher sees its own (delivery) contact, never the bakery's customer details.
    status, butcher = api.call("GET", f"/retailer/orders/{order_id}", key=mall["butcher_key"])
    assert status == 200 and butcher["customer_name"] == "An Peeters"
    status, listed = api.call("GET", "/retailer/orders", key=mall["butcher_key"])
    assert CONTACT["phone"] not in str(listed) and CONTACT["phone"] not in str(butcher)
    # A shop with no part in the order reads nothing of it.
    _, florist_key = open_shop(FLORIST)
    status, error = api.call("GET", f"/retailer/orders/{order_id}", key=florist_key)
    assert status == 404, error
    status, listed = api.call("GET", "/retailer/orders", key=florist_key)
    assert listed["items"] == []

    # The customer's own view keeps the contact they gave but not the shop-only fields.
    bakery_part = shop_part(order_of(api, placed), mall["bakery"]["id"])
    assert bakery_part["fulfilment"]["contact"] == CONTACT and bakery_part["customer_phone"] is None


def test_a_pickup_without_contact_shows_none(api, mall):
    placed = place(api, mall)
    status, bakery = api.call("GET", f"/retailer/orders/{placed['order_id']}", key=mall["bakery_key"])
    assert status == 200 and (bakery["customer_name"], bakery["customer_phone"]) == (None, None)
    assert "contact" not in bakery["fulfilment"]
