"""A refund's final status: pending → succeeded/failed, exactly once, from the provider's answer or its
webhook; and what that does to the sub-order (refunded, partially refunded, or the units given back)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.core import metrics
from chalicelib.core.clock import now, stamp
from chalicelib.core.db import transaction
from chalicelib.core.log import logger
from chalicelib.ledger import entries as ledger
from chalicelib.order import lifecycle
from chalicelib.order.errors import OrderNotFound, RefundNotFound, SubOrderChangedConcurrently
from chalicelib.order.lifecycle import Actor, Status
from chalicelib.order.models import RefundItem, SubOrderItem
from chalicelib.order.moves import books_of, stage_move, stage_posting, units
from chalicelib.order.service import EventRecord, record_only
from chalicelib.payment.models import ProcessedEvent

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# shop_id of a refund the mall makes itself: a payment that succeeded after its order was cancelled.
MALL = "mall"
# gsi2 of refunds still to be seen through (pending or failed), for the operator and the retry job.
REFUND_INDEX = "REFUNDS#{status}"
RACE_CODES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_SETTLE_TRIES = 3


def index(refund: RefundItem, status: str, at: str) -> None:
    refund.gsi2pk = REFUND_INDEX.format(status=status) if status in (PENDING, FAILED) else None
    refund.gsi2sk = f"{at}#{refund.order_id}#{refund.refund_id}" if refund.gsi2pk else None


def index_actions(refund: RefundItem, status: str, at: str) -> list[Any]:
    index(refund, status, at)
    if refund.gsi2pk is None:
        return [RefundItem.gsi2pk.remove(), RefundItem.gsi2sk.remove()]
    return [RefundItem.gsi2pk.set(refund.gsi2pk), RefundItem.gsi2sk.set(refund.gsi2sk)]


def load_refund(order_id: str, refund_id: str) -> RefundItem:
    try:
        return RefundItem.get(*RefundItem.key_for(order_id, refund_id), consistent_read=True)
    except RefundItem.DoesNotExist:
        raise RefundNotFound(refund_id) from None


def outcome_of(provider_status: str) -> str | None:
    if provider_status == "succeeded":
        return SUCCEEDED
    if provider_status in ("failed", "canceled"):
        return FAILED
    return None


def settle(
    order_id: str, refund_id: str, outcome: str, provider_refund_id: str | None, event: EventRecord | None
) -> str:
    """pending → succeeded/failed, exactly once (per refund and per provider event).

    Succeeded: the sub-order becomes refunded / partially_refunded (the status says money moved only once
    it did). Failed: a refund of some units gives them back to the sub-order's refundable quantities and,
    once handed over, posts their amount back to the shop; a refund that cancelled stays failed, to be
    retried (the customer is still owed the money).

    Each settlement also moves the sub-order's settlement counter, conditional on the counters read, so two
    refunds settling at once are judged one after the other and the last one sees the whole picture.
    """
    for _ in range(_SETTLE_TRIES):
        try:
            refund = load_refund(order_id, refund_id)
        except RefundNotFound:
            return record_only(event, "ignored_unknown_refund")
        if refund.status != PENDING:
            return record_only(event, "duplicate" if refund.status == outcome else f"ignored_{refund.status}")
        sub = None
        if refund.shop_id != MALL:
            try:
                sub = SubOrderItem.get(*SubOrderItem.key_for(order_id, refund.shop_id), consistent_read=True)
            except SubOrderItem.DoesNotExist:
                raise OrderNotFound(order_id) from None
        moment = now()
        at = stamp(moment)
        try:
            with transaction() as tx:
                actions = [
                    RefundItem.status.set(outcome),
                    RefundItem.updated_at.set(at),
                    RefundItem.last_error.remove(),
                    *index_actions(refund, outcome, at),
                ]
                if provider_refund_id:
                    actions.append(RefundItem.stripe_refund_id.set(provider_refund_id))
                tx.update(refund, actions=actions, condition=RefundItem.status == PENDING)
                if sub is not None and outcome == SUCCEEDED:
                    _stage_refunded_status(tx, sub, refund, moment)
                elif sub is not None and refund.cancels != "yes":
                    _stage_reversal(tx, sub, refund, moment)
                if event is not None:
                    tx.save(event.item(outcome), condition=ProcessedEvent.pk.does_not_exist())
        except TransactWriteError as error:
            reasons = {reason.code for reason in error.cancellation_reasons if reason is not None}
            if error.cause_response_code == "TransactionCanceledException" and reasons <= RACE_CODES:
                continue  # another settlement or refund got there first: re-read and judge again
            raise
        # Once per refund: only the settlement that wrote the final status gets here.
        metrics.count("Refunds" if outcome == SUCCEEDED else "RefundsFailed")
        if outcome == SUCCEEDED:
            metrics.cents("RefundedCents", int(refund.amount_cents))
        if outcome == FAILED and refund.cancels == "yes":
            logger.error("refund of a cancelled order failed: to be retried", extra={"refund_id": refund_id})
        return outcome
    raise SubOrderChangedConcurrently(order_id)


def _serialized(sub: SubOrderItem) -> tuple[list[Any], Any]:
    """The settlement counter's move and the condition on both counters as read."""
    settled = int(sub.settle_seq or 0)
    same_settle = (
        SubOrderItem.settle_seq.does_not_exist()
        if sub.settle_seq is None
        else SubOrderItem.settle_seq == settled
    )
    same_refunds = (
        SubOrderItem.refund_seq.does_not_exist()
        if sub.refund_seq is None
        else SubOrderItem.refund_seq == int(sub.refund_seq)
    )
    return [SubOrderItem.settle_seq.set(settled + 1)], same_settle & same_refunds


