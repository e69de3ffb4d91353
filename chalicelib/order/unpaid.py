"""An order waiting for its payment: a declined card, and the customer giving up.

Stripe leaves a PaymentIntent whose card was declined open (requires_payment_method) so the customer can
try another card with the same client_secret. The order therefore keeps its stock and pickup slots until
its hold ends (or the customer pays); the decline is only recorded for the order page to show. A customer
who gives up cancels the order: the intent is cancelled first (so no card can pay for stock put back on
sale), the stock and slots are released and the cart reopens, its Idempotency-Key free again.
"""

from __future__ import annotations

import hmac
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.checkout.models import CartItem
from chalicelib.core.clock import iso, now
from chalicelib.core.db import transaction
from chalicelib.order.errors import BadOrderToken, OrderNotPending
from chalicelib.order.models import PAID, PENDING_PAYMENT, OrderItem
from chalicelib.order.schemas import Order
from chalicelib.order.service import (
    EventRecord,
    LoadedOrder,
    _after_race,
    cancel_unpaid,
    customer_order,
    load_order,
    mark_paid,
    record_only,
    token_digest,
)
from chalicelib.payment.models import ProcessedEvent

MESSAGE_MAX = 300


def record_payment_failure(
    order_id: str, intent: dict[str, Any], record: EventRecord, loaded: LoadedOrder
) -> str:
    """payment_intent.payment_failed: the order stays pending_payment with the decline recorded, once."""
    from chalicelib.payment.gateway import gateway

    order, _ = loaded
    if order.status != PENDING_PAYMENT:
        return record_only(record, "already_paid" if order.status == PAID else f"ignored_{order.status}")
    # Events arrive out of order: the customer's next card may have paid before this decline is processed.
    current = gateway().retrieve_payment_intent(str(intent["id"]))
    if current.status == "succeeded":
        return mark_paid(order_id, record, loaded=loaded, payment_intent_id=str(intent["id"]))
    moment = iso(now())
    try:
        with transaction() as tx:
            tx.update(
                order,
                actions=[
                    OrderItem.last_payment_error.set(payment_error(intent, moment)),
                    OrderItem.updated_at.set(moment),
                ],
                condition=OrderItem.status == PENDING_PAYMENT,
            )
            tx.save(record.item("payment_failed"), condition=ProcessedEvent.pk.does_not_exist())
    except TransactWriteError:
        return _after_race(order_id, record)
    return "payment_failed"


def payment_error(intent: dict[str, Any], at: str) -> dict[str, str | None]:
    """What the customer may read of Stripe's last_payment_error: its codes and customer-facing message."""
    error = intent.get("last_payment_error")
    error = error if isinstance(error, dict) else {}

    def short(value: Any, limit: int) -> str | None:
        return str(value)[:limit] if isinstance(value, str) and value else None

    return {
        "code": short(error.get("code"), 64) or "payment_failed",
        "decline_code": short(error.get("decline_code"), 64),
        "message": short(error.get("message"), MESSAGE_MAX) or "The payment was declined: try another card.",
        "at": at,
    }


def give_up(order_id: str, token: str | None) -> Order:
    """The customer stops paying: order cancelled, stock and slots released, cart reopened (409 once paid
    or already cancelled)."""
    from chalicelib.payment.gateway import gateway

    order, subs = load_order(order_id)
    if not token or not hmac.compare_digest(order.token_digest, token_digest(token)):
        raise BadOrderToken()
    if order.status != PENDING_PAYMENT:
        raise OrderNotPending(order_id, order.status)
    if order.payment_intent_id:
        intent = gateway().cancel_payment_intent(
            order.payment_intent_id, idempotency_key=f"cancel:{order_id}"
        )
        if intent.status == "succeeded":
            # Paid meanwhile (its webhook not processed yet): the order is paid, nothing is given up.
            mark_paid(order_id, None, loaded=(order, subs), payment_intent_id=order.payment_intent_id)
            raise OrderNotPending(order_id, PAID)
    outcome = cancel_unpaid(
        order_id,
        reason="customer_cancelled",
        reopen_with_key=_checkout_key(order),
        by="customer",
        loaded=(order, subs),
    )
    if outcome != "cancelled":
        raise OrderNotPending(order_id, load_order(order_id)[0].status)
    return customer_order(order_id, token)


def _checkout_key(order: OrderItem) -> str | None:
    """The Idempotency-Key that consumed the cart, to free with it; None when the cart is gone (TTL)."""
    try:
        cart = CartItem.get(*CartItem.key_for(order.cart_id), consistent_read=True)
    except CartItem.DoesNotExist:
        return None
    return cart.checkout_key if cart.order_id == order.order_id else None
