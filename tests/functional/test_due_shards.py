"""The due-work indexes (checkout holds, pickups waiting for collection, the event outbox, webhook deliveries)
spread their writes over shards, so no one index partition takes every order's write, and each job still
finds everything due in every shard."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from support import bread_and_steak
from test_order_lifecycle import move, place_order

from chalicelib.core.clock import now
from chalicelib.core.db import shard_of, shard_partitions
from chalicelib.notify import relay, webhooks
from chalicelib.notify.models import DUE_PARTITION, DUE_SHARDS, DeliveryItem, due_partition
from chalicelib.order.events import OUTBOX_PARTITION, OUTBOX_SHARDS
from chalicelib.order.models import EXPIRY_PARTITION, EXPIRY_SHARDS, OrderEventItem, OrderItem, SubOrderItem
from chalicelib.order.moves import NO_SHOW_PARTITION, NO_SHOW_SHARDS
from chalicelib.order.no_shows import cancel_no_shows
from chalicelib.order.service import expire_holds

ORDERS = 10


@pytest.fixture
def shops(api, open_shop) -> dict[str, Any]:
    return bread_and_steak(api, open_shop, bread=(450, 50), steak=(1290, 50))


def per_partition(model: Any, index: Any, template: str, shards: int) -> dict[str, list[Any]]:
    found = {p: list(index.query(p)) for p in shard_partitions(template, shards)}
    return {p: items for p, items in found.items() if items}


def test_unpaid_orders_spread_over_the_hold_shards_and_the_expiry_job_reads_them_all(api, shops):
    orders = [place_order(api, shops, pay=False)["order_id"] for _ in range(ORDERS)]

    held = per_partition(OrderItem, OrderItem.gsi3, EXPIRY_PARTITION, EXPIRY_SHARDS)
    assert len(held) > 1  # 10 orders in one of 8 shards: about 1 in 2 million
    for partition, items in held.items():
        assert {partition} == {
            EXPIRY_PARTITION.format(shard=shard_of(o.order_id, EXPIRY_SHARDS)) for o in items
        }
    assert sorted(o.order_id for items in held.values() for o in items) == sorted(orders)
    assert list(OrderItem.gsi3.query("HOLDS#pending_payment")) == []

    expired = expire_holds(moment=now() + timedelta(minutes=31))

    assert sorted(expired) == sorted((order_id, "cancelled") for order_id in orders)
    assert per_partition(OrderItem, OrderItem.gsi3, EXPIRY_PARTITION, EXPIRY_SHARDS) == {}


def test_ready_pickups_spread_over_the_no_show_shards_and_the_job_cancels_them_all(api, shops):
    orders = [place_order(api, shops)["order_id"] for _ in range(ORDERS)]
    for order_id in orders:
        for to in ("preparing", "ready_for_pickup"):
            assert move(api, shops["bakery_key"], order_id, to)[0] == 200

    waiting = per_partition(SubOrderItem, SubOrderItem.gsi3, NO_SHOW_PARTITION, NO_SHOW_SHARDS)
    assert len(waiting) > 1
    assert sorted(s.order_id for items in waiting.values() for s in items) == sorted(orders)
    assert list(SubOrderItem.gsi3.query("NOSHOW#pending")) == []

    results = cancel_no_shows(moment=now() + timedelta(days=4))

    assert sorted(r.order_id for r in results) == sorted(orders)
    assert {r.outcome for r in results} == {"refund_succeeded"}
    assert per_partition(SubOrderItem, SubOrderItem.gsi3, NO_SHOW_PARTITION, NO_SHOW_SHARDS) == {}


def test_events_spread_over_the_outbox_shards_and_the_sweep_relays_them_oldest_first(api, shops):
    orders = [place_order(api, shops)["order_id"] for _ in range(ORDERS)]

    pending = per_partition(OrderEventItem, OrderEventItem.gsi2, OUTBOX_PARTITION, OUTBOX_SHARDS)
    assert len(pending) > 1
    assert Counter(e.order_id for items in pending.values() for e in items) == Counter(orders)  # order.paid
    published: list[str] = []

    def publisher(events: Any) -> set[str]:
        published.extend(envelope["data"]["order_id"] for _, envelope in events)
        return {event_id for event_id, _ in events}

    assert relay.relay_events(limit=4, publisher=publisher) == 4
    assert published == orders[:4]  # oldest first across the shards
    assert relay.relay_events(publisher=publisher) == ORDERS - 4
    assert published == orders
    assert per_partition(OrderEventItem, OrderEventItem.gsi2, OUTBOX_PARTITION, OUTBOX_SHARDS) == {}


def test_deliveries_are_due_in_their_shops_shard_and_every_shard_is_attempted(api, shops, monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr(
        webhooks,
        "post",
        lambda url, secret, event_id, body: sent.append(url) or webhooks.Attempt(True, 200, None),
    )
    for shop in ("bakery", "butcher"):
        key = shops[f"{shop}_key"]
        assert api.call("PUT", "/retailer/webhook", {"url": f"http://127.0.0.1:9/{shop}"}, key=key)[0] == 200
    place_order(api, shops)
    relay.relay_events(publisher=lambda events: {event_id for event_id, _ in events})

    due = per_partition(DeliveryItem, DeliveryItem.gsi3, DUE_PARTITION, DUE_SHARDS)
    assert sorted(d.shop_id for items in due.values() for d in items) == sorted(
        shops[s]["id"] for s in ("bakery", "butcher")
    )
    for partition, items in due.items():
        assert {partition} == {due_partition(d.shop_id) for d in items}

    assert webhooks.deliver_due() == {"delivered": 2}
    assert sorted(sent) == ["http://127.0.0.1:9/bakery", "http://127.0.0.1:9/butcher"]
    assert per_partition(DeliveryItem, DeliveryItem.gsi3, DUE_PARTITION, DUE_SHARDS) == {}
