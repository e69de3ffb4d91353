"""Checkout through the API: one transaction reserves stock and writes the order with a sub-order per shop,
one PaymentIntent pays for it; retries are idempotent, shortages and provider failures leave nothing
reserved; unpaid holds expire; customers and retailers read what is theirs only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from urllib.parse import quote

import pytest
from relist_support import run_relisting
from support import delivery_to, make_product, send, vid

from chalicelib.payment.gateway import PaymentProviderFailed
from chalicelib.payment.simulated_gateway import SimulatedGateway

BAKERY, BUTCHER, GROCERY_BOX = 0, 1, 12  # tools/demo_data.py: pickup only; delivers 4.5 km; delivery only
KORENMARKT = {"lat": 51.0543, "lng": 3.7219}  # ~2 km from the butcher, ~2.1 km from the grocery box depot
EMAIL = "an.peeters@example.be"


# --- helpers ------------------------------------------------------------------------------------------


def new_cart(api: Any, lines: list[tuple[str, int]]) -> tuple[str, str]:
    status, created = send(
        api, "POST", "/carts", {"lines": [{"variant_id": v, "quantity": q} for v, q in lines]}
    )
    assert status == 201, created
    return created["cart"]["id"], created["cart_token"]


def read_cart(api: Any, cart_id: str, token: str) -> dict[str, Any]:
    status, cart = send(api, "GET", f"/carts/{cart_id}", headers={"X-Cart-Token": token})
    assert status == 200, cart
    return cart


def checkout(api: Any, cart_id: str, token: str | None, key: str | None, body: Any = None) -> tuple[int, Any]:
    headers = {}
    if token is not None:
        headers["X-Cart-Token"] = token
    if key is not None:
        headers["Idempotency-Key"] = key
    return send(
        api, "POST", f"/carts/{cart_id}/checkout", {"email": EMAIL} if body is None else body, headers
    )


def read_order(api: Any, order_id: str, order_token: str | None) -> tuple[int, Any]:
    headers = {"X-Order-Token": order_token} if order_token is not None else {}
    return send(api, "GET", f"/orders/{order_id}", headers=headers)


def stock(api: Any, retailer_key: str, product: dict[str, Any], index: int = 0) -> int:
    """The variant's stock as the storefront shows it, checked against the retailer's own read."""
    status, public = api.call("GET", f"/products/{product['id']}")
    assert status == 200, public
    status, own = api.call("GET", f"/retailer/products/{product['id']}", key=retailer_key)
    assert status == 200, own
    public_stock = next(v["stock"] for v in public["variants"] if v["id"] == vid(product, index))
    own_stock = next(v["stock"] for v in own["variants"] if v["id"] == vid(product, index))
    assert public_stock == own_stock
    return public_stock


def vat_of(gross: int, rate: int) -> int:
    return int(Fraction(gross * rate, 10_000 + rate) + Fraction(1, 2))


class RecordingGateway:
    """The simulated gateway, with every create call's arguments kept."""

    def __init__(self) -> None:
        self.inner = SimulatedGateway()
        self.creates: list[dict[str, Any]] = []

    def create_payment_intent(self, **kwargs: Any) -> Any:
        self.creates.append(kwargs)
        return self.inner.create_payment_intent(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class FailingGateway(RecordingGateway):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def create_payment_intent(self, **kwargs: Any) -> Any:
        self.creates.append(kwargs)
        raise self.error


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> RecordingGateway:
    gateway = RecordingGateway()
    # `gateway` is functools.cache'd: replace the name checkout imported.
    monkeypatch.setattr("chalicelib.checkout.service.gateway", lambda: gateway)
    return gateway


@pytest.fixture
def two_shops(api, open_shop):
    """A bakery (pickup only) and a butcher (delivers), each with products in stock."""
    bakery, bakery_key = open_shop(BAKERY)
    butcher, butcher_key = open_shop(BUTCHER)
    bread = make_product(api, bakery_key, "Sourdough", [(450, 10)])
    cake = make_product(api, bakery_key, "Cake", [(1500, 5)])
    steak = make_product(api, butcher_key, "Steak", [(1290, 8)])
    return {
        "bakery": bakery,
        "bakery_key": bakery_key,
        "butcher": butcher,
        "butcher_key": butcher_key,
        "bread": bread,
        "cake": cake,
        "steak": steak,
    }


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- the happy path -----------------------------------------------------------------------------------


def test_checkout_reserves_stock_and_writes_one_order_with_a_sub_order_per_shop(api, two_shops, recorder):
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["bread"]), 3), (vid(s["cake"]), 1), (vid(s["steak"]), 2)])
    status, cart = send(
        api,
        "PUT",
        f"/carts/{cart_id}/shops/{s['butcher']['id']}/fulfilment",
        delivery_to(KORENMARKT),
        {"X-Cart-Token": token},
    )
    assert status == 200, cart
    expected_total = 1350 + 1500 + 2580 + 395
    assert cart["total_cents"] == expected_total
    started = datetime.now(UTC)

    status, result = checkout(api, cart_id, token, "key-happy-path-0001")

    assert status == 201, result
    order_id = result["order_id"]
    assert result["status"] == "pending_payment"
    assert result["total_cents"] == expected_total and result["currency"] == "EUR"
    assert result["order_token"].startswith("ot_") and result["order_token"] != token
    assert result["client_secret"].startswith(f"{result['payment_intent_id']}_secret_")
    hold = parse_time(result["hold_until"]) - started
    assert timedelta(minutes=29) < hold <= timedelta(minutes=30, seconds=30)  # slack for a loaded machine

    # Stock is reserved at once, for every line, on both reads.
    assert stock(api, s["bakery_key"], s["bread"]) == 7
    assert stock(api, s["bakery_key"], s["cake"]) == 4
    assert stock(api, s["butcher_key"], s["steak"]) == 6

    # One PaymentIntent for the whole order.
    assert recorder.creates == [
        {
            "amount_cents": expected_total,
            "currency": "EUR",
            "transfer_group": order_id,
            "metadata": {"order_id": order_id, "cart_id": cart_id},
            "idempotency_key": f"checkout:{order_id}",
        }
    ]
    intent = SimulatedGateway().retrieve_payment_intent(result["payment_intent_id"])
    assert (intent.amount, intent.currency, intent.status) == (
        expected_total,
        "eur",
        "requires_payment_method",
    )

    status, order = read_order(api, order_id, result["order_token"])
    assert status == 200, order
    assert order["id"] == order_id and order["status"] == "pending_payment" and order["email"] == EMAIL
    assert (order["subtotal_cents"], order["delivery_fees_cents"], order["total_cents"]) == (
        5430,
        395,
        expected_total,
    )
    assert order["payment_intent_id"] == result["payment_intent_id"]
    assert order["vat"] == [
        {"rate_bps": 2100, "gross_cents": 395, "vat_cents": vat_of(395, 2100)},
        {
            "rate_bps": 600,
            "gross_cents": 5430,
            "vat_cents": vat_of(1350, 600) + vat_of(1500, 600) + vat_of(2580, 600),
        },
    ]
    assert [sub["shop_id"] for sub in order["shops"]] == [s["bakery"]["id"], s["butcher"]["id"]]
    bakery_sub, butcher_sub = order["shops"]
    assert {sub["status"] for sub in order["shops"]} == {"pending_payment"}
    assert all(sub["customer_email"] is None for sub in order["shops"])  # only the shop's view shows it
    assert [
        (ln["variant_id"], ln["quantity"], ln["total_cents"], ln["vat_rate_bps"], ln["vat_cents"])
        for ln in bakery_sub["lines"]
    ] == [
        (vid(s["bread"]), 3, 1350, 600, vat_of(1350, 600)),
        (vid(s["cake"]), 1, 1500, 600, vat_of(1500, 600)),
    ]
    assert (bakery_sub["subtotal_cents"], bakery_sub["delivery_fee_cents"], bakery_sub["total_cents"]) == (
        2850,
        0,
        2850,
    )
    assert bakery_sub["fulfilment"]["method"] == "pickup"
    assert bakery_sub["fulfilment"]["pickup"]["address"].startswith("Sint-Pietersnieuwstraat 118")
    assert bakery_sub["fulfilment"]["pickup"]["ready_within_hours"] == 1
    assert butcher_sub["fulfilment"]["method"] == "delivery"
    assert butcher_sub["fulfilment"]["address"]["street"] == "Korenmarkt 1"
    assert butcher_sub["fulfilment"]["contact"]["phone"] == "+32 470 12 34 56"
    assert (butcher_sub["subtotal_cents"], butcher_sub["delivery_fee_cents"], butcher_sub["total_cents"]) == (
        2580,
        395,
        2975,
    )
    assert butcher_sub["history"][0]["to_status"] == "pending_payment"

    # The cart is consumed: it shows its order and can no longer change.
    cart = read_cart(api, cart_id, token)
    assert (cart["status"], cart["order_id"], cart["ready_for_checkout"]) == ("checked_out", order_id, False)
    headers = {"X-Cart-Token": token}
    for method, path, body in (
        ("POST", f"/carts/{cart_id}/lines", {"variant_id": vid(s["bread"]), "quantity": 1}),
        ("PUT", f"/carts/{cart_id}/lines/{vid(s['bread'])}", {"quantity": 1}),
        ("DELETE", f"/carts/{cart_id}/lines/{vid(s['bread'])}", None),
        ("PUT", f"/carts/{cart_id}/shops/{s['butcher']['id']}/fulfilment", {"method": "pickup"}),
    ):
        status, error = send(api, method, path, body, headers)
        assert status == 409 and error["error"]["code"] == "cart_checked_out", (method, path, error)
        assert error["error"]["details"]["order_id"] == order_id


