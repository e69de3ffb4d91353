"""Pickup booking through the API: a cart lists the slots a shop can honour (its zone, DST, preparation
time, closed days, capacity), the customer picks one per shop, and checkout books it in the stock
transaction; releasing an unpaid order gives it back. Shops without slots answer "ready by"."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import support
from relist_support import run_relisting
from support import make_product, vid

BAKERY, BUTCHER, GROCERY_BOX = 0, 1, 12  # tools/demo_data.py: pickup only, both, delivery only
EVERY_DAY = {day: [["10:00", "11:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.moment = at("2026-03-27T12:00:00")  # Friday 13:00 in Ghent, two days before summer time


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    pinned = Clock()
    # The one clock slot listing, choosing and checkout read (chalicelib/checkout/pickup.py).
    monkeypatch.setattr("chalicelib.checkout.pickup.now", lambda: pinned.moment)
    return pinned


def slotted(length: int = 30, capacity: int = 2, preparation: int = 0) -> dict[str, Any]:
    return {
        "enabled": True,
        "ready_within_hours": 2,
        "instructions": "Ask at the counter",
        "slots": {"length_minutes": length, "capacity": capacity, "preparation_minutes": preparation},
    }


@pytest.fixture
def slot_shop(api, open_shop):
    """Opens a shop taking slot bookings (10:00-11:00 every day unless overridden) with one product."""

    def _open(**overrides: Any) -> SimpleNamespace:
        fields = {"pickup": slotted(), "opening_hours": EVERY_DAY, "closed_dates": [], **overrides}
        shop, key = open_shop(BAKERY, **fields)
        bread = make_product(api, key, "Sourdough", [(450, 50)])
        return SimpleNamespace(shop=shop, id=shop["id"], key=key, bread=bread)

    return _open


def send(api: Any, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    return support.send(api, method, path, body, {"X-Cart-Token": token} if token is not None else None)


def new_cart(api: Any, variant_id: str, quantity: int = 1) -> tuple[str, str]:
    status, created = send(
        api, "POST", "/carts", {"lines": [{"variant_id": variant_id, "quantity": quantity}]}
    )
    assert status == 201, created
    return created["cart"]["id"], created["cart_token"]


def list_slots(api: Any, cart_id: str, token: str, shop_id: str) -> dict[str, Any]:
    status, body = send(api, "GET", f"/carts/{cart_id}/shops/{shop_id}/pickup-slots", token=token)
    assert status == 200, body
    return body


def starts(listing: dict[str, Any]) -> list[str]:
    return [slot["start"] for slot in listing["slots"]]


def choose(api: Any, cart_id: str, token: str, shop_id: str, slot_start: str | None) -> tuple[int, Any]:
    body = {"method": "pickup", "slot_start": slot_start}
    return send(api, "PUT", f"/carts/{cart_id}/shops/{shop_id}/fulfilment", body, token)


def checkout(api: Any, cart_id: str, token: str, key: str) -> tuple[int, Any]:
    headers = {"X-Cart-Token": token, "Idempotency-Key": key}
    return support.send(api, "POST", f"/carts/{cart_id}/checkout", {"email": "an@example.be"}, headers)


def stock(api: Any, key: str, product: dict[str, Any]) -> int:
    status, body = api.call("GET", f"/retailer/products/{product['id']}", key=key)
    assert status == 200, body
    return body["variants"][0]["stock"]


# --- listing --------------------------------------------------------------------------------------------


def test_slots_are_listed_in_the_shops_zone_across_the_spring_dst_change(api, slot_shop, clock):
    s = slot_shop()
    cart_id, token = new_cart(api, vid(s.bread))

    listing = list_slots(api, cart_id, token, s.id)

    assert listing["mode"] == "slots" and listing["timezone"] == "Europe/Brussels"
    assert listing["ready_by"] is None
    # 10:00 and 10:30 local: UTC+1 on Saturday, UTC+2 from Sunday 29 March.
    assert starts(listing)[:6] == [
        "2026-03-28T09:00:00Z",
        "2026-03-28T09:30:00Z",
        "2026-03-29T08:00:00Z",
        "2026-03-29T08:30:00Z",
        "2026-03-30T08:00:00Z",
        "2026-03-30T08:30:00Z",
    ]
    assert listing["slots"][0] == {
        "start": "2026-03-28T09:00:00Z",
        "end": "2026-03-28T09:30:00Z",
        "remaining": 2,
    }
    assert len(listing["slots"]) == 2 * 14  # 14 days ahead; today's 10:00-11:00 is already past


def test_slots_follow_the_autumn_change_and_another_zone(api, slot_shop, clock):
    clock.moment = at("2026-10-23T12:00:00")
    brussels = slot_shop()
    cart_id, token = new_cart(api, vid(brussels.bread))
    # Saturday 24 October is summer time (UTC+2), Sunday 25 winter time (UTC+1).
    assert starts(list_slots(api, cart_id, token, brussels.id))[:4] == [
        "2026-10-24T08:00:00Z",
        "2026-10-24T08:30:00Z",
        "2026-10-25T09:00:00Z",
        "2026-10-25T09:30:00Z",
    ]

    clock.moment = at("2026-03-06T20:00:00")  # Friday 15:00 in New York
    new_york = slot_shop(timezone="America/New_York")
    cart_id, token = new_cart(api, vid(new_york.bread))
    listing = list_slots(api, cart_id, token, new_york.id)
    # New York springs forward on 8 March: 10:00 EST is 15:00Z, 10:00 EDT 14:00Z.
    assert listing["timezone"] == "America/New_York"
    assert starts(listing)[:4] == [
        "2026-03-07T15:00:00Z",
        "2026-03-07T15:30:00Z",
        "2026-03-08T14:00:00Z",
        "2026-03-08T14:30:00Z",
    ]


def test_preparation_time_and_closed_dates_remove_slots(api, slot_shop, clock):
    clock.moment = at("2026-03-28T08:00:00")  # Saturday 09:00 in Ghent
    s = slot_shop(
        pickup=slotted(preparation=90),
        opening_hours={"sat": [["10:00", "12:00"]], "mon": [["10:00", "11:00"]]},
        closed_dates=["2026-03-30"],
    )
    cart_id, token = new_cart(api, vid(s.bread))

    listing = list_slots(api, cart_id, token, s.id)

    # Ready at 10:30 local: the 10:00 slot is too soon. Monday 30 March is closed, so next Saturday follows.
    assert starts(listing) == [
        "2026-03-28T09:30:00Z",
        "2026-03-28T10:00:00Z",
        "2026-03-28T10:30:00Z",
        "2026-04-04T08:00:00Z",
        "2026-04-04T08:30:00Z",
        "2026-04-04T09:00:00Z",
        "2026-04-04T09:30:00Z",
        "2026-04-06T08:00:00Z",
        "2026-04-06T08:30:00Z",
    ]  # Saturday 11 April 10:00 is exactly 14 days ahead: outside the horizon


def test_a_shop_without_slots_reports_when_pickup_is_ready(api, open_shop, clock):
    clock.moment = at("2026-03-24T08:00:00")  # Tuesday 09:00 in Ghent; the bakery opens 06:30-18:30
    _, key = open_shop(BAKERY)
    bread = make_product(api, key, "Sourdough", [(450, 5)])
    cart_id, token = new_cart(api, vid(bread))
    shop_id = bread["shop_id"]

    listing = list_slots(api, cart_id, token, shop_id)

    assert listing == {
        "shop_id": shop_id,
        "mode": "ready_within_hours",
        "timezone": "Europe/Brussels",
        "slots": [],
        "ready_by": "2026-03-24T09:00:00Z",  # ready within 1 opening hour
    }
    clock.moment = at("2026-03-24T17:00:00")  # 18:00: half an hour left today, the rest on Wednesday
    assert list_slots(api, cart_id, token, shop_id)["ready_by"] == "2026-03-25T06:00:00Z"
    cart = support.send(api, "GET", f"/carts/{cart_id}", headers={"X-Cart-Token": token})[1]
    assert cart["ready_for_checkout"] is True and cart["shops"][0]["fulfilment"]["pickup_slot"] is None
    status, error = choose(api, cart_id, token, shop_id, "2026-03-25T08:00:00Z")
    assert status == 400 and error["error"]["fields"][0]["field"] == "slot_start"


def test_listing_needs_the_token_a_shop_of_the_cart_and_pickup(api, slot_shop, open_shop, clock):
    s = slot_shop()
    _, box_key = open_shop(GROCERY_BOX)
    box = make_product(api, box_key, "Veggie box", [(2000, 5)])
    cart_id, _ = new_cart(api, vid(s.bread))
    other_cart, other_token = new_cart(api, vid(box))

    assert send(api, "GET", f"/carts/{cart_id}/shops/{s.id}/pickup-slots", token=other_token)[0] == 401
    assert send(api, "GET", f"/carts/{other_cart}/shops/{s.id}/pickup-slots", token=other_token)[0] == 404
    status, error = send(
        api, "GET", f"/carts/{other_cart}/shops/{box['shop_id']}/pickup-slots", token=other_token
    )
    assert status == 422 and error["error"]["code"] == "fulfilment_not_offered"


def test_configuring_slots_later_reaches_carts_of_existing_products(api, open_shop, clock):
    _, key = open_shop(BAKERY)
    bread = make_product(api, key, "Sourdough", [(450, 5)])
    cart_id, token = new_cart(api, vid(bread))
    assert list_slots(api, cart_id, token, bread["shop_id"])["mode"] == "ready_within_hours"

    status, body = api.call(
        "PATCH", "/retailer/shop", {"pickup": slotted(), "opening_hours": EVERY_DAY}, key=key
    )
    assert status == 200, body
    assert body["profile"]["pickup"]["slots"]["capacity"] == 2
    run_relisting()  # products carry the shop's terms: rewritten off the request

    assert starts(list_slots(api, cart_id, token, bread["shop_id"]))[0] == "2026-03-28T09:00:00Z"
    cart = support.send(api, "GET", f"/carts/{cart_id}", headers={"X-Cart-Token": token})[1]
    assert cart["problems"] == [f"{bread['shop_id']}:pickup_slot_required"]


def test_slot_config_is_validated(api, open_shop):
    _, key = open_shop(BAKERY)
    for bad in (
        {"length_minutes": 10, "capacity": 2},
        {"length_minutes": 30, "capacity": 0},
        {"capacity": 2},
    ):
        pickup = {**slotted(), "slots": bad}
        status, error = api.call("PATCH", "/retailer/shop", {"pickup": pickup}, key=key)
        assert status == 400, (bad, error)


# --- choosing ---------------------------------------------------------------------------------------------


def test_choosing_a_slot_makes_the_cart_ready_and_shows_it(api, slot_shop, clock):
    s = slot_shop()
    cart_id, token = new_cart(api, vid(s.bread))
    cart = support.send(api, "GET", f"/carts/{cart_id}", headers={"X-Cart-Token": token})[1]
    assert cart["ready_for_checkout"] is False
    assert cart["problems"] == [f"{s.id}:pickup_slot_required"]
    status, error = checkout(api, cart_id, token, "key-no-slot-01")
    assert status == 422 and error["error"]["code"] == "cart_not_ready"

    status, cart = choose(api, cart_id, token, s.id, "2026-03-29T08:30:00Z")

    assert status == 200, cart
    part = cart["shops"][0]["fulfilment"]
    assert part["pickup_slot"] == {"start": "2026-03-29T08:30:00Z", "end": "2026-03-29T09:00:00Z"}
    assert part["problem"] is None and cart["ready_for_checkout"] is True


@pytest.mark.parametrize(
    "written",
    [
        "2026-03-29T08:30:00.000Z",  # Date.prototype.toISOString()
        "2026-03-29T10:30:00+02:00",  # the shop's local time with its offset
        "2026-03-29T10:30+02:00",
        "2026-03-29T08:30Z",
    ],
)
def test_a_slot_start_as_browsers_write_it_is_the_slots_utc_start(api, slot_shop, clock, written):
    s = slot_shop()
    cart_id, token = new_cart(api, vid(s.bread))

    status, cart = choose(api, cart_id, token, s.id, written)

    assert status == 200, cart
    part = cart["shops"][0]["fulfilment"]
    assert part["pickup_slot"] == {"start": "2026-03-29T08:30:00Z", "end": "2026-03-29T09:00:00Z"}
    status, placed = checkout(api, cart_id, token, f"key-written-{len(written)}-{written[-1]}")
    assert status == 201, placed


def test_slots_of_one_day_or_a_range_in_the_shops_zone(api, slot_shop, clock):
    s = slot_shop()
    cart_id, token = new_cart(api, vid(s.bread))
    path = f"/carts/{cart_id}/shops/{s.id}/pickup-slots"

    def listed(query: str) -> list[str]:
        status, body = send(api, "GET", f"{path}?{query}", token=token)
        assert status == 200, body
        return starts(body)

    everything = starts(list_slots(api, cart_id, token, s.id))
    assert len(everything) == 28  # 14 days of two slots (today's passed)
    # Sunday 29 March local, the first day of summer time: 10:00 and 10:30 at UTC+2.
    assert listed("date=2026-03-29") == ["2026-03-29T08:00:00Z", "2026-03-29T08:30:00Z"]
    assert listed("from=2026-03-28&to=2026-03-30") == [
        t for t in everything if t[:10] in ("2026-03-28", "2026-03-29", "2026-03-30")
    ]
    # 5 to 10 April: "to" defaults to 14 days on, the horizon (14 days from now) stops it first.
    assert listed("from=2026-04-05") == everything[-12:]
    assert listed("date=2026-03-27") == []  # today's slots have passed
    assert listed("date=2026-05-01") == []  # beyond the horizon: nothing booked or offered there


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("date=2026-03-29&from=2026-03-28", "date"),
        ("from=2026-03-30&to=2026-03-29", "to"),
        ("from=2026-03-28&to=2026-04-11", "to"),  # 15 days
        ("date=29-03-2026", "date"),
        ("days=3", "days"),
    ],
)
def test_a_bad_day_or_range_is_a_400_naming_the_field(api, slot_shop, clock, query, field):
    s = slot_shop()
    cart_id, token = new_cart(api, vid(s.bread))
    status, error = send(api, "GET", f"/carts/{cart_id}/shops/{s.id}/pickup-slots?{query}", token=token)
    assert (status, error["error"]["code"]) == (400, "validation_error"), error
    assert [f["field"] for f in error["error"]["fields"]] == [field]


@pytest.mark.parametrize(
    ("slot_start", "status", "code"),
    [
        ("2026-03-28 09:00", 400, "validation_error"),  # not a slot key
        ("2026-03-28T09:00:00.250Z", 400, "validation_error"),  # not a slot's start
        ("2026-03-28T09:00:00", 400, "validation_error"),  # no offset: whose 09:00?
        ("2026-03-28T09:15:00Z", 422, "slot_unavailable"),  # between slots
        ("2026-03-28T11:00:00Z", 422, "slot_unavailable"),  # after closing
        ("2026-03-27T09:00:00Z", 422, "slot_unavailable"),  # this morning: past
        ("2026-04-20T08:00:00Z", 422, "slot_unavailable"),  # beyond the 14 days offered
    ],
)
def test_a_slot_that_is_not_offered_is_refused_and_nothing_changes(
    api, slot_shop, clock, slot_start, status, code
):
    s = slot_shop()
    cart_id, token = new_cart(api, vid(s.bread))
    before = support.send(api, "GET", f"/carts/{cart_id}", headers={"X-Cart-Token": token})[1]

    got, error = choose(api, cart_id, token, s.id, slot_start)

    assert (got, error["error"]["code"]) == (status, code), error
    if code == "slot_unavailable":
        assert error["error"]["details"] == {"shop_id": s.id, "slot_start": slot_start}
    assert support.send(api, "GET", f"/carts/{cart_id}", headers={"X-Cart-Token": token})[1] == before


def test_a_slot_is_only_for_pickup(api, open_shop, clock):
    _, key = open_shop(BUTCHER, pickup=slotted(), opening_hours=EVERY_DAY)
    steak = make_product(api, key, "Steak", [(1290, 5)])
    cart_id, token = new_cart(api, vid(steak))
    body = {
        "method": "delivery",
        "slot_start": "2026-03-28T09:00:00Z",
        "address": {
            "street": "Korenmarkt 1",
            "postal_code": "9000",
            "city": "Gent",
            "country": "BE",
            "lat": 51.0543,
            "lng": 3.7219,
        },
        "contact": {"name": "An Peeters", "phone": "+32 470 12 34 56"},
    }
    status, error = send(api, "PUT", f"/carts/{cart_id}/shops/{steak['shop_id']}/fulfilment", body, token)
    assert status == 400 and error["error"]["fields"][0]["field"] == "slot_start"
    # Delivery needs no slot at a shop that takes slot bookings for pickup.
    del body["slot_start"]
    status, cart = send(api, "PUT", f"/carts/{cart_id}/shops/{steak['shop_id']}/fulfilment", body, token)
    assert status == 200 and cart["ready_for_checkout"] is True, cart


# --- checkout -----------------------------------------------------------------------------------------------


def test_checkout_books_the_slot_and_records_it_on_the_sub_order(api, slot_shop, clock):
    s = slot_shop()
    cart_id, token = new_cart(api, vid(s.bread), 3)
    assert choose(api, cart_id, token, s.id, "2026-03-28T09:00:00Z")[0] == 200

    status, result = checkout(api, cart_id, token, "key-slot-book-01")

    assert status == 201, result
    order = support.send(
        api, "GET", f"/orders/{result['order_id']}", headers={"X-Order-Token": result["order_token"]}
    )[1]
    pickup = order["shops"][0]["fulfilment"]["pickup"]
    assert (pickup["slot_start"], pickup["slot_end"]) == ("2026-03-28T09:00:00Z", "2026-03-28T09:30:00Z")
    other_cart, other_token = new_cart(api, vid(s.bread))
    first = list_slots(api, other_cart, other_token, s.id)["slots"][0]
    assert first == {"start": "2026-03-28T09:00:00Z", "end": "2026-03-28T09:30:00Z", "remaining": 1}
    assert stock(api, s.key, s.bread) == 47


def test_a_full_slot_lets_exactly_capacity_checkouts_through_and_then_disappears(api, slot_shop, clock):
    s = slot_shop(pickup=slotted(capacity=2))
    slot = "2026-03-28T09:30:00Z"
    carts = [new_cart(api, vid(s.bread)) for _ in range(5)]
    for cart_id, token in carts:  # all chose while the slot had room
        assert choose(api, cart_id, token, s.id, slot)[0] == 200

    outcomes = [
        checkout(api, cart_id, token, f"key-race-{i:04d}") for i, (cart_id, token) in enumerate(carts)
    ]

    assert Counter(status for status, _ in outcomes) == {201: 2, 409: 3}
    for status, body in outcomes:
        if status == 409:
            assert body["error"]["code"] == "slot_full"
            assert (body["error"]["details"]["shop_id"], body["error"]["details"]["slot_start"]) == (
                s.id,
                slot,
            )
    assert stock(api, s.key, s.bread) == 48  # the refused checkouts reserved nothing
    refused = [carts[i] for i, (status, _) in enumerate(outcomes) if status == 409]
    for cart_id, token in refused:
        cart = support.send(api, "GET", f"/carts/{cart_id}", headers={"X-Cart-Token": token})[1]
        assert cart["status"] == "open" and cart["order_id"] is None
    cart_id, token = refused[0]
    assert slot not in starts(list_slots(api, cart_id, token, s.id))
    status, error = choose(api, cart_id, token, s.id, slot)
    assert status == 422 and error["error"]["code"] == "slot_unavailable"
    assert choose(api, cart_id, token, s.id, "2026-03-28T09:00:00Z")[0] == 200
    assert checkout(api, cart_id, token, "key-race-next")[0] == 201


def test_a_slot_that_passed_after_choosing_stops_checkout_and_nothing_changes(api, slot_shop, clock):
    s = slot_shop()
    cart_id, token = new_cart(api, vid(s.bread))
    assert choose(api, cart_id, token, s.id, "2026-03-28T09:00:00Z")[0] == 200
    clock.moment = at("2026-03-28T09:10:00")

    cart = support.send(api, "GET", f"/carts/{cart_id}", headers={"X-Cart-Token": token})[1]
    assert cart["problems"] == [f"{s.id}:pickup_slot_unavailable"]
    assert cart["shops"][0]["fulfilment"]["pickup_slot"] == {"start": "2026-03-28T09:00:00Z", "end": None}
    status, error = checkout(api, cart_id, token, "key-past-slot-01")

    assert status == 422 and error["error"]["code"] == "cart_not_ready"
    assert error["error"]["details"]["problems"] == [f"{s.id}:pickup_slot_unavailable"]
    assert stock(api, s.key, s.bread) == 50
    assert (
        support.send(api, "GET", f"/carts/{cart_id}", headers={"X-Cart-Token": token})[1]["status"] == "open"
    )


def test_releasing_an_unpaid_order_gives_the_slot_back(api, slot_shop, clock):
    from chalicelib.order.service import cancel_unpaid

    s = slot_shop(pickup=slotted(capacity=1))
    slot = "2026-03-28T09:00:00Z"
    cart_id, token = new_cart(api, vid(s.bread), 2)
    assert choose(api, cart_id, token, s.id, slot)[0] == 200
    status, result = checkout(api, cart_id, token, "key-release-01")
    assert status == 201, result
    other_cart, other_token = new_cart(api, vid(s.bread))
    assert slot not in starts(list_slots(api, other_cart, other_token, s.id))

    assert cancel_unpaid(result["order_id"], reason="hold_expired") == "cancelled"

    first = list_slots(api, other_cart, other_token, s.id)["slots"][0]
    assert first == {"start": slot, "end": "2026-03-28T09:30:00Z", "remaining": 1}
    assert stock(api, s.key, s.bread) == 50
    assert choose(api, other_cart, other_token, s.id, slot)[0] == 200
    assert checkout(api, other_cart, other_token, "key-release-02")[0] == 201
    # Cancelling again changes nothing: the slot is not given back twice.
    assert cancel_unpaid(result["order_id"], reason="hold_expired") == "ignored_cancelled"
    assert slot not in starts(list_slots(api, other_cart, other_token, s.id))


def test_checkout_with_a_slot_keeps_the_call_budget(api, slot_shop, clock, monkeypatch):
    """GetItem cart, BatchGetItem catalogue, BatchGetItem shops' status, BatchGetItem commission rates, one
    transaction, UpdateItem order: the slot adds no call."""
    from chalicelib.core.db import MallItem

    intent = SimpleNamespace(id="pi_budget", client_secret="pi_budget_secret")
    stripe = SimpleNamespace(create_payment_intent=lambda **kwargs: intent)
    monkeypatch.setattr("chalicelib.checkout.service.gateway", lambda: stripe)
    s = slot_shop()
    cart_id, token = new_cart(api, vid(s.bread))
    assert choose(api, cart_id, token, s.id, "2026-03-28T09:00:00Z")[0] == 200
    calls: list[str] = []
    events = MallItem._get_connection().connection.client.meta.events
    record = lambda model, **kwargs: calls.append(model.name)  # noqa: E731
    events.register("before-call.dynamodb", record)
    try:
        status, result = checkout(api, cart_id, token, "key-budget-01")
    finally:
        events.unregister("before-call.dynamodb", record)

    assert status == 201, result
    assert sorted(calls) == [
        "BatchGetItem",
        "BatchGetItem",
        "BatchGetItem",
        "GetItem",
        "TransactWriteItems",
        "UpdateItem",
    ]


def test_cancelling_a_paid_pickup_gives_its_slot_back(api, slot_shop, clock):
    s = slot_shop(pickup=slotted(capacity=1))
    slot = "2026-03-28T09:00:00Z"
    cart_id, token = new_cart(api, vid(s.bread), 1)
    assert choose(api, cart_id, token, s.id, slot)[0] == 200
    status, result = checkout(api, cart_id, token, "key-paid-cancel-01")
    assert status == 201, result
    assert send(api, "POST", f"/dev/payments/{result['payment_intent_id']}/succeed")[0] == 200
    other_cart, other_token = new_cart(api, vid(s.bread))
    assert slot not in starts(list_slots(api, other_cart, other_token, s.id))

    status, body = support.send(
        api,
        "POST",
        f"/orders/{result['order_id']}/shops/{s.id}/cancel",
        headers={"X-Order-Token": result["order_token"]},
    )

    assert status in (200, 201), body
    assert list_slots(api, other_cart, other_token, s.id)["slots"][0]["start"] == slot
