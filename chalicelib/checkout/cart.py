"""Carts: what a customer wants from which shops and how each shop's part reaches them.

A cart stores choices only (variants, quantities, fulfilment). Prices, VAT, stock and the shops' offers are
read from the catalogue each time the cart is shown or checked out: one BatchGetItem of the lines'
product and variant items, which carry everything needed (see catalog.listing.shop_terms_of).
The snapshot, the pricing and the customer's view are in chalicelib/checkout/cart_view.py.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

import msgspec
from pynamodb.exceptions import PutError

from chalicelib.checkout import pickup, pricing
from chalicelib.checkout.cart_view import (
    CURRENCY,
    Snapshot,
    chosen_fulfilment,
    load_snapshot,
    price,
    shop_terms,
    view,
)
from chalicelib.checkout.errors import (
    BadCartToken,
    CartChangedConcurrently,
    CartClosed,
    CartNotFound,
    FulfilmentNotOffered,
    LineNotInCart,
    OutsideDeliveryArea,
    ShopNotInCart,
    SlotUnavailable,
    TooManyLines,
    VariantUnavailable,
)
from chalicelib.checkout.models import OPEN, CartItem
from chalicelib.checkout.schemas import (
    Cart,
    CreatedCart,
    FulfilmentIn,
    LineIn,
    NewCart,
    PickupSlot,
    PickupSlots,
    PickupSlotsQuery,
)
from chalicelib.core.clock import iso, now
from chalicelib.core.errors import FieldProblem, InvalidInput
from chalicelib.core.ids import new_id, random_token
from chalicelib.shop import bookings, geo
from chalicelib.shop.slots import find_slot

MAX_LINES = 25  # a checkout transaction holds one item per line plus the order: DynamoDB's limit is 100
CART_TTL = timedelta(days=30)

# Re-exported: the API, checkout and the tools know carts by this module.
__all__ = ["CURRENCY", "Snapshot", "chosen_fulfilment", "load_snapshot", "price", "shop_terms", "view"]


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- operations -------------------------------------------------------------------------------------


def create_cart(body: NewCart) -> CreatedCart:
    token = f"ct_{random_token(32)}"
    stamp = now()
    cart_id = new_id("cart")
    cart = CartItem(
        *CartItem.key_for(cart_id),
        cart_id=cart_id,
        token_digest=token_digest(token),
        created_at=iso(stamp),
        updated_at=iso(stamp),
        expires_at=int((stamp + CART_TTL).timestamp()),
    )
    snapshot = load_snapshot([line.variant_id for line in body.lines]) if body.lines else Snapshot({}, {})
    for line in body.lines:
        _merge_line(cart, snapshot, line)
    cart.save(condition=CartItem.pk.does_not_exist())
    return CreatedCart(cart=view(cart, snapshot), cart_token=token)


def get_cart(cart_id: str, token: str | None) -> Cart:
    cart = load_cart(cart_id, token)
    return view(cart, load_snapshot(_variant_ids(cart)))


def add_line(cart_id: str, token: str | None, line: LineIn) -> Cart:
    cart = load_open_cart(cart_id, token)
    snapshot = load_snapshot([*_variant_ids(cart), line.variant_id])
    _merge_line(cart, snapshot, line)
    _save(cart)
    return view(cart, snapshot)


def set_quantity(cart_id: str, token: str | None, variant_id: str, quantity: int) -> Cart:
    cart = load_open_cart(cart_id, token)
    entry = _find(cart, variant_id)
    entry["quantity"] = quantity
    _save(cart)
    return view(cart, load_snapshot(_variant_ids(cart)))


def remove_line(cart_id: str, token: str | None, variant_id: str) -> Cart:
    cart = load_open_cart(cart_id, token)
    entry = _find(cart, variant_id)
    cart.lines = [line for line in cart.lines if line is not entry]
    if all(line["shop_id"] != entry["shop_id"] for line in cart.lines):
        cart.fulfilment = {k: v for k, v in cart.fulfilment.items() if k != entry["shop_id"]}
    _save(cart)
    return view(cart, load_snapshot(_variant_ids(cart)))


def set_fulfilment(cart_id: str, token: str | None, shop_id: str, choice: FulfilmentIn) -> Cart:
    cart = load_open_cart(cart_id, token)
    if all(line["shop_id"] != shop_id for line in cart.lines):
        raise ShopNotInCart(shop_id)
    snapshot = load_snapshot(_variant_ids(cart))
    terms = snapshot.terms.get(shop_id)
    if terms is None:
        raise ShopNotInCart(shop_id)
    if not terms[choice.method]:
        raise FulfilmentNotOffered(shop_id, choice.method)
    if choice.method == "delivery":
        missing = [
            FieldProblem(f, "is required for delivery")
            for f in ("address", "contact")
            if not getattr(choice, f)
        ]
        if missing:
            raise InvalidInput(missing)
        assert choice.address is not None
        distance = geo.distance_km(terms["lat"], terms["lng"], choice.address.lat, choice.address.lng)
        if distance > terms["radius_km"]:
            raise OutsideDeliveryArea(shop_id, distance, terms["radius_km"])
    if choice.slot_start is not None:
        _check_slot(shop_id, terms, choice)
    cart.fulfilment = {**cart.fulfilment, shop_id: msgspec.to_builtins(choice)}
    _save(cart)
    return view(cart, snapshot)


def _check_slot(shop_id: str, terms: dict[str, Any], choice: FulfilmentIn) -> None:
    """A slot can be chosen for pickup at a shop with slots, if it is offered now and not full. Checked
    against a consistent read of the bookings; checkout's condition settles any race after this."""
    assert choice.slot_start is not None
    if choice.method != "pickup":
        raise InvalidInput.single("slot_start", "is only for pickup")
    if pickup.policy_of(terms) is None:
        raise InvalidInput.single("slot_start", "this shop takes no slot bookings (ready within hours)")
    moment = pickup.now()
    booked = bookings.booked_counts(
        shop_id, moment, moment + timedelta(days=pickup.HORIZON_DAYS), consistent=True
    )
    if find_slot(pickup.offered(terms, booked, moment), choice.slot_start) is None:
        raise SlotUnavailable(shop_id, choice.slot_start)


