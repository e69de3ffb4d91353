"""The outbox relay: publishes order events written by the order flow, then hands each shop's events to
its webhook.

Every order state change writes an event item in its own transaction, in a sparse outbox index shard
(chalicelib/order/events.py). The table's stream (NEW_IMAGE, infra/mall-stack.yaml) hands each inserted
event to ``relay_stream`` within about a second: it publishes the events to the event channel
(EventBridge, or a log line locally), creates a webhook delivery per shop that has a webhook, and only
then takes the event out of the outbox with a conditional update. The scheduled ``relay_notifications``
sweeps what the stream path left behind (a channel outage, a crash) once it is SWEEP_GRACE old, and sends
the due webhooks. A crash between the publish and that update publishes the event again: delivery is at
least once, and every event carries a stable ``id`` for consumers to dedupe on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.core.clock import now, stamp
from chalicelib.core.db import shard_partitions
from chalicelib.core.log import logger
from chalicelib.notify.channel import Publisher, default_publisher
from chalicelib.notify.webhooks import create_delivery, deliver_due, shop_webhook
from chalicelib.order.events import OUTBOX_PARTITION, OUTBOX_SHARDS
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


BOOKKEEPING_WORKERS = 8
# The stream hands an event over within seconds; the sweep leaves it that long before it steps in, so the
# two rarely publish one event twice.
SWEEP_GRACE = timedelta(minutes=2)


def pending_events(limit: int, written_before: str | None = None) -> list[OrderEventItem]:
    """The oldest ``limit`` events still in the outbox (written before ``written_before``, a stamp, if
    given): one Query per shard of at most ``limit`` each, merged by time."""
    condition = OrderEventItem.gsi2sk < written_before if written_before else None
    found: list[OrderEventItem] = []
    for partition in shard_partitions(OUTBOX_PARTITION, OUTBOX_SHARDS):
        found += [
            item
            for item in OrderEventItem.gsi2.query(partition, condition, limit=limit)
            if isinstance(item, OrderEventItem)
        ]
    return sorted(found, key=lambda item: item.gsi2sk or "")[:limit]


def relay_events(
    limit: int = 100, publisher: Publisher | None = None, written_before: str | None = None
) -> int:
    """Publishes up to ``limit`` unpublished events, oldest first; returns how many left the outbox."""
    return relay_items(pending_events(limit, written_before), publisher)


def relay_stream(records: Iterable[Mapping[str, Any]], publisher: Publisher | None = None) -> int:
    """The stream's handler: relays the events among the table's stream records (inserted items of kind
    ``order_event``; every other write is skipped). Never raises: what fails stays in the outbox for the
    sweep, so one bad batch never blocks the stream shard behind it."""
    items = [item for item in map(_inserted_event, records) if item is not None]
    if not items:
        return 0
    try:
        return relay_items(items, publisher)
    except Exception:
        logger.exception("relaying streamed events failed; the sweep will publish them")
        return 0


def _inserted_event(record: Mapping[str, Any]) -> OrderEventItem | None:
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    if record.get("eventName") != "INSERT" or image.get("kind", {}).get("S") != "order_event":
        return None
    return OrderEventItem.from_raw_data(image)


def relay_items(items: Sequence[OrderEventItem], publisher: Publisher | None = None) -> int:
    """Publishes the events, schedules their webhook deliveries and takes them out of the outbox; returns
    how many left it. An event the channel refused, or whose bookkeeping failed, stays in the outbox."""
    if not items:
        return 0
    publish = publisher or default_publisher()
    by_id = {event_id(item): item for item in items}
    published = publish([(eid, envelope(item)) for eid, item in by_id.items()])
    if not published:
        return 0

    def bookkeep(eid: str) -> int:
        try:
            _schedule_webhooks(by_id[eid], eid)
            _leave_outbox(by_id[eid])
        except Exception:
            logger.exception("event published but not taken out of the outbox", extra={"event_id": eid})
            return 0
        return 1

    # Three DynamoDB calls an event, each waiting on the network: a stream shard's batch of 100 is done
    # in the time of about 13 events, not 100.
    with ThreadPoolExecutor(max_workers=min(BOOKKEEPING_WORKERS, len(published))) as pool:
        return sum(pool.map(bookkeep, published))


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
            condition=OrderEventItem.gsi2pk.exists(),
        )
    except UpdateError as error:
        # Another relay took it out first (it published it too: at least once).
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def relay_notifications(
    limit: int = 500, publisher: Publisher | None = None, grace: timedelta = SWEEP_GRACE
) -> dict[str, Any]:
    """The scheduled job: sweep the events the stream path left in the outbox for longer than ``grace``,
    then attempt the webhook deliveries that are due."""
    try:
        relayed = relay_events(limit, publisher, written_before=stamp(now() - grace))
    except Exception:
        # The channel is down: the events wait in the outbox, and webhooks already due still go out.
        logger.exception("publishing order events failed; they stay in the outbox")
        relayed = 0
    deliveries = deliver_due()
    if relayed or deliveries:
        logger.info("notifications relayed", extra={"events": relayed, "deliveries": deliveries})
    return {"events": relayed, "deliveries": deliveries}
