"""Orders after checkout: payment outcome, expiry of stock holds, and reading orders.

Every state change is one DynamoDB transaction that is conditional on the state it leaves, so a retried
webhook, a duplicate delivery or the expiry job racing a payment can never apply a change twice: the loser's
condition fails and it sees the outcome instead.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.auth.service import Principal
from chalicelib.catalog.models import VariantItem
from chalicelib.checkout.models import OPEN, CartItem, CheckoutKey
from chalicelib.checkout.schemas import VatOut
from chalicelib.core import metrics
from chalicelib.core.clock import iso, now
from chalicelib.core.db import MallItem, query_page, shard_partitions, transaction
from chalicelib.core.log import logger
from chalicelib.core.validation import convert
from chalicelib.order.errors import BadOrderToken, OrderNotFound
from chalicelib.order.events import order_event
from chalicelib.order.lifecycle import PICKUP
from chalicelib.order.models import (
    CANCELLED,
    EXPIRY_PARTITION,
    EXPIRY_SHARDS,
    PAID,
    PENDING_PAYMENT,
    OrderItem,
    SubOrderItem,
)
from chalicelib.order.moves import stage_move
from chalicelib.order.schemas import Order, PaymentError, SubOrder, SubOrderListQuery, SubOrderPage
from chalicelib.order.views import sub_order_view
from chalicelib.payment.models import ProcessedEvent
from chalicelib.shop.bookings import stage_release

EVENT_TTL = timedelta(days=30)


def hold_duration() -> timedelta:
    return timedelta(minutes=int(os.environ.get("CHECKOUT_HOLD_MINUTES", "30")))


def order_token(cart_token: str, order_id: str) -> str:
    """Derived from the cart's secret, so a replayed checkout returns the same token without storing it."""
    return "ot_" + hmac.new(cart_token.encode(), order_id.encode(), hashlib.sha256).hexdigest()[:40]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class EventRecord:
    """A provider event whose effect must happen once: recorded in the transaction that applies it."""

    event_id: str
    event_type: str

    def item(self, outcome: str) -> ProcessedEvent:
        stamp = now()
        return ProcessedEvent(
            *ProcessedEvent.key_for(self.event_id),
            event_type=self.event_type,
            outcome=outcome,
            processed_at=iso(stamp),
            expires_at=int((stamp + EVENT_TTL).timestamp()),
        )


def load_order(order_id: str, consistent: bool = True) -> tuple[OrderItem, list[SubOrderItem]]:
    order: OrderItem | None = None
    subs: list[SubOrderItem] = []
    for item in MallItem.query(f"ORDER#{order_id}", consistent_read=consistent):
        if isinstance(item, OrderItem):
            order = item
        elif isinstance(item, SubOrderItem):
            subs.append(item)
    if order is None:
        raise OrderNotFound(order_id)
    return order, subs


# --- payment outcome --------------------------------------------------------------------------------


def new_pickup_code() -> str:
    # Six digits: read aloud at a counter. Guessing is limited by the wrong-code lockout, not by length.
    return f"{secrets.randbelow(1_000_000):06d}"


LoadedOrder = tuple[OrderItem, list[SubOrderItem]]


def mark_paid(
    order_id: str,
    event: EventRecord | None,
    by: str = "stripe",
    loaded: LoadedOrder | None = None,
    payment_intent_id: str | None = None,
) -> str:
    """pending_payment → paid for the order and every sub-order: the held stock is now sold. Pickup
    sub-orders get their pickup code, and the order.paid event is recorded, in the same transaction.
    `loaded`: the order as the caller just read it (the transaction is conditional on its status anyway).
    A payment for an order already cancelled (its stock went back on sale) is refunded in full, once."""
    order, subs = loaded or load_order(order_id)
    if order.status == CANCELLED:
        from chalicelib.order.refunds import refund_late_payment

        return refund_late_payment(order, payment_intent_id or order.payment_intent_id or "", event)
    if order.status != PENDING_PAYMENT:
        return record_only(event, "already_paid" if order.status == PAID else f"ignored_{order.status}")
    try:
        with transaction() as tx:
            _transition(tx, order, subs, PAID, by, pickup_codes=True)
            tx.save(
                order_event(
                    "order.paid",
                    order_id=order_id,
                    shop_id=None,
                    shop_ids=list(order.shop_ids),
                    from_status=PENDING_PAYMENT,
                    to_status=PAID,
                    by=by,
                    seq=0,
                    moment=now(),
                ),
                condition=MallItem.pk.does_not_exist(),
            )
            if event:
                tx.save(event.item("paid"), condition=ProcessedEvent.pk.does_not_exist())
    except TransactWriteError:
        return _after_race(order_id, event)
    metrics.count("OrdersPaid")
    return "paid"


