"""The money a shop is owed, to the cent: commission fixed at checkout (default, per-shop override, fixed
fee; none on delivery), given back pro rata with refunds; refunds after a payout netted against the next
earnings or clawed back from the shop's Stripe balance; disputes holding and debiting; the operator's
commission report; refunds the provider failed, seen through."""

from __future__ import annotations

from typing import Any

import pytest
from payout_support import (
    balance,
    commission,
    onboard,
    payouts,
    platform_event,
    run_of,
    run_sweep,
    setup_mall,
    sold_and_collected,
)
from support import place, send, vid

SALE = 3 * 333 + 2 * 1850  # 4699: the bakery's part of the default order


@pytest.fixture
def mall(api, open_shop, operator_key) -> dict[str, Any]:
    return setup_mall(api, open_shop, operator_key)


def refund(api: Any, mall: dict[str, Any], order_id: str, lines: Any) -> dict[str, Any]:
    status, body = api.call(
        "POST",
        f"/retailer/orders/{order_id}/refunds",
        {"lines": lines, "reason": "returned"},
        key=mall["key"],
    )
    assert status == 201, body
    return dict(body)


def statement(api: Any, key: str, payout_id: str) -> dict[str, Any]:
    status, body = api.call("GET", f"/retailer/payouts/{payout_id}", key=key)
    assert status == 200, body
    return dict(body)


# --- commission ---------------------------------------------------------------------------------------


def test_the_rate_is_fixed_at_checkout_later_changes_never_touch_past_orders(api, mall):
    onboard(api, mall["key"])
    old = place(api, mall, steak=0)  # 8 % at checkout
    assert api.call("PUT", "/operator/commission", {"rate_bps": 2000}, key=mall["operator"])[0] == 200
    new = place(api, mall, steak=0)  # 20 %
    from support import collect

    collect(api, mall, old)
    collect(api, mall, new)

    (payout,) = run_of(run_sweep(api), mall["bakery"]["id"])["payouts"]

    assert payout["amount_cents"] == (SALE - commission(SALE, 800)) + (SALE - commission(SALE, 2000))
    rates = sorted(
        e["rate_bps"] for e in statement(api, mall["key"], payout["id"])["entries"] if e["rate_bps"]
    )
    assert rates == [800, 2000]


def test_a_shop_override_and_a_fixed_fee_apply_to_its_new_orders_only_and_never_to_delivery(api, mall):
    op, butcher = mall["operator"], mall["butcher"]["id"]
    status, set_ = api.call(
        "PUT", f"/operator/shops/{butcher}/commission", {"rate_bps": 500, "fixed_fee_cents": 30}, key=op
    )
    assert (status, set_["source"], set_["rate_bps"], set_["fixed_fee_cents"]) == (200, "shop", 500, 30)
    status, default = api.call("GET", f"/operator/shops/{mall['bakery']['id']}/commission", key=op)
    assert (default["source"], default["rate_bps"]) == ("default", 800)
    onboard(api, mall["butcher_key"])
    placed = place(api, mall, bread=0, cake=0, steak=2)  # delivered: 2 x 1290 + the delivery fee
    from payout_support import deliver_steak

    deliver_steak(api, mall, placed)

    (payout,) = run_of(run_sweep(api), butcher)["payouts"]
    status, sub = api.call("GET", f"/retailer/orders/{placed['order_id']}", key=mall["butcher_key"])
    assert sub["delivery_fee_cents"] > 0
    expected_commission = commission(2580, 500) + 30  # on the goods only, plus the fixed fee
    assert payout["amount_cents"] == sub["total_cents"] - expected_commission
    status, removed = api.call("DELETE", f"/operator/shops/{butcher}/commission", key=op)
    assert (status, removed["source"], removed["rate_bps"]) == (200, "default", 800)
    status, error = api.call("DELETE", f"/operator/shops/{butcher}/commission", key=op)
    assert (status, error["error"]["code"]) == (404, "commission_override_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"rate_bps": 5001},
        {"rate_bps": -1},
        {"rate_bps": 800, "fixed_fee_cents": -5},
        {"rate_bps": 800, "fixed_fee_cents": 10_001},
        {"rate_bps": "8%"},
        {"fixed_fee_cents": 10},
        {"rate_bps": 800, "currency": "USD"},
    ],
)
def test_a_commission_outside_0_to_50_percent_or_malformed_is_refused_and_nothing_changes(api, mall, body):
    op = mall["operator"]
    for path in ("/operator/commission", f"/operator/shops/{mall['bakery']['id']}/commission"):
        status, error = api.call("PUT", path, body, key=op)
        assert (status, error["error"]["code"]) == (400, "validation_error"), (path, error)
    assert api.call("GET", "/operator/commission", key=op)[1]["rate_bps"] == 800
    status, error = api.call(
        "PUT", "/operator/shops/shop_doesnotexist00/commission", {"rate_bps": 100}, key=op
    )
    assert status == 404


