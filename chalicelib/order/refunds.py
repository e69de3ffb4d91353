"""Refunds of a shop's sub-order, whole or by lines, and the no-show job that cancels and refunds pickups
nobody collected.

A refund is decided in ONE transaction, conditional on the sub-order's refund counter and status as read:
the refund item (pending), the units it takes on the sub-order's ``refunded`` map, the shop's ledger entry
(negative, append-only), the restocked units, the cancellation when it applies, and an event. Two requests
for the same units therefore cannot both pass: the second one's condition fails and nothing of it is
written. Only then is the provider asked, with an idempotency key derived from the refund id, so a retry
after a provider failure (or a crash) can never refund twice. The provider's answer, or its webhook, moves
the refund to succeeded/failed exactly once, again conditional on it still being pending.
"""

from __future__ import annotations

import hmac
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.catalog.models import VariantItem
from chalicelib.core.clock import iso, now
from chalicelib.core.db import MallItem, transaction
from chalicelib.core.errors import DomainError, InvalidInput
from chalicelib.core.ids import new_id
from chalicelib.core.log import logger
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
from chalicelib.order.events import order_event, stamp
from chalicelib.order.lifecycle import Actor, Status
from chalicelib.order.models import LedgerEntryItem, OrderItem, RefundItem, SubOrderItem
from chalicelib.order.schemas import Refund, RefundIn, RefundLine, RefundPage
from chalicelib.order.service import EventRecord, load_order, record_only, token_digest
from chalicelib.payment.models import ProcessedEvent
from chalicelib.shop.bookings import stage_release

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
NO_SHOW_PARTITION = "NOSHOW#pending"
DEFAULT_NO_SHOW_DAYS = 3
# Before hand-over a refund cancels the sub-order (the goods never left the shop).
_BEFORE_HANDOVER = frozenset(
    {Status.PAID, Status.PREPARING, Status.READY_FOR_PICKUP, Status.OUT_FOR_DELIVERY}
)
_AFTER_HANDOVER = frozenset({Status.COLLECTED, Status.DELIVERED, Status.PARTIALLY_REFUNDED})
_RACE_CODES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_SETTLE_TRIES = 3


