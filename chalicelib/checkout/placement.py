"""What a checkout writes: the order and its sub-orders (one per shop) built from the priced cart, the
pickup slots they book, and the one transaction that reserves it all or nothing.

chalicelib/checkout/service.py decides when to write them, asks the payment provider and explains a
cancelled transaction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from chalicelib.catalog.models import VariantItem
from chalicelib.checkout import pickup
from chalicelib.checkout.cart import Snapshot
from chalicelib.checkout.errors import CartNotReady
from chalicelib.checkout.models import CHECKED_OUT, CartItem, CheckoutKey
from chalicelib.checkout.pricing import PricedCart
from chalicelib.checkout.schemas import CheckoutIn
from chalicelib.core.clock import iso
from chalicelib.core.db import transaction
from chalicelib.core.ids import new_id
from chalicelib.ledger.commission import CommissionRate
from chalicelib.order.models import PENDING_PAYMENT, OrderItem, SubOrderItem, expiry_partition
from chalicelib.order.service import hold_duration, order_token, token_digest
from chalicelib.shop.bookings import SlotHold, stage_hold

KEY_TTL_SECONDS = 7 * 24 * 3600


def reserve(
    cart: CartItem,
    order: OrderItem,
    subs: list[SubOrderItem],
    priced: PricedCart,
    idempotency_key: str,
    fingerprint: str,
    holds: Sequence[SlotHold] = (),
) -> None:
    """The one transaction: stock for every line, the order, its sub-orders, the key claim, the cart,
    and one booking per chosen pickup slot."""
    with transaction() as tx:
        for line in priced.lines:
            c = line.catalog
            tx.update(
                VariantItem(*VariantItem.key_for(c.product_id, c.variant_id)),
                actions=[VariantItem.stock.add(-line.quantity)],
                # The reservation: never below zero, whatever other checkouts do meanwhile.
                condition=(VariantItem.stock >= line.quantity) & (VariantItem.active == True),  # noqa: E712
            )
        tx.save(order, condition=OrderItem.pk.does_not_exist())
        tx.save(
            CheckoutKey(
                *CheckoutKey.key_for(idempotency_key),
                cart_id=cart.cart_id,
                order_id=order.order_id,
                expires_at=int(time.time()) + KEY_TTL_SECONDS,  # housekeeping (TTL), not shop time
            ),
            condition=CheckoutKey.pk.does_not_exist(),
        )
        for sub in subs:
            tx.save(sub, condition=SubOrderItem.pk.does_not_exist())
        for hold in holds:
            stage_hold(tx, hold)  # a full slot cancels the whole transaction: nothing is reserved
        tx.update(
            cart,
            actions=[
                CartItem.status.set(CHECKED_OUT),
                CartItem.checkout_key.set(idempotency_key),
                CartItem.checkout_fingerprint.set(fingerprint),
                CartItem.order_id.set(order.order_id),
                CartItem.updated_at.set(order.created_at),
            ],
            condition=CartItem.checkout_key.does_not_exist(),
        )


def hold_slots(cart: CartItem, subs: list[SubOrderItem], snapshot: Snapshot) -> list[SlotHold]:
    """The slot each pickup sub-order books, recorded in its fulfilment (the shop's and customer's view,
    and what order.service.cancel_unpaid gives back). The cart was found ready, so each chosen slot is
    still offered; whether it has room is the transaction's condition."""
    holds = []
    for sub in subs:
        if sub.fulfilment["method"] != "pickup":
            continue
        terms = snapshot.terms[sub.shop_id]
        if pickup.policy_of(terms) is None:  # "ready within hours": nothing to book
            continue
        slot = pickup.chosen(cart.fulfilment.get(sub.shop_id), terms)
        if slot is None:  # passed in the instant since the cart was priced
            raise CartNotReady([f"{sub.shop_id}:{pickup.SLOT_UNAVAILABLE}"])
        sub.fulfilment["pickup"].update(slot_start=slot.key, slot_end=iso(slot.end))
        holds.append(pickup.hold_for(sub.shop_id, slot, terms))
    return holds


