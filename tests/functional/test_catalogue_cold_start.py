"""A catalogue cold start loads only what it uses: a fresh interpreter that imports app and serves
`GET /products/{id}` (as Lambda calls it, against a moto server) loads exactly the chalicelib modules
listed here. Every route is registered from chalicelib/api/route_table.py and its module loads on the
route's first request (chalicelib/api/routes.py): only the storefront's route module loads, and the
services it names lazily load on first use (chalicelib/api/lazy.py). Checkout, order, payment, ledger,
payout, notification and image-processing code never loads on a catalogue request."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bench import coldstart

# Every chalicelib module a catalogue cold start may load. Adding one here is a decision: it costs every
# cold start of the API (python -m bench --only coldstart).
CATALOGUE_COLD_START = {
    "chalicelib",
    "chalicelib.api",
    "chalicelib.api.cors",  # app.py builds the API's CORSConfig from it
    "chalicelib.api.lazy",  # the storefront names the shop service, loaded by shop pages only
    "chalicelib.api.route_table",  # every route, registered without its module
    "chalicelib.api.routes",
    "chalicelib.api.routing",
    "chalicelib.api.storefront",  # the one route module a catalogue request loads
    "chalicelib.auth",
    "chalicelib.auth.errors",
    "chalicelib.auth.keys",
    "chalicelib.auth.models",
    "chalicelib.auth.service",
    "chalicelib.auth.suspension",
    "chalicelib.catalog",
    "chalicelib.catalog.errors",
    "chalicelib.catalog.listing",
    "chalicelib.catalog.models",
    "chalicelib.catalog.reading",
    "chalicelib.catalog.schemas",
    "chalicelib.catalog.search",
    "chalicelib.catalog.service",
    "chalicelib.catalog.taxonomy",
    "chalicelib.core",
    "chalicelib.core.aws_sdk",  # botocore finds the DynamoDB model without listing 450 services
    "chalicelib.core.clock",
    "chalicelib.core.config",
    "chalicelib.core.db",
    "chalicelib.core.document",
    "chalicelib.core.errors",
    "chalicelib.core.fresh_stack",  # app.py's imports on a fresh thread's stack
    "chalicelib.core.ids",
    "chalicelib.core.invocation",
    "chalicelib.core.log",
    "chalicelib.core.metrics",
    "chalicelib.core.text",
    "chalicelib.core.types",
    "chalicelib.core.validation",
    "chalicelib.images",
    "chalicelib.images.errors",
    "chalicelib.images.models",
    "chalicelib.images.schemas",
    "chalicelib.images.service",
    "chalicelib.images.storage",
    "chalicelib.notify",
    "chalicelib.notify.stream",
    "chalicelib.shop",
    "chalicelib.shop.errors",
    "chalicelib.shop.models",
    "chalicelib.shop.schemas",
}
# Code that must load on first use only: never on a catalogue request.
NEVER = (
    "chalicelib.api.checkout",
    "chalicelib.api.retailer",
    "chalicelib.api.retailer_orders",
    "chalicelib.api.retailer_payouts",
    "chalicelib.api.operator",
    "chalicelib.api.operator_payouts",
    "chalicelib.api.payments",
    "chalicelib.api.dev_payments",
    "chalicelib.checkout",
    "chalicelib.order",
    "chalicelib.ledger",
    "chalicelib.payout",
    "chalicelib.payment",
    "chalicelib.shop.service",
    "chalicelib.catalog.relisting",
    "chalicelib.checkout.cart",
    "chalicelib.checkout.service",
    "chalicelib.order.service",
    "chalicelib.order.fulfilment",
    "chalicelib.notify.webhooks",
    "chalicelib.notify.relay",
    "chalicelib.images.processing",
    "chalicelib.payout.sweep",
    "stripe",
    "PIL",
    "boto3",
)


@pytest.fixture(scope="module")
def loaded() -> Iterator[set[str]]:
    from moto.server import ThreadedMotoServer

    from tools.local_stack import free_port

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        coldstart._deploy_stack(endpoint)
        env = coldstart.child_env(endpoint)
        seeded = subprocess.run(
            [sys.executable, "-c", coldstart._SEED],
            cwd=coldstart.ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        product_id = seeded.stdout.strip().splitlines()[-1]
        # A module chalicelib/api/lazy.py named but nothing used yet is not in sys.modules.
        loaded = "sorted(sys.modules)"
        script = coldstart._PLAIN_IMPORT + coldstart._APP + f"\nprint(json.dumps({loaded}))\n"
        served = subprocess.run(
            [sys.executable, "-c", script, product_id],
            cwd=coldstart.ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert served.returncode == 0, served.stderr[-3000:]
        report, modules = (json.loads(line) for line in served.stdout.strip().splitlines()[-2:])
        assert report["ok"], report
        yield set(modules)
    finally:
        server.stop()


def test_a_catalogue_cold_start_loads_only_the_listed_chalicelib_modules(loaded: set[str]) -> None:
    ours = {m for m in loaded if m == "chalicelib" or m.startswith("chalicelib.")}
    extra = sorted(ours - CATALOGUE_COLD_START)
    assert not extra, f"loaded on a catalogue cold start (list it, or load it lazily): {extra}"


@pytest.mark.parametrize("module", NEVER)
def test_a_catalogue_cold_start_never_loads(loaded: set[str], module: str) -> None:
    assert not {m for m in loaded if m == module or m.startswith(module + ".")}
