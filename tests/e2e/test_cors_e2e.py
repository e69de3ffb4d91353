"""A page served from another origin than the API (another loopback port) reads a cart: the stack's real
HTTP preflight allows X-Cart-Token, and the answer and its errors carry the CORS headers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tools.local_stack import free_port

if TYPE_CHECKING:
    from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e


def test_a_page_on_another_port_may_read_a_cart(api: Api) -> None:
    origin = f"http://127.0.0.1:{free_port()}"
    created = api.ok("POST", "/carts", status=201, body={})
    cart, token = created["cart"], created["cart_token"]
    preflight = api.call(
        "OPTIONS",
        f"/carts/{cart['id']}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-cart-token",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["Access-Control-Allow-Origin"] in ("*", origin)
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"].split(",")
    allowed = {h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert "x-cart-token" in allowed

    read = api.call("GET", f"/carts/{cart['id']}", headers={"Origin": origin, "X-Cart-Token": token})
    assert read.status_code == 200 and read.headers["Access-Control-Allow-Origin"] in ("*", origin)
    wrong = api.call("GET", f"/carts/{cart['id']}", headers={"Origin": origin, "X-Cart-Token": "wrong"})
    assert wrong.status_code >= 400 and wrong.headers["Access-Control-Allow-Origin"] in ("*", origin)
    assert "Retry-After" in wrong.headers["Access-Control-Expose-Headers"]