def cancel_unpaid(
    order_id: str,
    reason: str,
    event: EventRecord | None = None,
    reopen_with_key: str | None = None,
    by: str = "system",
    loaded: LoadedOrder | None = None,
) -> str:
    """pending_payment → cancelled, giving every held unit back to stock and every booked pickup slot back
    to its shop in the same transaction."""
    order, subs = loaded or load_order(order_id)
    if order.status != PENDING_PAYMENT:
        return record_only(event, f"ignored_{order.status}")
    try:
        with transaction() as tx:
            _transition(tx, order, subs, CANCELLED, by, reason=reason)
            for product_id, variant_id, quantity in order.reservations:
                tx.update(
                    VariantItem(*VariantItem.key_for(product_id, variant_id)),
                    actions=[VariantItem.stock.add(int(quantity))],
                    condition=VariantItem.pk.exists(),
                )
            for sub in subs:
                # The pickup slot checkout booked for this shop (checkout.placement.hold_slots).
                slot_start = (sub.fulfilment.get("pickup") or {}).get("slot_start")
                if slot_start:
                    stage_release(tx, sub.shop_id, slot_start)
            if reopen_with_key is not None:
                # The checkout failed before the customer could pay: the cart becomes usable again and
                # its Idempotency-Key may be sent again.
                tx.delete(
                    CheckoutKey(*CheckoutKey.key_for(reopen_with_key)),
                    condition=CheckoutKey.order_id == order_id,
                )
                tx.update(
                    CartItem(*CartItem.key_for(order.cart_id)),
                    actions=[
                        CartItem.status.set(OPEN),
                        CartItem.checkout_key.remove(),
                        CartItem.checkout_fingerprint.remove(),
                        CartItem.order_id.remove(),
                    ],
                    condition=CartItem.order_id == order_id,
                    add_version_condition=False,
                )
            if event:
                tx.save(event.item("cancelled"), condition=ProcessedEvent.pk.does_not_exist())
    except TransactWriteError:
        return _after_race(order_id, event)
    return "cancelled"


def _transition(
    tx: TransactWrite,
    order: OrderItem,
    subs: list[SubOrderItem],
    to: str,
    by: str,
    reason: str | None = None,
    pickup_codes: bool = False,
) -> None:
    """The whole order moves (paid, or cancelled unpaid): the order item and every sub-order, with one
    order-level event recorded by the caller."""
    moment = now()
    actions = [
        OrderItem.status.set(to),
        OrderItem.updated_at.set(iso(moment)),
        OrderItem.gsi3pk.remove(),
        OrderItem.gsi3sk.remove(),
    ]
    if reason:
        actions.append(OrderItem.cancel_reason.set(reason))
    tx.update(order, actions=actions, condition=OrderItem.status == order.status)
    for sub in subs:
        codes = pickup_codes and sub.fulfilment.get("method") == PICKUP
        extra = [SubOrderItem.pickup_code.set(new_pickup_code())] if codes else []
        stage_move(tx, sub, to, by, moment, actions=extra, event=False)