# --- requesting -------------------------------------------------------------------------------------


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
    """Records a refund (and the cancellation it implies before hand-over), then asks the provider.

    ``require_cancel``: the caller means "cancel this sub-order" (customer, no-show job, retailer's
    cancel button), so after hand-over it is refused by the lifecycle rather than turned into a refund.
    """
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
    status = sub.status
    method = sub.fulfilment["method"]
    refunded: dict[str, int] = {k: int(v) for k, v in (sub.refunded or {}).items()}
    lines = _refund_lines(sub, body, refunded)
    takes_everything = all(
        refunded.get(line["variant_id"], 0) + _requested(lines, line["variant_id"]) >= int(line["quantity"])
        for line in sub.lines
    )
    # Before hand-over, refunding everything left is a cancellation; refunding some lines (an item turned
    # out missing or damaged) keeps the sub-order on its way with the rest, its status unchanged.
    cancels = require_cancel or (status in _BEFORE_HANDOVER and takes_everything)
    if cancels:
        # Who may cancel from which status is the lifecycle's call (the customer not once it is ready).
        lifecycle.check(status, Status.CANCELLED, actor, method)
        if not takes_everything:
            raise RefundNotAllowed(status, "Cancelling refunds the whole sub-order.")
    elif status not in _BEFORE_HANDOVER | _AFTER_HANDOVER:
        raise RefundNotAllowed(status, f"A sub-order in status {status} has nothing to refund.")
    amount = sum(line["amount_cents"] for line in lines)
    if cancels:
        # Cancelled before hand-over: the delivery was never made, so its fee goes back too (once: the
        # status condition below lets only one cancellation happen).
        amount += int(sub.delivery_fee_cents)
    if amount <= 0:
        raise NothingToRefund()

    refund_id = new_id("ref")
    at = iso(moment)
    # Microseconds: a shop's refunds of one order are listed in the order they were made.
    created_at = stamp(moment)
    for line in lines:
        refunded[line["variant_id"]] = refunded.get(line["variant_id"], 0) + line["quantity"]
    seq = int(sub.refund_seq or 0)
    refund = RefundItem(
        *RefundItem.key_for(sub.order_id, refund_id),
        order_id=sub.order_id,
        shop_id=sub.shop_id,
        refund_id=refund_id,
        status=PENDING,
        amount_cents=amount,
        lines=lines,
        restock="yes" if body.restock else "no",
        reason=body.reason,
        requested_by=actor.value,
        cancels="yes" if cancels else "no",
        created_at=created_at,
        updated_at=created_at,
    )
    actions: list[Any] = [
        SubOrderItem.refunded.set(refunded),
        SubOrderItem.refund_seq.set(seq + 1),
        SubOrderItem.updated_at.set(at),
    ]
    history = list(sub.history)
    if cancels:
        history.append({"at": at, "by": actor.value, "from": status, "to": Status.CANCELLED.value})
        sub.status = Status.CANCELLED.value
        sub.index_for_status()
        actions += [
            SubOrderItem.status.set(sub.status),
            SubOrderItem.gsi1pk.set(sub.gsi1pk),
            SubOrderItem.history.set(history),
            # Out of the no-show index: the job must not find it again.
            SubOrderItem.gsi3pk.remove(),
            SubOrderItem.gsi3sk.remove(),
        ]
    same_counter = (
        SubOrderItem.refund_seq.does_not_exist() if sub.refund_seq is None else SubOrderItem.refund_seq == seq
    )
    try:
        with transaction() as tx:
            tx.update(sub, actions=actions, condition=same_counter & (SubOrderItem.status == status))
            tx.save(refund, condition=MallItem.pk.does_not_exist())
            tx.save(
                _ledger(sub.shop_id, "refund", -amount, refund, moment),
                condition=MallItem.pk.does_not_exist(),
            )
            slot_start = (sub.fulfilment.get("pickup") or {}).get("slot_start")
            if cancels and slot_start:
                # Nobody will collect at that time any more: the slot's capacity is free for others.
                stage_release(tx, sub.shop_id, slot_start)
            if body.restock:
                for line in lines:
                    tx.update(
                        VariantItem(*VariantItem.key_for(line["product_id"], line["variant_id"])),
                        actions=[VariantItem.stock.add(line["quantity"])],
                        condition=VariantItem.pk.exists(),
                    )
            tx.save(
                order_event(
                    f"sub_order.{Status.CANCELLED.value}" if cancels else "sub_order.refund_requested",
                    order_id=sub.order_id,
                    shop_id=sub.shop_id,
                    shop_ids=[sub.shop_id],
                    from_status=status,
                    to_status=sub.status,
                    by=actor.value,
                    # A cancellation is a status change (its place in the history); a refund is not.
                    seq=len(history) - 1 if cancels else 1000 + seq,
                    moment=moment,
                ),
                condition=MallItem.pk.does_not_exist(),
            )
    except TransactWriteError as error:
        _raise_if_race(error, sub.order_id)
        raise
    return refund


def _requested(lines: list[dict[str, Any]], variant_id: str) -> int:
    return sum(line["quantity"] for line in lines if line["variant_id"] == variant_id)


def _refund_lines(sub: SubOrderItem, body: RefundIn, refunded: dict[str, int]) -> list[dict[str, Any]]:
    """[{variant_id, product_id, quantity, amount_cents}] for the request; None = everything left."""
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
        result.append(
            {
                "variant_id": variant_id,
                "product_id": line["product_id"],
                "quantity": quantity,
                "amount_cents": _share(int(line["total_cents"]), sold, before, quantity),
            }
        )
    return result


