"""Helpers shared by the cart, checkout and webhook tests: raw calls with any headers, quick products."""

from __future__ import annotations

import json
from typing import Any


def send(
    api: Any, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if method == "GET":
        response = api.http.get(path, headers=all_headers)
    else:
        payload = json.dumps(body).encode() if body is not None else b""
        response = getattr(api.http, method.lower())(path, headers=all_headers, body=payload)
    text = response.body.decode() if response.body else ""
    return response.status_code, (json.loads(text) if text else None)


def make_product(
    api: Any, key: str, name: str, variants: list[tuple[int, int]], vat: int = 600, sku: str | None = None
) -> dict[str, Any]:
    """variants: (price in cents, stock)."""
    prefix = sku or "".join(c for c in name.upper() if c.isascii() and c.isalnum())[:10]
    body = {
        "name": name,
        "category": "bakery",
        "vat_rate_bps": vat,
        "variants": [
            {"sku": f"{prefix}-{i}", "price_cents": price, "stock": stock, "options": {"n": str(i)}}
            for i, (price, stock) in enumerate(variants)
        ],
    }
    status, product = api.call("POST", "/retailer/products", body, key=key)
    assert status == 201, product
    return product


def bakery_and_butcher(
    api: Any,
    open_shop: Any,
    bread: tuple[int, int] = (333, 10),
    cake: tuple[int, int] = (1850, 5),
    steak: tuple[int, int] = (1290, 8),
) -> dict[str, Any]:
    """The two shops most order tests use: the bakery (key "key"; bread at 6 % VAT, cake at 21 %) and the
    butcher (steak); each product's one variant as (price in cents, stock). 3 x 333 does not split evenly
    over refunds of single units, on purpose."""
    bakery, bakery_key = open_shop(0)
    butcher, butcher_key = open_shop(1)
    return {
        "bakery": bakery,
        "key": bakery_key,
        "butcher": butcher,
        "butcher_key": butcher_key,
        "bread": make_product(api, bakery_key, "Sourdough", [bread]),
        "cake": make_product(api, bakery_key, "Cake", [cake], vat=2100),
        "steak": make_product(api, butcher_key, "Steak", [steak]),
    }


def bread_and_steak(
    api: Any, open_shop: Any, bread: tuple[int, int] = (450, 10), steak: tuple[int, int] = (1290, 8)
) -> dict[str, Any]:
    """The lifecycle and notification tests' two shops: the bakery (key "bakery_key") selling bread for
    pickup, the butcher selling steak for delivery; each product's variant as (price in cents, stock)."""
    bakery, bakery_key = open_shop(0)
    butcher, butcher_key = open_shop(1)
    return {
        "bakery": bakery,
        "bakery_key": bakery_key,
        "butcher": butcher,
        "butcher_key": butcher_key,
        "bread": make_product(api, bakery_key, "Sourdough", [bread]),
        "steak": make_product(api, butcher_key, "Steak", [steak]),
    }


def vid(product: dict[str, Any], index: int = 0) -> str:
    return product["variants"][index]["id"]


KORENMARKT = {"lat": 51.0543, "lng": 3.7219}


def delivery_to(point: dict[str, float] = KORENMARKT) -> dict[str, Any]:
    """A delivery choice for one shop of a cart: an address at `point` and a contact."""
    return {
        "method": "delivery",
        "address": {"street": "Korenmarkt 1", "postal_code": "9000", "city": "Gent", "country": "BE"} | point,
        "contact": {"name": "An Peeters", "phone": "+32 470 12 34 56"},
    }


def place(api: Any, mall: dict[str, Any], bread: int = 3, cake: int = 2, steak: int = 1) -> dict[str, Any]:
    """A paid order: bread and cake picked up at the bakery, steak delivered by the butcher."""
    lines = [(name, q) for name, q in (("bread", bread), ("cake", cake), ("steak", steak)) if q]
    body = {"lines": [{"variant_id": vid(mall[name]), "quantity": q} for name, q in lines]}
    status, created = send(api, "POST", "/carts", body)
    assert status == 201, created
    cart_id, headers = created["cart"]["id"], {"X-Cart-Token": created["cart_token"]}
    if steak:
        path = f"/carts/{cart_id}/shops/{mall['butcher']['id']}/fulfilment"
        assert send(api, "PUT", path, delivery_to(), headers)[0] == 200
    status, result = send(
        api,
        "POST",
        f"/carts/{cart_id}/checkout",
        {"email": "an.peeters@example.be"},
        {**headers, "Idempotency-Key": f"key-refunds-{cart_id}"},
    )
    assert status == 201, result
    paid = send(api, "POST", f"/dev/payments/{result['payment_intent_id']}/succeed")
    assert paid == (200, {"received": True, "outcome": "paid"}), paid
    return result


def customer_sub(api: Any, placed: dict[str, Any], shop_id: str) -> dict[str, Any]:
    status, order = send(
        api, "GET", f"/orders/{placed['order_id']}", headers={"X-Order-Token": placed["order_token"]}
    )
    assert status == 200, order
    return next(s for s in order["shops"] if s["shop_id"] == shop_id)


def move(api: Any, key: str, order_id: str, to: str, code: str | None = None) -> None:
    status, sub = api.call(
        "POST", f"/retailer/orders/{order_id}/status", {"to": to, "pickup_code": code}, key=key
    )
    assert status == 200, (to, sub)


def collect(api: Any, mall: dict[str, Any], placed: dict[str, Any]) -> None:
    order_id = placed["order_id"]
    move(api, mall["key"], order_id, "preparing")
    move(api, mall["key"], order_id, "ready_for_pickup")
    code = customer_sub(api, placed, mall["bakery"]["id"])["fulfilment"]["pickup"]["code"]
    move(api, mall["key"], order_id, "collected", code)
