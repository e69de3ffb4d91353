"""What a suspended shop's retailer may still do (README, "Using the API"; chalicelib/auth/suspension.py):
read everything, and settle what its customers paid for (move paid orders to hand-over, refund, cancel,
retry a refund). Everything else that writes is refused with 403 `shop_suspended`, by one rule applied to
every retailer route."""

from __future__ import annotations

from typing import Any

import pytest
from support import bakery_and_butcher, customer_sub, move, place, send, vid

BAKERY, BUTCHER = 0, 1


@pytest.fixture
def mall(api, open_shop) -> dict[str, Any]:
    return bakery_and_butcher(api, open_shop)


def suspend(api: Any, operator_key: str, shop_id: str) -> None:
    assert api.call("POST", f"/operator/shops/{shop_id}/suspend", key=operator_key)[0] == 200


def _retailer_routes() -> list[Any]:
    from app import app  # noqa: F401  (registers every route)
    from chalicelib.api.routing import ROUTES
    from chalicelib.auth.keys import Role

    return [r for r in ROUTES if r.auth == Role.RETAILER]


def test_every_retailer_route_follows_the_one_rule(api, open_shop, operator_key):
    """Walks the route table: a suspended shop's key is refused exactly the writes the rule refuses,
    before anything else is looked at (ids here name nothing)."""
    from chalicelib.auth.suspension import allowed_while_suspended

    shop, key = open_shop(BAKERY)
    suspend(api, operator_key, shop["id"])
    refused, allowed = [], []
    for route in _retailer_routes():
        path = route.path
        for name in route.path_params:
            path = path.replace("{" + name + "}", f"{name.removesuffix('_id')}_0000000000000000")
        status, body = api.call(route.method, path, {}, key=key)
        code = (body or {}).get("error", {}).get("code") if isinstance(body, dict) else None
        (refused if (status, code) == (403, "shop_suspended") else allowed).append((route.method, route.path))
        assert allowed_while_suspended(route.method, route.path) == (
            (status, code) != (403, "shop_suspended")
        ), (route.method, route.path, status, body)

    # Written out here, not taken from the rule: the writes still open to a suspended shop.
    assert sorted(r for r in allowed if r[0] != "GET") == [
        ("POST", "/retailer/orders/{order_id}/refunds"),
        ("POST", "/retailer/orders/{order_id}/refunds/{refund_id}/retry"),
        ("POST", "/retailer/orders/{order_id}/status"),
    ]
    assert ("PATCH", "/retailer/shop") in refused and ("DELETE", "/retailer/webhook") in refused


def test_a_suspended_shop_hands_over_what_was_paid_and_refunds(api, mall, operator_key):
    placed = place(api, mall, bread=2, cake=1, steak=0)
    order_id, key = placed["order_id"], mall["key"]
    suspend(api, operator_key, mall["bakery"]["id"])

    move(api, key, order_id, "preparing")
    move(api, key, order_id, "ready_for_pickup")
    code = customer_sub(api, placed, mall["bakery"]["id"])["fulfilment"]["pickup"]["code"]
    move(api, key, order_id, "collected", code)
    status, refund = api.call(
        "POST",
        f"/retailer/orders/{order_id}/refunds",
        {"lines": [{"variant_id": vid(mall["bread"]), "quantity": 1}], "restock": True, "reason": "stale"},
        key=key,
    )
    assert status in (200, 201), refund
    status, refunds = api.call("GET", f"/retailer/orders/{order_id}/refunds", key=key)
    assert status == 200 and len(refunds["items"]) == 1


def test_a_suspended_shop_cancels_a_paid_order_and_its_customer_can_cancel_too(api, mall, operator_key):
    first = place(api, mall, bread=1, cake=0, steak=0)
    second = place(api, mall, bread=1, cake=0, steak=0)
    suspend(api, operator_key, mall["bakery"]["id"])

    status, body = api.call(
        "POST",
        f"/retailer/orders/{first['order_id']}/refunds",
        {"lines": None, "restock": True},
        key=mall["key"],
    )
    assert status in (200, 201), body
    assert customer_sub(api, first, mall["bakery"]["id"])["status"] in ("cancelled", "refunded")
    status, body = send(
        api,
        "POST",
        f"/orders/{second['order_id']}/shops/{mall['bakery']['id']}/cancel",
        headers={"X-Order-Token": second["order_token"]},
    )
    assert status == 200, body


def test_a_suspended_shop_reads_everything_it_owns(api, mall, operator_key):
    placed = place(api, mall, bread=1, cake=0, steak=0)
    suspend(api, operator_key, mall["bakery"]["id"])
    key, pid = mall["key"], mall["bread"]["id"]

    for path in (
        "/retailer/shop",
        "/retailer/products",
        f"/retailer/products/{pid}",
        f"/retailer/products/{pid}/images",
        "/retailer/orders",
        f"/retailer/orders/{placed['order_id']}",
        f"/retailer/orders/{placed['order_id']}/refunds",
        "/retailer/balance",
        "/retailer/payouts",
    ):
        status, body = api.call("GET", path, key=key)
        assert status == 200, (path, body)


@pytest.mark.parametrize(
    "method, path, body",
    [
        pytest.param("PATCH", "/retailer/shop", {"description": "still here"}, id="profile"),
        pytest.param(
            "POST",
            "/retailer/products",
            {
                "name": "Rye",
                "category": "bakery",
                "vat_rate_bps": 600,
                "variants": [{"sku": "R", "price_cents": 1}],
            },
            id="new-product",
        ),
        pytest.param("PATCH", "/retailer/products/{pid}", {"name": "Renamed"}, id="product"),
        pytest.param("POST", "/retailer/products/{pid}/variants/{vid}/stock", {"set": 1}, id="stock"),
        pytest.param(
            "POST",
            "/retailer/products/{pid}/images",
            {"content_type": "image/jpeg", "size": 1000},
            id="image",
        ),
        pytest.param("PUT", "/retailer/webhook", {"url": "https://hooks.example.be/mall"}, id="webhook"),
        pytest.param("DELETE", "/retailer/webhook", None, id="webhook-removal"),
        pytest.param("PUT", "/retailer/payouts/schedule", {"interval": "daily"}, id="payout-schedule"),
        pytest.param("POST", "/retailer/payouts", None, id="payout-now"),
    ],
)
def test_a_suspended_shop_cannot_change_what_the_mall_shows_or_how_it_deals(
    api, mall, operator_key, method, path, body
):
    suspend(api, operator_key, mall["bakery"]["id"])
    path = path.format(pid=mall["bread"]["id"], vid=vid(mall["bread"]))

    status, answer = api.call(method, path, body, key=mall["key"])

    assert status == 403, answer
    assert answer["error"]["code"] == "shop_suspended"
    assert answer["error"]["details"] == {"shop_id": mall["bakery"]["id"]}