def build_order(
    cart: CartItem,
    cart_token: str,
    body: CheckoutIn,
    priced: PricedCart,
    snapshot: Snapshot,
    rates: dict[str, CommissionRate],
    stamp: datetime,
) -> tuple[OrderItem, list[SubOrderItem]]:
    """The order and one sub-order per shop, stamped at ``stamp`` (the checkout's clock, now())."""
    created = iso(stamp)
    hold_until = iso(stamp + hold_duration())
    order_id = new_id("ord")
    order = OrderItem(
        *OrderItem.key_for(order_id),
        order_id=order_id,
        cart_id=cart.cart_id,
        status=PENDING_PAYMENT,
        email=body.email,
        subtotal_cents=priced.subtotal_cents,
        delivery_fees_cents=priced.delivery_fees_cents,
        total_cents=priced.total_cents,
        vat=[asdict(v) for v in priced.vat],
        token_digest=token_digest(order_token(cart_token, order_id)),
        shop_ids=[shop.terms.shop_id for shop in priced.shops],
        reservations=[[ln.catalog.product_id, ln.catalog.variant_id, ln.quantity] for ln in priced.lines],
        hold_until=hold_until,
        created_at=created,
        updated_at=created,
        gsi3pk=expiry_partition(order_id),
        gsi3sk=f"{hold_until}#{order_id}",
    )
    subs = []
    for shop in priced.shops:
        terms = snapshot.terms[shop.terms.shop_id]
        choice = cart.fulfilment.get(shop.terms.shop_id) or {}
        fulfilment: dict[str, object] = {"method": shop.fulfilment.value}
        if shop.fulfilment.value == "pickup":
            fulfilment["pickup"] = {
                "address": terms["address"],
                "ready_within_hours": terms["ready_within_hours"],
                "instructions": terms["pickup_instructions"],
                # Products listed before the setting existed carry no value: the default then.
                "no_show_days": terms.get("no_show_days", 3),
            }
            if choice.get("contact"):
                # Optional for pickup: whom the shop calls when the order is late or something is missing.
                fulfilment["contact"] = choice.get("contact")
        else:
            fulfilment["address"] = choice.get("address")
            fulfilment["contact"] = choice.get("contact")
        sub = SubOrderItem(
            *SubOrderItem.key_for(order_id, shop.terms.shop_id),
            order_id=order_id,
            shop_id=shop.terms.shop_id,
            shop_name=shop.terms.shop_name,
            status=PENDING_PAYMENT,
            email=body.email,
            fulfilment=fulfilment,
            lines=[
                {
                    "variant_id": ln.catalog.variant_id,
                    "product_id": ln.catalog.product_id,
                    "name": ln.catalog.name,
                    "sku": ln.catalog.sku,
                    "options": ln.catalog.options,
                    "quantity": ln.quantity,
                    "unit_price_cents": ln.catalog.unit_price_cents,
                    "total_cents": ln.total_cents,
                    "vat_rate_bps": ln.catalog.vat_rate_bps,
                    "vat_cents": ln.vat_cents,
                }
                for ln in shop.lines
            ],
            subtotal_cents=shop.subtotal_cents,
            delivery_fee_cents=shop.delivery_fee_cents,
            total_cents=shop.total_cents,
            vat=[asdict(v) for v in shop.vat],
            history=[{"at": created, "by": "customer", "from": None, "to": PENDING_PAYMENT}],
            commission_bps=rates[shop.terms.shop_id].rate_bps,
            commission_fixed_cents=rates[shop.terms.shop_id].fixed_fee_cents,
            created_at=created,
            updated_at=created,
        )
        sub.index_for_status()
        subs.append(sub)
    return order, subs
