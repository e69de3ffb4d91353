"""Order events: every status change of an order or sub-order is recorded as an item in the same transaction
as the change, so an event exists exactly when the change happened. Delivering them (e-mail, retailer
webhooks) is the notification relay's job: each event is created in the outbox index and
chalicelib/notify/relay.py publishes it from there; the dev feed reads them back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.core.clock import now, stamp
from chalicelib.core.db import shard_of
from chalicelib.order.models import OrderEventItem
from chalicelib.order.schemas import OrderEvent, OrderEventPage

EVENT_TTL = timedelta(days=30)
PARTITION = "EVENTS#{day}"
# The outbox: an event is in this sparse gsi2 partition from the transaction that writes it until the relay
# (chalicelib/notify/relay.py) has published it, so "what is left to publish" is a Query by key per shard.
# The table's stream hands each new event to the relay at once; the outbox is what a sweep falls back on.
# Sharded by order (or payout) id so no one index partition takes every event's write.
OUTBOX_PARTITION = "OUTBOX#pending#{shard}"
OUTBOX_SHARDS = 8


def outbox_partition(source_id: str) -> str:
    return OUTBOX_PARTITION.format(shard=shard_of(source_id, OUTBOX_SHARDS))


def order_event(
    event_type: str,
    *,
    order_id: str,
    shop_id: str | None,
    shop_ids: list[str],
    from_status: str,
    to_status: str,
    by: str,
    seq: int,
    moment: datetime,
) -> OrderEventItem:
    at = stamp(moment)
    sort_key = f"{at}#{order_id}#{shop_id or '-'}#{seq}"
    return OrderEventItem(
        PARTITION.format(day=at[:10]),
        sort_key,
        gsi2pk=outbox_partition(order_id),
        gsi2sk=sort_key,
        event_type=event_type,
        order_id=order_id,
        shop_id=shop_id,
        shop_ids=shop_ids,
        from_status=from_status,
        to_status=to_status,
        by=by,
        at=at,
        expires_at=int((moment + EVENT_TTL).timestamp()),
    )


def payout_event(
    event_type: str,
    *,
    shop_id: str,
    payout_id: str,
    amount_cents: int,
    from_status: str,
    to_status: str,
    moment: datetime,
) -> OrderEventItem:
    """A payout's change (payout.paid, payout.failed) for the shop's webhook and the operator's channel,
    through the same outbox as order events: written in the transaction of the change."""
    at = stamp(moment)
    sort_key = f"{at}#{payout_id}#{shop_id}#{to_status}"
    return OrderEventItem(
        PARTITION.format(day=at[:10]),
        sort_key,
        gsi2pk=outbox_partition(payout_id),
        gsi2sk=sort_key,
        event_type=event_type,
        order_id=None,
        payout_id=payout_id,
        amount_cents=amount_cents,
        shop_id=shop_id,
        shop_ids=[shop_id],
        from_status=from_status,
        to_status=to_status,
        by="system",
        at=at,
        expires_at=int((moment + EVENT_TTL).timestamp()),
    )


def recent_events(limit: int, moment: datetime | None = None) -> OrderEventPage:
    """The newest ``limit`` events of today (UTC), topped up from yesterday so that a read just after
    midnight still shows what just happened. Two Queries at most."""
    today = (moment or now()).astimezone(UTC)
    items: list[OrderEventItem] = []
    for day in (today, today - timedelta(days=1)):
        remaining = limit - len(items)
        if remaining <= 0:
            break
        items += OrderEventItem.query(
            PARTITION.format(day=day.date().isoformat()), scan_index_forward=False, limit=remaining
        )
    return OrderEventPage(
        [
            OrderEvent(
                type=e.event_type,
                order_id=e.order_id,
                shop_id=e.shop_id,
                shop_ids=list(e.shop_ids),
                from_status=e.from_status,
                to_status=e.to_status,
                by=e.by,
                at=e.at,
                payout_id=e.payout_id,
                amount_cents=None if e.amount_cents is None else int(e.amount_cents),
            )
            for e in items
        ]
    )
