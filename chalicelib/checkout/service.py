"""Checkout: one DynamoDB transaction reserves stock for every line and writes the order with one
sub-order per shop; then one Stripe PaymentIntent is created for the total.

Idempotency: the cart records the Idempotency-Key, a fingerprint of the request and the order it
produced, and a mall-wide CheckoutKey item claims the key, all in the same transaction. A retry with the
same key and request replays the result (creating the PaymentIntent if the first attempt died before it,
with the same Stripe idempotency key); the same key with another request or another cart is a 422; another
key on a checked-out cart is a 409. The key claim is only read when the transaction fails.
Calls: GetItem cart, BatchGetItem catalogue, BatchGetItem commission rates, the transaction, the Stripe
call, UpdateItem order.
A chosen pickup slot adds no call: the transaction books it under the condition that it is not full.
The order, its sub-orders and the transaction are built in chalicelib/checkout/placement.py.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Sequence

import msgspec
from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.checkout.cart import load_cart, load_snapshot, price
from chalicelib.checkout.errors import (
    CartChangedConcurrently,
    CartClosed,
    CartEmpty,
    CartNotReady,
    CheckoutInProgress,
    IdempotencyKeyReused,
    InsufficientStock,
    SlotFull,
)
from chalicelib.checkout.models import OPEN, CartItem, CheckoutKey
from chalicelib.checkout.placement import build_order, hold_slots, reserve
from chalicelib.checkout.pricing import LineProblem, PricedCart
from chalicelib.checkout.refusals import counted_refusals
from chalicelib.checkout.schemas import CheckoutIn, CheckoutResult
from chalicelib.core import metrics
from chalicelib.core.clock import now
from chalicelib.core.errors import InvalidInput
from chalicelib.core.log import logger
from chalicelib.ledger.rates import rates_for
from chalicelib.order.models import PENDING_PAYMENT, OrderItem
from chalicelib.order.service import cancel_unpaid, order_token
from chalicelib.payment.gateway import PaymentProviderFailed, gateway
from chalicelib.shop.bookings import SlotHold, booked_of

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_:.\-]{8,255}$")
RESERVATION_ATTEMPTS = 3


@counted_refusals
def checkout(
    cart_id: str, cart_token: str | None, idempotency_key: str | None, body: CheckoutIn
) -> CheckoutResult:
    if not idempotency_key or not _KEY_PATTERN.match(idempotency_key):
        raise InvalidInput.single(
            "Idempotency-Key", "send a unique key of 8-255 letters, digits or _:.- per checkout"
        )
    cart = load_cart(cart_id, cart_token)
    assert cart_token is not None
    fingerprint = _fingerprint(cart, body)
    if cart.checkout_key is not None:
        return _replay(cart, cart_token, idempotency_key, fingerprint)
    if cart.status != OPEN:
        raise CartClosed(cart_id, cart.order_id)
    if not cart.lines:
        raise CartEmpty()
    snapshot = load_snapshot([line["variant_id"] for line in cart.lines], consistent=True)
    priced, fulfilment_problems = price(cart, snapshot)
    _refuse_unless_ready(priced, fulfilment_problems)

    # The mall's commission as it stands now is fixed on each sub-order: later changes never touch it.
    rates = rates_for(shop.terms.shop_id for shop in priced.shops)
    order, subs = build_order(cart, cart_token, body, priced, snapshot, rates, now())
    holds = hold_slots(cart, subs, snapshot)
    for attempt in range(RESERVATION_ATTEMPTS):
        try:
            reserve(cart, order, subs, priced, idempotency_key, fingerprint, holds)
            break
        except TransactWriteError as error:
            # DynamoDB cancels transactions that touch an item another transaction is writing at that
            # moment (TransactionConflict); nothing failed on our side, so try again shortly.
            conflict = any(r and r.code == "TransactionConflict" for r in error.cancellation_reasons or [])
            if not conflict or attempt == RESERVATION_ATTEMPTS - 1:
                return _explain_failed_reservation(
                    cart, cart_token, idempotency_key, fingerprint, priced, holds
                )
            time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))
    placed = _attach_payment(order, cart_token, idempotency_key, created_here=True)
    metrics.count("OrdersPlaced")
    return placed


def _attach_payment(
    order: OrderItem, cart_token: str, idempotency_key: str, created_here: bool
) -> CheckoutResult:
    """Creates (or, on a replay, finds again) the PaymentIntent.

    Only the request that created the order may give up on it: a replay racing the first request (the
    client retried before the first answer) must not cancel the order the first request is completing.
    """
    try:
        intent = gateway().create_payment_intent(
            amount_cents=int(order.total_cents),
            currency=order.currency,
            transfer_group=order.order_id,
            metadata={"order_id": order.order_id, "cart_id": order.cart_id},
            idempotency_key=f"checkout:{order.order_id}",
        )
    except Exception as exc:
        if not created_here:
            raise CheckoutInProgress(order.order_id) from None
        # Whatever went wrong (Stripe down, credentials missing), the customer cannot pay this order:
        # give the stock back and reopen the cart so a retry starts clean.
        cancel_unpaid(order.order_id, reason="payment_provider_failed", reopen_with_key=idempotency_key)
        if isinstance(exc, PaymentProviderFailed):
            raise
        logger.exception("payment intent creation failed", extra={"order_id": order.order_id})
        raise PaymentProviderFailed("create") from None
    if order.payment_intent_id != intent.id:
        try:
            # First writer wins; Stripe's idempotency key makes every writer hold the same intent anyway.
            order.update(
                actions=[
                    OrderItem.payment_intent_id.set(intent.id),
                    OrderItem.client_secret.set(intent.client_secret),
                ],
                condition=OrderItem.payment_intent_id.does_not_exist(),
                add_version_condition=False,
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            order.refresh(consistent_read=True)
            if order.payment_intent_id != intent.id:
                raise CheckoutInProgress(order.order_id) from None
    return _result(order, cart_token, intent.id, intent.client_secret)


def _result(order: OrderItem, cart_token: str, payment_intent_id: str, client_secret: str) -> CheckoutResult:
    return CheckoutResult(
        order_id=order.order_id,
        order_token=order_token(cart_token, order.order_id),
        payment_intent_id=payment_intent_id,
        client_secret=client_secret,
        status=order.status,
        total_cents=int(order.total_cents),
        currency=order.currency,
        hold_until=order.hold_until,
    )


def _replay(cart: CartItem, cart_token: str, key: str, fingerprint: str) -> CheckoutResult:
    if cart.checkout_key != key:
        raise CartClosed(cart.cart_id, cart.order_id)
    if cart.checkout_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    assert cart.order_id is not None
    order = OrderItem.get(*OrderItem.key_for(cart.order_id), consistent_read=True)
    if order.payment_intent_id and order.client_secret:
        return _result(order, cart_token, order.payment_intent_id, order.client_secret)
    if order.status != PENDING_PAYMENT:
        raise CartClosed(cart.cart_id, cart.order_id)
    return _attach_payment(order, cart_token, key, created_here=False)


def _explain_failed_reservation(
    cart: CartItem,
    cart_token: str,
    key: str,
    fingerprint: str,
    priced: PricedCart,
    holds: Sequence[SlotHold] = (),
) -> CheckoutResult:
    """The transaction was cancelled: a concurrent checkout of this cart, stock taken meanwhile, a pickup
    slot filled meanwhile, or the cart edited. Work out which from the current state (error path only)
    and raise accordingly."""
    current = load_cart(cart.cart_id, cart_token)
    if current.checkout_key is not None:
        return _replay(current, cart_token, key, fingerprint)
    try:
        claimed = CheckoutKey.get(*CheckoutKey.key_for(key), consistent_read=True)
    except CheckoutKey.DoesNotExist:
        claimed = None
    if claimed is not None and claimed.cart_id != cart.cart_id:
        raise IdempotencyKeyReused()
    snapshot = load_snapshot([line.catalog.variant_id for line in priced.lines], consistent=True)
    short = []
    for line in priced.lines:
        now_line = snapshot.lines.get(line.catalog.variant_id)
        available = now_line.stock if now_line and now_line.sellable else 0
        if available < line.quantity:
            short.append(_shortage(line.catalog.variant_id, line.catalog.sku, line.quantity, available))
    if short:
        raise InsufficientStock(short)
    if holds:
        booked = booked_of(holds)
        full = [
            {"shop_id": h.shop_id, "slot_start": h.slot_start}
            for h in holds
            if booked.get((h.shop_id, h.slot_start), 0) >= h.capacity
        ]
        if full:
            raise SlotFull(full)
    raise CartChangedConcurrently(cart.cart_id)


def _shortage(variant_id: str, sku: str, requested: int, available: int) -> dict[str, object]:
    available = max(0, available)
    return {
        "variant_id": variant_id,
        "sku": sku,
        "requested": requested,
        "available": available,
        "short_by": requested - available,
    }


def _refuse_unless_ready(priced: PricedCart, fulfilment_problems: dict[str, str | None]) -> None:
    stock = [
        line
        for line in priced.problems
        if line.problem in (LineProblem.OUT_OF_STOCK, LineProblem.INSUFFICIENT_STOCK)
    ]
    if stock:
        raise InsufficientStock(
            [
                _shortage(line.catalog.variant_id, line.catalog.sku, line.quantity, line.catalog.stock)
                for line in stock
            ]
        )
    problems = [f"{line.catalog.variant_id}:{line.problem}" for line in priced.problems]
    problems += [f"{key}:{value}" for key, value in fulfilment_problems.items() if value]
    if problems:
        raise CartNotReady(problems)


def _fingerprint(cart: CartItem, body: CheckoutIn) -> str:
    payload = {"lines": cart.lines, "fulfilment": cart.fulfilment, "checkout": msgspec.to_builtins(body)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