def test_an_order_is_read_only_with_its_token(api, two_shops, recorder):
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["bread"]), 1)])
    other_cart, other_token = new_cart(api, [(vid(s["bread"]), 1)])
    _, result = checkout(api, cart_id, token, "key-read-order-0001")
    _, other = checkout(api, other_cart, other_token, "key-read-order-0002")

    for wrong in (None, "", token, other["order_token"], result["order_token"] + "0"):
        status, error = read_order(api, result["order_id"], wrong)
        assert status == 401 and error["error"]["code"] == "invalid_order_token", wrong
    status, error = read_order(api, "ord_doesnotexist000", result["order_token"])
    assert status == 404 and error["error"]["code"] == "order_not_found"
    assert read_order(api, result["order_id"], result["order_token"])[0] == 200


# --- idempotency --------------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_and_request_replays_the_result_and_reserves_nothing_twice(
    api, two_shops, recorder
):
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["bread"]), 2), (vid(s["steak"]), 1)])

    first = checkout(api, cart_id, token, "key-retry-000001")
    second = checkout(api, cart_id, token, "key-retry-000001")
    third = checkout(api, cart_id, token, "key-retry-000001")

    assert first[0] == 201, first
    assert first == second == third
    assert stock(api, s["bakery_key"], s["bread"]) == 8
    assert stock(api, s["butcher_key"], s["steak"]) == 7
    assert len(recorder.creates) == 1


