"""A cart as the customer sees it and as checkout prices it: the catalogue as it is now for the cart's lines
(one BatchGetItem, the snapshot), the cart priced against it with the pure rules of pricing.py, what still
stops each shop's part, and the customer's view. The cart's changes are in chalicelib/checkout/cart.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.catalog.listing import active_shops
from chalicelib.catalog.models import ProductItem, VariantItem
from chalicelib.catalog.reading import product_id_of
from chalicelib.checkout import pickup, pricing
from chalicelib.checkout.models import OPEN, CartItem
from chalicelib.checkout.pricing import CatalogLine, Fulfilment, PricedCart, ShopTerms
from chalicelib.checkout.schemas import (
    Cart,
    CartLine,
    CartShop,
    ChosenSlot,
    Contact,
    DeliveryAddress,
    FulfilmentOut,
    VatOut,
)
from chalicelib.core.clock import iso
from chalicelib.core.db import MallItem
from chalicelib.core.validation import convert
from chalicelib.images import storage
from chalicelib.shop import geo

CURRENCY = "EUR"


@dataclass
class Snapshot:
    """The catalogue as it is now for a cart's lines."""

    lines: dict[str, CatalogLine]  # by variant id; a missing id no longer exists
    terms: dict[str, dict[str, Any]]  # shop id -> ProductItem.shop_terms
    # product id -> its cover's 200 px rendition key (chalicelib/images/cover.py)
    covers: dict[str, str] = field(default_factory=dict)


# --- the catalogue snapshot -------------------------------------------------------------------------


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
    covers = {p.product_id: p.cover_key for p in products.values() if p.cover_key}
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
    return Snapshot(lines, terms, covers)


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
                lines=[_line_out(line, snapshot) for line in shop.lines],
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


def _line_out(line: pricing.PricedLine, snapshot: Snapshot) -> CartLine:
    c = line.catalog
    available = max(0, c.stock) if c.sellable else 0
    cover = snapshot.covers.get(c.product_id)
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
        available=available,
        problem=line.problem.value if line.problem else None,
        cover_url=storage.public_url(cover) if cover else None,
        in_stock=available > 0,
    )
