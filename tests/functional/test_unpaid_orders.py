"""A declined card does not lose the cart: the order keeps its stock for another card, and a customer who
gives up cancels it (POST /orders/{id}/cancel), which releases the stock and reopens the cart."""

from __future__ import annotations

from typing import Any

import support
from support import send

from chalicelib.payment.simulated_gateway import SimulatedGateway

EMAIL = "an.peeters@example.be"


def bread(api: Any, open_shop: Any, stock: int = 10) -> dict[str, Any]:
    _, key = open_shop(0)
    return support.make_product(api, key, "Sourdough", [(450, stock)], sku="SOUR")


def checkout(api: Any, product: dict[str, Any], quantity: int) -> dict[str, Any]:
    body = {"lines": [{"variant_id": product["variants"][0]["id"], "quantity": quantity}]}
    status, created = send(api, "POST", "/carts", body)
    assert status == 201, created
    cart = {
        "id": created["cart"]["id"],
        "token": created["cart_token"],
        "key": f"key-{created['cart']['id']}",
    }
    result = pay_for(api, cart)
    return {**result, "cart": cart}


def pay_for(api: Any, cart: dict[str, str]) -> dict[str, Any]:
    headers = {"X-Cart-Token": cart["token"], "Idempotency-Key": cart["key"]}
    status, result = send(api, "POST", f"/carts/{cart['id']}/checkout", {"email": EMAIL}, headers)
    assert status == 201, result
    return result


def stock_of(api: Any, product: dict[str, Any]) -> int:
    status, public = api.call("GET", f"/products/{product['id']}")
    assert status == 200, public
    return int(public["variants"][0]["stock"])


def give_up(api: Any, placed: dict[str, Any], token: str | None = None) -> tuple[int, Any]:
    headers = {"X-Order-Token": token if token is not None else placed["order_token"]}
    return send(api, "POST", f"/orders/{placed['order_id']}/cancel", headers=headers)


def decline(api: Any, placed: dict[str, Any]) -> None:
    assert send(api, "POST", f"/dev/payments/{placed['payment_intent_id']}/fail") == (
        200,
        {"received": True, "outcome": "payment_failed"},
    )


def test_giving_up_after_a_decline_releases_the_stock_and_reopens_the_cart(api, open_shop):
    product = bread(api, open_shop)
    placed = checkout(api, product, 4)
    decline(api, placed)
    assert stock_of(api, product) == 6

    status, order = give_up(api, placed)

    assert status == 200, order
    assert order["status"] == "cancelled" and order["cancel_reason"] == "customer_cancelled"
    assert order["cart_id"] == placed["cart"]["id"] and order["last_payment_error"] is None
    assert {sub["status"] for sub in order["shops"]} == {"cancelled"}
    assert stock_of(api, product) == 10
    # No card can pay for stock back on sale: the intent is cancelled (Stripe.js refuses it too).
    assert SimulatedGateway().retrieve_payment_intent(placed["payment_intent_id"]).status == "canceled"
    status, error = send(api, "POST", f"/dev/payments/{placed['payment_intent_id']}/succeed")
    assert (status, error["error"]["code"]) == (409, "payment_intent_final")
    # The cart is open again, with its lines: the customer changes it and checks out with the same key.
    cart = placed["cart"]
    status, reopened = send(api, "GET", f"/carts/{cart['id']}", headers={"X-Cart-Token": cart["token"]})
    assert status == 200 and reopened["status"] == "open", reopened
    assert [line["quantity"] for line in reopened["shops"][0]["lines"]] == [4]
    assert reopened["order_id"] is None
    again = pay_for(api, cart)
    assert again["order_id"] != placed["order_id"]
    assert stock_of(api, product) == 6


def test_giving_up_needs_the_order_token_and_an_unpaid_order(api, open_shop):
    product = bread(api, open_shop)
    placed = checkout(api, product, 1)
    status, error = give_up(api, placed, token="ot_" + "0" * 40)
    assert (status, error["error"]["code"]) == (401, "invalid_order_token")
    assert stock_of(api, product) == 9

    assert send(api, "POST", f"/dev/payments/{placed['payment_intent_id']}/succeed")[0] == 200
    status, error = give_up(api, placed)
    assert (status, error["error"]["code"]) == (409, "order_not_pending_payment")
    assert error["error"]["details"] == {"order_id": placed["order_id"], "status": "paid"}
    assert stock_of(api, product) == 9


def test_giving_up_twice_or_after_the_hold_is_a_409(api, open_shop):
    product = bread(api, open_shop)
    placed = checkout(api, product, 2)
    assert give_up(api, placed)[0] == 200
    status, error = give_up(api, placed)
    assert (status, error["error"]["details"]["status"]) == (409, "cancelled")
    assert stock_of(api, product) == 10


def test_a_payment_that_went_through_meanwhile_is_kept_not_given_up(api, open_shop):
    product = bread(api, open_shop)
    placed = checkout(api, product, 3)
    # The customer's second card paid; its webhook has not arrived yet when they press "give up".
    SimulatedGateway().set_status(placed["payment_intent_id"], "succeeded")

    status, error = give_up(api, placed)

    assert (status, error["error"]["details"]["status"]) == (409, "paid")
    status, order = send(
        api, "GET", f"/orders/{placed['order_id']}", headers={"X-Order-Token": placed["order_token"]}
    )
    assert order["status"] == "paid" and stock_of(api, product) == 7
