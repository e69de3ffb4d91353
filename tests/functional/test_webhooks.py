"""Stripe webhooks through the API: verified on the raw body, each event applied exactly once, duplicates
and late or out-of-order events harmless, and anything forged, tampered with or replayed refused with
nothing changed. Payloads are built and signed here, as Stripe would."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import stripe
import support
from support import send

from chalicelib.payment.simulated_gateway import SimulatedGateway

SECRET = "whsec_test_not_a_real_secret"  # tests/conftest.py
BAKERY, BUTCHER = 0, 1
EMAIL = "an.peeters@example.be"
_event_ids = count(1)


# --- helpers ------------------------------------------------------------------------------------------


def make_product(api: Any, key: str, name: str, price: int, stock: int) -> dict[str, Any]:
    return support.make_product(api, key, name, [(price, stock)], sku=name.upper()[:8])


def stock(api: Any, retailer_key: str, product: dict[str, Any]) -> int:
    status, public = api.call("GET", f"/products/{product['id']}")
    assert status == 200, public
    status, own = api.call("GET", f"/retailer/products/{product['id']}", key=retailer_key)
    assert status == 200, own
    assert public["variants"][0]["stock"] == own["variants"][0]["stock"]
    return public["variants"][0]["stock"]


def place_order(api: Any, lines: list[tuple[dict[str, Any], int]]) -> dict[str, Any]:
    body = {"lines": [{"variant_id": p["variants"][0]["id"], "quantity": q} for p, q in lines]}
    status, created = send(api, "POST", "/carts", body)
    assert status == 201, created
    headers = {"X-Cart-Token": created["cart_token"], "Idempotency-Key": f"key-{created['cart']['id']}"}
    status, result = send(api, "POST", f"/carts/{created['cart']['id']}/checkout", {"email": EMAIL}, headers)
    assert status == 201, result
    return result


def read_order(api: Any, result: dict[str, Any]) -> dict[str, Any]:
    status, order = send(
        api, "GET", f"/orders/{result['order_id']}", headers={"X-Order-Token": result["order_token"]}
    )
    assert status == 200, order
    return order


def event(
    kind: str,
    result: dict[str, Any],
    *,
    amount: int | None = None,
    intent_id: str | None = None,
    event_id: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Stripe event about the order's PaymentIntent."""
    status = {
        "payment_intent.succeeded": "succeeded",
        "payment_intent.payment_failed": "requires_payment_method",
        "payment_intent.canceled": "canceled",
    }.get(kind, "processing")
    return {
        "id": event_id or f"evt_test{next(_event_ids):06d}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "data": {
            "object": {
                "id": intent_id or result["payment_intent_id"],
                "object": "payment_intent",
                "amount": result["total_cents"] if amount is None else amount,
                "currency": "eur",
                "status": status,
                "transfer_group": result["order_id"],
                "metadata": {"order_id": result["order_id"]} if metadata is None else metadata,
            }
        },
    }


def deliver_raw(api: Any, payload: bytes, signature: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    response = api.http.post("/webhooks/stripe", headers=headers, body=payload)
    return response.status_code, json.loads(response.body.decode())


def deliver(api: Any, body: dict[str, Any], timestamp: int | None = None) -> tuple[int, Any]:
    payload = json.dumps(body)
    signature = stripe.WebhookSignature.generate_signature_header(payload, SECRET, timestamp=timestamp)
    return deliver_raw(api, payload.encode(), signature)


def outcome(api: Any, body: dict[str, Any]) -> str:
    status, ack = deliver(api, body)
    assert status == 200, ack
    assert ack["received"] is True
    return ack["outcome"]


def shops_with_stock(api, open_shop) -> dict[str, Any]:
    _, bakery_key = open_shop(BAKERY)
    _, butcher_key = open_shop(BUTCHER)
    return {
        "bakery_key": bakery_key,
        "butcher_key": butcher_key,
        "bread": make_product(api, bakery_key, "Sourdough", 450, 10),
        "steak": make_product(api, butcher_key, "Steak", 1290, 8),
    }


def stored(order_id: str) -> Any:
    from chalicelib.order.service import load_order

    return load_order(order_id)[0]


# --- payment outcomes ---------------------------------------------------------------------------------


def test_payment_succeeded_marks_the_order_and_every_sub_order_paid(api, open_shop):
    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 2), (s["steak"], 1)])

    assert outcome(api, event("payment_intent.succeeded", result)) == "paid"

    order = read_order(api, result)
    assert order["status"] == "paid"
    assert [sub["status"] for sub in order["shops"]] == ["paid", "paid"]
    for sub in order["shops"]:
        change = sub["history"][-1]
        assert (change["from_status"], change["to_status"], change["by"]) == (
            "pending_payment",
            "paid",
            "stripe",
        )
    # The held units are now sold: stock stays down, and the expiry job no longer sees the order.
    assert (stock(api, s["bakery_key"], s["bread"]), stock(api, s["butcher_key"], s["steak"])) == (8, 7)
    from chalicelib.order.service import expire_holds

    assert expire_holds(moment=datetime.now(UTC) + timedelta(hours=1)) == []
    assert (stock(api, s["bakery_key"], s["bread"]), stock(api, s["butcher_key"], s["steak"])) == (8, 7)
    for key in (s["bakery_key"], s["butcher_key"]):
        page = api.call("GET", "/retailer/orders?status=paid", key=key)[1]
        assert [item["order_id"] for item in page["items"]] == [result["order_id"]]
        assert api.call("GET", "/retailer/orders?status=pending_payment", key=key)[1]["items"] == []


