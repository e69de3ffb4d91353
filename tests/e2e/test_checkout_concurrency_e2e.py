"""Checkout end to end over real HTTP against the local stack (moto server + CloudFormation + demo mall +
`chalice local`, started as `python -m tools.local_stack` in a subprocess by tests/e2e/conftest.py).

1. Overselling: a variant with stock K, N carts of one unit each, N concurrent checkouts. Exactly K win,
   the others get 409 insufficient_stock, stock ends at 0 and never goes negative; then idempotent replay,
   two payments and one failed payment (its unit goes back on sale).
2. The customer flow a README shows: a cart over two shops, delivery for one, checkout, payment, order.

The concurrency figures (throughput, latency p50/p95) are printed; they measure the local stack on this
machine (moto and `chalice local` share its CPUs), not DynamoDB or Lambda.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tools.demo_data import demo_shops

pytestmark = pytest.mark.e2e

K = 5  # units in stock
N = 20  # concurrent checkouts of one unit each
TIMEOUT = 30  # seconds per HTTP request


# --- the client -------------------------------------------------------------------------------------
# The stack is tests/e2e/conftest.py's session stack (`info` is its keys file). Its `Api` holds one
# requests.Session, which threads must not share: the concurrent checkouts need one session per thread.


class Http:
    """JSON over HTTP with one `requests.Session` per thread."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # no proxy between us and 127.0.0.1
        return session

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = dict(headers or {})
        if key:
            sent["Authorization"] = f"Bearer {key}"
        response = self.session.request(
            method, f"{self.base_url}{path}", json=body, headers=sent, timeout=TIMEOUT
        )
        return response.status_code, (response.json() if response.content else None)


@pytest.fixture(scope="module")
def http(info: dict[str, Any]) -> Http:
    return Http(info["api_url"])