def test_a_retry_after_a_crash_before_the_payment_intent_creates_it_once(
    api, two_shops, recorder, monkeypatch
):
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["bread"]), 2)])
    import chalicelib.checkout.service as service

    real_attach = service._attach_payment
    monkeypatch.setattr(service, "_attach_payment", lambda *a: (_ for _ in ()).throw(RuntimeError("timeout")))

    status, error = checkout(api, cart_id, token, "key-crash-000001")
    assert status == 500 and error["error"]["code"] == "internal_error"
    assert stock(api, s["bakery_key"], s["bread"]) == 8  # reserved by the committed transaction
    assert recorder.creates == []

    monkeypatch.setattr(service, "_attach_payment", real_attach)
    status, result = checkout(api, cart_id, token, "key-crash-000001")

    assert status == 201, result
    assert [c["idempotency_key"] for c in recorder.creates] == [f"checkout:{result['order_id']}"]
    assert stock(api, s["bakery_key"], s["bread"]) == 8  # not reserved a second time
    assert checkout(api, cart_id, token, "key-crash-000001") == (201, result)
    assert len(recorder.creates) == 1
    assert (
        read_order(api, result["order_id"], result["order_token"])[1]["payment_intent_id"]
        == result["payment_intent_id"]
    )


def test_the_same_key_with_another_request_is_refused(api, two_shops, recorder):
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["bread"]), 2)])
    status, result = checkout(api, cart_id, token, "key-reused-00001")
    assert status == 201

    status, error = checkout(api, cart_id, token, "key-reused-00001", {"email": "someone.else@example.be"})

    assert status == 422 and error["error"]["code"] == "idempotency_key_reused"
    assert stock(api, s["bakery_key"], s["bread"]) == 8
    assert len(recorder.creates) == 1
    assert read_order(api, result["order_id"], result["order_token"])[1]["email"] == EMAIL