def test_refunds_after_hand_over_give_the_commission_back_pro_rata_and_parts_add_up(api, mall):
    onboard(api, mall["key"])
    placed = sold_and_collected(api, mall)
    refund(api, mall, placed["order_id"], [{"variant_id": vid(mall["cake"]), "quantity": 1}])  # 1850 back

    (payout,) = run_of(run_sweep(api), mall["bakery"]["id"])["payouts"]

    report = statement(api, mall["key"], payout["id"])
    by_type = {e["type"]: e["amount_cents"] for e in report["entries"]}
    goods_left = SALE - 1850
    assert by_type == {
        "sale": SALE,
        "commission": -commission(SALE),
        "refund": -1850,
        "commission_return": commission(SALE) - commission(goods_left),
    }
    # What the customer kept paid = the shop's payout + the mall's commission, to the cent.
    assert payout["amount_cents"] + commission(goods_left) == goods_left
    assert report["totals"] == {
        "sales_cents": SALE,
        "commission_cents": -commission(goods_left),
        "refunds_cents": -1850,
        "disputes_cents": 0,
        "clawbacks_cents": 0,
        "net_cents": payout["amount_cents"],
    }


# --- refunds after a payout ---------------------------------------------------------------------------


def test_a_refund_after_the_payout_is_netted_against_the_next_earnings(api, mall):
    onboard(api, mall["key"])
    first_order = sold_and_collected(api, mall)
    (first,) = run_of(run_sweep(api), mall["bakery"]["id"])["payouts"]
    refund(api, mall, first_order["order_id"], [{"variant_id": vid(mall["bread"]), "quantity": 3}])  # -999
    owed = balance(api, mall["key"])
    assert owed["carried_forward_cents"] == -(999 - (commission(SALE) - commission(SALE - 999)))
    sold_and_collected(api, mall)

    second = next(
        p
        for p in run_of(run_sweep(api, days_ahead=16), mall["bakery"]["id"])["payouts"]
        if p["id"] != first["id"]
    )

    assert second["amount_cents"] == (SALE - commission(SALE)) + owed["carried_forward_cents"]
    types = [e["type"] for e in statement(api, mall["key"], second["id"])["entries"]]
    assert sorted(types) == sorted(["refund", "commission_return", "sale", "commission"])
    assert balance(api, mall["key"])["carried_forward_cents"] == 0


def test_a_debt_with_nothing_to_net_is_carried_forward_never_dropped(api, mall):
    onboard(api, mall["key"])
    placed = sold_and_collected(api, mall)
    (payout,) = run_of(run_sweep(api), mall["bakery"]["id"])["payouts"]  # in transit: at the bank
    refund(api, mall, placed["order_id"], None)  # everything: the shop owes its whole share back

    run = run_of(run_sweep(api, days_ahead=16), mall["bakery"]["id"])

    assert run["outcome"] == "debt_carried_forward" and run["payouts"] == []
    assert balance(api, mall["key"])["carried_forward_cents"] == -payout["amount_cents"]


