"""The outbox relay: publishes order events written by the order flow, then hands each shop's events to
its webhook.

Every order state change writes an event item in its own transaction, in the sparse outbox index
(chalicelib/order/events.py). This relay, run on a schedule, Queries that index, publishes the events to
the event channel (EventBridge, or a log line locally), creates a webhook delivery per shop that has a
webhook, and only then takes the event out of the index with a conditional update. A crash between the
publish and that update publishes the event again on the next run: delivery is at least once, and every
event carries a stable ``id`` for consumers to dedupe on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.core.log import logger
from chalicelib.notify.channel import Publisher, default_publisher
from chalicelib.notify.webhooks import create_delivery, deliver_due, shop_webhook
from chalicelib.order.events import OUTBOX_PARTITION
from chalicelib.order.models import OrderEventItem


def event_id(item: OrderEventItem) -> str:
    """Stable across republishes: derived from the event's key, which never changes."""
    return "evt_" + hashlib.sha256(f"{item.pk}|{item.sk}".encode()).hexdigest()[:32]


def envelope(item: OrderEventItem) -> dict[str, Any]:
    """What the operator's channel receives: the whole event, every shop concerned included."""
    data: dict[str, Any] = {
        "order_id": item.order_id,
        "shop_id": item.shop_id,
        "shop_ids": list(item.shop_ids),
        "from_status": item.from_status,
        "to_status": item.to_status,
        "by": item.by,
    }
    if item.payout_id:
        data = {**data, "payout_id": item.payout_id, "amount_cents": int(item.amount_cents or 0)}
        del data["order_id"]
    return {"id": event_id(item), "type": item.event_type, "created_at": item.at, "data": data}


def webhook_body(item: OrderEventItem, shop_id: str) -> str:
    """What one shop's webhook receives: the same event, naming that shop only (an order's other shops
    are none of its business)."""
    body = envelope(item)
    body["data"] = {**body["data"], "shop_id": shop_id}
    del body["data"]["shop_ids"]
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def pending_events(limit: int) -> list[OrderEventItem]:
    found = OrderEventItem.gsi2.query(OUTBOX_PARTITION, limit=limit)
    return [item for item in found if isinstance(item, OrderEventItem)]


def relay_events(limit: int = 100, publisher: Publisher | None = None) -> int:
    """Publishes up to ``limit`` unpublished events, oldest first; returns how many left the outbox. An
    event the channel refused, or whose bookkeeping failed, stays in the outbox for the next run."""
    items = pending_events(limit)
    if not items:
        return 0
    publish = publisher or default_publisher()
    by_id = {event_id(item): item for item in items}
    published = publish([(eid, envelope(item)) for eid, item in by_id.items()])
    relayed = 0
    for eid in published:
        item = by_id[eid]
        try:
            _schedule_webhooks(item, eid)
            _leave_outbox(item)
        except Exception:
            logger.exception("event published but not taken out of the outbox", extra={"event_id": eid})
            continue
        relayed += 1
    return relayed


def _schedule_webhooks(item: OrderEventItem, eid: str) -> None:
    shops: Sequence[str] = [item.shop_id] if item.shop_id else list(item.shop_ids)
    for shop_id in shops:
        webhook = shop_webhook(shop_id)
        if webhook is not None:
            create_delivery(shop_id, webhook, eid, item.event_type, webhook_body(item, shop_id), item.at)


def _leave_outbox(item: OrderEventItem) -> None:
    try:
        item.update(
            actions=[OrderEventItem.gsi2pk.remove(), OrderEventItem.gsi2sk.remove()],
            condition=OrderEventItem.gsi2pk == OUTBOX_PARTITION,
        )
    except UpdateError as error:
        # Another relay took it out first (it published it too: at least once).
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def relay_notifications(limit: int = 100, publisher: Publisher | None = None) -> dict[str, Any]:
    """The scheduled job: relay new events, then attempt the webhook deliveries that are due."""
    try:
        relayed = relay_events(limit, publisher)
    except Exception:
        # The channel is down: the events wait in the outbox, and webhooks already due still go out.
        logger.exception("publishing order events failed; they stay in the outbox")
        relayed = 0
    deliveries = deliver_due()
    if relayed or deliveries:
        logger.info("notifications relayed", extra={"events": relayed, "deliveries": deliveries})
    return {"events": relayed, "deliveries": deliveries}
