"""Platform events that touch what shops are owed: disputes of a charge, and Stripe's processing fee of
a paid order (for the mall's commission report).

A dispute (``charge.dispute.created``) holds the earnings of every shop of the disputed order until it
closes (``charge.dispute.closed``): won, they are released; lost, each shop is debited its share of the
disputed amount (split over what the customer still paid each shop, the commission on it returned pro
rata). The dispute's fee is the mall's (it is not passed on to the shops).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.core.clock import iso, now, stamp
from chalicelib.core.db import MallItem, transaction
from chalicelib.core.log import logger
from chalicelib.ledger import entries as ledger
from chalicelib.ledger.commission import earnings, split
from chalicelib.order.errors import OrderNotFound
from chalicelib.order.lifecycle import Status
from chalicelib.order.models import SubOrderItem
from chalicelib.order.moves import books_of, stage_posting
from chalicelib.order.service import EventRecord, applied, load_order, record_only
from chalicelib.payment import gateway as provider
from chalicelib.payment.gateway import PaymentProviderFailed
from chalicelib.payment.models import ProcessedEvent
from chalicelib.payment.webhooks import MalformedEvent, event_object, text
from chalicelib.payout.accounts import ensure_account
from chalicelib.payout.models import DisputeItem, PayoutAccountItem, ProcessingFeeItem

DISPUTE_EVENTS = ("charge.dispute.created", "charge.dispute.closed")
OPEN, WON, LOST = "open", "won", "lost"
_CLOSE_TRIES = 3


def dispute_event(event: dict[str, Any]) -> str:
    dispute = event_object(event)
    dispute_id, intent_id = text(dispute.get("id")), text(dispute.get("payment_intent"))
    amount = dispute.get("amount")
    if not dispute_id or not isinstance(amount, int) or isinstance(amount, bool):
        raise MalformedEvent("data.object")
    record = EventRecord(str(event["id"]), str(event["type"]))
    if not intent_id:
        return record_only(record, "ignored_no_payment_intent")
    try:
        order_id = provider.gateway().retrieve_payment_intent(intent_id).metadata.get("order_id")
    except PaymentProviderFailed as error:
        if not error.refused:
            raise  # unknown: Stripe delivers the event again
        return record_only(record, "ignored_unknown_payment_intent")  # not a payment of this mall
    if not order_id:
        return record_only(record, "ignored_no_order")
    try:
        if event["type"] == "charge.dispute.created":
            return _opened(order_id, dispute_id, amount, text(dispute.get("reason")), record)
        return _closed(order_id, dispute_id, text(dispute.get("status")) or "", record)
    except OrderNotFound:
        return record_only(record, "ignored_unknown_order")


def _opened(order_id: str, dispute_id: str, amount: int, reason: str | None, record: EventRecord) -> str:
    _, subs = load_order(order_id)
    shop_ids = sorted(sub.shop_id for sub in subs)
    for shop_id in shop_ids:
        ensure_account(shop_id)
    at = stamp(now())
    item = DisputeItem(
        *DisputeItem.key_for(order_id, dispute_id),
        dispute_id=dispute_id,
        order_id=order_id,
        shop_ids=shop_ids,
        amount_cents=amount,
        status=OPEN,
        reason=reason,
        created_at=at,
        updated_at=at,
    )
    try:
        with transaction() as tx:
            tx.save(item, condition=MallItem.pk.does_not_exist())
            for shop_id in shop_ids:
                tx.update(
                    PayoutAccountItem(*PayoutAccountItem.key_for(shop_id)),
                    actions=[PayoutAccountItem.held_orders.add({order_id})],
                )
            tx.save(record.item("held"), condition=ProcessedEvent.pk.does_not_exist())
    except TransactWriteError:
        if applied(record) or _dispute(order_id, dispute_id) is not None:
            return record_only(record, "duplicate")
        raise  # not applied (a conflict, a throttle): Stripe delivers the event again
    logger.warning("order disputed: shops' earnings held", extra={"order_id": order_id})
    return "held"


def _dispute(order_id: str, dispute_id: str) -> DisputeItem | None:
    try:
        return DisputeItem.get(*DisputeItem.key_for(order_id, dispute_id), consistent_read=True)
    except DisputeItem.DoesNotExist:
        return None


def _closed(
    order_id: str, dispute_id: str, stripe_status: str, record: EventRecord, tries: int = _CLOSE_TRIES
) -> str:
    dispute = _dispute(order_id, dispute_id)
    if dispute is None:
        return record_only(record, "ignored_unknown_dispute")
    if dispute.status != OPEN:
        return record_only(record, "duplicate")
    outcome = LOST if stripe_status == "lost" else WON
    _, subs = load_order(order_id)
    moment = now()
    try:
        with transaction() as tx:
            tx.update(
                dispute,
                actions=[DisputeItem.status.set(outcome), DisputeItem.updated_at.set(stamp(moment))],
                condition=DisputeItem.status == OPEN,
            )
            for shop_id in dispute.shop_ids:
                tx.update(
                    PayoutAccountItem(*PayoutAccountItem.key_for(shop_id)),
                    actions=[PayoutAccountItem.held_orders.delete({order_id})],
                )
            if outcome == LOST:
                _stage_debits(tx, subs, dispute, moment)
            tx.save(record.item(outcome), condition=ProcessedEvent.pk.does_not_exist())
    except TransactWriteError:
        if applied(record):
            return "duplicate"
        if tries > 1:  # closed meanwhile, or a refund moved a sub-order's counter: judge again on a re-read
            return _closed(order_id, dispute_id, stripe_status, record, tries - 1)
        raise  # still conflicting: Stripe delivers the event again
    return outcome


def _stage_debits(tx: Any, subs: list[SubOrderItem], dispute: DisputeItem, moment: datetime) -> None:
    """Each shop's share of the lost amount, in proportion to what the customer still paid it."""
    remaining = [_still_paid(sub) for sub in subs]
    amount = min(int(dispute.amount_cents), sum(remaining))
    for sub, part, whole in zip(subs, split(amount, remaining), remaining, strict=True):
        posting = ledger.dispute_lost(books_of(sub), dispute.dispute_id, part, whole, moment)
        if not posting.entries:
            continue
        seq = int(sub.refund_seq or 0)
        same = (
            SubOrderItem.refund_seq.does_not_exist()
            if sub.refund_seq is None
            else SubOrderItem.refund_seq == seq
        )
        actions = stage_posting(tx, sub, posting)
        tx.update(sub, actions=[*actions, SubOrderItem.refund_seq.set(seq + 1)], condition=same)


def _still_paid(sub: SubOrderItem) -> int:
    if sub.status in (Status.PENDING_PAYMENT, Status.CANCELLED) or (
        sub.status == Status.REFUNDED and sub.earned_at is None
    ):
        return 0
    return earnings(sub.lines, sub.taken_cents, int(sub.delivery_fee_cents), sub.commission_rate).sale_cents


def record_processing_fee(order_id: str, charge_id: str | None) -> None:
    """Stripe's fee of a paid order's charge, for the report; best effort (the payment is already
    recorded, and the fee is "where known")."""
    if not charge_id:
        return
    try:
        fee = provider.gateway().charge_fee(charge_id)
    except PaymentProviderFailed:
        logger.warning("processing fee unknown", extra={"order_id": order_id})
        return
    if fee is None:
        return
    at = iso(now())
    item = ProcessingFeeItem(*ProcessingFeeItem.key_for(order_id), order_id=order_id, amount_cents=fee, at=at)
    item.gsi2pk, item.gsi2sk = f"FEES#{at[:10]}", f"{at}#{order_id}"
    try:
        item.save(condition=ProcessingFeeItem.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