def test_a_debt_is_clawed_back_from_a_payout_the_bank_sent_back_and_the_rest_goes_to_the_bank(api, mall):
    from chalicelib.payment.simulated_gateway import SimulatedGateway

    account_id = onboard(api, mall["key"])
    placed = sold_and_collected(api, mall)
    (payout,) = run_of(run_sweep(api), mall["bakery"]["id"])["payouts"]
    assert (
        send(api, "POST", f"/dev/connect/payouts/{payout['bank_payout_id']}/returned")[1]["outcome"]
        == "returned"
    )
    assert SimulatedGateway().balance(account_id) == payout["amount_cents"]  # back on its Stripe balance
    refund(api, mall, placed["order_id"], [{"variant_id": vid(mall["cake"]), "quantity": 2}])  # -3700
    debt = 3700 - (commission(SALE) - commission(SALE - 3700))

    run = run_of(run_sweep(api, days_ahead=16), mall["bakery"]["id"])

    assert run["outcome"] == "netted", run
    assert SimulatedGateway().balance(account_id) == 0  # debt reversed, the rest paid out to the bank
    retried = next(p for p in payouts(api, mall["key"]) if p["id"] == payout["id"])
    assert (retried["status"], retried["reversed_cents"]) == ("in_transit", debt)
    netted = next(p for p in payouts(api, mall["key"]) if p["status"] == "netted")
    assert netted["amount_cents"] == 0
    assert sorted(e["type"] for e in statement(api, mall["key"], netted["id"])["entries"]) == [
        "clawback",
        "commission_return",
        "refund",
    ]
    money = balance(api, mall["key"])
    assert (money["carried_forward_cents"], money["in_transit_cents"]) == (0, payout["amount_cents"] - debt)


# --- disputes -----------------------------------------------------------------------------------------


def dispute(
    api: Any, placed: dict[str, Any], kind: str, status: str = "needs_response", amount: int | None = None
) -> str:
    obj = {
        "id": "dp_test_1",
        "object": "dispute",
        "amount": amount if amount is not None else placed["total_cents"],
        "charge": "ch_test_1",
        "payment_intent": placed["payment_intent_id"],
        "reason": "fraudulent",
        "status": status,
    }
    code, ack = platform_event(api, kind, obj, f"evt_{kind}_{status}")
    assert code == 200, ack
    return str(ack["outcome"])


def test_a_dispute_holds_the_orders_earnings_until_won(api, mall):
    onboard(api, mall["key"])
    disputed = sold_and_collected(api, mall)
    sold_and_collected(api, mall)
    assert dispute(api, disputed, "charge.dispute.created") == "held"
    assert dispute(api, disputed, "charge.dispute.created") == "duplicate"
    share = SALE - commission(SALE)
    assert balance(api, mall["key"])["disputed_cents"] == share

    (paid,) = run_of(run_sweep(api), mall["bakery"]["id"])["payouts"]
    assert paid["amount_cents"] == share  # the other order only

    assert dispute(api, disputed, "charge.dispute.closed", "won") == "won"
    assert balance(api, mall["key"])["disputed_cents"] == 0
    later = run_of(run_sweep(api, days_ahead=16), mall["bakery"]["id"])["payouts"]
    assert [p["amount_cents"] for p in later] == [share]


def test_a_lost_dispute_debits_each_shop_its_share_with_the_commission_back(api, mall):
    onboard(api, mall["key"])
    onboard(api, mall["butcher_key"])
    placed = place(api, mall)  # both shops
    from payout_support import deliver_steak
    from support import collect

    collect(api, mall, placed)
    deliver_steak(api, mall, placed)
    assert dispute(api, placed, "charge.dispute.created") == "held"
    assert dispute(api, placed, "charge.dispute.closed", "lost") == "lost"
    assert dispute(api, placed, "charge.dispute.closed", "lost") == "duplicate"

    swept = run_sweep(api)

    for key, shop in ((mall["key"], mall["bakery"]["id"]), (mall["butcher_key"], mall["butcher"]["id"])):
        run = run_of(swept, shop)
        assert run["payouts"] == [] or run["payouts"][0]["amount_cents"] == 0, run
        money = balance(api, key)
        assert (
            money["available_cents"] == 0 and money["carried_forward_cents"] == 0
        )  # lost it all: nothing owed, nothing paid


