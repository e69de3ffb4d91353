"""Refunds of a shop's sub-order, whole or by lines, and the mall's own refund of a payment that arrived
after its order was cancelled.

A refund is decided first (chalicelib/order/refund_plan.py: which units, how much, whether it cancels),
then written in ONE transaction conditional on the sub-order's refund counter and status as read: the
refund item (pending), the units it takes on the sub-order's ``refunded`` map, the ledger posting once the
goods were handed over, the restocked units, the cancellation when it applies, and an event. Two requests
for the same units therefore cannot both pass. Only then is the provider asked, with an idempotency key
derived from the refund id, so a retry after a provider failure (or a crash) can never refund twice. The
provider's answer, or its webhook, moves the refund to succeeded/failed exactly once, conditional on it
still being pending (chalicelib/order/refund_settlement.py).

No money is stranded: a refund the provider failed that gives a cancelled order's money back stays
``failed``, listed for the operator (``GET /operator/refunds?status=failed``) and retried by the hourly job
with a new attempt key, until the operator sees it through.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.catalog.models import VariantItem
from chalicelib.core.clock import iso, now, stamp
from chalicelib.core.db import MallItem, transaction
from chalicelib.core.ids import new_id
from chalicelib.core.log import logger
from chalicelib.ledger import entries as ledger
from chalicelib.order.errors import (
    BadOrderToken,
    OrderNotFound,
    RefundNotFound,
    RefundNotRetryable,
    SubOrderChangedConcurrently,
)
from chalicelib.order.events import order_event
from chalicelib.order.lifecycle import Actor, Status
from chalicelib.order.models import OrderItem, RefundItem, SubOrderItem
from chalicelib.order.moves import books_of, stage_move, stage_posting
from chalicelib.order.refund_plan import RefundPlan, plan_refund
from chalicelib.order.refund_settlement import (
    FAILED,
    MALL,
    PENDING,
    RACE_CODES,
    REFUND_INDEX,
    SUCCEEDED,
    handle_provider_refund,
    index,
    index_actions,
    load_refund,
    outcome_of,
    settle,
)
from chalicelib.order.schemas import RefundIn
from chalicelib.order.service import EventRecord, load_order, record_only, token_digest
from chalicelib.payment.models import ProcessedEvent
from chalicelib.shop.bookings import stage_release

# Re-exported: the API, the jobs and the operator views know refunds by this module.
__all__ = [
    "FAILED",
    "MALL",
    "PENDING",
    "REFUND_INDEX",
    "SUCCEEDED",
    "handle_provider_refund",
    "load_refund",
    "plan_refund",
    "settle",
]


# --- recording --------------------------------------------------------------------------------------


def request_refund(
    order_id: str,
    shop_id: str,
    body: RefundIn,
    actor: Actor,
    *,
    require_cancel: bool = False,
    order_token: str | None = None,
    moment: datetime | None = None,
) -> RefundItem:
    """Records a refund (and the cancellation it implies before hand-over), then asks the provider."""
    order, subs = load_order(order_id)
    if actor == Actor.CUSTOMER and not (
        order_token and hmac.compare_digest(order.token_digest, token_digest(order_token))
    ):
        raise BadOrderToken()
    sub = next((s for s in subs if s.shop_id == shop_id), None)
    if sub is None:
        raise OrderNotFound(order_id)
    refund = _record(order, sub, body, actor, require_cancel, moment or now())
    return submit(refund, order.payment_intent_id or "")


def _record(
    order: OrderItem, sub: SubOrderItem, body: RefundIn, actor: Actor, require_cancel: bool, moment: datetime
) -> RefundItem:
    plan = plan_refund(sub, body, actor, require_cancel)
    refund = _refund_item(sub.order_id, sub.shop_id, new_id("ref"), plan, moment)
    refund.restock = "yes" if body.restock else "no"
    refund.reason = body.reason
    refund.requested_by = actor.value
    try:
        with transaction() as tx:
            _stage_request(tx, sub, plan, refund, actor, moment)
            if body.restock:
                for line in plan.lines:
                    tx.update(
                        VariantItem(*VariantItem.key_for(line["product_id"], line["variant_id"])),
                        actions=[VariantItem.stock.add(line["quantity"])],
                        condition=VariantItem.pk.exists(),
                    )
    except TransactWriteError as error:
        _raise_if_race(error, sub.order_id)
        raise
    return refund


def _refund_item(
    order_id: str, shop_id: str, refund_id: str, plan: RefundPlan, moment: datetime
) -> RefundItem:
    # Microseconds: a shop's refunds of one order are listed in the order they were made.
    created_at = stamp(moment)
    refund = RefundItem(
        *RefundItem.key_for(order_id, refund_id),
        order_id=order_id,
        shop_id=shop_id,
        refund_id=refund_id,
        status=PENDING,
        amount_cents=plan.amount_cents,
        lines=plan.lines,
        restock="no",
        requested_by=Actor.SYSTEM.value,
        cancels="yes" if plan.cancels else "no",
        created_at=created_at,
        updated_at=created_at,
    )
    index(refund, PENDING, created_at)
    return refund


def _stage_request(
    tx: TransactWrite, sub: SubOrderItem, plan: RefundPlan, refund: RefundItem, actor: Actor, moment: datetime
) -> None:
    status = sub.status
    seq = int(sub.refund_seq or 0)
    same_counter = (
        SubOrderItem.refund_seq.does_not_exist() if sub.refund_seq is None else SubOrderItem.refund_seq == seq
    )
    # Once handed over, the shop earned these goods: the refund and the commission it returns are posted.
    posting = ledger.refund(
        books_of(sub),
        refund.refund_id,
        plan.amount_cents,
        _statement_lines(plan),
        plan.cents_after,
        moment,
    )
    actions: list[Any] = [
        SubOrderItem.refunded.set(plan.refunded_after),
        SubOrderItem.refunded_cents.set(plan.cents_after),
        SubOrderItem.refund_seq.set(seq + 1),
        *stage_posting(tx, sub, posting),
    ]
    sub.refunded, sub.refunded_cents, sub.refund_seq = plan.refunded_after, plan.cents_after, seq + 1
    tx.save(refund, condition=MallItem.pk.does_not_exist())
    if plan.cancels:
        stage_move(
            tx, sub, Status.CANCELLED.value, actor.value, moment, actions=actions, condition=same_counter
        )
        slot_start = (sub.fulfilment.get("pickup") or {}).get("slot_start")
        if slot_start:
            # Nobody will collect at that time any more: the slot's capacity is free for others.
            stage_release(tx, sub.shop_id, slot_start)
        return
    at = iso(moment)
    actions.append(SubOrderItem.updated_at.set(at))
    tx.update(sub, actions=actions, condition=same_counter & (SubOrderItem.status == status))
    tx.save(
        order_event(
            "sub_order.refund_requested",
            order_id=sub.order_id,
            shop_id=sub.shop_id,
            shop_ids=[sub.shop_id],
            from_status=status,
            to_status=status,
            by=actor.value,
            seq=1000 + seq,  # a refund is not a status change: outside the history's numbering
            moment=moment,
        ),
        condition=MallItem.pk.does_not_exist(),
    )


def _statement_lines(plan: RefundPlan) -> list[dict[str, Any]]:
    return [
        {"name": line["name"], "quantity": line["quantity"], "amount_cents": -line["amount_cents"]}
        for line in plan.lines
    ]


def _raise_if_race(error: TransactWriteError, order_id: str) -> None:
    reasons = {reason.code for reason in error.cancellation_reasons if reason is not None}
    if error.cause_response_code == "TransactionCanceledException" and reasons <= RACE_CODES:
        raise SubOrderChangedConcurrently(order_id) from None


def refund_late_payment(order: OrderItem, payment_intent_id: str, event: EventRecord | None) -> str:
    """A payment that succeeded after its order was cancelled (its hold expired, its stock went back on
    sale): the mall refunds it in full, once, automatically."""
    refund_id = "ref_late_" + order.order_id.removeprefix("ord_")
    plan = RefundPlan([], int(order.total_cents), True, {}, {})
    refund = _refund_item(order.order_id, MALL, refund_id, plan, now())
    refund.reason = "paid_after_cancel"
    try:
        with transaction() as tx:
            tx.save(refund, condition=MallItem.pk.does_not_exist())
            if event is not None:
                tx.save(
                    event.item("refunded_paid_after_cancel"), condition=ProcessedEvent.pk.does_not_exist()
                )
    except TransactWriteError:
        return record_only(event, "duplicate")
    logger.warning("payment after cancellation: refunded", extra={"order_id": order.order_id})
    submit(refund, payment_intent_id)
    return "refunded_paid_after_cancel"


# --- asking the provider ----------------------------------------------------------------------------


def _provider_key(refund: RefundItem) -> str:
    attempt = int(refund.attempt or 0)
    return f"refund:{refund.refund_id}" if attempt == 0 else f"refund:{refund.refund_id}:{attempt}"


def submit(refund: RefundItem, payment_intent_id: str) -> RefundItem:
    """Asks the provider for a pending refund; the same idempotency key on every attempt. A provider
    failure leaves the refund pending (with the error) for a retry: the refund is never lost."""
    from chalicelib.payment.gateway import PaymentProviderFailed, gateway

    try:
        answer = gateway().create_refund(
            payment_intent_id,
            int(refund.amount_cents),
            idempotency_key=_provider_key(refund),
            metadata={"order_id": refund.order_id, "shop_id": refund.shop_id, "refund_id": refund.refund_id},
        )
    except PaymentProviderFailed as error:
        logger.warning("refund not accepted by the provider", extra={"refund_id": refund.refund_id})
        at = stamp(now())
        try:
            refund.update(
                actions=[
                    RefundItem.last_error.set(error.code),
                    RefundItem.updated_at.set(at),
                    *index_actions(refund, PENDING, at),
                ],
                condition=RefundItem.status == PENDING,
            )
        except UpdateError as failed:
            if failed.cause_response_code != "ConditionalCheckFailedException":
                raise
            return load_refund(refund.order_id, refund.refund_id)  # settled by a webhook meanwhile
        return refund
    outcome = outcome_of(answer.status)
    if outcome is None:
        # Accepted but not final (e.g. a bank transfer): its webhook settles it.
        refund.update(
            actions=[RefundItem.stripe_refund_id.set(answer.id), RefundItem.last_error.remove()],
            condition=RefundItem.status == PENDING,
        )
        return refund
    if settle(refund.order_id, refund.refund_id, outcome, answer.id, None) != outcome:
        return load_refund(refund.order_id, refund.refund_id)  # a webhook settled it first
    # What settle wrote, without reading it back.
    refund.status, refund.stripe_refund_id, refund.last_error = outcome, answer.id, None
    return refund


def retry(order_id: str, shop_id: str | None, refund_id: str) -> RefundItem:
    """Asks the provider again: a pending refund with the same key; a failed refund that gave a cancelled
    order's money back as a new attempt (a new key: the provider's answer to the old one is final).
    ``shop_id`` None: the operator, for any shop."""
    refund = load_refund(order_id, refund_id)
    if shop_id is not None and refund.shop_id != shop_id:
        raise RefundNotFound(refund_id)
    if refund.status == FAILED and refund.cancels == "yes":
        refund = _reopen(refund)
    elif refund.status != PENDING:
        raise RefundNotRetryable(refund_id, refund.status)
    try:
        order = OrderItem.get(*OrderItem.key_for(order_id), consistent_read=True)
    except OrderItem.DoesNotExist:
        raise OrderNotFound(order_id) from None
    return submit(refund, order.payment_intent_id or "")


def _reopen(refund: RefundItem) -> RefundItem:
    at = stamp(now())
    try:
        refund.update(
            actions=[
                RefundItem.status.set(PENDING),
                RefundItem.attempt.set(int(refund.attempt or 0) + 1),
                RefundItem.updated_at.set(at),
                *index_actions(refund, PENDING, at),
            ],
            condition=RefundItem.status == FAILED,
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise RefundNotRetryable(refund.refund_id, "being retried") from None
        raise
    return refund


# --- final status -----------------------------------------------------------------------------------


# --- reading ----------------------------------------------------------------------------------------


def customer_cancel(order_id: str, shop_id: str, token: str | None) -> RefundItem:
    """The customer cancels one shop's part: refunded in full, its units back on sale."""
    body = RefundIn(lines=None, restock=True, reason="cancelled_by_customer")
    return request_refund(order_id, shop_id, body, Actor.CUSTOMER, require_cancel=True, order_token=token)
