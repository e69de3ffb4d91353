"""Carts: what a customer wants from which shops and how each shop's part reaches them.

A cart stores choices only (variants, quantities, fulfilment). Prices, VAT, stock and the shops' offers are
read from the catalogue each time the cart is shown or checked out: one BatchGetItem of the lines'
product and variant items, which carry everything needed (see catalog.listing.shop_terms_of).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
from pynamodb.exceptions import PutError

from chalicelib.catalog.listing import active_shops
from chalicelib.catalog.models import ProductItem, VariantItem
from chalicelib.catalog.service import product_id_of
from chalicelib.checkout import pickup, pricing
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
from chalicelib.checkout.pricing import CatalogLine, Fulfilment, PricedCart, ShopTerms
from chalicelib.checkout.schemas import (
    Cart,
    CartLine,
    CartShop,
    ChosenSlot,
    Contact,
    CreatedCart,
    DeliveryAddress,
    FulfilmentIn,
    FulfilmentOut,
    LineIn,
    NewCart,
    PickupSlot,
    PickupSlots,
    VatOut,
)
from chalicelib.core.clock import iso, now
from chalicelib.core.db import MallItem
from chalicelib.core.errors import FieldProblem, InvalidInput
from chalicelib.core.ids import new_id, random_token
from chalicelib.core.validation import convert
from chalicelib.shop import bookings, geo
from chalicelib.shop.slots import find_slot

MAX_LINES = 25  # a checkout transaction holds one item per line plus the order: DynamoDB's limit is 100
CART_TTL = timedelta(days=30)
CURRENCY = "EUR"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Snapshot:
    """The catalogue as it is now for a cart's lines."""

    lines: dict[str, CatalogLine]  # by variant id; a missing id no longer exists
    terms: dict[str, dict[str, Any]]  # shop id -> ProductItem.shop_terms


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


def pickup_slots(cart_id: str, token: str | None, shop_id: str) -> PickupSlots:
    """The pickup slots a shop of this cart can honour now (GetItem cart, BatchGet catalogue, one Query of
    the shop's bookings), or for a shop without slots when an order placed now is ready."""
    cart = load_cart(cart_id, token)
    if all(line["shop_id"] != shop_id for line in cart.lines):
        raise ShopNotInCart(shop_id)
    terms = load_snapshot(_variant_ids(cart)).terms.get(shop_id)
    if terms is None:
        raise ShopNotInCart(shop_id)
    if not terms["pickup"]:
        raise FulfilmentNotOffered(shop_id, "pickup")
    moment = pickup.now()
    if pickup.policy_of(terms) is None:
        ready = pickup.ready_by(terms, moment)
        ready_iso = iso(ready) if ready else None
        return PickupSlots(shop_id, "ready_within_hours", terms["timezone"], [], ready_iso)
    booked = bookings.booked_counts(shop_id, moment, moment + timedelta(days=pickup.HORIZON_DAYS))
    offered = [PickupSlot(s.key, iso(s.end), s.remaining) for s in pickup.offered(terms, booked, moment)]
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


def load_snapshot(variant_ids: list[str], consistent: bool = False) -> Snapshot:
    """One BatchGetItem: every line's variant and product item (a cart has at most 25 lines: 50 keys), and
    one of their shops' status."""
    keys: set[tuple[str, str]] = set()
    for variant_id in variant_ids:
        product_id = product_id_of(variant_id)
        keys.add(VariantItem.key_for(product_id, variant_id))
        keys.add(ProductItem.key_for(product_id))
    products: dict[str, ProductItem] = {}
    variants: dict[str, VariantItem] = {}
    for item in MallItem.batch_get(sorted(keys), consistent_read=consistent):
        if isinstance(item, VariantItem):
            variants[item.variant_id] = item
        elif isinstance(item, ProductItem):
            products[item.product_id] = item
    # A suspension is relisted off the request (chalicelib/catalog/relisting.py): until the worker has
    # passed, a suspended shop's products still look listed, so their shops' status is read here too.
    open_shops = active_shops({p.shop_id for p in products.values() if p.listed})
    lines: dict[str, CatalogLine] = {}
    terms: dict[str, dict[str, Any]] = {}
    for variant_id, variant in variants.items():
        product = products.get(variant.product_id)
        if product is None:
            continue
        terms[product.shop_id] = product.shop_terms
        lines[variant_id] = CatalogLine(
            variant_id=variant_id,
            product_id=product.product_id,
            shop_id=product.shop_id,
            name=product.name,
            sku=variant.sku,
            options=dict(variant.options),
            unit_price_cents=int(variant.price_cents),
            vat_rate_bps=int(product.vat_rate_bps),
            stock=int(variant.stock),
            sellable=bool(product.active and variant.active),
            # `listed` is false exactly when the product is active but its shop is not (suspended).
            shop_active=bool((product.listed and product.shop_id in open_shops) or not product.active),
        )
    return Snapshot(lines, terms)


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


# --- pricing and the customer's view ----------------------------------------------------------------


def shop_terms(shop_id: str, raw: dict[str, Any]) -> ShopTerms:
    return ShopTerms(
        shop_id=shop_id,
        shop_name=raw["name"],
        pickup=raw["pickup"],
        delivery=raw["delivery"],
        delivery_fee_cents=int(raw["fee_cents"]),
        free_delivery_over_cents=raw["free_over_cents"],
    )