# --- the report, and refunds seen through ---------------------------------------------------------------


def test_the_monthly_commission_report_counts_earned_returned_and_stripe_fees(api, mall):
    from chalicelib.core.clock import now

    onboard(api, mall["key"])
    placed = sold_and_collected(api, mall)
    refund(api, mall, placed["order_id"], [{"variant_id": vid(mall["cake"]), "quantity": 1}])
    month = now().strftime("%Y-%m")

    status, report = api.call("GET", f"/operator/commission/report?month={month}", key=mall["operator"])

    assert status == 200, report
    returned = commission(SALE) - commission(SALE - 1850)
    assert (report["commission_earned_cents"], report["commission_returned_cents"]) == (
        commission(SALE),
        returned,
    )
    assert report["net_commission_cents"] == commission(SALE - 1850)
    assert report["shops"] == [
        {
            "shop_id": mall["bakery"]["id"],
            "commission_earned_cents": commission(SALE),
            "commission_returned_cents": returned,
            "net_commission_cents": commission(SALE - 1850),
        }
    ]
    assert report["orders_with_known_fees"] == 1
    assert report["stripe_fees_cents"] == (placed["total_cents"] * 150 + 5000) // 10000 + 25
    response = api.http.get(
        f"/operator/commission/report.csv?month={month}",
        headers={"Authorization": f"Bearer {mall['operator']}"},
    )
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert (
        response.body.decode().splitlines()[0]
        == "month,shop_id,commission_earned_eur,commission_returned_eur,net_eur"
    )
    for bad in ("2026-13", "2026", "dec", ""):
        status, error = api.call("GET", f"/operator/commission/report?month={bad}", key=mall["operator"])
        assert status == 400, (bad, error)


@pytest.mark.parametrize("who", ["hourly_job", "operator"])
def test_a_failed_refund_of_a_cancelled_order_is_listed_for_the_operator_and_retried(
    api, mall, monkeypatch, who
):
    """The customer is owed the money: a refund the provider failed stays visible and is asked again as a
    new attempt (its own key), until it goes through."""
    from datetime import timedelta

    from payout_support import FaultyGateway

    from chalicelib.core.clock import now
    from chalicelib.order.no_shows import retry_stalled_refunds
    from chalicelib.payment import gateway as module
    from chalicelib.payment.gateway import ProviderRefund

    placed = place(api, mall, steak=0)
    faulty = FaultyGateway()
    monkeypatch.setattr(module, "gateway", lambda: faulty)
    real_refund = faulty.inner.create_refund
    faulty.inner.create_refund = lambda *a, **k: ProviderRefund("re_closed", "failed", 0)  # type: ignore[method-assign]
    path = f"/orders/{placed['order_id']}/shops/{mall['bakery']['id']}/cancel"
    status, cancelled = send(api, "POST", path, headers={"X-Order-Token": placed["order_token"]})
    assert (status, cancelled["status"], cancelled["cancelled_sub_order"]) == (200, "failed", True), cancelled
    status, listed = api.call("GET", "/operator/refunds?status=failed", key=mall["operator"])
    assert [(r["id"], r["attempt"]) for r in listed["items"]] == [(cancelled["id"], 0)]
    assert retry_stalled_refunds(now()) == []  # not before an hour has passed
    faulty.inner.create_refund = real_refund  # type: ignore[method-assign]

    if who == "hourly_job":
        assert retry_stalled_refunds(now() + timedelta(hours=2)) == [(cancelled["id"], "succeeded")]
    else:
        url = f"/operator/orders/{placed['order_id']}/refunds/{cancelled['id']}/retry"
        status, retried = api.call("POST", url, key=mall["operator"])
        assert (status, retried["status"], retried["attempt"]) == (200, "succeeded", 1), retried

    refund_keys = [key for method, key in faulty.keys if method == "create_refund"]
    assert refund_keys == [f"refund:{cancelled['id']}", f"refund:{cancelled['id']}:1"]
    assert api.call("GET", "/operator/refunds?status=failed", key=mall["operator"])[1]["items"] == []
    status, sub = api.call("GET", f"/retailer/orders/{placed['order_id']}", key=mall["key"])
    assert sub["status"] == "refunded"
    url = f"/operator/orders/{placed['order_id']}/refunds/{cancelled['id']}/retry"
    status, error = api.call("POST", url, key=mall["operator"])
    assert (status, error["error"]["code"]) == (409, "refund_not_retryable")