def test_the_same_key_on_another_cart_is_refused(api, two_shops, recorder):
    s = two_shops
    first_cart, first_token = new_cart(api, [(vid(s["bread"]), 2)])
    second_cart, second_token = new_cart(api, [(vid(s["cake"]), 1)])
    assert checkout(api, first_cart, first_token, "key-shared-00001")[0] == 201

    status, error = checkout(api, second_cart, second_token, "key-shared-00001")

    assert status == 422, error
    assert error["error"]["code"] == "idempotency_key_reused"
    assert stock(api, s["bakery_key"], s["cake"]) == 5
    assert read_cart(api, second_cart, second_token)["status"] == "open"
    assert len(recorder.creates) == 1


def test_another_key_on_a_checked_out_cart_is_a_conflict(api, two_shops, recorder):
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["bread"]), 2)])
    _, result = checkout(api, cart_id, token, "key-first-000001")

    status, error = checkout(api, cart_id, token, "key-second-00001")

    assert status == 409
    assert error["error"]["code"] == "cart_checked_out"
    assert error["error"]["details"]["order_id"] == result["order_id"]
    assert stock(api, s["bakery_key"], s["bread"]) == 8
    assert len(recorder.creates) == 1


# --- stock --------------------------------------------------------------------------------------------


def test_not_enough_stock_names_each_short_line_and_reserves_nothing(api, two_shops, recorder):
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["bread"]), 3), (vid(s["cake"]), 4), (vid(s["steak"]), 2)])
    stock_path = "/retailer/products/{}/variants/{}/stock"
    assert (
        api.call("POST", stock_path.format(s["cake"]["id"], vid(s["cake"])), {"set": 1}, key=s["bakery_key"])[
            0
        ]
        == 200
    )
    assert (
        api.call(
            "POST", stock_path.format(s["steak"]["id"], vid(s["steak"])), {"set": 0}, key=s["butcher_key"]
        )[0]
        == 200
    )

    status, error = checkout(api, cart_id, token, "key-short-000001")

    assert status == 409
    assert error["error"]["code"] == "insufficient_stock"
    assert sorted(error["error"]["details"]["lines"], key=lambda ln: ln["sku"]) == [
        {"variant_id": vid(s["cake"]), "sku": "CAKE-0", "requested": 4, "available": 1, "short_by": 3},
        {"variant_id": vid(s["steak"]), "sku": "STEAK-0", "requested": 2, "available": 0, "short_by": 2},
    ]
    assert stock(api, s["bakery_key"], s["bread"]) == 10
    assert stock(api, s["bakery_key"], s["cake"]) == 1
    assert stock(api, s["butcher_key"], s["steak"]) == 0
    assert recorder.creates == []
    cart = read_cart(api, cart_id, token)
    assert (cart["status"], cart["order_id"]) == ("open", None)

    # Fixed by the customer, the same cart checks out.
    headers = {"X-Cart-Token": token}
    assert send(api, "PUT", f"/carts/{cart_id}/lines/{vid(s['cake'])}", {"quantity": 1}, headers)[0] == 200
    assert send(api, "DELETE", f"/carts/{cart_id}/lines/{vid(s['steak'])}", None, headers)[0] == 200
    status, result = checkout(api, cart_id, token, "key-short-000002")
    assert status == 201, result
    assert (stock(api, s["bakery_key"], s["bread"]), stock(api, s["bakery_key"], s["cake"])) == (7, 0)


def test_the_last_units_go_to_one_checkout_only(api, two_shops, recorder):
    s = two_shops
    first_cart, first_token = new_cart(api, [(vid(s["cake"]), 3)])
    second_cart, second_token = new_cart(api, [(vid(s["cake"]), 3), (vid(s["bread"]), 1)])

    assert checkout(api, first_cart, first_token, "key-race-0000001")[0] == 201
    status, error = checkout(api, second_cart, second_token, "key-race-0000002")

    assert status == 409 and error["error"]["code"] == "insufficient_stock"
    assert [
        (ln["requested"], ln["available"], ln["short_by"]) for ln in error["error"]["details"]["lines"]
    ] == [(3, 2, 1)]
    assert stock(api, s["bakery_key"], s["cake"]) == 2
    assert stock(api, s["bakery_key"], s["bread"]) == 10