def pickup_slots(cart_id: str, token: str | None, shop_id: str, query: PickupSlotsQuery) -> PickupSlots:
    """The pickup slots a shop of this cart can honour now, on the days asked (GetItem cart, BatchGet
    catalogue, one Query of the shop's bookings of those days), or for a shop without slots when an order
    placed now is ready."""
    cart = load_cart(cart_id, token)
    if all(line["shop_id"] != shop_id for line in cart.lines):
        raise ShopNotInCart(shop_id)
    terms = load_snapshot(_variant_ids(cart)).terms.get(shop_id)
    if terms is None:
        raise ShopNotInCart(shop_id)
    if not terms["pickup"]:
        raise FulfilmentNotOffered(shop_id, "pickup")
    moment = pickup.now()
    # Checked first: a bad range is a 400 whichever way the shop hands orders over.
    start, end = pickup.window(terms["timezone"], moment, query.date, query.from_, query.to)
    if pickup.policy_of(terms) is None:
        ready = pickup.ready_by(terms, moment)
        ready_iso = iso(ready) if ready else None
        return PickupSlots(shop_id, "ready_within_hours", terms["timezone"], [], ready_iso)
    start, end = max(start, moment), min(end, moment + timedelta(days=pickup.HORIZON_DAYS))
    booked = bookings.booked_counts(shop_id, start, end) if start < end else {}
    offered = [
        PickupSlot(s.key, iso(s.end), s.remaining)
        for s in pickup.offered(terms, booked, moment)
        if start <= s.start < end
    ]
    return PickupSlots(shop_id, "slots", terms["timezone"], offered, None)


# --- loading and saving -----------------------------------------------------------------------------


def load_cart(cart_id: str, token: str | None, consistent: bool = True) -> CartItem:
    try:
        cart = CartItem.get(*CartItem.key_for(cart_id), consistent_read=consistent)
    except CartItem.DoesNotExist:
        raise CartNotFound(cart_id) from None
    if not token or not hmac.compare_digest(cart.token_digest, token_digest(token)):
        raise BadCartToken()
    return cart


def load_open_cart(cart_id: str, token: str | None) -> CartItem:
    cart = load_cart(cart_id, token)
    if cart.status != OPEN:
        raise CartClosed(cart_id, cart.order_id)
    return cart


def _save(cart: CartItem) -> None:
    stamp = now()
    cart.updated_at = iso(stamp)
    cart.expires_at = int((stamp + CART_TTL).timestamp())
    try:
        cart.save()  # conditional on the version we read
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise CartChangedConcurrently(cart.cart_id) from None
        raise


def _variant_ids(cart: CartItem) -> list[str]:
    return [line["variant_id"] for line in cart.lines]


def _find(cart: CartItem, variant_id: str) -> dict[str, Any]:
    for line in cart.lines:
        if line["variant_id"] == variant_id:
            return line
    raise LineNotInCart(variant_id)


def _merge_line(cart: CartItem, snapshot: Snapshot, line: LineIn) -> None:
    catalog = snapshot.lines.get(line.variant_id)
    if catalog is None or not catalog.sellable or not catalog.shop_active:
        raise VariantUnavailable(line.variant_id)
    for entry in cart.lines:
        if entry["variant_id"] == line.variant_id:
            entry["quantity"] = min(pricing.MAX_QUANTITY, entry["quantity"] + line.quantity)
            return
    if len(cart.lines) >= MAX_LINES:
        raise TooManyLines(MAX_LINES)
    cart.lines = [
        *cart.lines,
        {"variant_id": line.variant_id, "shop_id": catalog.shop_id, "quantity": line.quantity},
    ]
