"""Operator API: the mall's operator opens, lists, suspends shops and rotates their keys."""

from __future__ import annotations

from chalicelib.api.lazy import lazy
from chalicelib.api.routing import endpoint
from chalicelib.auth.keys import Role
from chalicelib.auth.service import Principal
from chalicelib.shop.schemas import (
    CreatedShop,
    OperatorShopListQuery,
    RetailerShop,
    RetailerShopPage,
    RotatedKey,
    ShopProfile,
)

shops = lazy("chalicelib.shop.service")
TAG = "Operator"
KEY = Role.OPERATOR


@endpoint(
    "POST",
    "/operator/shops",
    summary="Open a shop; returns its first API key once",
    tag=TAG,
    auth=KEY,
    body=ShopProfile,
    response=CreatedShop,
    status=201,
)
def open_shop(principal: Principal, body: ShopProfile) -> CreatedShop:
    return shops.open_shop(body)


@endpoint(
    "GET",
    "/operator/shops",
    summary="All shops by status",
    tag=TAG,
    auth=KEY,
    query=OperatorShopListQuery,
    response=RetailerShopPage,
)
def list_shops(principal: Principal, query: OperatorShopListQuery) -> RetailerShopPage:
    return shops.operator_list_shops(query)


@endpoint("GET", "/operator/shops/{shop_id}", summary="One shop", tag=TAG, auth=KEY, response=RetailerShop)
def get_shop(principal: Principal, shop_id: str) -> RetailerShop:
    return shops.operator_get_shop(shop_id)


@endpoint(
    "POST",
    "/operator/shops/{shop_id}/api-key",
    summary="Rotate a shop's API key; the old one stops working",
    tag=TAG,
    auth=KEY,
    response=RotatedKey,
    errors=(409,),
)
def rotate_key(principal: Principal, shop_id: str) -> RotatedKey:
    return shops.rotate_key(shop_id)


@endpoint(
    "POST",
    "/operator/shops/{shop_id}/suspend",
    summary="Suspend a shop: hidden from storefronts, read-only for its retailer",
    tag=TAG,
    auth=KEY,
    response=RetailerShop,
    errors=(409,),
)
def suspend_shop(principal: Principal, shop_id: str) -> RetailerShop:
    return shops.set_shop_status(shop_id, active=False)


@endpoint(
    "POST",
    "/operator/shops/{shop_id}/reactivate",
    summary="Reactivate a suspended shop",
    tag=TAG,
    auth=KEY,
    response=RetailerShop,
    errors=(409,),
)
def reactivate_shop(principal: Principal, shop_id: str) -> RetailerShop:
    return shops.set_shop_status(shop_id, active=True)