def test_stock_taken_between_pricing_and_reservation_cancels_the_whole_transaction(
    api, two_shops, recorder, monkeypatch
):
    """Another checkout takes units after this one read the catalogue: the conditional transaction fails
    as a whole (no line reserved, no order written) and the customer hears which line is short."""
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["bread"]), 2), (vid(s["steak"]), 5)])
    import chalicelib.checkout.service as service
    from chalicelib.catalog.models import VariantItem

    real_snapshot = service.load_snapshot
    calls = []

    def snapshot_then_concurrent_sale(*args: Any, **kwargs: Any) -> Any:
        taken = real_snapshot(*args, **kwargs)
        if not calls:
            steak = VariantItem(*VariantItem.key_for(s["steak"]["id"], vid(s["steak"])))
            steak.update(actions=[VariantItem.stock.set(4)])
        calls.append(1)
        return taken

    monkeypatch.setattr(service, "load_snapshot", snapshot_then_concurrent_sale)

    status, error = checkout(api, cart_id, token, "key-concurrent-01")

    assert status == 409, error
    assert error["error"]["code"] == "insufficient_stock"
    assert error["error"]["details"]["lines"] == [
        {"variant_id": vid(s["steak"]), "sku": "STEAK-0", "requested": 5, "available": 4, "short_by": 1}
    ]
    assert stock(api, s["bakery_key"], s["bread"]) == 10  # not reserved: all or nothing
    assert stock(api, s["butcher_key"], s["steak"]) == 4
    assert recorder.creates == []
    assert read_cart(api, cart_id, token)["status"] == "open"
    assert [service.OrderItem.gsi3.count(f"HOLDS#pending_payment#{shard}") for shard in range(8)] == [0] * 8


# --- payment provider failure -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error", [PaymentProviderFailed("create"), RuntimeError("STRIPE_SECRET_KEY is not configured")]
)
def test_a_payment_provider_failure_releases_the_stock_and_reopens_the_cart(
    api, two_shops, monkeypatch, error
):
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["bread"]), 2), (vid(s["steak"]), 3)])
    failing = FailingGateway(error)
    monkeypatch.setattr("chalicelib.checkout.service.gateway", lambda: failing)

    status, body = checkout(api, cart_id, token, "key-stripe-down-1")

    assert status == 502, body
    assert body["error"]["code"] == "payment_provider_failed"
    assert body["error"]["details"] == {"operation": "create"}
    assert stock(api, s["bakery_key"], s["bread"]) == 10
    assert stock(api, s["butcher_key"], s["steak"]) == 8
    cart = read_cart(api, cart_id, token)
    assert (cart["status"], cart["order_id"], cart["ready_for_checkout"]) == ("open", None, True)
    # The order that was written is cancelled and out of the expiry index.
    (attempt,) = failing.creates
    from chalicelib.order.service import load_order

    order, subs = load_order(attempt["transfer_group"])
    assert (order.status, order.cancel_reason) == ("cancelled", "payment_provider_failed")
    assert {sub.status for sub in subs} == {"cancelled"}
    assert order.gsi3pk is None

    # Once the provider is back, a retry (even with the same key) checks the reopened cart out.
    recorder = RecordingGateway()
    monkeypatch.setattr("chalicelib.checkout.service.gateway", lambda: recorder)
    status, result = checkout(api, cart_id, token, "key-stripe-down-1")
    assert status == 201, result
    assert result["order_id"] != order.order_id
    assert stock(api, s["bakery_key"], s["bread"]) == 8
    assert stock(api, s["butcher_key"], s["steak"]) == 5


# --- bad requests -------------------------------------------------------------------------------------


def test_bad_checkout_requests_are_refused_and_reserve_nothing(api, two_shops, recorder):
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["bread"]), 2)])
    empty_id, empty_token = new_cart(api, [])
    key = "key-bad-input-01"

    cases = [
        (checkout(api, empty_id, empty_token, key), 422, "cart_empty", None),
        (checkout(api, cart_id, None, key), 401, "invalid_cart_token", None),
        (checkout(api, cart_id, empty_token, key), 401, "invalid_cart_token", None),
        (checkout(api, "cart_doesnotexist00", token, key), 404, "cart_not_found", None),
        (checkout(api, cart_id, token, None), 400, "validation_error", "Idempotency-Key"),
        (checkout(api, cart_id, token, "short"), 400, "validation_error", "Idempotency-Key"),
        (checkout(api, cart_id, token, "has spaces in it"), 400, "validation_error", "Idempotency-Key"),
        (checkout(api, cart_id, token, "k" * 256), 400, "validation_error", "Idempotency-Key"),
        (checkout(api, cart_id, token, key, {}), 400, "validation_error", "email"),
        (
            checkout(api, cart_id, token, key, {"email": EMAIL, "total_cents": 1}),
            400,
            "validation_error",
            "total_cents",
        ),
    ]
    for bad in ("", "an", "an@", "@example.be", "an peeters@example.be", "an@example", 42, None):
        cases.append((checkout(api, cart_id, token, key, {"email": bad}), 400, "validation_error", "email"))

    for (status, body), expected_status, code, field in cases:
        assert status == expected_status, body
        assert body["error"]["code"] == code, body
        if field:
            assert [f["field"] for f in body["error"]["fields"]] == [field], body
    assert stock(api, s["bakery_key"], s["bread"]) == 10
    assert recorder.creates == []
    assert read_cart(api, cart_id, token)["status"] == "open"
    # None of the refused attempts used up the key.
    assert checkout(api, cart_id, token, key)[0] == 201