# --- helpers ----------------------------------------------------------------------------------------


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _percentile(samples: list[float], pct: float) -> float:
    """Nearest rank, as bench/catalog.py."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def _stock(http: Http, product_id: str, variant_id: str) -> int:
    status, product = http.call("GET", f"/products/{product_id}")
    assert status == 200, product
    (variant,) = [v for v in product["variants"] if v["id"] == variant_id]
    return int(variant["stock"])


def _open_cart(http: Http, lines: list[dict[str, Any]] | None = None) -> tuple[str, str]:
    status, created = http.call("POST", "/carts", {"lines": lines or []})
    assert status == 201, created
    return created["cart"]["id"], created["cart_token"]


def _checkout(http: Http, cart_id: str, token: str, key: str, email: str) -> tuple[int, Any]:
    return http.call(
        "POST",
        f"/carts/{cart_id}/checkout",
        {"email": email},
        headers={"X-Cart-Token": token, "Idempotency-Key": key},
    )


def _order(http: Http, order_id: str, order_token: str) -> dict[str, Any]:
    status, order = http.call("GET", f"/orders/{order_id}", headers={"X-Order-Token": order_token})
    assert status == 200, order
    return order


def _pay(http: Http, payment_intent_id: str, outcome: str) -> str:
    status, ack = http.call("POST", f"/dev/payments/{payment_intent_id}/{outcome}")
    assert status == 200, ack
    assert ack["received"] is True, ack
    return str(ack["outcome"])


def _report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with capsys.disabled():
        print(f"\n{text}", flush=True)


# --- 1. no overselling ------------------------------------------------------------------------------


def test_concurrent_checkouts_never_oversell(
    http: Http, info: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    retailer = info["retailer_key"]
    sku = _unique("E2E-RACE").upper()
    status, product = http.call(
        "POST",
        "/retailer/products",
        {
            "name": f"Race loaf {sku}",
            "category": "bakery",  # the demo retailer's shop is a bakery with pickup
            "vat_rate_bps": 600,
            "variants": [{"sku": sku, "price_cents": 420, "stock": K}],
        },
        key=retailer,
    )
    assert status == 201, product
    product_id = product["id"]
    variant_id = product["variants"][0]["id"]
    assert product["shop_id"] == info["retailer_shop_id"]

    # N carts, each adds one unit (POST /carts/{id}/lines).
    carts: list[tuple[str, str]] = []
    for _ in range(N):
        cart_id, token = _open_cart(http)
        status, cart = http.call(
            "POST",
            f"/carts/{cart_id}/lines",
            {"variant_id": variant_id, "quantity": 1},
            headers={"X-Cart-Token": token},
        )
        assert status == 200, cart
        assert cart["ready_for_checkout"] is True, cart
        assert cart["shops"][0]["fulfilment"]["method"] == "pickup"
        carts.append((cart_id, token))
    assert _stock(http, product_id, variant_id) == K  # carts reserve nothing

    # Watch the stock while the checkouts run: it must never be seen below zero.
    seen_stock: list[int] = []
    storm_over = threading.Event()
    watcher = Http(info["api_url"])

    def watch() -> None:
        while not storm_over.is_set():
            seen_stock.append(_stock(watcher, product_id, variant_id))
            storm_over.wait(0.02)

    barrier = threading.Barrier(N)
    keys = [_unique("checkout") for _ in range(N)]
    reconnects: list[str] = []

    def attempt(index: int) -> tuple[int, Any, float, float]:
        cart_id, token = carts[index]
        # Open this thread's keep-alive connection before the start line: `chalice local` listens with
        # socketserver's default backlog of 5, so 20 simultaneous *new* connections get reset (an artefact
        # of the local server, not of API Gateway). The race is between the checkouts, not the connects.
        status, _ = http.call("GET", f"/carts/{cart_id}", headers={"X-Cart-Token": token})
        assert status == 200
        barrier.wait(timeout=60)
        started = time.perf_counter()
        for retry in range(3):
            try:
                status, body = _checkout(http, cart_id, token, keys[index], f"racer{index}@example.be")
                break
            except requests.ConnectionError as exc:
                # What a client does on a broken connection: retry with the same Idempotency-Key.
                reconnects.append(f"cart {index} try {retry}: {exc}")
                http.session.close()
        else:
            raise AssertionError(f"checkout {index} never got an answer: {reconnects}")
        return status, body, started, time.perf_counter()

    monitor = threading.Thread(target=watch, daemon=True)
    monitor.start()
    try:
        with ThreadPoolExecutor(max_workers=N) as pool:
            results = list(pool.map(attempt, range(N)))
    finally:
        storm_over.set()
        monitor.join(timeout=TIMEOUT)

    latencies_ms = [(end - start) * 1000 for _, _, start, end in results]
    wall_s = max(end for *_, end in results) - min(start for *_, start, _ in results)
    _report(
        capsys,
        f"checkout concurrency (local stack over HTTP): K={K} stock, N={N} concurrent checkouts; "
        f"wall {wall_s * 1000:.0f} ms, throughput {N / wall_s:.1f} checkouts/s, "
        f"latency p50 {_percentile(latencies_ms, 50):.0f} ms, p95 {_percentile(latencies_ms, 95):.0f} ms, "
        f"max {max(latencies_ms):.0f} ms; stock polled {len(seen_stock)}x, min seen "
        f"{min(seen_stock, default=K)}; connection retries {len(reconnects)}",
    )

    statuses = sorted(status for status, *_ in results)
    winners = [(i, body) for i, (status, body, *_) in enumerate(results) if status == 201]
    losers = [(i, body) for i, (status, body, *_) in enumerate(results) if status == 409]
    assert len(winners) == K and len(losers) == N - K, f"statuses: {statuses}; bodies: {results}"
    for _, body in losers:
        error = body["error"]
        assert error["code"] == "insufficient_stock", body
        (line,) = error["details"]["lines"]
        assert line["variant_id"] == variant_id, body
        assert line["sku"] == sku
        assert line["requested"] == 1 and line["available"] == 0 and line["short_by"] == 1, body
    assert min(seen_stock, default=0) >= 0, f"stock seen below zero: {sorted(set(seen_stock))}"
    assert _stock(http, product_id, variant_id) == 0

    orders: dict[int, dict[str, Any]] = {}
    reserved = 0
    for index, body in winners:
        assert body["status"] == "pending_payment"
        assert body["total_cents"] == 420 and body["currency"] == "EUR"
        assert body["payment_intent_id"] and body["client_secret"]
        order = _order(http, body["order_id"], body["order_token"])
        assert order["status"] == "pending_payment"
        (sub,) = order["shops"]
        assert sub["shop_id"] == info["retailer_shop_id"] and sub["fulfilment"]["method"] == "pickup"
        reserved += sum(line["quantity"] for line in sub["lines"] if line["variant_id"] == variant_id)
        orders[index] = body
    assert reserved == K
    assert len({body["order_id"] for body in orders.values()}) == K

    # Replay of a winner: same key, same request -> the same order, no second reservation.
    first_index, first = winners[0]
    cart_id, token = carts[first_index]
    status, replay = _checkout(http, cart_id, token, keys[first_index], f"racer{first_index}@example.be")
    assert status == 201, replay
    assert replay["order_id"] == first["order_id"]
    assert replay["payment_intent_id"] == first["payment_intent_id"]
    assert replay["order_token"] == first["order_token"]
    assert _stock(http, product_id, variant_id) == 0
    # The same key with another request is refused; another key on the checked-out cart too.
    status, body = _checkout(http, cart_id, token, keys[first_index], "someone.else@example.be")
    assert (status, body["error"]["code"]) == (422, "idempotency_key_reused"), body
    status, body = _checkout(http, cart_id, token, _unique("checkout"), f"racer{first_index}@example.be")
    assert (status, body["error"]["code"]) == (409, "cart_checked_out"), body

    # Two payments succeed: those orders are paid, and the shop sees them among its paid sub-orders.
    (_, a), (_, b), (_, failed) = winners[0], winners[1], winners[2]
    for body in (a, b):
        assert _pay(http, body["payment_intent_id"], "succeed") == "paid"
        order = _order(http, body["order_id"], body["order_token"])
        assert order["status"] == "paid"
        assert [sub["status"] for sub in order["shops"]] == ["paid"]
    status, page = http.call("GET", "/retailer/orders?status=paid&limit=100", key=retailer)
    assert status == 200, page
    listed = {sub["order_id"]: sub for sub in page["items"]}
    for body in (a, b):
        assert body["order_id"] in listed, f"{body['order_id']} not in the shop's paid orders"
        assert listed[body["order_id"]]["status"] == "paid"
        assert listed[body["order_id"]]["customer_email"].startswith("racer")
    unpaid = [body["order_id"] for _, body in winners[2:]]
    assert not set(unpaid) & set(listed), "an unpaid order is listed as paid"

    # One card is declined: the order keeps its unit for another card, until the customer gives up; then
    # the order is cancelled and its unit goes back on sale.
    assert _pay(http, failed["payment_intent_id"], "fail") == "payment_failed"
    order = _order(http, failed["order_id"], failed["order_token"])
    assert order["status"] == "pending_payment" and order["last_payment_error"]["code"] == "card_declined"
    assert _stock(http, product_id, variant_id) == 0
    status, order = http.call(
        "POST", f"/orders/{failed['order_id']}/cancel", headers={"X-Order-Token": failed["order_token"]}
    )
    assert status == 200, order
    assert order["status"] == "cancelled"
    assert [sub["status"] for sub in order["shops"]] == ["cancelled"]
    assert _stock(http, product_id, variant_id) == 1
    # Its intent was cancelled: paying or failing it again is refused (as by Stripe.js) and changes nothing.
    for outcome in ("fail", "succeed"):
        status, body = http.call("POST", f"/dev/payments/{failed['payment_intent_id']}/{outcome}")
        assert status == 409 and body["error"]["code"] == "payment_intent_final", body
    assert _stock(http, product_id, variant_id) == 1

    # A customer who lost the race can now buy the released unit (their cart is still open).
    loser_index, _ = losers[0]
    cart_id, token = carts[loser_index]
    status, body = _checkout(http, cart_id, token, _unique("retry"), f"racer{loser_index}@example.be")
    assert status == 201, body
    assert _stock(http, product_id, variant_id) == 0
    status, body = _checkout(http, *carts[losers[1][0]], _unique("retry"), "late@example.be")
    assert (status, body["error"]["code"]) == (409, "insufficient_stock"), body


# --- 2. the customer flow ---------------------------------------------------------------------------


def _pick_variant(http: Http, shop_id: str, under_cents: int | None) -> dict[str, Any]:
    """A sellable variant with stock of one of the shop's products (cheaper than `under_cents`)."""
    status, page = http.call("GET", f"/shops/{shop_id}/products?limit=100")
    assert status == 200, page
    for summary in sorted(page["items"], key=lambda s: s["price_from_cents"]):
        status, product = http.call("GET", f"/products/{summary['id']}")
        assert status == 200, product
        for variant in sorted(product["variants"], key=lambda v: v["price_cents"]):
            cheap = under_cents is None or variant["price_cents"] < under_cents
            if variant["active"] and variant["stock"] >= 2 and cheap:
                return {"product": product, "variant": variant}
    raise AssertionError(f"shop {shop_id} has no variant in stock under {under_cents}")


