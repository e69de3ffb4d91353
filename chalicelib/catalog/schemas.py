"""Shapes of products and variants on the wire."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from chalicelib.core.types import (
    Cursor,
    Id,
    Limit,
    LongText,
    PriceCents,
    Slug,
    StockCount,
    VatRateBps,
)
from chalicelib.core.validation import text
from chalicelib.images.schemas import Image

Sku = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="Shop's own stock code")]
OptionName = Annotated[str, text(min_length=1, max_length=30)]
OptionValue = Annotated[str, text(min_length=1, max_length=40)]
Options = Annotated[dict[OptionName, OptionValue], Meta(max_length=3, description="e.g. size, colour")]
ProductName = Annotated[str, text(min_length=1, max_length=200)]

MAX_VARIANTS = 20


class VariantIn(Struct, forbid_unknown_fields=True):
    sku: Sku
    price_cents: PriceCents
    stock: StockCount = 0
    options: Options = {}
    active: bool = True


class ProductIn(Struct, forbid_unknown_fields=True):
    name: ProductName
    category: Slug
    vat_rate_bps: VatRateBps
    variants: Annotated[list[VariantIn], Meta(min_length=1, max_length=MAX_VARIANTS)]
    description: LongText = ""
    active: bool = True


class ProductUpdate(Struct, forbid_unknown_fields=True):
    name: ProductName | UnsetType = UNSET
    category: Slug | UnsetType = UNSET
    vat_rate_bps: VatRateBps | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class VariantUpdate(Struct, forbid_unknown_fields=True):
    sku: Sku | UnsetType = UNSET
    price_cents: PriceCents | UnsetType = UNSET
    options: Options | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class StockChange(Struct, forbid_unknown_fields=True):
    """Either `set` (a count at the counter) or `adjust` (a delivery arrived: +12); exactly one."""

    set: StockCount | None = None
    adjust: Annotated[int, Meta(ge=-1_000_000, le=1_000_000)] | None = None


class Variant(Struct):
    id: Id
    sku: str
    options: dict[str, str]
    price_cents: int
    stock: int
    in_stock: bool
    active: bool


class Product(Struct):
    id: Id
    shop_id: Id
    shop_name: str
    name: str
    description: str
    category: str
    vat_rate_bps: int
    currency: str
    active: bool
    variants: list[Variant]
    # Storefronts: ready images only, the cover first. The retailer: also pending and refused uploads.
    images: list[Image]
    created_at: str
    updated_at: str


class ProductSummary(Struct):
    id: Id
    shop_id: Id
    shop_name: str
    name: str
    category: str
    currency: str
    price_from_cents: int
    price_to_cents: int
    vat_rate_bps: int
    active: bool
    # The cover's 200 px rendition, or None without a ready image; whether a variant is on sale now (None:
    # unknown for this page, read the product). A grid needs no call per product.
    cover_url: str | None = None
    in_stock: bool | None = None


class ProductPage(Struct):
    items: list[ProductSummary]
    next_cursor: str | None


class ProductListQuery(Struct, forbid_unknown_fields=True):
    limit: Limit = 20
    cursor: Cursor | None = None


class ProductSearchQuery(Struct, forbid_unknown_fields=True):
    q: Annotated[str, Meta(min_length=1, max_length=200, description="Words to find")] | None = None
    category: Slug | None = None
    limit: Limit = 20
    cursor: Cursor | None = None


class CategoryNames(Struct):
    fr: str
    nl: str
    en: str


class Category(Struct):
    slug: str
    names: CategoryNames


class CategoryList(Struct):
    """The mall's taxonomy in navigation order. It changes only with a deployment: cacheable."""

    items: list[Category]