def record_only(event: EventRecord | None, outcome: str) -> str:
    """Records an event that changes nothing (already applied, or not applicable), once."""
    if event is None:
        return outcome
    try:
        event.item(outcome).save(condition=ProcessedEvent.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return "duplicate"
    return outcome


def applied(event: EventRecord | None) -> bool:
    """Whether the event was already processed (a concurrent delivery of it won a race)."""
    if event is None:
        return False
    try:
        ProcessedEvent.get(*ProcessedEvent.key_for(event.event_id), consistent_read=True)
    except ProcessedEvent.DoesNotExist:
        return False
    return True


def _after_race(order_id: str, event: EventRecord | None) -> str:
    """A transaction lost a race: either the event was already processed or the order moved on."""
    if applied(event):
        return "duplicate"
    order, _ = load_order(order_id)
    return record_only(event, f"ignored_{order.status}")


# --- expiry -----------------------------------------------------------------------------------------


def expire_holds(moment: datetime | None = None, limit: int = 100) -> list[tuple[str, str]]:
    """Cancels orders still waiting for payment after their hold, found through the sparse expiry index:
    one Query per shard, at most ``limit`` orders from each.

    The PaymentIntent is cancelled first: if Stripe says it already succeeded, the order is paid instead.
    Safe to run concurrently and repeatedly.
    """
    cutoff = iso(moment or now())
    results = []
    for partition in shard_partitions(EXPIRY_PARTITION, EXPIRY_SHARDS):
        expired = OrderItem.gsi3.query(partition, OrderItem.gsi3sk < f"{cutoff}~", limit=limit)
        results += _expire(expired)
    return results


def _expire(expired: Iterable[OrderItem]) -> list[tuple[str, str]]:
    from chalicelib.payment.gateway import PaymentProviderFailed, gateway

    results = []
    for order in expired:
        outcome = None
        if order.payment_intent_id:
            try:
                intent = gateway().cancel_payment_intent(
                    order.payment_intent_id, idempotency_key=f"cancel:{order.order_id}"
                )
            except PaymentProviderFailed:
                # Whether it was paid is unknown: keep the hold for the next run, and do not hold up the
                # orders behind it in the index (oldest first) while Stripe cannot answer for this one.
                logger.warning("expired hold: intent not cancelled", extra={"order_id": order.order_id})
                results.append((order.order_id, "provider_failed"))
                continue
            if intent.status == "succeeded":
                outcome = mark_paid(order.order_id, None, by="expiry")
        if outcome is None:
            outcome = cancel_unpaid(order.order_id, reason="hold_expired", by="expiry")
        results.append((order.order_id, outcome))
    return results


# --- reading ----------------------------------------------------------------------------------------


def customer_order(order_id: str, token: str | None) -> Order:
    # Consistent: a customer reads the order right after checkout or payment.
    order, subs = load_order(order_id)
    if not token or not hmac.compare_digest(order.token_digest, token_digest(token)):
        raise BadOrderToken()
    shops = [sub_order_view(sub) for sub in sorted(subs, key=lambda s: s.shop_name)]
    return Order(
        id=order.order_id,
        status=order.status,
        currency=order.currency,
        email=order.email,
        subtotal_cents=int(order.subtotal_cents),
        delivery_fees_cents=int(order.delivery_fees_cents),
        total_cents=int(order.total_cents),
        vat=[convert(v, VatOut, strict=True) for v in order.vat],
        shops=shops,
        payment_intent_id=order.payment_intent_id,
        hold_until=order.hold_until,
        created_at=order.created_at,
        updated_at=order.updated_at,
        cart_id=order.cart_id,
        last_payment_error=(
            convert(order.last_payment_error, PaymentError, strict=True)
            if order.last_payment_error and order.status == PENDING_PAYMENT
            else None
        ),
        cancel_reason=order.cancel_reason,
        refunded_cents=sum(shop.refunded_cents for shop in shops),
    )


def shop_sub_orders(principal: Principal, query: SubOrderListQuery) -> SubOrderPage:
    base = f"SHOP#{principal.shop_id}#SUBORDERS"
    if query.status:
        items, cursor = query_page(
            SubOrderItem,
            f"{base}#{query.status}",
            index="gsi1",
            limit=query.limit,
            cursor=query.cursor,
            forward=False,
        )
    else:
        items, cursor = query_page(
            SubOrderItem, base, index="gsi2", limit=query.limit, cursor=query.cursor, forward=False
        )
    return SubOrderPage([sub_order_view(i, for_shop=True) for i in items], cursor)


def shop_sub_order(principal: Principal, order_id: str) -> SubOrder:
    try:
        sub = SubOrderItem.get(*SubOrderItem.key_for(order_id, principal.shop_id or ""), consistent_read=True)
    except SubOrderItem.DoesNotExist:
        raise OrderNotFound(order_id) from None
    return sub_order_view(sub, for_shop=True)
