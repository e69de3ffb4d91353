"""Public storefront API: browse shops and products. No key needed."""

from __future__ import annotations

from chalicelib.api.lazy import lazy
from chalicelib.api.routing import endpoint
from chalicelib.catalog import service as catalog
from chalicelib.catalog.schemas import (
    CategoryList,
    Product,
    ProductListQuery,
    ProductPage,
    ProductSearchQuery,
)
from chalicelib.shop.schemas import NearbyQuery, Shop, ShopListQuery, ShopPage

# Shop pages and near-me load the shop service (opening hours, geohash cells) on first use: a product page
# does not need it.
shops = lazy("chalicelib.shop.service")

TAG = "Storefront"


@endpoint(
    "GET",
    "/categories",
    summary="The mall's categories, named in French, Dutch and English",
    tag=TAG,
    response=CategoryList,
    cache_seconds=3600,
)
def list_categories() -> CategoryList:
    return catalog.list_categories()


@endpoint(
    "GET",
    "/shops",
    summary="List the mall's shops by name",
    tag=TAG,
    query=ShopListQuery,
    response=ShopPage,
)
def list_shops(query: ShopListQuery) -> ShopPage:
    return shops.list_shops(query)


@endpoint(
    "GET",
    "/shops/near",
    summary="Shops near a point, nearest first",
    tag=TAG,
    query=NearbyQuery,
    response=ShopPage,
)
def shops_near(query: NearbyQuery) -> ShopPage:
    return shops.shops_near(query)


@endpoint(
    "GET",
    "/shops/{shop_id}",
    summary="One shop with its pickup and delivery options",
    tag=TAG,
    response=Shop,
)
def get_shop(shop_id: str) -> Shop:
    return shops.get_shop(shop_id)


@endpoint(
    "GET",
    "/shops/{shop_id}/products",
    summary="Products of a shop",
    tag=TAG,
    query=ProductListQuery,
    response=ProductPage,
)
def list_shop_products(shop_id: str, query: ProductListQuery) -> ProductPage:
    return catalog.list_shop_products(shop_id, query)


@endpoint(
    "GET",
    "/products",
    summary="Products of a category, or found by words, mall-wide",
    tag=TAG,
    query=ProductSearchQuery,
    response=ProductPage,
)
def browse_products(query: ProductSearchQuery) -> ProductPage:
    return catalog.browse_products(query)


@endpoint(
    "GET",
    "/products/{product_id}",
    summary="One product with its variants",
    tag=TAG,
    response=Product,
)
def get_product(product_id: str) -> Product:
    return catalog.get_product(product_id)
