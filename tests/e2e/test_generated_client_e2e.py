"""A client generated from the served /openapi.json with openapi-python-client, driving the storefront
journey against the local stack: search, cart, checkout, simulated payment, order.

What a headless shop front built on a generator gets: if the document stops generating cleanly (a schema
the generator refuses, an odd operationId, a missing description), or what the API answers stops matching
the models generated from it, this test fails.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tools.demo_data import demo_products, demo_shops

if TYPE_CHECKING:
    from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e

ROASTERY = "koffiebranderij-het-boontje"  # a demo shop no other e2e test counts the stock of
PACKAGE = "mall_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(api: Api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated from the document the stack serves and imported from a tmp dir."""
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: pip install -r requirements-dev.txt")
    workdir = tmp_path_factory.mktemp("generated-client")
    document = workdir / "openapi.json"
    document.write_text(json.dumps(api.get("/openapi.json")))
    config = workdir / "config.json"
    config.write_text(json.dumps({"package_name_override": PACKAGE, "project_name_override": "mall-client"}))
    # The generator formats its output with ruff (its post hooks): the venv's own, found on PATH.
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [GENERATOR, "generate", "--path", document, "--config", config, "--output-path", workdir / "out"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # The generator still exits 0 when it skips an endpoint or a schema: it says so in a warning.
    assert "Warning" not in output and "Error" not in output, output
    sys.path.insert(0, str(workdir / "out"))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir / "out"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _operation(tag: str, operation_id: str) -> ModuleType:
    """The generated module of one operation: api/<tag>/<operationId in snake_case>.py."""
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{operation_id}")


def test_a_generated_client_runs_the_storefront_journey(api: Api, generated: ModuleType) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    browse_products, get_product = (_operation("storefront", op) for op in ("browse_products", "get_product"))
    create_cart, get_cart, checkout_cart, get_order = (
        _operation("cart_and_checkout", op)
        for op in ("create_cart", "get_cart", "checkout_cart", "get_order")
    )
    simulate_success = _operation("development", "simulate_success")
    client = generated.Client(
        base_url=api.base_url,
        raise_on_unexpected_status=True,
        timeout=httpx.Timeout(30.0),
        httpx_args={"trust_env": False},  # no proxy between us and 127.0.0.1
    )
    shop_name = next(shop["name"] for shop in demo_shops() if shop["key"] == ROASTERY)
    demo = next(p for p in demo_products(ROASTERY) if p["name"] == "Colombia Huila")

    # Search: words, mall-wide.
    found = browse_products.sync(client=client, q="huila", limit=50)
    assert isinstance(found, models.ProductPage), found
    summary = next(p for p in found.items if (p.name, p.shop_name) == (demo["name"], shop_name))
    product = get_product.sync(summary.id, client=client)
    assert isinstance(product, models.Product), product
    variant = max(product.variants, key=lambda v: v.stock)
    assert variant.in_stock
    assert variant.price_cents == next(v for v in demo["variants"] if v["sku"] == variant.sku)["price_cents"]

    # A cart with one unit of it.
    new_cart = models.NewCart(lines=[models.LineIn(variant_id=variant.id, quantity=1)])
    opened = create_cart.sync(client=client, body=new_cart)
    assert isinstance(opened, models.CreatedCart), opened
    cart = get_cart.sync(opened.cart.id, client=client, x_cart_token=opened.cart_token)
    assert isinstance(cart, models.Cart), cart
    assert cart.ready_for_checkout, cart.problems
    assert cart.total_cents == variant.price_cents

    # Checkout, idempotent per key: the same key answers the same order.
    idempotency_key = f"generated-client-{uuid.uuid4().hex}"
    placed: list[Any] = []
    for _ in range(2):
        response = checkout_cart.sync_detailed(
            opened.cart.id,
            client=client,
            body=models.CheckoutIn(email="generated.client@example.be"),
            x_cart_token=opened.cart_token,
            idempotency_key=idempotency_key,
        )
        assert response.status_code == 201, response.content
        placed.append(response.parsed)
    result, replay = placed
    assert isinstance(result, models.CheckoutResult), result
    assert (replay.order_id, replay.payment_intent_id) == (result.order_id, result.payment_intent_id)
    assert result.status == "pending_payment" and result.total_cents == variant.price_cents

    # The simulated gateway: the customer pays, a signed webhook marks the order paid.
    ack = simulate_success.sync(result.payment_intent_id, client=client)
    assert isinstance(ack, models.WebhookAck), ack
    assert ack.outcome == "paid"

    # The customer's order, with its token.
    order = get_order.sync(result.order_id, client=client, x_order_token=result.order_token)
    assert isinstance(order, models.Order), order
    assert (order.status, order.email) == ("paid", "generated.client@example.be")
    (sub_order,) = order.shops
    assert sub_order.status == "paid" and sub_order.shop_name == shop_name
    assert [(line.variant_id, line.quantity) for line in sub_order.lines] == [(variant.id, 1)]

    # A refused call parses as the one error shape; a wrong order token reads nothing.
    refused = get_order.sync(result.order_id, client=client, x_order_token="not-the-token")
    assert isinstance(refused, models.ErrorBody), refused
    assert refused.error.code
