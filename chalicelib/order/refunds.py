"""Refunds of a shop's sub-order, whole or by lines, and the mall's own refund of a payment that arrived
after its order was cancelled.

A refund is decided first (:func:`plan_refund`: which units, how much, whether it cancels), then written in
ONE transaction conditional on the sub-order's refund counter and status as read: the refund item
(pending), the units it takes on the sub-order's ``refunded`` map, the ledger posting once the goods were
handed over, the restocked units, the cancellation when it applies, and an event. Two requests for the same
units therefore cannot both pass. Only then is the provider asked, with an idempotency key derived from the
refund id, so a retry after a provider failure (or a crash) can never refund twice. The provider's answer,
or its webhook, moves the refund to succeeded/failed exactly once, conditional on it still being pending.

No money is stranded: a refund the provider failed that gives a cancelled order's money back stays
``failed``, listed for the operator (``GET /operator/refunds?status=failed``) and retried by the hourly job
with a new attempt key, until the operator sees it through.
"""

from __future__ import annotations

import hmac
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.catalog.models import VariantItem
from chalicelib.core.clock import iso, now, stamp
from chalicelib.core.db import MallItem, transaction
from chalicelib.core.errors import InvalidInput
from chalicelib.core.ids import new_id
from chalicelib.core.log import logger
from chalicelib.ledger import entries as ledger
from chalicelib.ledger.commission import refund_amount
from chalicelib.order import lifecycle
from chalicelib.order.errors import (
    BadOrderToken,
    NothingToRefund,
    OrderNotFound,
    RefundExceedsPaid,
    RefundNotAllowed,
    RefundNotFound,
    RefundNotRetryable,
    SubOrderChangedConcurrently,
)
from chalicelib.order.events import order_event
from chalicelib.order.lifecycle import Actor, Status
from chalicelib.order.models import OrderItem, RefundItem, SubOrderItem
from chalicelib.order.moves import books_of, stage_move, stage_posting, units
from chalicelib.order.schemas import RefundIn
from chalicelib.order.service import EventRecord, load_order, record_only, token_digest
from chalicelib.payment.models import ProcessedEvent
from chalicelib.shop.bookings import stage_release

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# shop_id of a refund the mall makes itself: a payment that succeeded after its order was cancelled.
MALL = "mall"
# gsi2 of refunds still to be seen through (pending or failed), for the operator and the retry job.
REFUND_INDEX = "REFUNDS#{status}"
# Before hand-over a refund cancels the sub-order (the goods never left the shop).
_BEFORE_HANDOVER = frozenset(
    {Status.PAID, Status.PREPARING, Status.READY_FOR_PICKUP, Status.OUT_FOR_DELIVERY}
)
_AFTER_HANDOVER = frozenset({Status.COLLECTED, Status.DELIVERED, Status.PARTIALLY_REFUNDED})
_RACE_CODES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_SETTLE_TRIES = 3


# --- deciding ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundPlan:
    """What a refund request amounts to, decided on the sub-order as read."""

    lines: list[dict[str, Any]]  # variant_id, product_id, name, quantity, amount_cents
    amount_cents: int
    cancels: bool
    refunded_after: dict[str, int]  # units taken per line, this refund included
    cents_after: dict[str, int]  # cents taken per line, this refund included


def plan_refund(sub: SubOrderItem, body: RefundIn, actor: Actor, require_cancel: bool) -> RefundPlan:
    """``require_cancel``: the caller means "cancel this sub-order" (customer, no-show job, retailer's cancel
    button), so after hand-over it is refused by the lifecycle rather than turned into a refund."""
    status = sub.status
    refunded, taken = units(sub.refunded), sub.taken_cents
    lines = _refund_lines(sub, body, refunded, taken)
    after, cents_after = dict(refunded), dict(taken)
    for line in lines:
        after[line["variant_id"]] = after.get(line["variant_id"], 0) + line["quantity"]
        cents_after[line["variant_id"]] = cents_after.get(line["variant_id"], 0) + line["amount_cents"]
    takes_everything = all(after.get(line["variant_id"], 0) >= int(line["quantity"]) for line in sub.lines)
    # Before hand-over, refunding everything left is a cancellation; refunding some lines (an item turned
    # out missing or damaged) keeps the sub-order on its way with the rest, its status unchanged.
    cancels = require_cancel or (status in _BEFORE_HANDOVER and takes_everything)
    if cancels:
        # Who may cancel from which status is the lifecycle's call (the customer not once it is ready).
        lifecycle.check(status, Status.CANCELLED, actor, sub.fulfilment["method"])
        if not takes_everything:
            raise RefundNotAllowed(status, "Cancelling refunds the whole sub-order.")
    elif status not in _BEFORE_HANDOVER | _AFTER_HANDOVER:
        raise RefundNotAllowed(status, f"A sub-order in status {status} has nothing to refund.")
    amount = sum(line["amount_cents"] for line in lines)
    if cancels:
        # Cancelled before hand-over: the delivery was never made, so its fee goes back too (once: the
        # status condition lets only one cancellation happen).
        amount += int(sub.delivery_fee_cents)
    if amount <= 0:
        raise NothingToRefund()
    return RefundPlan(lines, amount, cancels, after, cents_after)


