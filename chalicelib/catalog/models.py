from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)

from chalicelib.core.db import MallItem


class ProductItem(MallItem, discriminator="product"):
    """pk = PRODUCT#<id>, sk = PRODUCT; its variants share the partition, so one Query reads both.

    gsi1: SHOP#<shop>#PRODUCTS / <name key>#<id>   all of a shop's products (retailer)
    gsi2: LISTED#SHOP#<shop> / <name key>#<id>     listed products of a shop (storefront), sparse
    gsi3: LISTED#CAT#<category> / <name key>#<id>  listed products of a category (storefront), sparse
    Listed = product active and shop active; see catalog/listing.py.
    """

    product_id = UnicodeAttribute()
    shop_id = UnicodeAttribute()
    shop_name = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    category = UnicodeAttribute()
    vat_rate_bps = NumberAttribute()
    active = BooleanAttribute()
    listed = BooleanAttribute(default=False)
    price_from = NumberAttribute(default=0)
    price_to = NumberAttribute(default=0)
    words = ListAttribute(of=UnicodeAttribute, default=list)
    # 1: search entries keyed by whole word (before prefix search); 2: by prefix (SearchEntry).
    search_scheme = NumberAttribute(default=1)
    # What a product grid shows without a call per product (listing.page_state): the cover's 200 px
    # rendition (kept by chalicelib/images/service.py when images change) and the variants, whose stock is
    # read live with the page's shops (stock changes at every sale; None: stored before variant ids).
    cover_key = UnicodeAttribute(null=True)
    variant_ids = ListAttribute(of=UnicodeAttribute, null=True)
    # The shop's name and fulfilment offer, copied here (and refreshed by the relist worker) so
    # that pricing a cart reads only product and variant items: one BatchGetItem however many shops.
    shop_terms = JSONAttribute(default=dict)
    # The shop's status and listing version as of the last relisting (chalicelib/catalog/relisting.py):
    # product edits keep the listing the worker decided, and a product already at the shop's version is
    # skipped by a redelivered message.
    shop_active = BooleanAttribute(default=True)
    shop_listing_version = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key_for(product_id: str) -> tuple[str, str]:
        return f"PRODUCT#{product_id}", "PRODUCT"


class VariantItem(MallItem, discriminator="variant"):
    """pk = PRODUCT#<product id>, sk = VARIANT#<variant id>. `stock` is what can still be sold."""

    variant_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    shop_id = UnicodeAttribute()
    sku = UnicodeAttribute()
    options = JSONAttribute(default=dict)  # never queried: a small JSON document
    price_cents = NumberAttribute()
    stock = NumberAttribute()
    active = BooleanAttribute()
    position = NumberAttribute(default=0)  # the retailer's order, for display
    updated_at = UnicodeAttribute()

    @staticmethod
    def key_for(product_id: str, variant_id: str) -> tuple[str, str]:
        return f"PRODUCT#{product_id}", f"VARIANT#{variant_id}"


class SkuClaim(MallItem, discriminator="sku"):
    """pk = SHOP#<shop id>, sk = SKU#<SKU upper-cased>: makes a SKU unique within its shop."""

    variant_id = UnicodeAttribute()

    @staticmethod
    def key_for(shop_id: str, sku: str) -> tuple[str, str]:
        return f"SHOP#{shop_id}", f"SKU#{sku.upper()}"


PREFIX_LENGTH = 3


class SearchEntry(MallItem, discriminator="search_entry"):
    """pk = PREFIX#<first 3 letters of the word>, sk = <word>#<name key>#<product id>: one per word of a
    listed product, so a Query with `begins_with(sk, "choco")` finds "chocolate" and "chocolatier" (words
    of 2 letters have their own partition, found whole only). It carries the summary a result list shows
    and every word of the product (a multi-word search filters on `word_text`, ranks on `words`).
    Products written before prefixes (search_scheme 1) have entries at WORD#<word> / <name key>#<id>:
    their next write deletes those (chalicelib/catalog/listing.py)."""

    product_id = UnicodeAttribute()
    shop_id = UnicodeAttribute()
    shop_name = UnicodeAttribute()
    name = UnicodeAttribute()
    category = UnicodeAttribute()
    vat_rate_bps = NumberAttribute()
    price_from = NumberAttribute()
    price_to = NumberAttribute()
    words = ListAttribute(of=UnicodeAttribute)
    word_text = UnicodeAttribute(null=True)
    cover_key = UnicodeAttribute(null=True)  # copies of the product's, see ProductItem
    variant_ids = ListAttribute(of=UnicodeAttribute, null=True)

    @staticmethod
    def key_for(word: str, name_key: str) -> tuple[str, str]:
        return f"PREFIX#{word[:PREFIX_LENGTH]}", f"{word}#{name_key}"

    @staticmethod
    def legacy_key_for(word: str, name_key: str) -> tuple[str, str]:
        return f"WORD#{word}", name_key
