"""The one place that applies a sub-order's status change, with everything the change implies: the
history line, the status indexes, the no-show index, the event, and at hand-over the shop's earnings.

It decides nothing: the caller has asked chalicelib/order/lifecycle.py whether the move is allowed. Every
flow that changes a status (payment, fulfilment, refunds and cancellations, the no-show job) stages its
move here, in its own transaction, conditional on the status it read, so a move and what it implies are
written together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.core.clock import iso
from chalicelib.core.db import MallItem, shard_of
from chalicelib.ledger import entries as ledger
from chalicelib.order.events import order_event
from chalicelib.order.lifecycle import HANDED_OVER, Status
from chalicelib.order.models import SubOrderItem

# Sharded by order id: no one index partition takes every ready pickup's write (docs/data-model.md).
NO_SHOW_PARTITION = "NOSHOW#pending#{shard}"
NO_SHOW_SHARDS = 8
DEFAULT_NO_SHOW_DAYS = 3


def no_show_index(sub: SubOrderItem, ready_at: datetime) -> tuple[str, str]:
    """The sparse gsi3 key a pickup sub-order gets when it becomes ready: sorted by when it is due, so the
    no-show job (chalicelib/order/no_shows.py) reads only what is overdue whatever each shop's days."""
    pickup = sub.fulfilment.get("pickup") or {}
    days = int(pickup.get("no_show_days", DEFAULT_NO_SHOW_DAYS))
    partition = NO_SHOW_PARTITION.format(shard=shard_of(sub.order_id, NO_SHOW_SHARDS))
    return partition, f"{iso(ready_at + timedelta(days=days))}#{sub.order_id}#{sub.shop_id}"


def books_of(sub: SubOrderItem) -> ledger.SubOrderBooks:
    charged = sub.commission_charged_cents
    return ledger.SubOrderBooks(
        order_id=sub.order_id,
        shop_id=sub.shop_id,
        lines=list(sub.lines),
        delivery_fee_cents=int(sub.delivery_fee_cents),
        rate=sub.commission_rate,
        commission_charged_cents=None if charged is None else int(charged),
    )


def stage_move(
    tx: TransactWrite,
    sub: SubOrderItem,
    to: str,
    by: str,
    moment: datetime,
    *,
    actions: Sequence[Any] = (),
    condition: Condition | None = None,
    event: bool = True,
) -> None:
    """Stages the sub-order's update from its current status to ``to`` (plus the caller's own ``actions``
    and ``condition`` on the same item: DynamoDB allows one write per item in a transaction) and the items
    the move implies. Updates ``sub`` in memory to what the transaction writes.

    ``event``: False for moves of a whole order, whose caller records one order-level event instead.
    """
    before = sub.status
    at = iso(moment)
    history = [*sub.history, {"at": at, "by": by, "from": before, "to": to}]
    sub.status = to
    sub.index_for_status()
    writes: list[Any] = [
        SubOrderItem.status.set(to),
        SubOrderItem.gsi1pk.set(sub.gsi1pk),
        SubOrderItem.gsi1sk.set(sub.gsi1sk),
        SubOrderItem.history.set(history),
        SubOrderItem.updated_at.set(at),
        *actions,
    ]
    if to == Status.READY_FOR_PICKUP:
        # The no-show job finds it through this sparse index entry, due N days (per shop) from now.
        gsi3pk, gsi3sk = no_show_index(sub, moment)
        writes += [SubOrderItem.gsi3pk.set(gsi3pk), SubOrderItem.gsi3sk.set(gsi3sk)]
        writes.append(SubOrderItem.ready_at.set(at))
    elif before == Status.READY_FOR_PICKUP:
        writes += [SubOrderItem.gsi3pk.remove(), SubOrderItem.gsi3sk.remove()]
    if to in HANDED_OVER:
        # The shop earns now: the sale and its commission, in this transaction (the ledger's rule).
        posting = ledger.hand_over(books_of(sub), units(sub.refunded), sub.taken_cents, moment)
        ledger.stage(tx, posting)
        writes += [
            SubOrderItem.earned_at.set(at),
            SubOrderItem.commission_charged_cents.set(posting.commission_charged_cents or 0),
        ]
        sub.earned_at, sub.commission_charged_cents = at, posting.commission_charged_cents or 0
    same = SubOrderItem.status == before
    tx.update(sub, actions=writes, condition=same & condition if condition is not None else same)
    if event:
        tx.save(
            order_event(
                f"sub_order.{to}",
                order_id=sub.order_id,
                shop_id=sub.shop_id,
                shop_ids=[sub.shop_id],
                from_status=before,
                to_status=to,
                by=by,
                seq=len(history) - 1,
                moment=moment,
            ),
            condition=MallItem.pk.does_not_exist(),
        )
    sub.history = history
    sub.updated_at = at


def stage_posting(tx: TransactWrite, sub: SubOrderItem, posting: ledger.Posting) -> list[Any]:
    """Stages a ledger posting of ``sub`` and returns the sub-order actions it implies (its running
    commission), for the caller's one update of the sub-order."""
    ledger.stage(tx, posting)
    if posting.commission_charged_cents is None:
        return []
    sub.commission_charged_cents = posting.commission_charged_cents
    return [SubOrderItem.commission_charged_cents.set(posting.commission_charged_cents)]


def units(refunded: Mapping[str, Any] | None) -> dict[str, int]:
    return {variant: int(quantity) for variant, quantity in (refunded or {}).items()}