def failing_once(module: Any, monkeypatch: Any) -> list[int]:
    """The module's next transaction is refused by DynamoDB (a conflict with another writer): nothing of it
    is written. Returns the count of refusals made."""
    from contextlib import contextmanager

    from pynamodb.exceptions import TransactWriteError

    real, refused = module.transaction, []

    @contextmanager
    def once() -> Any:
        with real() as tx:
            yield tx
            if not refused:
                refused.append(1)
                raise TransactWriteError("TransactionConflict")  # before the commit: nothing written

    monkeypatch.setattr(module, "transaction", once)
    return refused


def test_a_dispute_whose_hold_could_not_be_written_is_not_acknowledged_and_holds_on_redelivery(
    api, mall, monkeypatch
):
    from chalicelib.payout import platform_events

    onboard(api, mall["key"])
    disputed = sold_and_collected(api, mall)
    refused = failing_once(platform_events, monkeypatch)
    obj = {
        "id": "dp_flaky",
        "object": "dispute",
        "amount": disputed["total_cents"],
        "status": "needs_response",
    }
    obj |= {"payment_intent": disputed["payment_intent_id"], "reason": "fraudulent"}

    status, _ = platform_event(api, "charge.dispute.created", obj, "evt_flaky_dispute")
    assert refused and status >= 500  # Stripe delivers it again: it was not recorded as seen
    assert balance(api, mall["key"])["disputed_cents"] == 0
    status, ack = platform_event(api, "charge.dispute.created", obj, "evt_flaky_dispute")
    assert (status, ack["outcome"]) == (200, "held")
    assert balance(api, mall["key"])["disputed_cents"] == SALE - commission(SALE)
    assert run_of(run_sweep(api), mall["bakery"]["id"])["payouts"] == []  # nothing paid while disputed


def test_a_dispute_close_that_loses_a_race_is_judged_again_and_applied_once(api, mall, monkeypatch):
    from chalicelib.payout import platform_events

    onboard(api, mall["key"])
    placed = sold_and_collected(api, mall)
    assert dispute(api, placed, "charge.dispute.created") == "held"
    refused = failing_once(platform_events, monkeypatch)

    assert dispute(api, placed, "charge.dispute.closed", "lost") == "lost"
    assert refused
    assert dispute(api, placed, "charge.dispute.closed", "lost") == "duplicate"
    from chalicelib.ledger.queries import entries_of

    debits = [e.entry_type for e in entries_of(mall["bakery"]["id"]) if e.source_id == "dp_test_1"]
    assert sorted(debits) == ["commission_return", "dispute"]  # debited once
    money = balance(api, mall["key"])
    share = SALE - commission(SALE)
    assert (money["disputed_cents"], money["on_hold_cents"], money["carried_forward_cents"]) == (
        0,
        share,
        -share,
    )


def test_a_dispute_of_a_payment_stripe_does_not_know_is_acknowledged_and_ignored(api, mall):
    obj = {"id": "dp_other", "object": "dispute", "amount": 500, "status": "needs_response"}
    obj |= {"payment_intent": "pi_not_of_this_mall", "reason": "fraudulent"}
    status, ack = platform_event(api, "charge.dispute.created", obj, "evt_foreign_dispute")
    assert (status, ack["outcome"]) == (200, "ignored_unknown_payment_intent")