def test_customer_flow_two_shops_delivery_and_pickup(http: Http, info: dict[str, Any]) -> None:
    status, page = http.call("GET", "/shops?limit=100")
    assert status == 200, page
    shops = page["items"]
    # Collected in person: the demo retailer's bakery, buying a product its retailer adds for this test
    # (the storefront tests compare the demo bakery's own products with the demo data, stock included).
    pickup = next(s for s in shops if s["id"] == info["retailer_shop_id"])
    assert pickup["pickup"]["enabled"]
    status, product = http.call(
        "POST",
        "/retailer/products",
        {
            "name": f"Walnut rye {_unique('flow')}",
            "category": "bakery",
            "vat_rate_bps": 600,
            "variants": [{"sku": _unique("E2E-FLOW").upper(), "price_cents": 560, "stock": 3}],
        },
        key=info["retailer_key"],
    )
    assert status == 201, product
    collected = {"product": product, "variant": product["variants"][0]}
    # Delivered: a demo shop that delivers and charges for it on a small order (not the roastery, which
    # the storefront tests keep unchanged).
    untouched = {shop["name"] for shop in demo_shops() if shop["key"] == "koffiebranderij-het-boontje"}
    delivering = next(
        s
        for s in shops
        if s["delivery"]["enabled"]
        and s["delivery"]["fee_cents"] > 0
        and s["delivery"]["radius_km"] >= 1
        and s["id"] != pickup["id"]
        and s["name"] not in untouched
    )
    free_over = delivering["delivery"]["free_over_cents"]
    delivered = _pick_variant(http, delivering["id"], free_over)

    cart_id, token = _open_cart(
        http,
        [
            {"variant_id": delivered["variant"]["id"], "quantity": 1},
            {"variant_id": collected["variant"]["id"], "quantity": 1},
        ],
    )
    cart_headers = {"X-Cart-Token": token}

    # Delivery to an address ~0.45 km north of the shop (inside its radius), with a contact.
    lat = delivering["location"]["lat"] + 0.004
    lng = delivering["location"]["lng"]
    address = {
        "street": "Voorbeeldstraat 12",
        "postal_code": "9000",
        "city": "Gent",
        "country": "BE",
        "lat": lat,
        "lng": lng,
    }
    contact = {"name": "An Janssens", "phone": "+32 470 12 34 56"}
    far = {**address, "lat": lat + 1.0}  # ~110 km away
    status, body = http.call(
        "PUT",
        f"/carts/{cart_id}/shops/{delivering['id']}/fulfilment",
        {"method": "delivery", "address": far, "contact": contact},
        headers=cart_headers,
    )
    assert (status, body["error"]["code"]) == (422, "outside_delivery_area"), body
    status, cart = http.call(
        "PUT",
        f"/carts/{cart_id}/shops/{delivering['id']}/fulfilment",
        {"method": "delivery", "address": address, "contact": contact},
        headers=cart_headers,
    )
    assert status == 200, cart

    status, cart = http.call("GET", f"/carts/{cart_id}", headers=cart_headers)
    assert status == 200, cart
    assert cart["ready_for_checkout"] is True, cart["problems"]
    by_shop = {s["shop_id"]: s for s in cart["shops"]}
    assert set(by_shop) == {delivering["id"], pickup["id"]}
    subtotal = delivered["variant"]["price_cents"]
    expected_fee = (
        0 if free_over is not None and subtotal >= free_over else delivering["delivery"]["fee_cents"]
    )
    assert expected_fee > 0  # the variant was chosen under the free-delivery threshold
    assert by_shop[delivering["id"]]["fulfilment"]["method"] == "delivery"
    assert by_shop[delivering["id"]]["delivery_fee_cents"] == expected_fee
    assert by_shop[pickup["id"]]["fulfilment"]["method"] == "pickup"
    assert by_shop[pickup["id"]]["delivery_fee_cents"] == 0
    expected_total = subtotal + expected_fee + collected["variant"]["price_cents"]
    assert cart["total_cents"] == expected_total
    assert cart["delivery_fees_cents"] == expected_fee

    status, result = _checkout(http, cart_id, token, _unique("readme"), "an.janssens@example.be")
    assert status == 201, result
    assert result["total_cents"] == expected_total and result["status"] == "pending_payment"
    assert _pay(http, result["payment_intent_id"], "succeed") == "paid"

    order = _order(http, result["order_id"], result["order_token"])
    assert order["status"] == "paid"
    assert order["email"] == "an.janssens@example.be"
    assert order["payment_intent_id"] == result["payment_intent_id"]
    assert order["total_cents"] == expected_total and order["delivery_fees_cents"] == expected_fee
    assert len(order["shops"]) == 2
    subs = {sub["shop_id"]: sub for sub in order["shops"]}
    assert {sub["status"] for sub in subs.values()} == {"paid"}
    sent = subs[delivering["id"]]
    assert sent["fulfilment"]["method"] == "delivery"
    assert sent["fulfilment"]["address"] == address and sent["fulfilment"]["contact"] == contact
    assert sent["delivery_fee_cents"] == expected_fee
    assert sent["total_cents"] == subtotal + expected_fee
    assert [line["variant_id"] for line in sent["lines"]] == [delivered["variant"]["id"]]
    fetched = subs[pickup["id"]]
    assert fetched["fulfilment"]["method"] == "pickup"
    assert fetched["fulfilment"]["pickup"]["address"]
    assert fetched["delivery_fee_cents"] == 0
    assert [h["to_status"] for h in sent["history"]] == ["pending_payment", "paid"]
    # VAT: delivery is charged at 21 %, so the order's VAT lines add up to the total.
    assert sum(v["gross_cents"] for v in order["vat"]) == expected_total

    # The bakery sees its own part among its paid sub-orders, and only its part.
    status, page = http.call("GET", "/retailer/orders?status=paid&limit=100", key=info["retailer_key"])
    assert status == 200, page
    assert result["order_id"] in {s["order_id"] for s in page["items"]}
    status, part = http.call("GET", f"/retailer/orders/{result['order_id']}", key=info["retailer_key"])
    assert status == 200, part
    assert part["shop_id"] == pickup["id"] and part["status"] == "paid"
    assert [line["variant_id"] for line in part["lines"]] == [collected["variant"]["id"]]
    assert part["customer_email"] == "an.janssens@example.be"
    for item in (delivered, collected):
        assert _stock(http, item["product"]["id"], item["variant"]["id"]) == item["variant"]["stock"] - 1