def test_a_cart_that_cannot_be_bought_as_it_is_is_refused(api, two_shops, open_shop, recorder):
    s = two_shops
    box_shop, box_key = open_shop(GROCERY_BOX)
    box = make_product(api, box_key, "Vegetable box", [(2500, 10)])
    cart_id, token = new_cart(api, [(vid(s["bread"]), 1), (vid(s["cake"]), 1), (vid(box), 1)])
    assert (
        api.call("PATCH", f"/retailer/products/{s['cake']['id']}", {"active": False}, key=s["bakery_key"])[0]
        == 200
    )

    status, error = checkout(api, cart_id, token, "key-not-ready-01")

    assert status == 422 and error["error"]["code"] == "cart_not_ready"
    assert sorted(error["error"]["details"]["problems"]) == sorted(
        [f"{vid(s['cake'])}:inactive", f"{box_shop['id']}:delivery_address_required"]
    )
    assert (stock(api, s["bakery_key"], s["bread"]), stock(api, box_key, box)) == (10, 10)
    assert recorder.creates == []


def test_a_delivery_address_now_outside_the_shops_radius_is_refused_at_checkout(api, two_shops, recorder):
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["steak"]), 1)])
    path = f"/carts/{cart_id}/shops/{s['butcher']['id']}/fulfilment"
    assert send(api, "PUT", path, delivery_to(KORENMARKT), {"X-Cart-Token": token})[0] == 200
    # The butcher shrinks its delivery area to 1 km after the customer chose delivery (~2 km away).
    shrunk = {"enabled": True, "radius_km": 1, "fee_cents": 395, "free_over_cents": 5000}
    assert api.call("PATCH", "/retailer/shop", {"delivery": shrunk}, key=s["butcher_key"])[0] == 200
    run_relisting()  # products carry the shop's terms: rewritten off the request

    status, error = checkout(api, cart_id, token, "key-radius-00001")

    assert status == 422 and error["error"]["code"] == "cart_not_ready"
    assert error["error"]["details"]["problems"] == [f"{s['butcher']['id']}:outside_delivery_area"]
    assert stock(api, s["butcher_key"], s["steak"]) == 8
    assert recorder.creates == []


# --- expiry of unpaid holds ---------------------------------------------------------------------------


def test_unpaid_orders_expire_after_the_hold_their_intent_is_cancelled_and_stock_released(api, two_shops):
    from chalicelib.order.service import expire_holds

    s = two_shops
    first_cart, first_token = new_cart(api, [(vid(s["bread"]), 2), (vid(s["steak"]), 1)])
    second_cart, second_token = new_cart(api, [(vid(s["bread"]), 3)])
    _, first = checkout(api, first_cart, first_token, "key-expiry-00001")
    _, second = checkout(api, second_cart, second_token, "key-expiry-00002")
    assert stock(api, s["bakery_key"], s["bread"]) == 5
    now = datetime.now(UTC)

    assert expire_holds(moment=now + timedelta(minutes=29)) == []  # still within the hold
    assert stock(api, s["bakery_key"], s["bread"]) == 5

    expired = expire_holds(moment=now + timedelta(minutes=31))

    assert sorted(expired) == sorted([(first["order_id"], "cancelled"), (second["order_id"], "cancelled")])
    assert stock(api, s["bakery_key"], s["bread"]) == 10
    assert stock(api, s["butcher_key"], s["steak"]) == 8
    for result in (first, second):
        _, order = read_order(api, result["order_id"], result["order_token"])
        assert order["status"] == "cancelled"
        assert {sub["status"] for sub in order["shops"]} == {"cancelled"}
        assert all(sub["history"][-1]["by"] == "expiry" for sub in order["shops"])
        assert SimulatedGateway().retrieve_payment_intent(result["payment_intent_id"]).status == "canceled"

    # Running again (or concurrently) changes nothing: the stock is not released twice.
    assert expire_holds(moment=now + timedelta(minutes=31)) == []
    assert expire_holds(moment=now + timedelta(days=2)) == []
    assert stock(api, s["bakery_key"], s["bread"]) == 10


