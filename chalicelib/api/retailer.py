"""Retailer API: a shop manages its own profile and catalogue with its key. Every call is scoped to the
key's shop; another shop's ids answer 404."""

from __future__ import annotations

from chalicelib.api.lazy import lazy
from chalicelib.api.routing import endpoint
from chalicelib.auth.keys import Role
from chalicelib.auth.service import Principal
from chalicelib.catalog.schemas import (
    Product,
    ProductIn,
    ProductListQuery,
    ProductPage,
    ProductUpdate,
    StockChange,
    Variant,
    VariantIn,
    VariantUpdate,
)
from chalicelib.shop.schemas import RetailerShop, ShopProfileUpdate

catalog = lazy("chalicelib.catalog.service")
shops = lazy("chalicelib.shop.service")
TAG = "Retailer"
KEY = Role.RETAILER


@endpoint("GET", "/retailer/shop", summary="My shop", tag=TAG, auth=KEY, response=RetailerShop)
def my_shop(principal: Principal) -> RetailerShop:
    return shops.retailer_get_shop(principal)


@endpoint(
    "PATCH",
    "/retailer/shop",
    summary="Update my shop's profile",
    tag=TAG,
    auth=KEY,
    body=ShopProfileUpdate,
    response=RetailerShop,
    errors=(409,),
)
def update_my_shop(principal: Principal, body: ShopProfileUpdate) -> RetailerShop:
    return shops.update_profile(principal, body)


@endpoint(
    "GET",
    "/retailer/products",
    summary="My products, active or not",
    tag=TAG,
    auth=KEY,
    query=ProductListQuery,
    response=ProductPage,
)
def my_products(principal: Principal, query: ProductListQuery) -> ProductPage:
    return catalog.retailer_list_products(principal, query)


@endpoint(
    "POST",
    "/retailer/products",
    summary="Create a product with its variants",
    tag=TAG,
    auth=KEY,
    body=ProductIn,
    response=Product,
    status=201,
    errors=(409,),
)
def create_product(principal: Principal, body: ProductIn) -> Product:
    return catalog.create_product(principal, body)


@endpoint(
    "GET",
    "/retailer/products/{product_id}",
    summary="One of my products",
    tag=TAG,
    auth=KEY,
    response=Product,
)
def my_product(principal: Principal, product_id: str) -> Product:
    return catalog.retailer_get_product(principal, product_id)


@endpoint(
    "PATCH",
    "/retailer/products/{product_id}",
    summary="Update a product; active=false takes it off the storefront",
    tag=TAG,
    auth=KEY,
    body=ProductUpdate,
    response=Product,
    errors=(409,),
)
def update_product(principal: Principal, product_id: str, body: ProductUpdate) -> Product:
    return catalog.update_product(principal, product_id, body)


@endpoint(
    "POST",
    "/retailer/products/{product_id}/variants",
    summary="Add a variant",
    tag=TAG,
    auth=KEY,
    body=VariantIn,
    response=Product,
    status=201,
    errors=(409,),
)
def add_variant(principal: Principal, product_id: str, body: VariantIn) -> Product:
    return catalog.add_variant(principal, product_id, body)


@endpoint(
    "PATCH",
    "/retailer/products/{product_id}/variants/{variant_id}",
    summary="Update a variant (price, SKU, options, active)",
    tag=TAG,
    auth=KEY,
    body=VariantUpdate,
    response=Product,
    errors=(409,),
)
def update_variant(principal: Principal, product_id: str, variant_id: str, body: VariantUpdate) -> Product:
    return catalog.update_variant(principal, product_id, variant_id, body)


@endpoint(
    "POST",
    "/retailer/products/{product_id}/variants/{variant_id}/stock",
    summary="Set or adjust a variant's stock",
    tag=TAG,
    auth=KEY,
    body=StockChange,
    response=Variant,
    errors=(409,),
)
def change_stock(principal: Principal, product_id: str, variant_id: str, body: StockChange) -> Variant:
    return catalog.change_stock(principal, product_id, variant_id, body)
