"""The README's payout tour over real HTTP against the seeded local stack: the demo retailer onboards
through the simulated Stripe page, sells, hands over, the sweep pays it (its demo past too), and the
statement, its CSV and the bank's confirmation read as they should. The demo's onboarded shops are paid
by the first sweep; the operator sees the month's commission."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.e2e.conftest import Api

pytestmark = pytest.mark.e2e


def test_onboard_sell_hand_over_sweep_and_read_the_statement(api: Api, info: dict[str, Any]) -> None:
    key, op, shop = info["retailer_key"], info["operator_key"], info["retailer_shop_id"]
    before = api.get("/retailer/balance", key=key)
    assert before["account_status"] == "not_started"
    assert before["available_cents"] > 0  # the demo's past: handed over 9 and 10 days ago, waiting

    created = api.ok("POST", "/retailer/payouts/account", 201, key=key)
    page = api.session.get(created["onboarding_url"], timeout=10)  # the link a retailer opens
    assert page.status_code == 200 and "Complete onboarding" in page.text
    action = re.search(r'action="([^"]+)"', page.text)
    assert action is not None
    done = api.session.post(info["api_url"] + action.group(1), timeout=10)
    assert done.status_code == 200 and "Onboarding complete" in done.text
    account = api.get("/retailer/payouts/account", key=key)
    assert account["status"] == "active" and account["dashboard_url"]

    # Sell (a storefront cart), pay (the simulated gateway), hand over at the counter with the code.
    products = api.get(f"/shops/{shop}/products", params={"limit": 50})["items"]
    variant = next(
        v for p in products[::-1] for v in api.get(f"/products/{p['id']}")["variants"] if v["stock"] > 2
    )
    cart = api.ok("POST", "/carts", 201, body={"lines": [{"variant_id": variant["id"], "quantity": 1}]})
    token = {"X-Cart-Token": cart["cart_token"]}
    placed = api.ok(
        "POST",
        f"/carts/{cart['cart']['id']}/checkout",
        201,
        body={"email": "tour@example.be"},
        headers={**token, "Idempotency-Key": f"e2e-payout-tour-{cart['cart']['id']}"},
    )
    assert api.ok("POST", f"/dev/payments/{placed['payment_intent_id']}/succeed")["outcome"] == "paid"
    order_path = f"/retailer/orders/{placed['order_id']}/status"
    for to in ("preparing", "ready_for_pickup"):
        api.ok("POST", order_path, key=key, body={"to": to})
    order = api.get(f"/orders/{placed['order_id']}", headers={"X-Order-Token": placed["order_token"]})
    code = order["shops"][0]["fulfilment"]["pickup"]["code"]
    api.ok("POST", order_path, key=key, body={"to": "collected", "pickup_code": code})
    held = api.get("/retailer/balance", key=key)["on_hold_cents"]
    assert held > 0  # the mall's 7-day hold

    swept = api.ok("POST", "/dev/payouts/run", params={"days_ahead": 8})

    mine = next(run for run in swept["runs"] if run["shop_id"] == shop)
    (payout,) = mine["payouts"]
    assert payout["status"] == "in_transit"
    assert payout["amount_cents"] == before["available_cents"] + held  # the demo's past and today's sale
    statement = api.get(f"/retailer/payouts/{payout['id']}", key=key)
    assert statement["totals"]["net_cents"] == payout["amount_cents"]
    assert placed["order_id"] in {e["order_id"] for e in statement["entries"]}
    assert {e["type"] for e in statement["entries"]} == {"sale", "commission"}
    csv_text = api.call("GET", f"/retailer/payouts/{payout['id']}/statement.csv", key=key)
    assert csv_text.status_code == 200 and csv_text.text.startswith(
        "date,type,order_id,item,quantity,amount_eur"
    )
    others = [run for run in swept["runs"] if run["shop_id"] != shop and run["payouts"]]
    assert others, "the demo's onboarded shops are paid by the first sweep"

    assert api.ok("POST", f"/dev/connect/payouts/{payout['bank_payout_id']}/paid")["outcome"] == "paid"
    after = api.get("/retailer/balance", key=key)
    assert (after["paid_out_cents"], after["in_transit_cents"], after["available_cents"]) == (
        payout["amount_cents"],
        0,
        0,
    )
    month = payout["created_at"][:7]
    report = api.get("/operator/commission/report", key=op, params={"month": month})
    assert report["commission_earned_cents"] > 0 and any(s["shop_id"] == shop for s in report["shops"])
    assert api.get("/operator/payouts", key=op, params={"status": "paid"})["items"][0]["id"] == payout["id"]
