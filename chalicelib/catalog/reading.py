"""Reading products: a retailer's own products (any state), and what storefronts browse (listed products
of active shops), by key, by shop, by category or by words.

Also the views both answers are made of, which the writes in chalicelib/catalog/service.py return too.
"""

from __future__ import annotations

from chalicelib.auth.service import Principal
from chalicelib.catalog import search
from chalicelib.catalog.errors import ProductNotFound
from chalicelib.catalog.listing import PageState, active_shops, page_state
from chalicelib.catalog.models import PREFIX_LENGTH, ProductItem, SearchEntry, VariantItem
from chalicelib.catalog.schemas import (
    Category,
    CategoryList,
    CategoryNames,
    Product,
    ProductListQuery,
    ProductPage,
    ProductSearchQuery,
    ProductSummary,
    Variant,
)
from chalicelib.catalog.taxonomy import CATEGORIES, NAMES, is_category
from chalicelib.core.db import MallItem, query_page
from chalicelib.core.errors import FieldProblem, InvalidInput
from chalicelib.core.text import sort_key
from chalicelib.images import storage
from chalicelib.images.models import ImageItem
from chalicelib.images.service import images_view
from chalicelib.shop.errors import ShopNotFound

CURRENCY = "EUR"


def product_id_of(variant_id: str) -> str:
    """A variant id is its product id plus a suffix, so a cart line finds the variant with one GetItem."""
    return variant_id.rpartition("-")[0]


# --- retailer ---------------------------------------------------------------------------------------


def retailer_get_product(principal: Principal, product_id: str) -> Product:
    product, variants, images = load_owned(principal, product_id)
    return product_view(product, variants, images)


def retailer_list_products(principal: Principal, query: ProductListQuery) -> ProductPage:
    items, cursor = query_page(
        ProductItem,
        f"SHOP#{principal.shop_id}#PRODUCTS",
        index="gsi1",
        limit=query.limit,
        cursor=query.cursor,
    )
    return ProductPage([summary_of(i) for i in items], cursor)


# --- storefront -------------------------------------------------------------------------------------


def list_categories() -> CategoryList:
    return CategoryList([Category(slug, CategoryNames(*NAMES[slug])) for slug in CATEGORIES])


def get_product(product_id: str) -> Product:
    product, variants, images = load_product(product_id, consistent=False)
    if not product.listed or not active_shops({product.shop_id}):
        raise ProductNotFound(product_id)
    return product_view(product, variants, images, public=True)


def list_shop_products(shop_id: str, query: ProductListQuery) -> ProductPage:
    items, cursor = query_page(
        ProductItem, f"LISTED#SHOP#{shop_id}", index="gsi2", limit=query.limit, cursor=query.cursor
    )
    # The shop's status comes with the page's stock: 2 calls (an unknown or suspended shop is a 404).
    state = page_state(items, also_shops=frozenset({shop_id}))
    if shop_id not in state.active_shops:
        raise ShopNotFound(shop_id)
    return ProductPage([summary_of(i, state) for i in items], cursor)


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
        return _page(items, cursor)
    wanted = search.query_words(query.q)
    if not wanted:
        raise InvalidInput.single("q", "has no searchable words")
    # The longest word is usually the rarest: the entries of words beginning with it are read, the others
    # filter them by their beginning too (the last word is often still being typed).
    anchor = max(wanted, key=len)
    condition = None
    for word in wanted:
        if word != anchor:
            clause = SearchEntry.word_text.contains(f" {word}")
            condition = clause if condition is None else condition & clause
    if query.category is not None:
        clause = SearchEntry.category == query.category
        condition = clause if condition is None else condition & clause
    pk, _ = SearchEntry.key_for(anchor, "")
    # A word of 2 letters is found whole: as a prefix it would match a good part of the language.
    starts = anchor if len(anchor) >= PREFIX_LENGTH else f"{anchor}#"
    entries, cursor = query_page(
        SearchEntry,
        pk,
        range_key_condition=SearchEntry.sk.startswith(starts),
        filter_condition=condition,
        limit=query.limit,
        cursor=query.cursor,
        max_calls=2,
    )
    return _page(_ranked(wanted, entries), cursor)


def _page(items: list[ProductItem] | list[SearchEntry], cursor: str | None) -> ProductPage:
    """Leaves out the products of shops not active (a suspension not relisted yet), with their stock."""
    state = page_state(items)
    return ProductPage([summary_of(i, state) for i in items if i.shop_id in state.active_shops], cursor)


def _ranked(wanted: list[str], entries: list[SearchEntry]) -> list[SearchEntry]:
    """Best matches first within the page (a whole word before a word's beginning, the name before the
    rest), then by name; once per product (it may have two words beginning with the anchor)."""
    seen: set[str] = set()
    unique = [e for e in entries if not (e.product_id in seen or seen.add(e.product_id))]
    return sorted(
        unique, key=lambda e: (-search.match_score(wanted, list(e.words), e.name), sort_key(e.name))
    )


# --- helpers ----------------------------------------------------------------------------------------


def load_product(product_id: str, consistent: bool) -> tuple[ProductItem, list[VariantItem], list[ImageItem]]:
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


def load_owned(
    principal: Principal, product_id: str
) -> tuple[ProductItem, list[VariantItem], list[ImageItem]]:
    product, variants, images = load_product(product_id, consistent=True)
    if product.shop_id != principal.shop_id:
        # Another shop's product is reported as missing: no hint that the id exists.
        raise ProductNotFound(product_id)
    return product, variants, images


def variant_out(variant: VariantItem) -> Variant:
    return Variant(
        id=variant.variant_id,
        sku=variant.sku,
        options=dict(variant.options),
        price_cents=int(variant.price_cents),
        stock=int(variant.stock),
        in_stock=bool(variant.active) and int(variant.stock) > 0,
        active=bool(variant.active),
    )


def product_view(
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
        variants=[variant_out(v) for v in sorted(variants, key=lambda v: int(v.position))],
        images=images_view(images, public=public),
        created_at=product.created_at,
        updated_at=product.updated_at,
    )


def summary_of(item: ProductItem | SearchEntry, state: PageState | None = None) -> ProductSummary:
    """`state` (storefront lists) adds the in-stock flag; the retailer's list reads the product instead."""
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
        cover_url=storage.public_url(item.cover_key) if item.cover_key else None,
        in_stock=state.in_stock(item) if state is not None else None,
    )
