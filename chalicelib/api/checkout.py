"""Storefront carts, checkout and the customer's order. A cart is reached with its secret token
(X-Cart-Token), an order with its token (X-Order-Token): customers have no accounts."""

from __future__ import annotations

from chalicelib.api.lazy import lazy
from chalicelib.api.routing import endpoint
from chalicelib.checkout.schemas import (
    Cart,
    CheckoutIn,
    CheckoutResult,
    CreatedCart,
    FulfilmentIn,
    LineIn,
    NewCart,
    PickupSlots,
    PickupSlotsQuery,
    QuantityIn,
)
from chalicelib.order.schemas import Order, Refund

carts = lazy("chalicelib.checkout.cart")
checkouts = lazy("chalicelib.checkout.service")
orders = lazy("chalicelib.order.service")

TAG = "Cart and checkout"
CART = ("X-Cart-Token",)
Headers = dict[str, str | None]


@endpoint(
    "POST",
    "/carts",
    summary="Open a cart (optionally with lines)",
    tag=TAG,
    body=NewCart,
    response=CreatedCart,
    status=201,
    errors=(409, 422),
)
def create_cart(body: NewCart) -> CreatedCart:
    return carts.create_cart(body)


@endpoint(
    "GET",
    "/carts/{cart_id}",
    summary="The cart, priced now, per shop",
    tag=TAG,
    headers=CART,
    response=Cart,
    errors=(401,),
)
def get_cart(cart_id: str, headers: Headers) -> Cart:
    return carts.get_cart(cart_id, headers["x-cart-token"])


@endpoint(
    "POST",
    "/carts/{cart_id}/lines",
    summary="Add units of a variant",
    tag=TAG,
    headers=CART,
    body=LineIn,
    response=Cart,
    errors=(401, 409, 422),
)
def add_line(cart_id: str, headers: Headers, body: LineIn) -> Cart:
    return carts.add_line(cart_id, headers["x-cart-token"], body)


@endpoint(
    "PUT",
    "/carts/{cart_id}/lines/{variant_id}",
    summary="Set a line's quantity",
    tag=TAG,
    headers=CART,
    body=QuantityIn,
    response=Cart,
    errors=(401, 409),
)
def set_quantity(cart_id: str, variant_id: str, headers: Headers, body: QuantityIn) -> Cart:
    return carts.set_quantity(cart_id, headers["x-cart-token"], variant_id, body.quantity)


@endpoint(
    "DELETE",
    "/carts/{cart_id}/lines/{variant_id}",
    summary="Remove a line",
    tag=TAG,
    headers=CART,
    response=Cart,
    errors=(401, 409),
)
def remove_line(cart_id: str, variant_id: str, headers: Headers) -> Cart:
    return carts.remove_line(cart_id, headers["x-cart-token"], variant_id)


@endpoint(
    "PUT",
    "/carts/{cart_id}/shops/{shop_id}/fulfilment",
    summary="Choose pickup in store or local delivery for one shop's part",
    tag=TAG,
    headers=CART,
    body=FulfilmentIn,
    response=Cart,
    errors=(401, 409, 422),
)
def set_fulfilment(cart_id: str, shop_id: str, headers: Headers, body: FulfilmentIn) -> Cart:
    return carts.set_fulfilment(cart_id, headers["x-cart-token"], shop_id, body)


@endpoint(
    "GET",
    "/carts/{cart_id}/shops/{shop_id}/pickup-slots",
    summary="Pickup slots one shop of the cart can honour now, on one day or a range of at most 14 days"
    " (or when pickup is ready, without slots)",
    tag=TAG,
    headers=CART,
    query=PickupSlotsQuery,
    response=PickupSlots,
    errors=(401, 422),
)
def pickup_slots(cart_id: str, shop_id: str, headers: Headers, query: PickupSlotsQuery) -> PickupSlots:
    return carts.pickup_slots(cart_id, headers["x-cart-token"], shop_id, query)


@endpoint(
    "POST",
    "/carts/{cart_id}/checkout",
    summary="Reserve stock, create the order and its payment (idempotent per Idempotency-Key)",
    tag=TAG,
    headers=(*CART, "Idempotency-Key"),
    body=CheckoutIn,
    response=CheckoutResult,
    status=201,
    errors=(401, 409, 422, 502),
)
def checkout_cart(cart_id: str, headers: Headers, body: CheckoutIn) -> CheckoutResult:
    return checkouts.checkout(cart_id, headers["x-cart-token"], headers["idempotency-key"], body)


@endpoint(
    "GET",
    "/orders/{order_id}",
    summary="The customer's order, status per shop",
    tag=TAG,
    headers=("X-Order-Token",),
    response=Order,
    errors=(401,),
)
def get_order(order_id: str, headers: Headers) -> Order:
    return orders.customer_order(order_id, headers["x-order-token"])


@endpoint(
    "POST",
    "/orders/{order_id}/cancel",
    summary="Give up paying: cancel the unpaid order, release its stock and slots, reopen the cart",
    tag=TAG,
    headers=("X-Order-Token",),
    response=Order,
    errors=(401, 409, 502),
)
def give_up_order(order_id: str, headers: Headers) -> Order:
    from chalicelib.order.unpaid import give_up

    return give_up(order_id, headers["x-order-token"])


@endpoint(
    "POST",
    "/orders/{order_id}/shops/{shop_id}/cancel",
    summary="Cancel one shop's part of the order (until it is ready or on its way); refunded in full",
    tag=TAG,
    headers=("X-Order-Token",),
    response=Refund,
    errors=(401, 409, 422),
)
def cancel_sub_order(order_id: str, shop_id: str, headers: Headers) -> Refund:
    from chalicelib.order.refund_views import refund_view
    from chalicelib.order.refunds import customer_cancel

    return refund_view(customer_cancel(order_id, shop_id, headers["x-order-token"]))