def test_the_hold_lasts_checkout_hold_minutes(api, two_shops, monkeypatch):
    """Called in-process: chalice's test Client re-applies the stage's CHECKOUT_HOLD_MINUTES (30) from
    .chalice/config.json around every request, so the setting is exercised on the service itself."""
    from chalicelib.checkout.schemas import CheckoutIn
    from chalicelib.checkout.service import checkout as checkout_service
    from chalicelib.order.service import expire_holds

    monkeypatch.setenv("CHECKOUT_HOLD_MINUTES", "5")
    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["cake"]), 1)])
    started = datetime.now(UTC)

    result = checkout_service(cart_id, token, "key-hold-minutes", CheckoutIn(email=EMAIL))

    hold = parse_time(result.hold_until) - started
    assert timedelta(minutes=4) < hold <= timedelta(minutes=5, seconds=30)
    assert stock(api, s["bakery_key"], s["cake"]) == 4
    assert expire_holds(moment=started + timedelta(minutes=4)) == []
    assert expire_holds(moment=started + timedelta(minutes=6)) == [(result.order_id, "cancelled")]
    assert stock(api, s["bakery_key"], s["cake"]) == 5


def test_an_expired_hold_whose_payment_already_succeeded_is_marked_paid(api, two_shops):
    from chalicelib.order.service import expire_holds

    s = two_shops
    cart_id, token = new_cart(api, [(vid(s["cake"]), 2)])
    _, result = checkout(api, cart_id, token, "key-paid-late-01")
    # The customer paid; Stripe's webhook has not arrived yet when the expiry job runs.
    SimulatedGateway().set_status(result["payment_intent_id"], "succeeded")

    assert expire_holds(moment=datetime.now(UTC) + timedelta(minutes=31)) == [(result["order_id"], "paid")]

    _, order = read_order(api, result["order_id"], result["order_token"])
    assert order["status"] == "paid"
    assert stock(api, s["bakery_key"], s["cake"]) == 3  # sold, not released
    assert expire_holds(moment=datetime.now(UTC) + timedelta(minutes=31)) == []


def test_one_intent_stripe_cannot_cancel_does_not_block_the_other_expiries(api, two_shops, monkeypatch):
    """The expiry index is read oldest hold first: an order whose PaymentIntent cannot be cancelled right now
    (Stripe down, or an intent it no longer knows) must not keep every later hold from expiring."""
    from chalicelib.order.service import expire_holds

    s = two_shops
    base = datetime.now(UTC)
    ticks = iter([base, base + timedelta(minutes=1)])
    monkeypatch.setattr("chalicelib.checkout.service.now", lambda: next(ticks))
    stuck_cart, stuck_token = new_cart(api, [(vid(s["bread"]), 2)])
    later_cart, later_token = new_cart(api, [(vid(s["steak"]), 3)])
    _, stuck = checkout(api, stuck_cart, stuck_token, "key-stuck-hold-1")
    _, later = checkout(api, later_cart, later_token, "key-later-hold-1")

    class StripeRefusesOne(SimulatedGateway):
        def cancel_payment_intent(self, payment_intent_id: str, *, idempotency_key: str) -> Any:
            if payment_intent_id == stuck["payment_intent_id"]:
                raise PaymentProviderFailed("retrieve")
            return super().cancel_payment_intent(payment_intent_id, idempotency_key=idempotency_key)

    monkeypatch.setattr("chalicelib.payment.gateway.gateway", lambda: StripeRefusesOne())

    results = dict(expire_holds(moment=base + timedelta(minutes=45)))

    assert results == {stuck["order_id"]: "provider_failed", later["order_id"]: "cancelled"}
    assert stock(api, s["butcher_key"], s["steak"]) == 8
    # The stuck order keeps its hold (it may have been paid) and is retried on the next run.
    assert read_order(api, stuck["order_id"], stuck["order_token"])[1]["status"] == "pending_payment"
    assert stock(api, s["bakery_key"], s["bread"]) == 8
    monkeypatch.setattr("chalicelib.payment.gateway.gateway", lambda: SimulatedGateway())
    assert expire_holds(moment=base + timedelta(minutes=50)) == [(stuck["order_id"], "cancelled")]
    assert stock(api, s["bakery_key"], s["bread"]) == 10


