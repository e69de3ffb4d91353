"""Products and variants: retailers create and change their own (chalicelib/catalog/reading.py reads them,
for retailers and storefronts)."""

from __future__ import annotations

import msgspec
from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.auth.service import Principal
from chalicelib.catalog.errors import (
    SkuTaken,
    StockOverMaximum,
    StockWouldGoNegative,
    TooManyVariants,
    VariantNotFound,
    changed_concurrently_or_raise,
    lost_a_race,
)
from chalicelib.catalog.listing import (
    apply_listing,
    entry_keys_of,
    product_words,
    shop_terms_of,
    stage_listing,
)
from chalicelib.catalog.models import ProductItem, SkuClaim, VariantItem
from chalicelib.catalog.reading import (
    CURRENCY,
    browse_products,
    get_product,
    list_categories,
    list_shop_products,
    load_owned,
    product_id_of,
    product_view,
    retailer_get_product,
    retailer_list_products,
    variant_out,
)
from chalicelib.catalog.schemas import (
    MAX_VARIANTS,
    Product,
    ProductIn,
    ProductUpdate,
    StockChange,
    Variant,
    VariantIn,
    VariantUpdate,
)
from chalicelib.catalog.taxonomy import is_category
from chalicelib.core.clock import iso, now
from chalicelib.core.db import transaction
from chalicelib.core.errors import FieldProblem, InvalidInput
from chalicelib.core.ids import new_id, random_token
from chalicelib.core.types import MAX_STOCK
from chalicelib.shop.models import ShopItem

# Re-exported: the API, the cart, the tools and the bench know the catalogue by this module.
__all__ = [
    "CURRENCY",
    "browse_products",
    "get_product",
    "list_categories",
    "list_shop_products",
    "product_id_of",
    "retailer_get_product",
    "retailer_list_products",
]


# --- retailer ---------------------------------------------------------------------------------------


def create_product(principal: Principal, body: ProductIn) -> Product:
    shop_id = principal.require_writable_shop()
    _check_new_product(body)
    # Consistent, and checked again in the transaction: a product created while its shop is being suspended
    # or renamed either carries the new state or is refused (the relist worker may have passed already).
    shop = ShopItem.get(*ShopItem.key_for(shop_id), consistent_read=True)
    stamp = iso(now())
    product_id = new_id("prod")
    product = ProductItem(
        *ProductItem.key_for(product_id),
        product_id=product_id,
        shop_id=shop_id,
        shop_name=shop.profile.name,
        shop_terms=shop_terms_of(shop),
        name=body.name,
        description=body.description,
        category=body.category,
        vat_rate_bps=body.vat_rate_bps,
        active=body.active,
        shop_active=shop.active,
        shop_listing_version=int(shop.listing_version),
        created_at=stamp,
        updated_at=stamp,
    )
    variants = [_new_variant(product, v, stamp, i) for i, v in enumerate(body.variants)]
    _derive(product, variants)
    apply_listing(product, shop.active)
    unchanged = ShopItem.listing_version == int(shop.listing_version)
    if not shop.listing_version:
        unchanged |= ShopItem.listing_version.does_not_exist()  # shops stored before listing versions
    try:
        with transaction() as tx:
            tx.condition_check(ShopItem, *ShopItem.key_for(shop_id), condition=unchanged)
            tx.save(product, condition=ProductItem.pk.does_not_exist())
            for variant in variants:
                tx.save(variant, condition=VariantItem.pk.does_not_exist())
                tx.save(_claim(variant), condition=SkuClaim.pk.does_not_exist())
            stage_listing(tx, product, set())
    except TransactWriteError as error:
        _raise_sku_conflict(shop_id, [v.sku for v in variants], product_id, error)
    return product_view(product, variants, [])


def update_product(principal: Principal, product_id: str, update: ProductUpdate) -> Product:
    principal.require_writable_shop()
    product, variants, images = load_owned(principal, product_id)
    changes = {f: v for f in update.__struct_fields__ if (v := getattr(update, f)) is not msgspec.UNSET}
    if "category" in changes and not is_category(changes["category"]):
        raise InvalidInput.single("category", "is not a category of the mall")
    before = entry_keys_of(product)
    for field, value in changes.items():
        setattr(product, field, value)
    product.updated_at = iso(now())
    _derive(product, variants)
    apply_listing(product, product.shop_active)
    _save_product(product, before)
    return product_view(product, variants, images)


def add_variant(principal: Principal, product_id: str, body: VariantIn) -> Product:
    principal.require_writable_shop()
    product, variants, images = load_owned(principal, product_id)
    if len(variants) >= MAX_VARIANTS:
        raise TooManyVariants(MAX_VARIANTS)
    stamp = iso(now())
    variant = _new_variant(product, body, stamp, 1 + max(int(v.position) for v in variants))
    before = entry_keys_of(product)
    variants.append(variant)
    product.updated_at = stamp
    _derive(product, variants)
    apply_listing(product, product.shop_active)
    try:
        with transaction() as tx:
            tx.save(product)
            tx.save(variant, condition=VariantItem.pk.does_not_exist())
            tx.save(_claim(variant), condition=SkuClaim.pk.does_not_exist())
            stage_listing(tx, product, before)
    except TransactWriteError as error:
        _raise_sku_conflict(principal.shop_id or "", [variant.sku], product_id, error)
    return product_view(product, variants, images)


