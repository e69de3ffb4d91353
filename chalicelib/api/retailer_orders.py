"""Retailer API: a shop's part of customers' orders."""

from __future__ import annotations

from chalicelib.api.lazy import lazy
from chalicelib.api.routing import endpoint
from chalicelib.auth.keys import Role
from chalicelib.auth.service import Principal
from chalicelib.order.lifecycle import Actor
from chalicelib.order.schemas import (
    Refund,
    RefundIn,
    RefundPage,
    StatusChangeIn,
    SubOrder,
    SubOrderListQuery,
    SubOrderPage,
)

fulfilment = lazy("chalicelib.order.fulfilment")
orders = lazy("chalicelib.order.service")
TAG = "Retailer"


@endpoint(
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


@endpoint(
    "POST",
    "/retailer/orders/{order_id}/refunds",
    summary="Refund my shop's part of an order, whole (lines null; cancels it before hand-over) or by lines",
    tag=TAG,
    auth=Role.RETAILER,
    body=RefundIn,
    response=Refund,
    status=201,
    errors=(409, 422),
)
def create_refund(principal: Principal, order_id: str, body: RefundIn) -> Refund:
    from chalicelib.order.refund_views import refund_view
    from chalicelib.order.refunds import request_refund

    return refund_view(request_refund(order_id, principal.shop_id or "", body, Actor.RETAILER))


@endpoint(
    "GET",
    "/retailer/orders/{order_id}/refunds",
    summary="My shop's refunds of one order, oldest first",
    tag=TAG,
    auth=Role.RETAILER,
    response=RefundPage,
)
def list_refunds(principal: Principal, order_id: str) -> RefundPage:
    from chalicelib.order.refund_views import shop_refunds

    return shop_refunds(order_id, principal.shop_id or "")


@endpoint(
    "POST",
    "/retailer/orders/{order_id}/refunds/{refund_id}/retry",
    summary="Ask the payment provider again: a pending refund (same key) or a failed cancellation refund",
    tag=TAG,
    auth=Role.RETAILER,
    response=Refund,
    errors=(409,),
)
def retry_refund(principal: Principal, order_id: str, refund_id: str) -> Refund:
    from chalicelib.order.refund_views import refund_view
    from chalicelib.order.refunds import retry

    return refund_view(retry(order_id, principal.shop_id or "", refund_id))
