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