def _stage_refunded_status(
    tx: TransactWrite, sub: SubOrderItem, refund: RefundItem, moment: datetime
) -> None:
    before = sub.status
    refunded = units(sub.refunded)
    everything = all(refunded.get(line["variant_id"], 0) >= int(line["quantity"]) for line in sub.lines)
    if everything:
        # `refunded` counts pending refunds too: the sub-order is refunded only once all of them succeeded
        # (one may still fail, giving its units back), so count this one and those that already succeeded.
        settled: Counter[str] = Counter()
        for other in RefundItem.query(
            f"ORDER#{sub.order_id}", RefundItem.sk.startswith("REFUND#"), consistent_read=True
        ):
            if other.shop_id == sub.shop_id and (
                other.status == SUCCEEDED or other.refund_id == refund.refund_id
            ):
                settled.update({x["variant_id"]: int(x["quantity"]) for x in other.lines})
        everything = all(settled[line["variant_id"]] >= int(line["quantity"]) for line in sub.lines)
    target: Status | None = None
    if before == Status.CANCELLED and everything:
        target = Status.REFUNDED
    elif before in (Status.COLLECTED, Status.DELIVERED, Status.PARTIALLY_REFUNDED):
        target = Status.REFUNDED if everything else Status.PARTIALLY_REFUNDED
    actions, condition = _serialized(sub)
    if target is None or target == before:
        tx.update(sub, actions=actions, condition=condition & (SubOrderItem.status == before))
        return
    lifecycle.check(before, target, Actor.SYSTEM, sub.fulfilment["method"])
    stage_move(tx, sub, target.value, Actor.SYSTEM.value, moment, actions=actions, condition=condition)


def _stage_reversal(tx: TransactWrite, sub: SubOrderItem, refund: RefundItem, moment: datetime) -> None:
    """The failed refund's units and cents are the sub-order's again, exactly (not recomputed)."""
    refunded, taken = units(sub.refunded), sub.taken_cents
    for line in refund.lines:
        variant = line["variant_id"]
        refunded[variant] = max(0, refunded.get(variant, 0) - int(line["quantity"]))
        taken[variant] = max(0, taken.get(variant, 0) - int(line["amount_cents"]))
    seq = int(sub.refund_seq or 0)
    posting = ledger.refund_failed(books_of(sub), refund.refund_id, int(refund.amount_cents), taken, moment)
    actions, condition = _serialized(sub)
    tx.update(
        sub,
        actions=[
            SubOrderItem.refunded.set(refunded),
            SubOrderItem.refunded_cents.set(taken),
            SubOrderItem.refund_seq.set(seq + 1),
            *actions,
            *stage_posting(tx, sub, posting),
        ],
        condition=condition,
    )


def handle_provider_refund(refund_object: dict[str, Any], record: EventRecord) -> str:
    """A refund object from a charge.refunded / refund.updated webhook: its metadata names our refund."""
    metadata = refund_object.get("metadata")
    if not isinstance(metadata, dict):
        return "ignored_no_refund"
    order_id, refund_id = metadata.get("order_id"), metadata.get("refund_id")
    if not isinstance(order_id, str) or not isinstance(refund_id, str) or not order_id or not refund_id:
        return "ignored_no_refund"
    outcome = outcome_of(str(refund_object.get("status") or ""))
    if outcome is None:
        return "ignored_not_final"
    provider_id = refund_object.get("id")
    return settle(order_id, refund_id, outcome, provider_id if isinstance(provider_id, str) else None, record)
