"""The simulated gateway's customer racing itself: `succeed` and `fail` of one payment sent at once. Exactly
one outcome wins the simulated intent, the webhook each sends matches what is stored, and the order ends
the way the intent did (so a paid order's refunds are settled, not left pending on a cancelled intent)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from test_webhooks import place_order, read_order, shops_with_stock


def _race(api: Any, intent_id: str, outcomes: list[str]) -> list[tuple[int, Any]]:
    answers: list[tuple[int, Any]] = []
    start = threading.Barrier(len(outcomes))

    def one(outcome: str) -> None:
        start.wait()
        answers.append((outcome, *api.call("POST", f"/dev/payments/{intent_id}/{outcome}")))

    threads = [threading.Thread(target=one, args=(outcome,)) for outcome in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.parametrize("round_", range(8))
def test_succeed_and_fail_at_once_end_the_order_as_the_intent_ended(api, open_shop, round_):
    from chalicelib.payment.simulated_gateway import SimulatedGateway

    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 1)])
    intent_id = result["payment_intent_id"]
    answers = _race(api, intent_id, ["succeed", "fail"] * 3)

    for outcome, status, body in answers:
        assert status in (200, 409), (outcome, status, body)
        if status == 409:
            assert body["error"]["code"] == "payment_intent_final", body
    intent = SimulatedGateway().retrieve_payment_intent(intent_id)
    order = read_order(api, result)
    assert (order["status"], intent.status) in {("paid", "succeeded"), ("cancelled", "canceled")}, answers
    paid = [body for outcome, status, body in answers if outcome == "succeed" and status == 200]
    assert bool(paid) == (intent.status == "succeeded"), answers
    if intent.status == "succeeded":
        # The shop cancels its paid part: the refund goes through the simulated intent, settled at once.
        order_id = result["order_id"]
        status, sub = api.call(
            "POST", f"/retailer/orders/{order_id}/status", {"to": "cancelled"}, key=s["bakery_key"]
        )
        assert status == 200, sub
        status, refunds = api.call("GET", f"/retailer/orders/{order_id}/refunds", key=s["bakery_key"])
        assert status == 200 and [r["status"] for r in refunds["items"]] == ["succeeded"], refunds