# --- retailers ----------------------------------------------------------------------------------------


def test_a_retailer_lists_its_own_sub_orders_newest_first_by_status_and_paginated(
    api, two_shops, recorder, monkeypatch
):
    from chalicelib.order.service import mark_paid

    s = two_shops
    base = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    ticks = iter(range(100))
    monkeypatch.setattr("chalicelib.checkout.service.now", lambda: base + timedelta(minutes=next(ticks)))
    orders = {}
    for name, lines in (
        ("both", [(vid(s["bread"]), 1), (vid(s["steak"]), 1)]),
        ("bakery1", [(vid(s["cake"]), 1)]),
        ("butcher", [(vid(s["steak"]), 2)]),
        ("bakery2", [(vid(s["bread"]), 2)]),
    ):
        cart_id, token = new_cart(api, lines)
        status, result = checkout(api, cart_id, token, f"key-list-{name}-01")
        assert status == 201, result
        orders[name] = result["order_id"]
    mark_paid(orders["bakery1"], None)

    def listing(key: str, query: str = "") -> list[str]:
        ids, cursor, pages = [], None, 0
        while True:
            url = f"/retailer/orders?limit=1{query}" + (f"&cursor={quote(cursor)}" if cursor else "")
            status, page = api.call("GET", url, key=key)
            assert status == 200, page
            assert len(page["items"]) <= 1
            ids += [item["order_id"] for item in page["items"]]
            cursor, pages = page["next_cursor"], pages + 1
            if cursor is None or pages > 10:
                return ids

    assert listing(s["bakery_key"]) == [orders["bakery2"], orders["bakery1"], orders["both"]]
    assert listing(s["butcher_key"]) == [orders["butcher"], orders["both"]]
    assert listing(s["bakery_key"], "&status=pending_payment") == [orders["bakery2"], orders["both"]]
    assert listing(s["bakery_key"], "&status=paid") == [orders["bakery1"]]
    assert listing(s["butcher_key"], "&status=paid") == []

    status, page = api.call("GET", "/retailer/orders?limit=10", key=s["bakery_key"])
    newest = page["items"][0]
    assert (newest["shop_id"], newest["customer_email"], newest["status"]) == (
        s["bakery"]["id"],
        EMAIL,
        "pending_payment",
    )
    assert [item["created_at"] for item in page["items"]] == sorted(
        (item["created_at"] for item in page["items"]), reverse=True
    )

    status, error = api.call("GET", "/retailer/orders?status=Paid!", key=s["bakery_key"])
    assert status == 400 and error["error"]["fields"][0]["field"] == "status"
    assert api.call("GET", "/retailer/orders")[0] == 401


def test_a_retailer_reads_only_its_own_part_of_an_order(api, two_shops, recorder):
    s = two_shops
    shared_cart, shared_token = new_cart(api, [(vid(s["bread"]), 1), (vid(s["steak"]), 1)])
    butcher_cart, butcher_token = new_cart(api, [(vid(s["steak"]), 2)])
    _, shared = checkout(api, shared_cart, shared_token, "key-isolation-01")
    _, butcher_only = checkout(api, butcher_cart, butcher_token, "key-isolation-02")

    status, part = api.call("GET", f"/retailer/orders/{shared['order_id']}", key=s["bakery_key"])
    assert status == 200, part
    assert part["shop_id"] == s["bakery"]["id"]
    assert [line["variant_id"] for line in part["lines"]] == [vid(s["bread"])]
    assert part["total_cents"] == 450 and part["customer_email"] == EMAIL
    status, part = api.call("GET", f"/retailer/orders/{shared['order_id']}", key=s["butcher_key"])
    assert status == 200 and [line["variant_id"] for line in part["lines"]] == [vid(s["steak"])]

    status, error = api.call("GET", f"/retailer/orders/{butcher_only['order_id']}", key=s["bakery_key"])
    assert status == 404 and error["error"]["code"] == "order_not_found"
    status, page = api.call("GET", "/retailer/orders", key=s["bakery_key"])
    assert [item["order_id"] for item in page["items"]] == [shared["order_id"]]
    assert {item["shop_id"] for item in page["items"]} == {s["bakery"]["id"]}
    assert api.call("GET", f"/retailer/orders/{shared['order_id']}")[0] == 401
    assert api.call("GET", "/retailer/orders/ord_doesnotexist0", key=s["bakery_key"])[0] == 404
