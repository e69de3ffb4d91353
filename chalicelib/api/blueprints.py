"""Every blueprint of the HTTP API, in the order app.py registers them (the order of /openapi.json)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.checkout import checkout
from chalicelib.api.docs import docs
from chalicelib.api.images import product_images
from chalicelib.api.operator import operator
from chalicelib.api.operator_payouts import operator_payouts
from chalicelib.api.payments import payments
from chalicelib.api.retailer import retailer
from chalicelib.api.retailer_orders import retailer_orders
from chalicelib.api.retailer_payouts import retailer_payouts
from chalicelib.api.retailer_webhooks import retailer_webhooks
from chalicelib.api.storefront import storefront
from chalicelib.core.config import payments_simulated


def blueprints() -> list[Blueprint]:
    """The API's blueprints; with the simulated provider's pages where payments are simulated (make run,
    tests), never in a stage that takes real payments."""
    every = [
        storefront,
        checkout,
        retailer,
        product_images,
        retailer_orders,
        retailer_webhooks,
        retailer_payouts,
        operator,
        operator_payouts,
        payments,
        docs,
    ]
    if payments_simulated():
        from chalicelib.api.dev_payments import simulated_payments

        every.append(simulated_payments)
    return every
