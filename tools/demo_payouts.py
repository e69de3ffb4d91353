"""The demo mall's money: commission rates, shops onboarded to (simulated) Stripe and shops not yet, and a
past of orders, so that `make run` starts where a real mall would be on an ordinary day:

- the mall takes 8 %; the wine merchant negotiated 5 % plus 25 cents a sale;
- most shops finished Stripe onboarding; the first shop (the one whose key `make run` prints) has not:
  the README's tour onboards it;
- each of the first seven shops sold and handed over two orders 9 and 10 days ago (past the 7-day hold:
  the first payout sweep pays them), some also one yesterday (still in the hold) and one paid but not
  yet handed over (pending).

Everything goes through the service functions the API uses, with the clock set back for the orders of
the past (`_clock_at`), so their history, ledger entries and events read as if they happened then.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.auth.service import Principal
from chalicelib.catalog.schemas import Product
from chalicelib.core import clock

DEFAULT_RATE_BPS = 800
# Shops (by position in tools/demo_data.py) that finished onboarding; 0 is left for the README's tour.
ONBOARDED = (1, 2, 3, 4, 5, 6, 8, 10)
WITH_ORDERS = range(7)
PAST_DAYS = (10, 9)
CUSTOMERS = ("an.peeters@example.be", "lotte.desmet@example.be", "pieter.claes@example.be")


@dataclass(frozen=True)
class DemoShop:
    principal: Principal
    products: list[Product]


@contextlib.contextmanager
def _clock_at(moment: datetime) -> Iterator[None]:
    """Every chalicelib module reads the time through chalicelib.core.clock.now (imported by name), so
    rebinding that name in each loaded module moves the whole domain's clock (the clock module itself is
    left alone, so a module imported meanwhile binds the real one). Demo seeding only."""
    real, patched = clock.now, []
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name.startswith("chalicelib") and module is not clock and getattr(module, "now", None) is real:
            patched.append(module)
            module.now = lambda: moment  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in patched:
            module.now = real  # type: ignore[attr-defined]


@contextlib.contextmanager
def _webhooks_in_process() -> Iterator[None]:
    """While seeding, the API is not serving yet: the simulator hands its signed events to the handlers
    directly instead of POSTing them to the mall's URLs."""
    saved = {name: os.environ.pop(name, None) for name in ("MALL_WEBHOOK_URL", "MALL_CONNECT_WEBHOOK_URL")}
    try:
        yield
    finally:
        os.environ.update({name: value for name, value in saved.items() if value is not None})


def seed_payouts(shops: list[DemoShop]) -> dict[str, Any]:
    from chalicelib.api.payments import handle_connect_webhook
    from chalicelib.ledger.rates import set_default, set_for_shop
    from chalicelib.ledger.schemas import CommissionIn
    from chalicelib.payment.simulator import complete_onboarding
    from chalicelib.payout.accounts import create_account

    set_default(CommissionIn(DEFAULT_RATE_BPS))
    set_for_shop(shops[3].principal.shop_id or "", CommissionIn(500, 25))
    base_url = os.environ.get("MALL_API_URL", "http://127.0.0.1:8000")
    with _webhooks_in_process():
        for index in ONBOARDED:
            account = create_account(shops[index].principal, base_url)
            complete_onboarding(account.stripe_account_id or "", handle_connect_webhook)
    orders = 0
    today = clock.now()
    for index in WITH_ORDERS:
        shop = shops[index]
        for days in PAST_DAYS:
            _handed_over(shop, today - timedelta(days=days, hours=3), CUSTOMERS[orders % len(CUSTOMERS)])
            orders += 1
        if index in (1, 2):
            _handed_over(shop, today - timedelta(days=1, hours=2), CUSTOMERS[index])  # still in the hold
            orders += 1
        if index == 3:
            _paid(shop, today - timedelta(hours=5), CUSTOMERS[0])  # not handed over yet: pending
            orders += 1
    return {"onboarded": len(ONBOARDED), "orders": orders}


def _paid(shop: DemoShop, moment: datetime, email: str) -> str:
    from chalicelib.checkout.cart import create_cart
    from chalicelib.checkout.schemas import CheckoutIn, LineIn, NewCart
    from chalicelib.checkout.service import checkout
    from chalicelib.core.ids import random_token
    from chalicelib.order.service import mark_paid
    from chalicelib.payment.simulated_gateway import SimulatedGateway

    # The two best-stocked variants, one unit each: a few demo orders never run a line out of stock.
    on_sale = (v for p in shop.products if p.active for v in p.variants if v.active)
    variants = sorted(on_sale, key=lambda v: (-v.stock, v.id))
    lines = [LineIn(variant.id, 1) for variant in variants[:2]]
    with _clock_at(moment):
        cart = create_cart(NewCart(lines=lines))
        placed = checkout(cart.cart.id, cart.cart_token, f"demo-{random_token(16)}", CheckoutIn(email))
        SimulatedGateway().set_status(placed.payment_intent_id, "succeeded")
        mark_paid(placed.order_id, None, by="stripe")
    return placed.order_id


def _handed_over(shop: DemoShop, moment: datetime, email: str) -> None:
    """Paid, prepared, ready and collected over an afternoon, at the counter, with the customer's code."""
    from chalicelib.order.fulfilment import change_status, load_sub_order
    from chalicelib.order.schemas import StatusChangeIn

    order_id = _paid(shop, moment, email)
    for step, to in enumerate(("preparing", "ready_for_pickup", "collected"), start=1):
        code = (
            load_sub_order(order_id, shop.principal.shop_id or "").pickup_code if to == "collected" else None
        )
        at = moment + timedelta(minutes=40 * step)
        with _clock_at(at):
            change_status(shop.principal, order_id, StatusChangeIn(to, code), moment=at)