def chosen_fulfilment(
    cart: CartItem, shop_id: str, raw_terms: dict[str, Any]
) -> tuple[Fulfilment, str | None]:
    """The method in force for a shop and what still stops it (None when complete)."""
    choice = cart.fulfilment.get(shop_id)
    if choice is None:
        if raw_terms["pickup"]:
            return Fulfilment.PICKUP, pickup.problem(None, raw_terms)
        return Fulfilment.DELIVERY, "delivery_address_required"
    method = Fulfilment(choice["method"])
    if not raw_terms[method.value]:
        return method, f"{method.value}_no_longer_offered"
    if method is Fulfilment.DELIVERY:
        address = choice.get("address") or {}
        if (
            geo.distance_km(raw_terms["lat"], raw_terms["lng"], address["lat"], address["lng"])
            > raw_terms["radius_km"]
        ):
            return method, "outside_delivery_area"
    if method is Fulfilment.PICKUP:
        return method, pickup.problem(choice, raw_terms)
    return method, None


def price(cart: CartItem, snapshot: Snapshot) -> tuple[PricedCart, dict[str, str | None]]:
    """Prices the cart against the snapshot; returns the priced cart and each shop's fulfilment problem."""
    by_shop: dict[str, list[pricing.PricedLine]] = {}
    missing: list[str] = []
    for entry in cart.lines:
        catalog = snapshot.lines.get(entry["variant_id"])
        if catalog is None:
            missing.append(entry["variant_id"])
            continue
        by_shop.setdefault(catalog.shop_id, []).append(pricing.price_line(catalog, int(entry["quantity"])))
    shops = []
    problems: dict[str, str | None] = {}
    for shop_id, lines in by_shop.items():
        raw = snapshot.terms[shop_id]
        method, problem = chosen_fulfilment(cart, shop_id, raw)
        problems[shop_id] = problem
        shops.append(pricing.price_shop(shop_terms(shop_id, raw), method, lines))
    priced = pricing.price_cart(shops)
    for variant_id in missing:
        problems[f"variant:{variant_id}"] = "no_longer_exists"
    return priced, problems


def view(cart: CartItem, snapshot: Snapshot) -> Cart:
    priced, fulfilment_problems = price(cart, snapshot)
    shops = []
    for shop in priced.shops:
        raw = snapshot.terms[shop.terms.shop_id]
        choice = cart.fulfilment.get(shop.terms.shop_id) or {}
        shops.append(
            CartShop(
                shop_id=shop.terms.shop_id,
                shop_name=shop.terms.shop_name,
                fulfilment=FulfilmentOut(
                    method=shop.fulfilment.value,
                    available_methods=[m for m in ("pickup", "delivery") if raw[m]],
                    delivery_fee_cents=shop.delivery_fee_cents,
                    address=convert(choice["address"], DeliveryAddress, strict=True)
                    if choice.get("address")
                    else None,
                    contact=convert(choice["contact"], Contact, strict=True)
                    if choice.get("contact")
                    else None,
                    ready_within_hours=raw["ready_within_hours"] if raw["pickup"] else None,
                    pickup_address=raw["address"],
                    problem=fulfilment_problems.get(shop.terms.shop_id),
                    pickup_slot=_chosen_slot(shop.fulfilment, choice, raw),
                ),
                lines=[_line_out(line) for line in shop.lines],
                subtotal_cents=shop.subtotal_cents,
                delivery_fee_cents=shop.delivery_fee_cents,
                total_cents=shop.total_cents,
                vat=[VatOut(v.rate_bps, v.gross_cents, v.vat_cents) for v in shop.vat],
            )
        )
    problems = [f"{line.catalog.variant_id}:{line.problem}" for line in priced.problems]
    problems += [f"{key}:{value}" for key, value in fulfilment_problems.items() if value]
    return Cart(
        id=cart.cart_id,
        status=cart.status,
        currency=CURRENCY,
        shops=shops,
        subtotal_cents=priced.subtotal_cents,
        delivery_fees_cents=priced.delivery_fees_cents,
        total_cents=priced.total_cents,
        vat=[VatOut(v.rate_bps, v.gross_cents, v.vat_cents) for v in priced.vat],
        line_count=len(cart.lines),
        ready_for_checkout=bool(cart.lines) and not problems and cart.status == OPEN,
        problems=problems,
        order_id=cart.order_id,
    )


def _chosen_slot(method: Fulfilment, choice: dict[str, Any], raw: dict[str, Any]) -> ChosenSlot | None:
    key = choice.get("slot_start")
    # A slot chosen before the shop stopped booking slots is simply no longer relevant.
    if method is not Fulfilment.PICKUP or not key or pickup.policy_of(raw) is None:
        return None
    slot = pickup.chosen(choice, raw)
    return ChosenSlot(start=key, end=iso(slot.end) if slot else None)


def _line_out(line: pricing.PricedLine) -> CartLine:
    c = line.catalog
    return CartLine(
        variant_id=c.variant_id,
        product_id=c.product_id,
        shop_id=c.shop_id,
        name=c.name,
        sku=c.sku,
        options=c.options,
        quantity=line.quantity,
        unit_price_cents=c.unit_price_cents,
        total_cents=line.total_cents,
        vat_rate_bps=c.vat_rate_bps,
        vat_cents=line.vat_cents,
        available=max(0, c.stock) if c.sellable else 0,
        problem=line.problem.value if line.problem else None,
    )