def test_each_event_takes_effect_once_and_duplicates_are_harmless(api, open_shop):
    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 2)])
    succeeded = event("payment_intent.succeeded", result)

    assert outcome(api, succeeded) == "paid"
    history = read_order(api, result)["shops"][0]["history"]

    assert outcome(api, succeeded) == "duplicate"  # Stripe redelivers the same event
    assert outcome(api, succeeded) == "duplicate"
    assert outcome(api, event("payment_intent.succeeded", result)) == "already_paid"  # another event id

    order = read_order(api, result)
    assert order["status"] == "paid"
    assert order["shops"][0]["history"] == history  # no second transition recorded
    assert stock(api, s["bakery_key"], s["bread"]) == 8


def test_payment_failed_keeps_the_order_and_its_stock_for_another_card_exactly_once(api, open_shop):
    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 3), (s["steak"], 2)])
    assert (stock(api, s["bakery_key"], s["bread"]), stock(api, s["butcher_key"], s["steak"])) == (7, 6)
    failed = event("payment_intent.payment_failed", result)
    failed["data"]["object"]["last_payment_error"] = {
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
    }

    assert outcome(api, failed) == "payment_failed"

    # Stripe keeps the intent open (requires_payment_method): the stock stays held for the next card.
    assert (stock(api, s["bakery_key"], s["bread"]), stock(api, s["butcher_key"], s["steak"])) == (7, 6)
    order = read_order(api, result)
    assert order["status"] == "pending_payment"
    assert {sub["status"] for sub in order["shops"]} == {"pending_payment"}
    error = order["last_payment_error"]
    assert (error["code"], error["decline_code"]) == ("card_declined", "insufficient_funds")
    assert error["message"] == "Your card has insufficient funds." and error["at"]
    assert SimulatedGateway().retrieve_payment_intent(result["payment_intent_id"]).status != "canceled"

    assert outcome(api, failed) == "duplicate"
    # The next card pays: the order is paid and no longer shows the decline.
    assert outcome(api, event("payment_intent.succeeded", result)) == "paid"
    order = read_order(api, result)
    assert order["status"] == "paid" and order["last_payment_error"] is None
    assert outcome(api, event("payment_intent.payment_failed", result)) == "already_paid"
    assert (stock(api, s["bakery_key"], s["bread"]), stock(api, s["butcher_key"], s["steak"])) == (7, 6)


def test_a_declined_order_still_ends_with_its_hold(api, open_shop):
    from chalicelib.order.service import expire_holds

    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 3)])
    assert outcome(api, event("payment_intent.payment_failed", result)) == "payment_failed"

    assert expire_holds(moment=datetime.now(UTC) + timedelta(hours=1)) == [(result["order_id"], "cancelled")]

    assert stock(api, s["bakery_key"], s["bread"]) == 10
    order = read_order(api, result)
    assert order["status"] == "cancelled" and order["last_payment_error"] is None
    assert order["cancel_reason"] == "hold_expired"
    assert SimulatedGateway().retrieve_payment_intent(result["payment_intent_id"]).status == "canceled"


