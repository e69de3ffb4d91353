"""The retailer moves its sub-order through fulfilment over the API: every move is decided by the lifecycle
table, applied in one transaction with its event, and collection needs the customer's pickup code, which
only the customer sees and which cannot be guessed for long."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from support import bread_and_steak, delivery_to, send, vid

from chalicelib.core.clock import now

BAKERY, BUTCHER, FLORIST = 0, 1, 2  # tools/demo_data.py: the bakery is pickup only, the butcher delivers
DELIVERY = delivery_to()


# --- helpers ------------------------------------------------------------------------------------------


@pytest.fixture
def shops(api, open_shop) -> dict[str, Any]:
    return bread_and_steak(api, open_shop)


def place_order(api: Any, shops: dict[str, Any], pay: bool = True) -> dict[str, Any]:
    """Bread picked up at the bakery and steak delivered by the butcher, in one order (paid by default)."""
    status, created = send(
        api,
        "POST",
        "/carts",
        {"lines": [{"variant_id": vid(shops[p]), "quantity": 1} for p in ("bread", "steak")]},
    )
    assert status == 201, created
    cart_id, headers = created["cart"]["id"], {"X-Cart-Token": created["cart_token"]}
    path = f"/carts/{cart_id}/shops/{shops['butcher']['id']}/fulfilment"
    assert send(api, "PUT", path, DELIVERY, headers)[0] == 200
    status, result = send(
        api,
        "POST",
        f"/carts/{cart_id}/checkout",
        {"email": "an.peeters@example.be"},
        {**headers, "Idempotency-Key": f"key-lifecycle-{cart_id}"},
    )
    assert status == 201, result
    if pay:
        paid = send(api, "POST", f"/dev/payments/{result['payment_intent_id']}/succeed")
        assert paid == (200, {"received": True, "outcome": "paid"}), paid
    return result


def move(api: Any, key: str, order_id: str, to: str, code: str | None = None) -> tuple[int, Any]:
    return api.call("POST", f"/retailer/orders/{order_id}/status", {"to": to, "pickup_code": code}, key=key)


def customer_view(api: Any, placed: dict[str, Any], shop_id: str) -> dict[str, Any]:
    status, order = send(
        api, "GET", f"/orders/{placed['order_id']}", headers={"X-Order-Token": placed["order_token"]}
    )
    assert status == 200, order
    return next(sub for sub in order["shops"] if sub["shop_id"] == shop_id)


def shop_view(api: Any, key: str, order_id: str) -> dict[str, Any]:
    status, sub = api.call("GET", f"/retailer/orders/{order_id}", key=key)
    assert status == 200, sub
    return sub


def events(api: Any, limit: int = 100) -> list[dict[str, Any]]:
    status, page = api.call("GET", f"/dev/events?limit={limit}")
    assert status == 200, page
    return page["items"]


def pickup_code(api: Any, placed: dict[str, Any], shops: dict[str, Any]) -> str:
    return customer_view(api, placed, shops["bakery"]["id"])["fulfilment"]["pickup"]["code"]


def another_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def transitions(sub: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(h["by"], h["from_status"], h["to_status"]) for h in sub["history"]]


# --- happy paths --------------------------------------------------------------------------------------


def test_pickup_goes_paid_preparing_ready_collected_with_the_customers_code(api, shops):
    placed = place_order(api, shops)
    order_id, key = placed["order_id"], shops["bakery_key"]
    # Cancelling is offered until hand-over: it refunds the sub-order in full (see test_refunds.py).
    assert shop_view(api, key, order_id)["actions"] == ["cancelled", "preparing"]

    status, sub = move(api, key, order_id, "preparing")
    assert status == 200, sub
    assert (sub["status"], sub["actions"]) == ("preparing", ["cancelled", "ready_for_pickup"])
    status, sub = move(api, key, order_id, "ready_for_pickup")
    assert status == 200, sub
    assert (sub["status"], sub["actions"]) == ("ready_for_pickup", ["cancelled", "collected"])

    status, sub = move(api, key, order_id, "collected", pickup_code(api, placed, shops))

    assert status == 200, sub
    assert (sub["status"], sub["actions"]) == ("collected", [])
    assert transitions(sub)[1:] == [
        ("stripe", "pending_payment", "paid"),
        ("retailer", "paid", "preparing"),
        ("retailer", "preparing", "ready_for_pickup"),
        ("retailer", "ready_for_pickup", "collected"),
    ]
    assert sub["updated_at"] == sub["history"][-1]["at"]
    assert shop_view(api, key, order_id) == sub
    # The shop's list by status follows the sub-order (gsi1 key rewritten in the same transaction).
    for listed_status, expected in (("collected", [order_id]), ("ready_for_pickup", []), ("paid", [])):
        status, page = api.call("GET", f"/retailer/orders?status={listed_status}", key=key)
        assert [s["order_id"] for s in page["items"]] == expected, listed_status
    assert customer_view(api, placed, shops["bakery"]["id"])["status"] == "collected"
    # The butcher's part of the same order is untouched.
    assert shop_view(api, shops["butcher_key"], order_id)["status"] == "paid"


def test_delivery_goes_paid_preparing_out_for_delivery_delivered(api, shops):
    placed = place_order(api, shops)
    order_id, key = placed["order_id"], shops["butcher_key"]

    for to, actions_after in (
        ("preparing", ["cancelled", "out_for_delivery"]),
        ("out_for_delivery", ["delivered"]),
        ("delivered", []),
    ):
        status, sub = move(api, key, order_id, to)
        assert status == 200, (to, sub)
        assert (sub["status"], sub["actions"]) == (to, actions_after)

    assert transitions(sub)[2:] == [
        ("retailer", "paid", "preparing"),
        ("retailer", "preparing", "out_for_delivery"),
        ("retailer", "out_for_delivery", "delivered"),
    ]
    assert "pickup" not in customer_view(api, placed, shops["butcher"]["id"])["fulfilment"]


def test_every_change_is_recorded_as_an_event_newest_first(api, shops):
    placed = place_order(api, shops)
    order_id = placed["order_id"]
    assert move(api, shops["butcher_key"], order_id, "preparing")[0] == 200
    assert move(api, shops["bakery_key"], order_id, "preparing")[0] == 200
    assert move(api, shops["bakery_key"], order_id, "ready_for_pickup")[0] == 200

    recorded = events(api)

    assert [(e["type"], e["shop_id"], e["from_status"], e["to_status"], e["by"]) for e in recorded] == [
        ("sub_order.ready_for_pickup", shops["bakery"]["id"], "preparing", "ready_for_pickup", "retailer"),
        ("sub_order.preparing", shops["bakery"]["id"], "paid", "preparing", "retailer"),
        ("sub_order.preparing", shops["butcher"]["id"], "paid", "preparing", "retailer"),
        ("order.paid", None, "pending_payment", "paid", "stripe"),
    ]
    assert {e["order_id"] for e in recorded} == {order_id}
    assert sorted(recorded[-1]["shop_ids"]) == sorted([shops["bakery"]["id"], shops["butcher"]["id"]])
    assert [e["at"] for e in recorded] == sorted((e["at"] for e in recorded), reverse=True)
    assert events(api, limit=2) == recorded[:2]
    # A retried payment webhook changes nothing, so it records no second order.paid.
    again = send(api, "POST", f"/dev/payments/{placed['payment_intent_id']}/succeed")
    assert again[0] == 200
    assert events(api) == recorded


# --- refusals -----------------------------------------------------------------------------------------


def test_illegal_and_method_forbidden_moves_are_409_with_the_allowed_ones_and_change_nothing(api, shops):
    placed = place_order(api, shops)
    order_id = placed["order_id"]
    bakery, butcher = shops["bakery_key"], shops["butcher_key"]
    assert move(api, bakery, order_id, "preparing")[0] == 200
    before = (shop_view(api, bakery, order_id), shop_view(api, butcher, order_id), events(api))

    for key, to, allowed in (
        (butcher, "collected", ["cancelled", "preparing"]),  # skipping steps
        (butcher, "paid", ["cancelled", "preparing"]),  # staying put
        (butcher, "refunded", ["cancelled", "preparing"]),  # the system's move
        (butcher, "shipped", ["cancelled", "preparing"]),  # no such status
        (bakery, "out_for_delivery", ["cancelled", "ready_for_pickup"]),  # a pickup is never delivered
        (bakery, "paid", ["cancelled", "ready_for_pickup"]),  # no way back
    ):
        status, error = move(api, key, order_id, to)
        assert status == 409, (to, error)
        assert error["error"]["code"] == "illegal_transition"
        assert error["error"]["details"]["allowed"] == allowed, to

    assert move(api, butcher, order_id, "preparing")[0] == 200
    status, error = move(api, butcher, order_id, "ready_for_pickup")  # a delivery is never picked up
    assert status == 409 and error["error"]["details"]["allowed"] == ["cancelled", "out_for_delivery"], error

    assert shop_view(api, bakery, order_id) == before[0]
    assert [e["type"] for e in events(api)] == ["sub_order.preparing", *[e["type"] for e in before[2]]]


def test_an_unpaid_order_cannot_be_prepared(api, shops):
    placed = place_order(api, shops, pay=False)

    status, error = move(api, shops["bakery_key"], placed["order_id"], "preparing")

    assert status == 409 and error["error"]["details"] == {
        "current": "pending_payment",
        "target": "preparing",
        "allowed": [],
    }
    sub = shop_view(api, shops["bakery_key"], placed["order_id"])
    assert (sub["status"], sub["actions"]) == ("pending_payment", [])
    assert "code" not in customer_view(api, placed, shops["bakery"]["id"])["fulfilment"]["pickup"]
    assert events(api) == []


def test_another_shops_sub_order_is_not_found(api, shops, open_shop):
    placed = place_order(api, shops)
    _, florist_key = open_shop(FLORIST)

    for key, order_id in ((florist_key, placed["order_id"]), (shops["bakery_key"], "ord_doesnotexist0000")):
        status, error = move(api, key, order_id, "preparing")
        assert status == 404 and error["error"]["code"] == "order_not_found", error
    status, _ = move(api, None, placed["order_id"], "preparing")
    assert status == 401
    assert shop_view(api, shops["bakery_key"], placed["order_id"])["status"] == "paid"


def test_a_change_made_between_read_and_write_is_a_409_and_nothing_changes(api, shops, monkeypatch):
    from chalicelib.order import fulfilment

    placed = place_order(api, shops)
    order_id, key = placed["order_id"], shops["bakery_key"]
    stale = fulfilment.load_sub_order(order_id, shops["bakery"]["id"])
    assert move(api, key, order_id, "preparing")[0] == 200  # another device, meanwhile
    after_first = (shop_view(api, key, order_id), events(api))
    # The second request read the sub-order before the first one wrote it.
    monkeypatch.setattr(fulfilment, "load_sub_order", lambda order, shop: stale)

    status, error = move(api, key, order_id, "preparing")

    assert status == 409 and error["error"]["code"] == "sub_order_changed_concurrently", error
    assert (shop_view(api, key, order_id), events(api)) == after_first


# --- the pickup code ----------------------------------------------------------------------------------


def test_only_the_customer_sees_the_pickup_code(api, shops):
    placed = place_order(api, shops)
    bakery_id = shops["bakery"]["id"]

    pickup = customer_view(api, placed, bakery_id)["fulfilment"]["pickup"]

    code = pickup["code"]
    assert len(code) == 6 and code.isdigit()
    assert pickup["qr_payload"] == f"mall-pickup:{placed['order_id']}:{bakery_id}:{code}"
    assert pickup["address"]  # the shop's pickup details are still there
    status, page = api.call("GET", "/retailer/orders", key=shops["bakery_key"])
    assert status == 200
    for shop_sub in (shop_view(api, shops["bakery_key"], placed["order_id"]), page["items"][0]):
        assert "code" not in shop_sub["fulfilment"]["pickup"]
        assert "mall-pickup" not in json.dumps(shop_sub)
    status, sub = move(api, shops["bakery_key"], placed["order_id"], "preparing")
    assert status == 200 and "code" not in sub["fulfilment"]["pickup"]
    # The customer's view is the only one with actions left out: they are the shop's buttons.
    assert customer_view(api, placed, bakery_id)["actions"] is None


def test_collecting_needs_the_code_and_five_wrong_codes_lock_it_for_the_window(api, shops, monkeypatch):
    from chalicelib.order import fulfilment

    placed = place_order(api, shops)
    order_id, key = placed["order_id"], shops["bakery_key"]
    code = pickup_code(api, placed, shops)
    for to in ("preparing", "ready_for_pickup"):
        assert move(api, key, order_id, to)[0] == 200

    status, error = move(api, key, order_id, "collected")
    assert status == 422 and error["error"]["code"] == "pickup_code_required", error
    status, error = move(api, key, order_id, "collected", "12a456")
    assert status == 400, error  # malformed: not a guess, not counted
    for attempts_left in (4, 3, 2, 1, 0):
        status, error = move(api, key, order_id, "collected", another_code(code))
        assert status == 422 and error["error"]["code"] == "wrong_pickup_code", error
        assert error["error"]["details"]["attempts_left"] == attempts_left

    # Locked: even the right code is refused, so the lockout says nothing about the guesses.
    response = api.http.post(
        f"/retailer/orders/{order_id}/status",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        body=json.dumps({"to": "collected", "pickup_code": code}).encode(),
    )
    assert response.status_code == 429, response.body
    error = json.loads(response.body)["error"]
    assert error["code"] == "too_many_pickup_attempts"
    assert 0 < int(response.headers["Retry-After"]) == error["details"]["retry_after_seconds"] <= 15 * 60
    assert shop_view(api, key, order_id)["status"] == "ready_for_pickup"

    # Once the window has passed, the counter starts again and the right code works.
    later = now() + timedelta(minutes=15, seconds=1)
    monkeypatch.setattr(fulfilment, "now", lambda: later)
    status, error = move(api, key, order_id, "collected", another_code(code))
    assert status == 422 and error["error"]["details"]["attempts_left"] == 4, error
    status, sub = move(api, key, order_id, "collected", code)
    assert status == 200 and sub["status"] == "collected", sub


def test_concurrent_wrong_codes_each_count(api, shops):
    from chalicelib.order import fulfilment
    from chalicelib.order.errors import WrongPickupCode

    placed = place_order(api, shops)
    order_id, key = placed["order_id"], shops["bakery_key"]
    code = pickup_code(api, placed, shops)
    for to in ("preparing", "ready_for_pickup"):
        assert move(api, key, order_id, to)[0] == 200
    # Two devices read the sub-order before either counted its wrong code.
    first, second = (fulfilment.load_sub_order(order_id, shops["bakery"]["id"]) for _ in range(2))

    left = []
    for copy in (first, second):
        with pytest.raises(WrongPickupCode) as raised:
            fulfilment._verify_pickup_code(copy, another_code(code))
        left.append(raised.value.details["attempts_left"])

    assert left == [4, 3]  # the second one lost the window race, re-read and counted on top
    stored = fulfilment.load_sub_order(order_id, shops["bakery"]["id"])
    assert int(stored.pickup_failures) == 2


@pytest.mark.parametrize("burst", [20, 40])
def test_a_parallel_burst_compares_no_more_codes_than_the_attempts_left(api, shops, burst):
    """With one attempt left, a burst holding the right code among wrong ones compares one code at most:
    the attempt is taken by a conditional write before the compare, the rest are locked out."""
    import threading

    placed = place_order(api, shops)
    order_id, key = placed["order_id"], shops["bakery_key"]
    code = pickup_code(api, placed, shops)
    for to in ("preparing", "ready_for_pickup"):
        assert move(api, key, order_id, to)[0] == 200
    for _ in range(4):
        assert move(api, key, order_id, "collected", another_code(code))[0] == 422
    guesses = [code if i % 2 else f"{(int(code) + 2 + i) % 1_000_000:06d}" for i in range(burst)]
    answers: list[tuple[int, Any]] = []
    start = threading.Barrier(burst)

    def one(guess: str) -> None:
        start.wait()
        answers.append(move(api, key, order_id, "collected", guess))

    threads = [threading.Thread(target=one, args=(guess,)) for guess in guesses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = [status for status, _ in answers]
    assert len(statuses) == burst
    compared = statuses.count(200) + statuses.count(422)
    assert compared == 1, statuses
    # The others compared nothing: locked out, or (arriving after the collection) an illegal move.
    others = [body["error"]["code"] for status, body in answers if status not in (200, 422)]
    allowed = {"too_many_pickup_attempts", "illegal_transition", "sub_order_changed_concurrently"}
    assert set(others) <= allowed, others
    expected = "collected" if 200 in statuses else "ready_for_pickup"
    assert shop_view(api, key, order_id)["status"] == expected


def test_a_collection_that_fails_gives_the_right_codes_attempt_back(api, shops, monkeypatch):
    from chalicelib.order import fulfilment
    from chalicelib.order.errors import SubOrderChangedConcurrently

    placed = place_order(api, shops)
    order_id, key = placed["order_id"], shops["bakery_key"]
    code = pickup_code(api, placed, shops)
    for to in ("preparing", "ready_for_pickup"):
        assert move(api, key, order_id, to)[0] == 200
    for _ in range(4):
        assert move(api, key, order_id, "collected", another_code(code))[0] == 422

    def raced(sub: Any, to: str, moment: Any) -> None:
        raise SubOrderChangedConcurrently(sub.order_id)

    with monkeypatch.context() as patch:
        patch.setattr(fulfilment, "_apply", raced)
        assert move(api, key, order_id, "collected", code)[0] == 409
    # The right code's attempt came back: the counter still allows one more attempt.
    status, sub = move(api, key, order_id, "collected", code)
    assert status == 200 and sub["status"] == "collected", sub


def test_the_retailer_cancels_a_paid_sub_order_which_refunds_it_in_full_and_restocks(api, shops):
    placed = place_order(api, shops)
    order_id, key = placed["order_id"], shops["bakery_key"]
    assert move(api, key, order_id, "preparing")[0] == 200

    status, sub = move(api, key, order_id, "cancelled")

    assert status == 200, sub
    # The simulated provider accepts at once, so the cancelled sub-order is refunded in the same request.
    assert (sub["status"], sub["actions"]) == ("refunded", [])
    assert transitions(sub)[-2:] == [
        ("retailer", "preparing", "cancelled"),
        ("system", "cancelled", "refunded"),
    ]
    status, refunds = api.call("GET", f"/retailer/orders/{order_id}/refunds", key=key)
    assert status == 200 and [(r["amount_cents"], r["restock"], r["status"]) for r in refunds["items"]] == [
        (450, True, "succeeded")
    ]
    status, product = api.call("GET", f"/retailer/products/{shops['bread']['id']}", key=key)
    assert product["variants"][0]["stock"] == 10  # the one unit sold is back on sale
    assert move(api, key, order_id, "cancelled")[0] == 409  # once
    assert shop_view(api, shops["butcher_key"], order_id)["status"] == "paid"
