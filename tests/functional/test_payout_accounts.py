"""Payout accounts: onboarding through Stripe Connect (simulated), the Connect webhook (its own secret,
each event once, out-of-order deliveries harmless), the states a shop's account goes through and what
each means for its payouts, schedules and pausing; and that one shop never sees or moves another's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from payout_support import (
    CONNECT_SECRET,
    PLATFORM_SECRET,
    balance,
    connect_event,
    onboard,
    payouts,
    run_of,
    run_sweep,
    setup_mall,
    signed_post,
    sold_and_collected,
)
from support import send


@pytest.fixture
def mall(api, open_shop, operator_key) -> dict[str, Any]:
    return setup_mall(api, open_shop, operator_key)


def account(api: Any, key: str) -> dict[str, Any]:
    status, body = api.call("GET", "/retailer/payouts/account", key=key)
    assert status == 200, body
    return dict(body)


def account_object(account_id: str, **overrides: Any) -> dict[str, Any]:
    """An account.updated snapshot (what the mall must NOT trust: it re-reads the account)."""
    return {
        "id": account_id,
        "object": "account",
        "details_submitted": False,
        "payouts_enabled": False,
        "capabilities": {"transfers": "inactive"},
        **overrides,
    }


# --- onboarding ---------------------------------------------------------------------------------------


def test_the_account_is_created_once_and_every_link_is_fresh(api, mall, monkeypatch):
    from chalicelib.payment import gateway as module

    inner = module.gateway()
    created: list[dict[str, Any]] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

        def create_connect_account(self, **kwargs: Any) -> Any:
            created.append(kwargs)
            return inner.create_connect_account(**kwargs)

    monkeypatch.setattr(module, "gateway", lambda: Counting())
    key = mall["key"]

    status, first = api.call("POST", "/retailer/payouts/account", key=key)
    status_again, again = api.call("POST", "/retailer/payouts/account", key=key)
    status_link, link = api.call("POST", "/retailer/payouts/account/link", key=key)

    assert (status, status_again, status_link) == (201, 201, 200)
    assert first["stripe_account_id"] == again["stripe_account_id"] == link["stripe_account_id"]
    assert len({first["onboarding_url"], again["onboarding_url"], link["onboarding_url"]}) >= 1
    # Country from the shop's address, the shop's e-mail to prefill, the idempotency key from our id.
    assert created == [
        {
            "shop_id": mall["bakery"]["id"],
            "country": "BE",
            "email": mall["bakery"]["profile"]["email"],
            "idempotency_key": f"connect-account:{mall['bakery']['id']}",
        }
    ]
    assert first["status"] == "onboarding" and "external_account" in first["currently_due"]


def test_a_link_before_the_account_exists_and_a_suspended_shop_are_refused(api, mall):
    status, error = api.call("POST", "/retailer/payouts/account/link", key=mall["key"])
    assert (status, error["error"]["code"]) == (409, "payout_account_not_started")
    assert api.call("POST", f"/operator/shops/{mall['bakery']['id']}/suspend", key=mall["operator"])[0] == 200

    status, error = api.call("POST", "/retailer/payouts/account", key=mall["key"])

    assert (status, error["error"]["code"]) == (403, "shop_suspended")
    assert account(api, mall["key"])["status"] == "not_started"  # nothing was created
    status, error = api.call("PUT", "/retailer/payouts/schedule", {"interval": "daily"}, key=mall["key"])
    assert (status, error["error"]["code"]) == (403, "shop_suspended")


def test_restricted_onboarding_and_disconnected_each_read_as_such_and_hold_payouts(api, mall):
    key, shop = mall["key"], mall["bakery"]["id"]
    account_id = onboard(api, key)
    sold_and_collected(api, mall)
    assert send(api, "POST", f"/dev/connect/accounts/{account_id}/restrict")[1]["outcome"] == "restricted"
    restricted = account(api, key)
    assert (restricted["status"], restricted["disabled_reason"]) == ("restricted", "requirements.past_due")
    assert restricted["currently_due"] == ["individual.verification.document"]
    assert restricted["schedule"]["next_payout_on"] is None  # out of the due index while not payable

    swept = run_sweep(api)
    assert run_of(swept, shop) is None and payouts(api, key) == []
    assert balance(api, key)["on_hold_cents"] > 0  # it keeps accumulating

    # Fixed: due at once, paid at the first sweep after it became active again.
    assert send(api, "POST", f"/dev/connect/accounts/{account_id}/complete")[1]["outcome"] == "active"
    assert account(api, key)["schedule"]["next_payout_on"] is not None
    assert run_of(run_sweep(api), shop)["outcome"] == "paid"

    assert send(api, "POST", f"/dev/connect/accounts/{account_id}/disconnect")[1]["outcome"] == "disconnected"
    gone = account(api, key)
    assert (gone["status"], gone["dashboard_url"], gone["schedule"]["next_payout_on"]) == (
        "disconnected",
        None,
        None,
    )
    status, error = api.call("POST", "/retailer/payouts/account/link", key=key)
    assert (status, error["error"]["code"]) == (409, "payout_account_disconnected")


def test_a_shop_that_was_never_onboarded_is_paid_everything_at_the_first_sweep_after_it_is(api, mall):
    key, shop = mall["key"], mall["bakery"]["id"]
    for _ in range(2):
        sold_and_collected(api, mall)
    assert run_of(run_sweep(api), shop) is None
    owed = balance(api, key)
    assert (owed["account_status"], owed["on_hold_cents"]) == ("not_started", 2 * 4323)

    onboard(api, key)
    run = run_of(run_sweep(api), shop)

    assert run is not None and [p["amount_cents"] for p in run["payouts"]] == [2 * 4323]


# --- the Connect webhook ------------------------------------------------------------------------------


def test_connect_events_need_the_connect_secret_and_apply_once(api, mall):
    account_id = onboard(api, mall["key"])
    obj = account_object(account_id, payouts_enabled=True, capabilities={"transfers": "active"})
    import json

    payload = json.dumps(
        {"id": "evt_c1", "type": "account.updated", "account": account_id, "data": {"object": obj}}
    )
    for secret in (PLATFORM_SECRET, "whsec_someone_else"):
        status, error = signed_post(api, "/webhooks/stripe-connect", payload, secret)
        assert (status, error["error"]["code"]) == (400, "invalid_signature")
    status, error = signed_post(api, "/webhooks/stripe-connect", payload, CONNECT_SECRET, header="t=1,v1=00")
    assert status == 400

    assert signed_post(api, "/webhooks/stripe-connect", payload, CONNECT_SECRET) == (
        200,
        {"received": True, "outcome": "active"},
    )
    assert signed_post(api, "/webhooks/stripe-connect", payload, CONNECT_SECRET)[1]["outcome"] == "duplicate"
    # The platform endpoint does not take Connect events signed for Connect either.
    status, error = signed_post(api, "/webhooks/stripe", payload, CONNECT_SECRET)
    assert (status, error["error"]["code"]) == (400, "invalid_signature")


def test_an_old_snapshot_delivered_late_changes_nothing_stripe_is_read_again(api, mall):
    account_id = onboard(api, mall["key"])
    stale = account_object(account_id)  # what the account looked like before onboarding

    status, ack = connect_event(api, "account.updated", account_id, stale, "evt_stale_1")
    assert (status, ack["outcome"]) == (200, "active")
    status, ack = connect_event(
        api, "capability.updated", account_id, {"id": "transfers", "status": "inactive"}, "evt_cap"
    )
    assert ack["outcome"] == "active"
    assert account(api, mall["key"])["status"] == "active"


def test_events_for_accounts_we_do_not_know_are_acknowledged_and_change_nothing(api, mall):
    status, ack = connect_event(
        api, "account.updated", "acct_unknown00000", account_object("acct_unknown00000"), "evt_u1"
    )
    assert (status, ack["outcome"]) == (200, "ignored_unknown_account")
    status, ack = connect_event(
        api,
        "payout.paid",
        "acct_unknown00000",
        {"id": "po_x", "metadata": {"payout_id": "payout_x"}},
        "evt_u2",
    )
    assert (status, ack["outcome"]) == (200, "ignored_unknown_payout")
    status, ack = connect_event(api, "customer.created", "acct_unknown00000", {"id": "cus_1"}, "evt_u3")
    assert ack["outcome"] == "ignored_event_type"
    status, error = connect_event(api, "account.updated", None, {"id": "acct_x"}, "evt_u4")  # type: ignore[arg-type]
    assert (status, error["error"]["code"]) == (400, "malformed_event")


def test_a_bank_that_returns_a_paid_payout_is_recorded_and_the_money_goes_out_again(api, mall):
    key, shop = mall["key"], mall["bakery"]["id"]
    account_id = onboard(api, key)
    sold_and_collected(api, mall)
    (payout,) = run_of(run_sweep(api), shop)["payouts"]
    bank = payout["bank_payout_id"]
    assert send(api, "POST", f"/dev/connect/payouts/{bank}/paid")[1]["outcome"] == "paid"
    assert balance(api, key)["paid_out_cents"] == payout["amount_cents"]

    # Days later the bank sends it back: the later failure wins.
    assert send(api, "POST", f"/dev/connect/payouts/{bank}/returned")[1]["outcome"] == "returned"
    (returned,) = payouts(api, key)
    assert (returned["status"], returned["failure_code"], returned["paid_at"]) == (
        "returned",
        "account_closed",
        None,
    )
    money = balance(api, key)
    assert (money["paid_out_cents"], money["in_transit_cents"]) == (0, payout["amount_cents"])
    # A late duplicate of payout.paid cannot undo it (Stripe is read again: the payout failed).
    status, ack = connect_event(
        api, "payout.paid", account_id, {"id": bank, "metadata": {"payout_id": payout["id"]}}, "evt_late_paid"
    )
    assert (status, ack["outcome"]) == (200, "ignored_returned")

    # The next run pays it out to the bank again, as a new attempt (a new key).
    run = run_of(run_sweep(api), shop)
    again = next(p for p in run["payouts"] if p["id"] == payout["id"])
    assert again["status"] == "in_transit" and again["bank_payout_id"] != bank


# --- schedules and pausing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"interval": "daily"}, ("daily", "monday", 1)),
        ({"interval": "weekly", "weekly_anchor": "friday"}, ("weekly", "friday", 1)),
        ({"interval": "monthly", "monthly_anchor": 15}, ("monthly", "monday", 15)),
        ({"interval": "manual"}, ("manual", "monday", 1)),
    ],
)
def test_the_retailer_chooses_how_often_it_is_paid(api, mall, body, expected):
    from datetime import date

    from chalicelib.payout.accounts import mall_today

    onboard(api, mall["key"])
    status, schedule = api.call("PUT", "/retailer/payouts/schedule", body, key=mall["key"])

    assert status == 200, schedule
    assert (schedule["interval"], schedule["weekly_anchor"], schedule["monthly_anchor"]) == expected
    today = mall_today()
    if body["interval"] == "manual":
        assert schedule["next_payout_on"] is None
    else:
        due = date.fromisoformat(schedule["next_payout_on"])
        assert today < due <= today + timedelta(days=31)
        if body["interval"] == "daily":
            assert due == today + timedelta(days=1)
        if body["interval"] == "weekly":
            assert due.weekday() == 4
        if body["interval"] == "monthly":
            assert due.day == 15


def test_a_manual_shop_is_never_swept_and_is_paid_when_it_asks(api, mall):
    key, shop = mall["key"], mall["bakery"]["id"]
    onboard(api, key)
    assert api.call("PUT", "/retailer/payouts/schedule", {"interval": "manual"}, key=key)[0] == 200
    sold_and_collected(api, mall)
    assert run_of(run_sweep(api), shop) is None

    status, error = api.call("POST", "/retailer/payouts", key=key)  # still in the hold
    assert (status, error["error"]["code"]) == (422, "nothing_to_pay_out")
    assert error["error"]["details"] == {
        "available_cents": 0,
        "minimum_cents": 100,
        "reason": "below_minimum",
    }

    from chalicelib.core.clock import now
    from chalicelib.payout.worker import process_shop

    run = process_shop(shop, "retailer", available_by=now() + timedelta(days=8))
    assert [p.requested_by for p in run.payouts] == ["retailer"]


@pytest.mark.parametrize(
    "body",
    [
        {"interval": "hourly"},
        {"interval": "weekly", "weekly_anchor": "funday"},
        {"interval": "monthly", "monthly_anchor": 29},
        {"interval": "monthly", "monthly_anchor": 0},
        {},
        {"interval": "daily", "extra": 1},
    ],
)
def test_unknown_intervals_and_anchors_are_refused_and_change_nothing(api, mall, body):
    onboard(api, mall["key"])
    before = account(api, mall["key"])["schedule"]

    status, error = api.call("PUT", "/retailer/payouts/schedule", body, key=mall["key"])

    assert status == 400 and error["error"]["code"] == "validation_error", error
    assert account(api, mall["key"])["schedule"] == before


def test_a_paused_shop_keeps_earning_and_is_paid_when_resumed(api, mall):
    key, shop, op = mall["key"], mall["bakery"]["id"], mall["operator"]
    onboard(api, key)
    sold_and_collected(api, mall)
    status, paused = api.call("POST", f"/operator/shops/{shop}/payouts/pause", key=op)
    assert (status, paused["paused"], paused["next_payout_on"]) == (200, True, None)
    assert run_of(run_sweep(api), shop) is None

    status, resumed = api.call("POST", f"/operator/shops/{shop}/payouts/resume", key=op)

    assert (status, resumed["paused"]) == (200, False) and resumed["next_payout_on"]
    assert run_of(run_sweep(api), shop)["outcome"] == "paid"


# --- one shop, its own money only ---------------------------------------------------------------------


def test_another_shops_payouts_and_statements_are_not_found_and_keys_keep_to_their_role(api, mall):
    onboard(api, mall["key"])
    sold_and_collected(api, mall)
    (payout,) = run_of(run_sweep(api), mall["bakery"]["id"])["payouts"]
    stranger, own = mall["butcher_key"], mall["key"]

    for path in (f"/retailer/payouts/{payout['id']}", f"/retailer/payouts/{payout['id']}/statement.csv"):
        status, error = api.call("GET", path, key=stranger)
        assert (status, error["error"]["code"]) == (404, "payout_not_found"), path
        assert api.call("GET", path, key=own)[0] == 200 if path.endswith(payout["id"]) else True
    assert payouts(api, stranger) == []
    assert balance(api, stranger)["on_hold_cents"] == 0 and account(api, stranger)["status"] == "not_started"
    # The operator's money routes refuse a retailer's key, and the retailer's refuse the operator's.
    for method, path in (
        ("GET", "/operator/payouts"),
        ("PUT", "/operator/commission"),
        ("POST", f"/operator/shops/{mall['butcher']['id']}/payouts"),
        ("GET", "/operator/commission/report?month=2026-12"),
        ("GET", "/operator/refunds"),
    ):
        status, error = api.call(method, path, {"rate_bps": 0}, key=own)
        assert (status, error["error"]["code"]) == (403, "wrong_role"), path
    status, error = api.call("GET", "/retailer/balance", key=mall["operator"])
    assert (status, error["error"]["code"]) == (403, "wrong_role")
    status, error = api.call("GET", "/retailer/payouts")
    assert status == 401


def test_another_shops_payout_writes_touch_only_its_own_account_schedule_and_money(api, mall):
    """Every retailer payout write, made with the butcher's key, changes the butcher's books only."""
    own, stranger = mall["key"], mall["butcher_key"]
    onboard(api, own)
    api.call("PUT", "/retailer/payouts/schedule", {"interval": "manual"}, key=own)
    sold_and_collected(api, mall)
    bakery_before = (account(api, own), balance(api, own), payouts(api, own))

    status, created = api.call("POST", "/retailer/payouts/account", key=stranger)
    assert status == 201 and created["stripe_account_id"] != bakery_before[0]["stripe_account_id"]
    assert api.call("POST", "/retailer/payouts/account/link", key=stranger)[0] == 200
    body = {"interval": "monthly", "monthly_anchor": 15}
    assert api.call("PUT", "/retailer/payouts/schedule", body, key=stranger)[0] == 200
    status, error = api.call("POST", "/retailer/payouts", key=stranger)  # pay now: the butcher has nothing
    assert status in (409, 422) and error["error"]["code"] != "internal_error", error

    assert (account(api, own), balance(api, own), payouts(api, own)) == bakery_before
    butcher = balance(api, stranger)
    assert (butcher["available_cents"], butcher["on_hold_cents"], butcher["in_transit_cents"]) == (0, 0, 0)
    assert account(api, stranger)["schedule"]["interval"] == "monthly"
    assert account(api, own)["schedule"]["interval"] == "manual"


def test_a_refused_account_read_is_no_verdict_on_the_shop(api, mall, monkeypatch):
    from payout_support import FaultyGateway

    from chalicelib.payment import gateway as module

    account_id = onboard(api, mall["key"])
    stripe = FaultyGateway().fail("retrieve_connect_account", "refused")
    monkeypatch.setattr(module, "gateway", lambda: stripe)

    status, ack = connect_event(api, "account.updated", account_id, account_object(account_id), "evt_mode")
    assert (status, ack["outcome"]) == (200, "ignored_unreadable_account")
    assert account(api, mall["key"])["status"] == "active"
    status, ack = connect_event(api, "account.updated", account_id, account_object(account_id), "evt_next")
    assert (status, ack["outcome"]) == (200, "active")


def test_connect_events_without_a_signature_or_signed_long_ago_are_refused(api, mall):
    import json
    import time

    import stripe

    account_id = onboard(api, mall["key"])
    payload = json.dumps(
        {"id": "evt_old", "type": "account.updated", "account": account_id, "data": {"object": {}}}
    )
    response = api.http.post(
        "/webhooks/stripe-connect", headers={"Content-Type": "application/json"}, body=payload.encode()
    )
    assert response.status_code == 400, response.body
    replayed = stripe.WebhookSignature.generate_signature_header(
        payload, CONNECT_SECRET, timestamp=int(time.time()) - 3600
    )
    status, error = signed_post(api, "/webhooks/stripe-connect", payload, CONNECT_SECRET, header=replayed)
    assert (status, error["error"]["code"]) == (400, "invalid_signature")
