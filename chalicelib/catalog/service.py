"""Products and variants: retailers manage their own, storefronts browse what is listed."""

from __future__ import annotations

import msgspec
from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.auth.service import Principal
from chalicelib.catalog import search
from chalicelib.catalog.errors import (
    ProductNotFound,
    SkuTaken,
    StockOverMaximum,
    StockWouldGoNegative,
    TooManyVariants,
    VariantNotFound,
    changed_concurrently_or_raise,
    lost_a_race,
)
from chalicelib.catalog.listing import (
    active_shops,
    apply_listing,
    entry_keys_of,
    of_active_shops,
    product_words,
    shop_terms_of,
    stage_listing,
)
from chalicelib.catalog.models import ProductItem, SearchEntry, SkuClaim, VariantItem
from chalicelib.catalog.schemas import (
    MAX_VARIANTS,
    Product,
    ProductIn,
    ProductListQuery,
    ProductPage,
    ProductSearchQuery,
    ProductSummary,
    ProductUpdate,
    StockChange,
    Variant,
    VariantIn,
    VariantUpdate,
)
from chalicelib.catalog.taxonomy import is_category
from chalicelib.core.clock import iso, now
from chalicelib.core.db import MallItem, query_page, transaction
from chalicelib.core.errors import FieldProblem, InvalidInput
from chalicelib.core.ids import new_id, random_token
from chalicelib.core.types import MAX_STOCK
from chalicelib.images.models import ImageItem
from chalicelib.images.service import images_view
from chalicelib.shop.models import ShopItem
from chalicelib.shop.service import load_active_shop

CURRENCY = "EUR"


def product_id_of(variant_id: str) -> str:
    """A variant id is its product id plus a suffix, so a cart line finds the variant with one GetItem."""
    return variant_id.rpartition("-")[0]


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
    return _view(product, variants, [])


def retailer_get_product(principal: Principal, product_id: str) -> Product:
    product, variants, images = _load_owned(principal, product_id)
    return _view(product, variants, images)


def retailer_list_products(principal: Principal, query: ProductListQuery) -> ProductPage:
    items, cursor = query_page(
        ProductItem,
        f"SHOP#{principal.shop_id}#PRODUCTS",
        index="gsi1",
        limit=query.limit,
        cursor=query.cursor,
    )
    return ProductPage([_summary(i) for i in items], cursor)


def update_product(principal: Principal, product_id: str, update: ProductUpdate) -> Product:
    principal.require_writable_shop()
    product, variants, images = _load_owned(principal, product_id)
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
    return _view(product, variants, images)


def add_variant(principal: Principal, product_id: str, body: VariantIn) -> Product:
    principal.require_writable_shop()
    product, variants, images = _load_owned(principal, product_id)
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
    return _view(product, variants, images)


def update_variant(principal: Principal, product_id: str, variant_id: str, update: VariantUpdate) -> Product:
    principal.require_writable_shop()
    product, variants, images = _load_owned(principal, product_id)
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
    return _view(product, variants, images)


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
    return _variant_out(variant)


# --- storefront -------------------------------------------------------------------------------------


def get_product(product_id: str) -> Product:
    product, variants, images = _load(product_id, consistent=False)
    if not product.listed or not active_shops({product.shop_id}):
        raise ProductNotFound(product_id)
    return _view(product, variants, images, public=True)


def list_shop_products(shop_id: str, query: ProductListQuery) -> ProductPage:
    load_active_shop(shop_id)
    items, cursor = query_page(
        ProductItem, f"LISTED#SHOP#{shop_id}", index="gsi2", limit=query.limit, cursor=query.cursor
    )
    return ProductPage([_summary(i) for i in items], cursor)


def browse_products(query: ProductSearchQuery) -> ProductPage:
    if query.q is None and query.category is None:
        raise InvalidInput(
            [
                FieldProblem("q", "give words to search, a category, or both"),
                FieldProblem("category", "see q"),
            ]
        )
    if query.category is not None and not is_category(query.category):
        raise InvalidInput.single("category", "is not a category of the mall")
    if query.q is None:
        items, cursor = query_page(
            ProductItem, f"LISTED#CAT#{query.category}", index="gsi3", limit=query.limit, cursor=query.cursor
        )
        return ProductPage([_summary(i) for i in of_active_shops(items)], cursor)
    wanted = search.query_words(query.q)
    if not wanted:
        raise InvalidInput.single("q", "has no searchable words")
    # The longest word is usually the rarest: its partition is read, the others filter it.
    anchor = max(wanted, key=len)
    condition = None
    for word in wanted:
        if word != anchor:
            clause = SearchEntry.words.contains(word)
            condition = clause if condition is None else condition & clause
    if query.category is not None:
        clause = SearchEntry.category == query.category
        condition = clause if condition is None else condition & clause
    entries, cursor = query_page(
        SearchEntry,
        f"WORD#{anchor}",
        filter_condition=condition,
        limit=query.limit,
        cursor=query.cursor,
        max_calls=2,
    )
    return ProductPage([_summary(e) for e in of_active_shops(entries)], cursor)


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
    """Fields a listing shows without reading variants: price range and search words."""
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


def _load(product_id: str, consistent: bool) -> tuple[ProductItem, list[VariantItem], list[ImageItem]]:
    product: ProductItem | None = None
    variants: list[VariantItem] = []
    images: list[ImageItem] = []
    # Query through the base model: PynamoDB filters a subclass query to its own discriminator, so
    # ProductItem.query would never return the variants that share the partition.
    for item in MallItem.query(f"PRODUCT#{product_id}", consistent_read=consistent):
        if isinstance(item, VariantItem):
            variants.append(item)
        elif isinstance(item, ImageItem):
            images.append(item)
        elif isinstance(item, ProductItem):
            product = item
    if product is None:
        raise ProductNotFound(product_id)
    return product, variants, images


def _load_owned(
    principal: Principal, product_id: str
) -> tuple[ProductItem, list[VariantItem], list[ImageItem]]:
    product, variants, images = _load(product_id, consistent=True)
    if product.shop_id != principal.shop_id:
        # Another shop's product is reported as missing: no hint that the id exists.
        raise ProductNotFound(product_id)
    return product, variants, images


def _variant_out(variant: VariantItem) -> Variant:
    return Variant(
        id=variant.variant_id,
        sku=variant.sku,
        options=dict(variant.options),
        price_cents=int(variant.price_cents),
        stock=int(variant.stock),
        in_stock=bool(variant.active) and int(variant.stock) > 0,
        active=bool(variant.active),
    )


def _view(
    product: ProductItem, variants: list[VariantItem], images: list[ImageItem], public: bool = False
) -> Product:
    return Product(
        id=product.product_id,
        shop_id=product.shop_id,
        shop_name=product.shop_name,
        name=product.name,
        description=product.description,
        category=product.category,
        vat_rate_bps=int(product.vat_rate_bps),
        currency=CURRENCY,
        active=bool(product.active),
        variants=[_variant_out(v) for v in sorted(variants, key=lambda v: int(v.position))],
        images=images_view(images, public=public),
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def _summary(item: ProductItem | SearchEntry) -> ProductSummary:
    return ProductSummary(
        id=item.product_id,
        shop_id=item.shop_id,
        shop_name=item.shop_name,
        name=item.name,
        category=item.category,
        currency=CURRENCY,
        price_from_cents=int(item.price_from),
        price_to_cents=int(item.price_to),
        vat_rate_bps=int(item.vat_rate_bps),
        active=bool(getattr(item, "active", True)),
    )
