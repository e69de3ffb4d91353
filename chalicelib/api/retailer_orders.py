"""Retailer API: a shop's part of customers' orders."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.routing import endpoint
from chalicelib.auth.keys import Role
from chalicelib.auth.service import Principal
from chalicelib.order import fulfilment
from chalicelib.order import service as orders
from chalicelib.order.schemas import StatusChangeIn, SubOrder, SubOrderListQuery, SubOrderPage

retailer_orders = Blueprint(__name__)
TAG = "Retailer"


@endpoint(
    retailer_orders,
    "GET",
    "/retailer/orders",
    summary="My shop's sub-orders, newest first",
    tag=TAG,
    auth=Role.RETAILER,
    query=SubOrderListQuery,
    response=SubOrderPage,
)
def my_orders(principal: Principal, query: SubOrderListQuery) -> SubOrderPage:
    return orders.shop_sub_orders(principal, query)


@endpoint(
    retailer_orders,
    "GET",
    "/retailer/orders/{order_id}",
    summary="My shop's part of one order",
    tag=TAG,
    auth=Role.RETAILER,
    response=SubOrder,
)
def my_order(principal: Principal, order_id: str) -> SubOrder:
    return orders.shop_sub_order(principal, order_id)


@endpoint(
    retailer_orders,
    "POST",
    "/retailer/orders/{order_id}/status",
    summary="Move my shop's part of an order to its next status (collected needs the customer's code)",
    tag=TAG,
    auth=Role.RETAILER,
    body=StatusChangeIn,
    response=SubOrder,
    errors=(409, 422, 429),
)
def change_status(principal: Principal, order_id: str, body: StatusChangeIn) -> SubOrder:
    return fulfilment.change_status(principal, order_id, body)