def test_payment_canceled_releases_the_stock(api, open_shop):
    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["steak"], 5)])

    assert outcome(api, event("payment_intent.canceled", result)) == "cancelled"

    assert stock(api, s["butcher_key"], s["steak"]) == 8
    assert read_order(api, result)["status"] == "cancelled"
    assert stored(result["order_id"]).cancel_reason == "payment_canceled"
    from chalicelib.order.service import expire_holds

    assert expire_holds(moment=datetime.now(UTC) + timedelta(hours=1)) == []
    assert stock(api, s["butcher_key"], s["steak"]) == 8


def test_late_failure_or_cancel_after_success_changes_nothing(api, open_shop):
    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 4)])
    SimulatedGateway().set_status(result["payment_intent_id"], "succeeded")  # as at Stripe
    assert outcome(api, event("payment_intent.succeeded", result)) == "paid"

    # The intent could not be cancelled (it succeeded): judged as that success, already applied.
    assert outcome(api, event("payment_intent.payment_failed", result)) == "already_paid"
    assert outcome(api, event("payment_intent.canceled", result)) == "ignored_paid"

    assert read_order(api, result)["status"] == "paid"
    assert stock(api, s["bakery_key"], s["bread"]) == 6
    assert SimulatedGateway().retrieve_payment_intent(result["payment_intent_id"]).status == "succeeded"


def test_a_failure_processed_after_the_retried_payment_succeeded_keeps_the_order(api, open_shop):
    # The customer retried the card and paid before the (older) payment_failed event is processed: the
    # intent cannot be cancelled any more, so the order is paid, not cancelled with its stock released.
    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 4)])
    SimulatedGateway().set_status(result["payment_intent_id"], "succeeded")  # as at Stripe

    assert outcome(api, event("payment_intent.payment_failed", result)) == "paid"

    assert read_order(api, result)["status"] == "paid"
    assert stock(api, s["bakery_key"], s["bread"]) == 6
    assert outcome(api, event("payment_intent.succeeded", result)) == "already_paid"


def test_success_arriving_after_the_order_was_cancelled_is_refunded_in_full_once(api, open_shop):
    from chalicelib.order.models import RefundItem
    from chalicelib.payment.simulated_gateway import SimulatedGateway

    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 4)])
    assert outcome(api, event("payment_intent.canceled", result)) == "cancelled"
    assert stock(api, s["bakery_key"], s["bread"]) == 10
    # The customer's bank confirmed the payment after all (e.g. a late 3-D Secure answer).
    SimulatedGateway().set_status(result["payment_intent_id"], "succeeded")

    succeeded = event("payment_intent.succeeded", result)
    assert outcome(api, succeeded) == "refunded_paid_after_cancel"
    assert outcome(api, succeeded) == "duplicate"

    assert read_order(api, result)["status"] == "cancelled"
    assert stock(api, s["bakery_key"], s["bread"]) == 10
    refunds = list(RefundItem.query(f"ORDER#{result['order_id']}", RefundItem.sk.startswith("REFUND#")))
    assert [(r.shop_id, r.status, int(r.amount_cents)) for r in refunds] == [
        ("mall", "succeeded", result["total_cents"])
    ]


def test_unknown_and_unrelated_events_are_acknowledged_and_ignored(api, open_shop):
    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 2)])

    for kind in (
        "customer.created",
        "payment_intent.processing",
        "payment_intent.created",
    ):
        assert outcome(api, event(kind, result)) == "ignored_event_type"
    # A dispute is handled (tests/functional/test_payouts_disputes.py); one naming no payment is not.
    assert outcome(api, event("charge.dispute.created", result)) == "ignored_no_payment_intent"
    # Refund events are handled (tests/functional/test_refunds.py); one naming none of our refunds is not.
    assert outcome(api, event("charge.refunded", result)) == "ignored_no_refund"
    assert outcome(api, event("payment_intent.succeeded", result, metadata={})) == "ignored_no_order"
    unknown = event("payment_intent.succeeded", result, metadata={"order_id": "ord_doesnotexist00"})
    assert outcome(api, unknown) == "ignored_unknown_order"
    # An intent that is not the order's, or does not charge the order's total, pays for nothing.
    assert outcome(api, event("payment_intent.succeeded", result, amount=1)) == "ignored_mismatch"
    assert (
        outcome(api, event("payment_intent.succeeded", result, intent_id="pi_someoneelse"))
        == "ignored_mismatch"
    )
    assert outcome(api, event("payment_intent.payment_failed", result, amount=1)) == "ignored_mismatch"
    assert (
        outcome(api, event("payment_intent.canceled", result, intent_id="pi_someoneelse"))
        == "ignored_mismatch"
    )

    assert read_order(api, result)["status"] == "pending_payment"
    assert stock(api, s["bakery_key"], s["bread"]) == 8
    assert outcome(api, event("payment_intent.succeeded", result)) == "paid"  # the genuine one still counts


