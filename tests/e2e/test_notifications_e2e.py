"""Notifications on the local stack: an order's events leave through the table's stream (moto's, read by the
local stream relay as Lambda's poller reads the real one), not through the scheduled sweep, which waits two
minutes before it steps in. The demo retailer's webhook receives order.paid within seconds."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

# The local scheduler attempts due deliveries every 10 s; the sweep would publish the event after 120 s.
WITHIN_S = 40.0


@pytest.fixture
def received() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", bodies
    server.shutdown()
    server.server_close()


def test_a_paid_order_reaches_the_shops_webhook_through_the_stream(
    api: Api, info: dict[str, Any], received: tuple[str, list[dict[str, Any]]]
) -> None:
    url, bodies = received
    retailer = info["retailer_key"]
    api.ok("PUT", "/retailer/webhook", key=retailer, body={"url": url})
    try:
        sku = f"E2E-NOTE-{secrets.token_hex(3)}".upper()
        product = api.ok(
            "POST",
            "/retailer/products",
            201,
            key=retailer,
            body={
                "name": f"Notification loaf {sku}",
                "category": "bakery",
                "vat_rate_bps": 600,
                "variants": [{"sku": sku, "price_cents": 380, "stock": 3}],
            },
        )
        created = api.ok(
            "POST",
            "/carts",
            201,
            body={"lines": [{"variant_id": product["variants"][0]["id"], "quantity": 1}]},
        )
        result = api.ok(
            "POST",
            f"/carts/{created['cart']['id']}/checkout",
            201,
            body={"email": "an@example.be"},
            headers={"X-Cart-Token": created["cart_token"], "Idempotency-Key": f"e2e-note-{sku}"},
        )
        started = time.monotonic()
        assert api.ok("POST", f"/dev/payments/{result['payment_intent_id']}/succeed")["outcome"] == "paid"

        while time.monotonic() - started < WITHIN_S:
            if any(b["data"]["order_id"] == result["order_id"] for b in bodies):
                break
            time.sleep(0.2)
        mine = [b for b in bodies if b["data"]["order_id"] == result["order_id"]]
        assert [b["type"] for b in mine] == ["order.paid"], bodies
        assert mine[0]["data"]["shop_id"] == info["retailer_shop_id"]
    finally:
        api.call("DELETE", "/retailer/webhook", key=retailer)
