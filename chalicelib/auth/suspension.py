"""What a suspended shop's retailer may still do: the one rule, checked for every retailer route in one
place (`authenticate`, called by chalicelib/api/routing.py with the route being served).

A suspended shop is off the storefront, but its customers have paid for orders it still holds. So its
retailer reads everything it owns, and settles those orders: moves them along to hand-over or delivery,
refunds and cancels them, and retries a refund the provider left pending. Everything that would put the shop
back in front of customers or change how the mall deals with it is refused with 403 `shop_suspended`:
profile, products, variants, stock, images, webhooks and payout settings (it is still paid on its schedule
what it earned; the operator pays it now or pauses its payouts).
"""

from __future__ import annotations

from chalicelib.auth.errors import ShopSuspended

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# (method, route) a suspended shop's key may still call besides reads: settling what customers paid for.
SETTLING_ROUTES = frozenset(
    {
        ("POST", "/retailer/orders/{order_id}/status"),
        ("POST", "/retailer/orders/{order_id}/refunds"),
        ("POST", "/retailer/orders/{order_id}/refunds/{refund_id}/retry"),
    }
)


def allowed_while_suspended(method: str, route: str) -> bool:
    return method.upper() in READ_METHODS or (method.upper(), route) in SETTLING_ROUTES


def check_route(shop_id: str | None, shop_active: bool, method: str, route: str) -> None:
    """Raises ShopSuspended when a suspended shop's key calls a route the rule refuses."""
    if shop_id is not None and not shop_active and not allowed_while_suspended(method, route):
        raise ShopSuspended(shop_id)