# --- forged, tampered and replayed deliveries ---------------------------------------------------------


def test_forged_tampered_or_replayed_deliveries_are_refused_and_change_nothing(api, open_shop):
    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 3)])
    genuine = event("payment_intent.succeeded", result)
    payload = json.dumps(genuine)
    now = int(time.time())
    good_header = stripe.WebhookSignature.generate_signature_header(payload, SECRET, timestamp=now)
    failed_payload = json.dumps(event("payment_intent.payment_failed", result))
    failed_header = stripe.WebhookSignature.generate_signature_header(failed_payload, SECRET)

    def signed(body: str, secret: str = SECRET, timestamp: int | None = None) -> str:
        return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)

    attempts = {
        "tampered amount": (
            payload.replace(f'"amount": {result["total_cents"]}', '"amount": 1'),
            good_header,
        ),
        "tampered type": (failed_payload.replace("payment_failed", "succeeded"), failed_header),
        "extra whitespace": (payload + " ", good_header),
        "wrong secret": (payload, signed(payload, "whsec_someone_else")),
        "signature of another body": (payload, failed_header),
        "no header": (payload, None),
        "empty header": (payload, ""),
        "garbage header": (payload, "t=abc,v1=zzz"),
        "only another scheme": (payload, good_header.replace("v1=", "v0=")),
        "timestamp changed": (payload, good_header.replace(f"t={now}", f"t={now + 1}")),
        "replayed after 1000 s": (payload, signed(payload, timestamp=now - 1000)),
        "replayed after 301 s": (payload, signed(payload, timestamp=now - 310)),
        "signed non-JSON": ("not json", signed("not json")),
        "signed JSON array": ("[1, 2]", signed("[1, 2]")),
        "empty body": ("", signed("")),
    }
    for name, (body, header) in attempts.items():
        status, error = deliver_raw(api, body.encode(), header)
        assert status == 400, (name, error)
        assert error["error"]["code"] == "invalid_signature", name
        assert [f["field"] for f in error["error"]["fields"]] == ["Stripe-Signature"], name
    status, error = deliver_raw(api, b"\xff\xfe not utf-8", good_header)
    assert status == 400 and error["error"]["code"] == "invalid_signature"
    # Genuinely signed but not an event we understand: a 400 naming the field (Stripe stops retrying).
    no_id = '{"type": "payment_intent.succeeded"}'
    status, error = deliver_raw(api, no_id.encode(), signed(no_id))
    assert (status, error["error"]["code"]) == (400, "malformed_event"), error
    assert error["error"]["fields"][0]["field"] == "id"

    assert read_order(api, result)["status"] == "pending_payment"
    assert stock(api, s["bakery_key"], s["bread"]) == 7

    # Within the tolerance, the genuine delivery is applied: the refusals recorded nothing.
    assert deliver(api, genuine, timestamp=now - 250) == (200, {"received": True, "outcome": "paid"})
    assert read_order(api, result)["status"] == "paid"


# --- the simulated gateway's round trip ---------------------------------------------------------------


def test_the_simulated_payment_flow_delivers_signed_webhooks(api, open_shop):
    s = shops_with_stock(api, open_shop)
    paid = place_order(api, [(s["bread"], 2)])
    failed = place_order(api, [(s["bread"], 3)])
    assert stock(api, s["bakery_key"], s["bread"]) == 5

    assert send(api, "POST", f"/dev/payments/{paid['payment_intent_id']}/succeed") == (
        200,
        {"received": True, "outcome": "paid"},
    )
    assert send(api, "POST", f"/dev/payments/{failed['payment_intent_id']}/fail") == (
        200,
        {"received": True, "outcome": "payment_failed"},
    )

    assert read_order(api, paid)["status"] == "paid"
    declined = read_order(api, failed)
    assert declined["status"] == "pending_payment"
    assert declined["last_payment_error"]["message"] == "Your card was declined."
    assert stock(api, s["bakery_key"], s["bread"]) == 5
    # Another card on the same intent (what the page's second confirm does) pays the order.
    assert send(api, "POST", f"/dev/payments/{failed['payment_intent_id']}/succeed") == (
        200,
        {"received": True, "outcome": "paid"},
    )
    assert read_order(api, failed)["status"] == "paid"
