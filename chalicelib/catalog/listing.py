"""Whether and where a product is shown to storefronts.

A product is *listed* when it is active and its shop is active. Listing is written, not computed at read
time, so that every storefront list is a single Query: a listed product carries the keys of the sparse
indexes gsi2/gsi3 and has one SearchEntry per word. Product edits and prices call `stage_listing` in the
same transaction as their own write; shop-wide changes (rename, terms, suspension) are recorded on the shop
and relisted by a worker off the request (chalicelib/catalog/relisting.py), while storefront reads leave out
products of shops that are not active in the meantime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import msgspec
from pynamodb.transactions import TransactWrite

from chalicelib.catalog import search
from chalicelib.catalog.models import ProductItem, SearchEntry, VariantItem
from chalicelib.core.db import MallItem
from chalicelib.core.text import sort_key
from chalicelib.shop.models import ShopItem


def name_key(product: ProductItem) -> str:
    return f"{sort_key(product.name)}#{product.product_id}"


def product_words(product: ProductItem, variants: list[VariantItem]) -> list[str]:
    """The words a product is found by: its own texts, its variants' options and its shop's name."""
    options = [value for v in variants for value in dict(v.options).values()]
    return search.index_words(product.name, product.category, product.description, product.shop_name, options)


def shop_terms_of(shop: ShopItem) -> dict[str, object]:
    """What a cart and an order need to know of the shop that sells a product."""
    p = shop.profile
    return {
        "name": p.name,
        "address": f"{p.address.street}, {p.address.postal_code} {p.address.city}",
        "lat": p.location.lat,
        "lng": p.location.lng,
        "timezone": p.timezone,
        "pickup": p.pickup.enabled,
        "ready_within_hours": p.pickup.ready_within_hours,
        "pickup_instructions": p.pickup.instructions,
        "no_show_days": p.pickup.no_show_days,
        # What the cart needs to compute pickup slots and "ready by" without reading the shop (a few KB).
        "pickup_slots": msgspec.to_builtins(p.pickup.slots) if p.pickup.slots else None,
        "opening_hours": msgspec.to_builtins(p.opening_hours),
        "closed_dates": list(p.closed_dates),
        "delivery": p.delivery.enabled,
        "radius_km": p.delivery.radius_km,
        "fee_cents": p.delivery.fee_cents,
        "free_over_cents": p.delivery.free_over_cents,
    }


def apply_listing(product: ProductItem, shop_active: bool) -> None:
    key = name_key(product)
    product.gsi1pk, product.gsi1sk = f"SHOP#{product.shop_id}#PRODUCTS", key
    product.listed = bool(product.active and shop_active)
    product.search_scheme = 2  # whatever its entries were keyed by, stage_listing writes them by prefix
    if product.listed:
        product.gsi2pk, product.gsi2sk = f"LISTED#SHOP#{product.shop_id}", key
        product.gsi3pk, product.gsi3sk = f"LISTED#CAT#{product.category}", key
    else:
        product.gsi2pk = product.gsi2sk = product.gsi3pk = product.gsi3sk = None


def _entry_keys(product: ProductItem) -> set[tuple[str, str]]:
    if not product.listed:
        return set()
    key = name_key(product)
    key_for = SearchEntry.key_for if int(product.search_scheme) >= 2 else SearchEntry.legacy_key_for
    return {key_for(word, key) for word in product.words}


def stage_listing(tx: TransactWrite, product: ProductItem, before: set[tuple[str, str]]) -> None:
    """Adds the search-entry writes that take the index from `before` (see `entry_keys_of`) to now."""
    after = _entry_keys(product)
    for pk, sk in sorted(before - after):
        tx.delete(SearchEntry(pk, sk))
    for pk, sk in sorted(after):
        tx.save(
            SearchEntry(
                pk,
                sk,
                product_id=product.product_id,
                shop_id=product.shop_id,
                shop_name=product.shop_name,
                name=product.name,
                category=product.category,
                vat_rate_bps=product.vat_rate_bps,
                price_from=product.price_from,
                price_to=product.price_to,
                words=list(product.words),
                word_text=search.word_text(list(product.words)),
                cover_key=product.cover_key,
                variant_ids=list(product.variant_ids) if product.variant_ids is not None else None,
            )
        )


def entry_keys_of(product: ProductItem) -> set[tuple[str, str]]:
    """The search entries a stored product has now; take it before changing the product."""
    return _entry_keys(product)


def active_shops(shop_ids: set[str]) -> set[str]:
    """Which of these shops are active: one BatchGetItem (a page names at most 100 shops).

    Listing is relisted off the request after a suspension (chalicelib/catalog/relisting.py); until the
    worker has passed, a suspended shop's products still carry listing keys, so storefront lists and reads
    check their shops' status here and leave those products out."""
    if not shop_ids:
        return set()
    keys = [ShopItem.key_for(shop_id) for shop_id in sorted(shop_ids)]
    found = ShopItem.batch_get(keys, attributes_to_get=["pk", "sk", "kind", "shop_id", "status"])
    return {shop.shop_id for shop in found if shop.active}


_Listed = TypeVar("_Listed", ProductItem, SearchEntry)
# One BatchGetItem: a list page stays at 2 calls (its Query and this), whatever its size.
MAX_BATCH_KEYS = 100


@dataclass
class PageState:
    """What a list page needs to know now, beyond its index copies: which shops are active and which
    products have a variant on sale."""

    active_shops: set[str]
    sellable: set[str]  # variant ids: active and stock > 0
    read: set[str]  # products whose variants were all read

    def in_stock(self, item: ProductItem | SearchEntry) -> bool | None:
        """None when unknown: the product was stored before variant ids, or its variants did not fit."""
        if item.product_id not in self.read:
            return None
        return any(v in self.sellable for v in item.variant_ids or [])


def page_state(items: list[_Listed], also_shops: frozenset[str] = frozenset()) -> PageState:
    """The page's shops' status and its products' variants' stock in one BatchGetItem of at most 100 keys
    (shops first; a product whose variants no longer fit reads as in_stock None). Stock is read live, not
    copied onto listings: every sale changes it, and each copy would be one more write per checkout."""
    shop_ids = sorted({i.shop_id for i in items} | also_shops)
    keys = [ShopItem.key_for(shop_id) for shop_id in shop_ids]
    read: set[str] = set()
    for item in items:
        if item.variant_ids is None or item.product_id in read:
            continue
        wanted = [VariantItem.key_for(item.product_id, v) for v in item.variant_ids]
        if len(keys) + len(wanted) <= MAX_BATCH_KEYS:
            keys += wanted
            read.add(item.product_id)
    state = PageState(set(), set(), read)
    if not keys:
        return state
    fields = ["pk", "sk", "kind", "shop_id", "status", "variant_id", "stock", "active"]
    for found in MallItem.batch_get(keys, attributes_to_get=fields):
        if isinstance(found, ShopItem) and found.active:
            state.active_shops.add(found.shop_id)
        elif isinstance(found, VariantItem) and found.active and int(found.stock) > 0:
            state.sellable.add(found.variant_id)
    return state