def _refund_lines(
    sub: SubOrderItem, body: RefundIn, refunded: dict[str, int], taken: dict[str, int]
) -> list[dict[str, Any]]:
    """The request's lines with their amounts; ``body.lines`` None = everything left."""
    by_variant = {line["variant_id"]: line for line in sub.lines}
    wanted: list[tuple[str, int]]
    if body.lines is None:
        wanted = [
            (v, int(line["quantity"]) - refunded.get(v, 0))
            for v, line in by_variant.items()
            if int(line["quantity"]) > refunded.get(v, 0)
        ]
    else:
        seen: set[str] = set()
        for index, requested in enumerate(body.lines):
            field = f"lines[{index}].variant_id"
            if requested.variant_id not in by_variant:
                raise InvalidInput.single(field, "is not a line of this sub-order")
            if requested.variant_id in seen:
                raise InvalidInput.single(field, "appears twice")
            seen.add(requested.variant_id)
        wanted = [(r.variant_id, r.quantity) for r in body.lines]
    result = []
    for variant_id, quantity in wanted:
        line = by_variant[variant_id]
        sold, before = int(line["quantity"]), refunded.get(variant_id, 0)
        if quantity > sold - before:
            raise RefundExceedsPaid(variant_id, quantity, sold - before)
        amount = refund_amount(int(line["total_cents"]), sold, before, taken.get(variant_id, 0), quantity)
        result.append(
            {
                "variant_id": variant_id,
                "product_id": line["product_id"],
                "name": line.get("name", ""),
                "quantity": quantity,
                "amount_cents": amount,
            }
        )
    return result


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
    _index(refund, PENDING, created_at)
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
    if error.cause_response_code == "TransactionCanceledException" and reasons <= _RACE_CODES:
        raise SubOrderChangedConcurrently(order_id) from None


def _index(refund: RefundItem, status: str, at: str) -> None:
    refund.gsi2pk = REFUND_INDEX.format(status=status) if status in (PENDING, FAILED) else None
    refund.gsi2sk = f"{at}#{refund.order_id}#{refund.refund_id}" if refund.gsi2pk else None


def _index_actions(refund: RefundItem, status: str, at: str) -> list[Any]:
    _index(refund, status, at)
    if refund.gsi2pk is None:
        return [RefundItem.gsi2pk.remove(), RefundItem.gsi2sk.remove()]
    return [RefundItem.gsi2pk.set(refund.gsi2pk), RefundItem.gsi2sk.set(refund.gsi2sk)]


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
                    *_index_actions(refund, PENDING, at),
                ],
                condition=RefundItem.status == PENDING,
            )
        except UpdateError as failed:
            if failed.cause_response_code != "ConditionalCheckFailedException":
                raise
            return load_refund(refund.order_id, refund.refund_id)  # settled by a webhook meanwhile
        return refund
    outcome = _outcome_of(answer.status)
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


def _outcome_of(provider_status: str) -> str | None:
    if provider_status == "succeeded":
        return SUCCEEDED
    if provider_status in ("failed", "canceled"):
        return FAILED
    return None


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
                *_index_actions(refund, PENDING, at),
            ],
            condition=RefundItem.status == FAILED,
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise RefundNotRetryable(refund.refund_id, "being retried") from None
        raise
    return refund


# --- final status -----------------------------------------------------------------------------------


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
                    *_index_actions(refund, outcome, at),
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
            if error.cause_response_code == "TransactionCanceledException" and reasons <= _RACE_CODES:
                continue  # another settlement or refund got there first: re-read and judge again
            raise
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
    outcome = _outcome_of(str(refund_object.get("status") or ""))
    if outcome is None:
        return "ignored_not_final"
    provider_id = refund_object.get("id")
    return settle(order_id, refund_id, outcome, provider_id if isinstance(provider_id, str) else None, record)


# --- reading ----------------------------------------------------------------------------------------


def load_refund(order_id: str, refund_id: str) -> RefundItem:
    try:
        return RefundItem.get(*RefundItem.key_for(order_id, refund_id), consistent_read=True)
    except RefundItem.DoesNotExist:
        raise RefundNotFound(refund_id) from None


def customer_cancel(order_id: str, shop_id: str, token: str | None) -> RefundItem:
    """The customer cancels one shop's part: refunded in full, its units back on sale."""
    body = RefundIn(lines=None, restock=True, reason="cancelled_by_customer")
    return request_refund(order_id, shop_id, body, Actor.CUSTOMER, require_cancel=True, order_token=token)