def update_variant(principal: Principal, product_id: str, variant_id: str, update: VariantUpdate) -> Product:
    principal.require_writable_shop()
    product, variants, images = load_owned(principal, product_id)
    variant = next((v for v in variants if v.variant_id == variant_id), None)
    if variant is None:
        raise VariantNotFound(variant_id)
    old_sku = variant.sku
    stamp = iso(now())
    # Named attributes only: a full save would overwrite stock that checkouts change concurrently.
    actions = [VariantItem.updated_at.set(stamp)]
    for field in ("sku", "price_cents", "options", "active"):
        value = getattr(update, field)
        if value is not msgspec.UNSET:
            setattr(variant, field, value)
            actions.append(getattr(VariantItem, field).set(value))
    before = entry_keys_of(product)
    product.updated_at = stamp
    _derive(product, variants)
    apply_listing(product, product.shop_active)
    sku_changed = variant.sku.upper() != old_sku.upper()
    try:
        with transaction() as tx:
            tx.save(product)
            tx.update(variant, actions=actions, condition=VariantItem.pk.exists())
            if sku_changed:
                tx.delete(SkuClaim(*SkuClaim.key_for(product.shop_id, old_sku)))
                tx.save(_claim(variant), condition=SkuClaim.pk.does_not_exist())
            stage_listing(tx, product, before)
    except TransactWriteError as error:
        if sku_changed:
            _raise_sku_conflict(product.shop_id, [variant.sku], product_id, error)
        raise changed_concurrently_or_raise(error, product_id) from None
    return product_view(product, variants, images)


def change_stock(principal: Principal, product_id: str, variant_id: str, change: StockChange) -> Variant:
    """One conditional update: safe against checkouts reserving the same variant at the same moment."""
    shop_id = principal.require_writable_shop()
    if (change.set is None) == (change.adjust is None):
        raise InvalidInput(
            [FieldProblem("set", "send exactly one of set or adjust"), FieldProblem("adjust", "see set")]
        )
    if product_id_of(variant_id) != product_id:
        raise VariantNotFound(variant_id)
    variant = VariantItem(*VariantItem.key_for(product_id, variant_id))
    condition = VariantItem.pk.exists() & (VariantItem.shop_id == shop_id)
    if change.set is not None:
        action = VariantItem.stock.set(change.set)
    else:
        delta = int(change.adjust)  # type: ignore[arg-type]
        action = VariantItem.stock.add(delta)
        # Both bounds in the condition: a concurrent checkout may change stock between read and write.
        condition &= (VariantItem.stock >= -delta) if delta < 0 else (VariantItem.stock <= MAX_STOCK - delta)
    try:
        variant.update(actions=[action, VariantItem.updated_at.set(iso(now()))], condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        try:
            current = VariantItem.get(*VariantItem.key_for(product_id, variant_id), consistent_read=True)
        except VariantItem.DoesNotExist:
            raise VariantNotFound(variant_id) from None
        if current.shop_id != shop_id:
            raise VariantNotFound(variant_id) from None
        if change.adjust is not None and change.adjust > 0:
            raise StockOverMaximum(variant_id, int(current.stock), MAX_STOCK) from None
        raise StockWouldGoNegative(variant_id, int(current.stock)) from None
    return variant_out(variant)


# --- helpers ----------------------------------------------------------------------------------------


def _check_new_product(body: ProductIn) -> None:
    problems = []
    if not is_category(body.category):
        problems.append(FieldProblem("category", "is not a category of the mall"))
    seen: set[str] = set()
    for i, variant in enumerate(body.variants):
        if variant.sku.upper() in seen:
            problems.append(FieldProblem(f"variants[{i}].sku", "is repeated in this product"))
        seen.add(variant.sku.upper())
    if problems:
        raise InvalidInput(problems)


def _new_variant(product: ProductItem, body: VariantIn, stamp: str, position: int) -> VariantItem:
    variant_id = f"{product.product_id}-{random_token(6)}"
    return VariantItem(
        *VariantItem.key_for(product.product_id, variant_id),
        variant_id=variant_id,
        product_id=product.product_id,
        shop_id=product.shop_id,
        sku=body.sku,
        options=dict(body.options),
        price_cents=body.price_cents,
        stock=body.stock,
        active=body.active,
        position=position,
        updated_at=stamp,
    )


def _claim(variant: VariantItem) -> SkuClaim:
    return SkuClaim(*SkuClaim.key_for(variant.shop_id, variant.sku), variant_id=variant.variant_id)


def _derive(product: ProductItem, variants: list[VariantItem]) -> None:
    """Fields a listing shows without reading variants: price range, search words, which variants to read
    for its in-stock flag."""
    product.variant_ids = [v.variant_id for v in sorted(variants, key=lambda v: int(v.position))]
    prices = [int(v.price_cents) for v in variants if v.active] or [int(v.price_cents) for v in variants]
    product.price_from, product.price_to = min(prices), max(prices)
    product.words = product_words(product, variants)


def _save_product(product: ProductItem, before: set[tuple[str, str]]) -> None:
    try:
        with transaction() as tx:
            tx.save(product)
            stage_listing(tx, product, before)
    except TransactWriteError as error:
        raise changed_concurrently_or_raise(error, product.product_id) from None


def _raise_sku_conflict(shop_id: str, skus: list[str], product_id: str, error: TransactWriteError) -> None:
    claimed = [c for c in SkuClaim.batch_get([SkuClaim.key_for(shop_id, s) for s in skus])]
    taken = sorted({c.sk.removeprefix("SKU#") for c in claimed})
    if taken and lost_a_race(error):
        raise SkuTaken(taken) from None
    raise changed_concurrently_or_raise(error, product_id) from None