def _share(total_cents: int, sold: int, before: int, quantity: int) -> int:
    """What ``quantity`` more units of a line are worth after ``before`` were refunded: cumulative, so the
    parts of a line always add up to exactly what was paid for it, whatever the rounding."""
    return total_cents * (before + quantity) // sold - total_cents * before // sold


def _ledger(
    shop_id: str, entry_type: str, amount: int, refund: RefundItem, moment: datetime
) -> LedgerEntryItem:
    suffix = "" if entry_type == "refund" else f"#{entry_type}"
    return LedgerEntryItem(
        f"LEDGER#{shop_id}",
        f"{stamp(moment)}#{refund.refund_id}{suffix}",
        shop_id=shop_id,
        entry_type=entry_type,
        amount_cents=amount,
        order_id=refund.order_id,
        refund_id=refund.refund_id,
        at=iso(moment),
    )


def _raise_if_race(error: TransactWriteError, order_id: str) -> None:
    reasons = {reason.code for reason in error.cancellation_reasons if reason is not None}
    if error.cause_response_code == "TransactionCanceledException" and reasons <= _RACE_CODES:
        raise SubOrderChangedConcurrently(order_id) from None


# --- asking the provider ----------------------------------------------------------------------------


def submit(refund: RefundItem, payment_intent_id: str) -> RefundItem:
    """Asks the provider for a pending refund; the same idempotency key on every attempt. A provider
    failure leaves the refund pending (with the error) for a retry: the refund is never lost."""
    from chalicelib.payment.gateway import PaymentProviderFailed, gateway

    try:
        answer = gateway().create_refund(
            payment_intent_id,
            int(refund.amount_cents),
            idempotency_key=f"refund:{refund.refund_id}",
            metadata={"order_id": refund.order_id, "shop_id": refund.shop_id, "refund_id": refund.refund_id},
        )
    except PaymentProviderFailed as error:
        logger.warning("refund not accepted by the provider", extra={"refund_id": refund.refund_id})
        try:
            refund.update(
                actions=[RefundItem.last_error.set(error.code), RefundItem.updated_at.set(stamp(now()))],
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


def retry(order_id: str, shop_id: str, refund_id: str) -> RefundItem:
    refund = load_refund(order_id, refund_id)
    if refund.shop_id != shop_id:
        raise RefundNotFound(refund_id)
    if refund.status != PENDING:
        raise RefundNotRetryable(refund_id, refund.status)
    try:
        order = OrderItem.get(*OrderItem.key_for(order_id), consistent_read=True)
    except OrderItem.DoesNotExist:
        raise OrderNotFound(order_id) from None
    return submit(refund, order.payment_intent_id or "")


# --- final status -----------------------------------------------------------------------------------


def settle(
    order_id: str, refund_id: str, outcome: str, provider_refund_id: str | None, event: EventRecord | None
) -> str:
    """pending → succeeded/failed, exactly once (per refund and per provider event).

    Succeeded: the sub-order becomes refunded / partially_refunded (the status says money moved only once
    it did). Failed: the units are given back to the sub-order's refundable quantities and a positive
    ledger entry reverses the refund's one, so the shop's payout is not reduced for money that stayed.
    """
    for _ in range(_SETTLE_TRIES):
        try:
            refund = load_refund(order_id, refund_id)
        except RefundNotFound:
            return record_only(event, "ignored_unknown_refund")
        if refund.status != PENDING:
            return record_only(event, "duplicate" if refund.status == outcome else f"ignored_{refund.status}")
        try:
            sub = SubOrderItem.get(*SubOrderItem.key_for(order_id, refund.shop_id), consistent_read=True)
        except SubOrderItem.DoesNotExist:
            raise OrderNotFound(order_id) from None
        moment = now()
        try:
            with transaction() as tx:
                actions = [
                    RefundItem.status.set(outcome),
                    RefundItem.updated_at.set(stamp(moment)),
                    RefundItem.last_error.remove(),
                ]
                if provider_refund_id:
                    actions.append(RefundItem.stripe_refund_id.set(provider_refund_id))
                tx.update(refund, actions=actions, condition=RefundItem.status == PENDING)
                if outcome == SUCCEEDED:
                    _stage_refunded_status(tx, sub, refund, moment)
                else:
                    _stage_reversal(tx, sub, refund, moment)
                if event is not None:
                    tx.save(event.item(outcome), condition=ProcessedEvent.pk.does_not_exist())
        except TransactWriteError as error:
            reasons = {reason.code for reason in error.cancellation_reasons if reason is not None}
            if error.cause_response_code == "TransactionCanceledException" and reasons <= _RACE_CODES:
                continue  # another settlement or refund got there first: re-read and judge again
            raise
        if outcome == FAILED and refund.cancels == "yes":
            # The goods were released but the money did not go back: an operator must look at it.
            logger.error("refund of a cancelled sub-order failed", extra={"refund_id": refund_id})
        return outcome
    raise SubOrderChangedConcurrently(order_id)


def _stage_refunded_status(
    tx: TransactWrite, sub: SubOrderItem, refund: RefundItem, moment: datetime
) -> None:
    before = sub.status
    refunded = sub.refunded or {}
    everything = all(int(refunded.get(line["variant_id"], 0)) >= int(line["quantity"]) for line in sub.lines)
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
    if before == Status.CANCELLED and everything:
        target = Status.REFUNDED
    elif before in (Status.COLLECTED, Status.DELIVERED, Status.PARTIALLY_REFUNDED):
        target = Status.REFUNDED if everything else Status.PARTIALLY_REFUNDED
    else:
        return
    if target == before:
        return
    lifecycle.check(before, target, Actor.SYSTEM, sub.fulfilment["method"])
    at = iso(moment)
    history = [*sub.history, {"at": at, "by": Actor.SYSTEM.value, "from": before, "to": target.value}]
    sub.status = target.value
    sub.index_for_status()
    tx.update(
        sub,
        actions=[
            SubOrderItem.status.set(sub.status),
            SubOrderItem.gsi1pk.set(sub.gsi1pk),
            SubOrderItem.history.set(history),
            SubOrderItem.updated_at.set(at),
        ],
        condition=SubOrderItem.status == before,
    )
    tx.save(
        order_event(
            f"sub_order.{target.value}",
            order_id=sub.order_id,
            shop_id=sub.shop_id,
            shop_ids=[sub.shop_id],
            from_status=before,
            to_status=target.value,
            by=Actor.SYSTEM.value,
            seq=len(history) - 1,
            moment=moment,
        ),
        condition=MallItem.pk.does_not_exist(),
    )


def _stage_reversal(tx: TransactWrite, sub: SubOrderItem, refund: RefundItem, moment: datetime) -> None:
    refunded = {k: int(v) for k, v in (sub.refunded or {}).items()}
    for line in refund.lines:
        refunded[line["variant_id"]] = max(0, refunded.get(line["variant_id"], 0) - int(line["quantity"]))
    seq = int(sub.refund_seq or 0)
    tx.update(
        sub,
        actions=[SubOrderItem.refunded.set(refunded), SubOrderItem.refund_seq.set(seq + 1)],
        condition=SubOrderItem.refund_seq == seq,
    )
    tx.save(
        _ledger(sub.shop_id, "refund_reversal", int(refund.amount_cents), refund, moment),
        condition=MallItem.pk.does_not_exist(),
    )


def handle_provider_refund(refund_object: dict[str, Any], record: EventRecord) -> str:
    """A refund object from a charge.refunded / refund.updated webhook: its metadata names our refund."""
    metadata = refund_object.get("metadata") or {}
    order_id, refund_id = metadata.get("order_id"), metadata.get("refund_id")
    if not order_id or not refund_id:
        return "ignored_no_refund"
    outcome = _outcome_of(str(refund_object.get("status") or ""))
    if outcome is None:
        return "ignored_not_final"
    return settle(str(order_id), str(refund_id), outcome, refund_object.get("id"), record)


# --- reading ----------------------------------------------------------------------------------------


def load_refund(order_id: str, refund_id: str) -> RefundItem:
    try:
        return RefundItem.get(*RefundItem.key_for(order_id, refund_id), consistent_read=True)
    except RefundItem.DoesNotExist:
        raise RefundNotFound(refund_id) from None


def shop_refunds(order_id: str, shop_id: str) -> RefundPage:
    """The shop's refunds of one order, oldest first; 404 when the shop has no part in the order."""
    try:
        SubOrderItem.get(*SubOrderItem.key_for(order_id, shop_id))
    except SubOrderItem.DoesNotExist:
        raise OrderNotFound(order_id) from None
    items = RefundItem.query(
        f"ORDER#{order_id}", RefundItem.sk.startswith("REFUND#"), RefundItem.shop_id == shop_id
    )
    return RefundPage(sorted((refund_view(r) for r in items), key=lambda r: (r.created_at, r.id)))


def refund_view(refund: RefundItem) -> Refund:
    return Refund(
        id=refund.refund_id,
        order_id=refund.order_id,
        shop_id=refund.shop_id,
        status=refund.status,
        amount_cents=int(refund.amount_cents),
        lines=[RefundLine(x["variant_id"], int(x["quantity"]), int(x["amount_cents"])) for x in refund.lines],
        restock=refund.restock == "yes",
        reason=refund.reason,
        requested_by=refund.requested_by,
        cancelled_sub_order=refund.cancels == "yes",
        provider_refund_id=refund.stripe_refund_id,
        last_error=refund.last_error,
        created_at=refund.created_at,
        updated_at=refund.updated_at,
    )


def ledger_entries(shop_id: str) -> list[LedgerEntryItem]:
    return list(LedgerEntryItem.query(f"LEDGER#{shop_id}", consistent_read=True))


# --- no-shows ---------------------------------------------------------------------------------------


def no_show_index(sub: SubOrderItem, ready_at: datetime) -> tuple[str, str]:
    """The sparse gsi3 key a pickup sub-order gets when it becomes ready: sorted by when it is due, so the
    job reads only what is overdue whatever each shop's number of days."""
    pickup = sub.fulfilment.get("pickup") or {}
    days = int(pickup.get("no_show_days", DEFAULT_NO_SHOW_DAYS))
    due = ready_at + timedelta(days=days)
    return NO_SHOW_PARTITION, f"{iso(due)}#{sub.order_id}#{sub.shop_id}"


@dataclass(frozen=True)
class NoShowResult:
    order_id: str
    shop_id: str
    outcome: str


def cancel_no_shows(moment: datetime | None = None, limit: int = 100) -> list[NoShowResult]:
    """Cancels, refunds in full and restocks pickup sub-orders still not collected when due. Safe to run
    repeatedly and concurrently: a cancelled sub-order leaves the index in the cancelling transaction, and
    a racing run's conditional write fails."""
    cutoff = iso(moment or now())
    results = []
    for sub in SubOrderItem.gsi3.query(NO_SHOW_PARTITION, SubOrderItem.gsi3sk < f"{cutoff}~", limit=limit):
        body = RefundIn(lines=None, restock=True, reason="no_show")
        try:
            refund = request_refund(sub.order_id, sub.shop_id, body, Actor.SYSTEM, require_cancel=True)
            outcome = f"refund_{refund.status}"
        except DomainError as error:
            # Collected or cancelled meanwhile (the index is eventually consistent): nothing to do.
            outcome = f"skipped_{error.code}"
        results.append(NoShowResult(sub.order_id, sub.shop_id, outcome))
    return results


def customer_cancel(order_id: str, shop_id: str, token: str | None) -> RefundItem:
    """The customer cancels one shop's part: refunded in full, its units back on sale."""
    body = RefundIn(lines=None, restock=True, reason="cancelled_by_customer")
    return request_refund(order_id, shop_id, body, Actor.CUSTOMER, require_cancel=True, order_token=token)
