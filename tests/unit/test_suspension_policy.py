"""The suspension rule as pure logic (chalicelib/auth/suspension.py): reads pass, settling passes, every
other write of a suspended shop is refused; an active shop and the operator are never affected."""

from __future__ import annotations

import pytest

from chalicelib.auth.errors import ShopSuspended
from chalicelib.auth.suspension import allowed_while_suspended, check_route


@pytest.mark.parametrize(
    "method, route",
    [
        ("GET", "/retailer/shop"),
        ("get", "/retailer/products/{product_id}"),
        ("POST", "/retailer/orders/{order_id}/status"),
        ("POST", "/retailer/orders/{order_id}/refunds"),
        ("POST", "/retailer/orders/{order_id}/refunds/{refund_id}/retry"),
    ],
)
def test_reads_and_settling_stay_open(method: str, route: str) -> None:
    assert allowed_while_suspended(method, route)
    check_route("shop_1", False, method, route)


@pytest.mark.parametrize(
    "method, route",
    [
        ("PATCH", "/retailer/shop"),
        ("POST", "/retailer/products"),
        ("POST", "/retailer/products/{product_id}/variants/{variant_id}/stock"),
        ("DELETE", "/retailer/products/{product_id}/images/{image_id}"),
        ("PUT", "/retailer/webhook"),
        ("POST", "/retailer/payouts"),
        # A route added later is refused until someone decides otherwise.
        ("POST", "/retailer/orders/{order_id}/notes"),
    ],
)
def test_every_other_write_is_refused(method: str, route: str) -> None:
    assert not allowed_while_suspended(method, route)
    with pytest.raises(ShopSuspended):
        check_route("shop_1", False, method, route)
    check_route("shop_1", True, method, route)  # an active shop
    check_route(None, False, method, route)  # the operator's key has no shop
