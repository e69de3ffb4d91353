"""Payouts over the API: a shop onboards, sells, hands over; its earnings wait out the hold; the sweep
pays them (claim, transfer, bank payout) once; statements and balances add up to the cent; the schedule,
pay-now and the operator's controls; and every Stripe failure leaves money exactly where it was."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from payout_support import (
    RATE_BPS,
    balance,
    commission,
    deliver_steak,
    onboard,
    payouts,
    run_of,
    run_sweep,
    setup_mall,
    sold_and_collected,
)
from support import collect, place, send

BAKERY_SALE = 3 * 333 + 2 * 1850  # 4699


@pytest.fixture
def mall(api, open_shop, operator_key) -> dict[str, Any]:
    return setup_mall(api, open_shop, operator_key)


def statement(api: Any, key: str, payout_id: str) -> dict[str, Any]:
    status, body = api.call("GET", f"/retailer/payouts/{payout_id}", key=key)
    assert status == 200, body
    return dict(body)


# --- the whole path -----------------------------------------------------------------------------------


def test_onboard_sell_hand_over_wait_sweep_and_read_the_statement(api, mall):
    key, bakery = mall["key"], mall["bakery"]["id"]
    status, account = api.call("GET", "/retailer/payouts/account", key=key)
    assert (status, account["status"], account["stripe_account_id"]) == (200, "not_started", None)

    status, created = api.call("POST", "/retailer/payouts/account", key=key)
    assert status == 201, created
    assert created["status"] == "onboarding" and created["currently_due"], created
    # A fresh, single-use link whose way back is the API's own page (the stage sets no URLs of its own).
    assert f"/dev/connect/accounts/{created['stripe_account_id']}/onboarding?" in created["onboarding_url"]
    assert "return_url=http%3A%2F%2Flocalhost%2Fpayouts%2Fonboarding%2Freturn" in created["onboarding_url"]
    account_id = created["stripe_account_id"]
    assert send(api, "POST", f"/dev/connect/accounts/{account_id}/complete")[1]["outcome"] == "active"
    status, account = api.call("GET", "/retailer/payouts/account", key=key)
    assert (account["status"], account["currently_due"], account["disabled_reason"]) == ("active", [], None)
    assert account["dashboard_url"] and account["onboarding_url"] is None
    assert account["schedule"]["interval"] == "weekly" and account["schedule"]["next_payout_on"]

    placed = place(api, mall, steak=0)
    assert balance(api, key)["pending_cents"] == BAKERY_SALE - commission(BAKERY_SALE)
    collect(api, mall, placed)
    shop_share = BAKERY_SALE - commission(BAKERY_SALE)
    held = balance(api, key)
    assert (held["pending_cents"], held["on_hold_cents"], held["available_cents"]) == (0, shop_share, 0)

    too_early = run_sweep(api, days_ahead=6)  # due (weekly), but the hold is not over
    assert run_of(too_early, bakery) is None or run_of(too_early, bakery)["payouts"] == []
    swept = run_sweep(api, days_ahead=8)

    run = run_of(swept, bakery)
    assert run is not None and run["outcome"] == "paid", swept
    (payout,) = run["payouts"]
    assert (payout["status"], payout["amount_cents"], payout["entries"]) == ("in_transit", shop_share, 2)
    assert payout["transfer_id"] and payout["bank_payout_id"]
    after = balance(api, key)
    assert (after["on_hold_cents"], after["available_cents"], after["in_transit_cents"]) == (0, 0, shop_share)

    report = statement(api, key, payout["id"])
    assert [(e["type"], e["amount_cents"]) for e in report["entries"]] == [
        ("sale", BAKERY_SALE),
        ("commission", -commission(BAKERY_SALE)),
    ]
    assert report["entries"][1]["rate_bps"] == RATE_BPS
    assert sorted((x["name"], x["quantity"], x["amount_cents"]) for x in report["entries"][0]["lines"]) == [
        ("Cake", 2, 3700),
        ("Sourdough", 3, 999),
    ]
    assert report["totals"]["net_cents"] == shop_share == payout["amount_cents"]
    assert report["totals"]["sales_cents"] + report["totals"]["commission_cents"] == shop_share

    response = api.http.get(
        f"/retailer/payouts/{payout['id']}/statement.csv", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.body.decode())))
    assert rows[0] == ["date", "type", "order_id", "item", "quantity", "amount_eur"]
    assert [r[1] for r in rows if not r[1].endswith("_line")][1:] == ["sale", "commission", "net"]
    assert rows[-1][-1] == f"{shop_share // 100}.{shop_share % 100:02d}"

    # The bank confirms: paid, and the shop's webhook / the operator's channel hear of it.
    status, ack = send(api, "POST", f"/dev/connect/payouts/{payout['bank_payout_id']}/paid")
    assert (status, ack["outcome"]) == (200, "paid"), ack
    (paid,) = payouts(api, key)
    assert paid["status"] == "paid" and paid["paid_at"]
    final = balance(api, key)
    assert (final["in_transit_cents"], final["paid_out_cents"]) == (0, shop_share)
    status, events = send(api, "GET", "/dev/events?limit=5")
    assert ("payout.paid", payout["id"], shop_share) in [
        (e["type"], e["payout_id"], e["amount_cents"]) for e in events["items"]
    ]


@pytest.fixture
def faulty(monkeypatch):
    from payout_support import FaultyGateway

    from chalicelib.payment import gateway as module

    double = FaultyGateway()
    monkeypatch.setattr(module, "gateway", lambda: double)
    return double


def ledger_payout_ids(shop_id: str) -> list[str | None]:
    from chalicelib.ledger.queries import entries_of

    return [entry.payout_id for entry in entries_of(shop_id)]


def simulated_transfers(account_id: str) -> int:
    from chalicelib.payment.simulated_gateway import SimulatedGateway

    return SimulatedGateway().balance(account_id)


# --- the sweep, the queue and the worker --------------------------------------------------------------


def sqs_event(message: dict[str, Any]) -> dict[str, Any]:
    """The event the SQS event source hands the worker Lambda for one message."""
    return {
        "Records": [
            {
                "body": message["Body"],
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:digital-mall-test-payouts",
                "awsRegion": "eu-west-1",
            }
        ]
    }


SCHEDULED = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-02T02:00:00Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:events:eu-west-1:123456789012:rule/digital-mall-test-sweep_payouts"],
    "detail": {},
}


def test_the_daily_sweep_queues_each_due_shop_and_the_worker_pays_it_once(api, mall, monkeypatch):
    """Through the deployed path: the scheduled sweep sends one SQS message per due shop (moto), the
    worker Lambda's handler consumes it; a redelivered message and a second sweep pay nothing more."""
    import json

    import boto3

    from app import pay_shops, sweep_payouts
    from chalicelib.payout.sweep import _sqs

    monkeypatch.setenv("PAYOUT_HOLD_DAYS", "0")  # earnings available at once: this test is about the path
    _sqs.cache_clear()
    onboard(api, mall["key"])  # due at once: a shop that becomes payable is paid at the next sweep
    onboard(api, mall["butcher_key"])
    placed = place(api, mall)  # bakery pickup + butcher delivery
    collect(api, mall, placed)
    deliver_steak(api, mall, placed)
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="digital-mall-test-payouts")["QueueUrl"]

    sweep_payouts(SCHEDULED, None)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
    assert sorted(json.loads(m["Body"])["shop_id"] for m in messages) == sorted(
        [mall["bakery"]["id"], mall["butcher"]["id"]]
    )
    for message in messages + messages:  # every message delivered twice
        pay_shops(sqs_event(message), None)

    bakery, butcher = payouts(api, mall["key"]), payouts(api, mall["butcher_key"])
    assert [(p["amount_cents"], p["requested_by"]) for p in bakery] == [
        (BAKERY_SALE - commission(BAKERY_SALE), "schedule")
    ]
    status, sub = api.call("GET", f"/retailer/orders/{placed['order_id']}", key=mall["butcher_key"])
    assert status == 200, sub
    # The delivery fee goes to the shop in full: commission only on the steak.
    assert [p["amount_cents"] for p in butcher] == [sub["total_cents"] - commission(1290)]
    assert all(pid is not None for pid in ledger_payout_ids(mall["bakery"]["id"]))
    # Both moved to their next payout day: a second sweep today queues nothing.
    sweep_payouts(SCHEDULED, None)
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


# --- races and crashes --------------------------------------------------------------------------------


def test_concurrent_runs_for_one_shop_settle_each_entry_once(api, mall):
    """Two sweeps, a redelivered message and an operator's pay-now at once: one payout, each entry in it
    once, one transfer."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timedelta

    from chalicelib.core.clock import now
    from chalicelib.core.errors import DomainError
    from chalicelib.payout.worker import process_shop

    account_id = onboard(api, mall["key"])
    for _ in range(3):
        sold_and_collected(api, mall)
    later = now() + timedelta(days=8)

    def run(requested_by: str) -> str:
        try:
            return process_shop(mall["bakery"]["id"], requested_by, available_by=later).outcome
        except DomainError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(run, ["schedule", "schedule", "operator", "schedule"]))

    made = [p for p in payouts(api, mall["key"]) if p["status"] != "failed"]
    assert len(made) == 1, (outcomes, made)
    assert made[0]["amount_cents"] == 3 * (BAKERY_SALE - commission(BAKERY_SALE))
    assert ledger_payout_ids(mall["bakery"]["id"]) == [made[0]["id"]] * 6
    assert simulated_transfers(account_id) == 0  # transferred once and paid out once: nothing left over


@pytest.mark.parametrize("answer", ["refused", "unknown"])
def test_a_run_whose_bank_payout_another_run_made_meanwhile_leaves_that_run_s_state(
    api: Any, mall: dict[str, Any], faulty: Any, answer: str
) -> None:
    """Two runs advance one transferred payout (what the concurrent-runs test above meets now and then):
    while this run's bank payout call is out, the other run makes it with the same key and moves the
    payout to in_transit; this call then fails: refused (the simulator, the balance already taken by the
    first request) or unknown (Stripe's 409 for a key in use). Noting the error must neither crash the
    run nor touch the payout the other run moved."""
    from datetime import timedelta

    from chalicelib.core.clock import now
    from chalicelib.payment.gateway import PaymentProviderFailed
    from chalicelib.payout.worker import process_shop

    account_id, shop_id = onboard(api, mall["key"]), mall["bakery"]["id"]
    sold_and_collected(api, mall)
    later = now() + timedelta(days=8)
    make = faulty.inner.create_bank_payout

    def while_out(*args: Any, **kwargs: Any) -> Any:
        faulty.inner.create_bank_payout = make  # the other run's call goes through
        process_shop(shop_id, "operator", available_by=later)
        raise PaymentProviderFailed("bank_payout", refused=answer == "refused", reason="balance_insufficient")

    faulty.inner.create_bank_payout = while_out
    if answer == "refused":
        assert [p.status for p in process_shop(shop_id, available_by=later).payouts] == ["in_transit"]
    else:
        with pytest.raises(PaymentProviderFailed):  # the queue redelivers: the next run finds it moved
            process_shop(shop_id, available_by=later)

    (payout,) = payouts(api, mall["key"])
    assert (payout["status"], payout["last_error"]) == ("in_transit", None)
    assert [k for m, k in faulty.keys if m == "create_bank_payout"] == [f"bank-payout:{payout['id']}"] * 2
    assert simulated_transfers(account_id) == 0  # transferred once, paid out to the bank once
    assert process_shop(shop_id, available_by=later).outcome == "nothing_to_pay"


def test_a_crash_after_stripe_moved_the_money_is_resumed_with_the_same_key_and_moves_it_once(
    api, mall, faulty
):
    from datetime import timedelta

    from chalicelib.core.clock import now
    from chalicelib.payment.gateway import PaymentProviderFailed
    from chalicelib.payout.worker import process_shop

    account_id = onboard(api, mall["key"])
    sold_and_collected(api, mall)
    later = now() + timedelta(days=8)
    faulty.fail("create_transfer", "lost").fail("create_bank_payout", "lost")

    with pytest.raises(PaymentProviderFailed):  # the queue redelivers the message
        process_shop(mall["bakery"]["id"], available_by=later)
    (claimed,) = payouts(api, mall["key"])
    assert (claimed["status"], claimed["last_error"], claimed["transfer_id"]) == (
        "claimed",
        "APIConnectionError",
        None,
    )
    assert balance(api, mall["key"])["in_transit_cents"] == claimed["amount_cents"]
    with pytest.raises(PaymentProviderFailed):
        process_shop(mall["bakery"]["id"], available_by=later)  # transfer found again; the bank answer lost
    process_shop(mall["bakery"]["id"], available_by=later)

    (done,) = payouts(api, mall["key"])
    assert done["status"] == "in_transit" and done["id"] == claimed["id"]
    transfers = [key for method, key in faulty.keys if method == "create_transfer"]
    banks = [key for method, key in faulty.keys if method == "create_bank_payout"]
    assert transfers == [f"payout:{done['id']}"] * 2 and banks == [f"bank-payout:{done['id']}"] * 2
    assert simulated_transfers(account_id) == 0  # one transfer, one bank payout of it


def test_a_refused_transfer_fails_the_payout_and_the_next_payout_pays_its_entries(api, mall, faulty):
    from datetime import timedelta

    from chalicelib.core.clock import now
    from chalicelib.payout.worker import process_shop

    onboard(api, mall["key"])
    sold_and_collected(api, mall)
    later, shop_share = now() + timedelta(days=8), BAKERY_SALE - commission(BAKERY_SALE)
    faulty.fail("create_transfer", "refused")

    assert process_shop(mall["bakery"]["id"], available_by=later).outcome == "transfer_refused"
    (failed,) = payouts(api, mall["key"])
    assert (failed["status"], failed["failure_code"]) == ("failed", "balance_insufficient")
    assert ledger_payout_ids(mall["bakery"]["id"]) == [None, None]  # claimable again
    money = balance(api, mall["key"])
    assert (money["in_transit_cents"], money["on_hold_cents"]) == (0, shop_share)
    status, listed = api.call("GET", "/operator/payouts?status=failed", key=mall["operator"])
    assert [p["id"] for p in listed["items"]] == [failed["id"]]
    status, events = send(api, "GET", "/dev/events?limit=5")
    assert ("payout.failed", failed["id"]) in [(e["type"], e["payout_id"]) for e in events["items"]]
    status, error = api.call("POST", f"/operator/payouts/{failed['id']}/retry", key=mall["operator"])
    assert (status, error["error"]["code"]) == (409, "payout_not_retryable")

    process_shop(mall["bakery"]["id"], available_by=later)

    second, first = payouts(api, mall["key"])
    assert (first["status"], second["status"], second["amount_cents"]) == ("failed", "in_transit", shop_share)
    assert [k for m, k in faulty.keys if m == "create_transfer"] == [
        f"payout:{first['id']}",
        f"payout:{second['id']}",
    ]
    assert ledger_payout_ids(mall["bakery"]["id"]) == [second["id"]] * 2


def test_an_unanswered_bank_payout_is_retried_by_the_operator_with_the_same_key(api, mall, faulty):
    from datetime import timedelta

    from chalicelib.core.clock import now
    from chalicelib.payment.gateway import PaymentProviderFailed
    from chalicelib.payout.worker import process_shop

    onboard(api, mall["key"])
    sold_and_collected(api, mall)
    faulty.fail("create_bank_payout", "unknown")
    with pytest.raises(PaymentProviderFailed):
        process_shop(mall["bakery"]["id"], available_by=now() + timedelta(days=8))
    (waiting,) = payouts(api, mall["key"])
    assert waiting["status"] == "transferred" and waiting["last_error"] == "APIConnectionError"

    status, run = api.call("POST", f"/operator/payouts/{waiting['id']}/retry", key=mall["operator"])

    assert status == 200, run
    assert [(p["id"], p["status"]) for p in run["payouts"]] == [(waiting["id"], "in_transit")]
    assert [k for m, k in faulty.keys if m == "create_bank_payout"] == [f"bank-payout:{waiting['id']}"] * 2


def test_the_simulated_onboarding_page_leads_back_where_the_link_says(api, mall):
    from urllib.parse import urlsplit

    status, created = api.call("POST", "/retailer/payouts/account", key=mall["key"])
    assert status == 201, created
    link = urlsplit(created["onboarding_url"])
    page = api.http.get(f"{link.path}?{link.query}")
    html = page.body.decode()
    assert page.status_code == 200 and 'href="http://localhost/payouts/onboarding/return"' in html
    action = html.split('action="')[1].split('"')[0].replace("&amp;", "&")
    assert action.endswith("?return_url=http%3A%2F%2Flocalhost%2Fpayouts%2Fonboarding%2Freturn"), action

    done = api.http.post(action, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"")
    assert done.status_code == 200, done.body
    assert 'href="http://localhost/payouts/onboarding/return"' in done.body.decode()
    assert api.call("GET", "/retailer/payouts/account", key=mall["key"])[1]["status"] == "active"
    # A way back that is not a web address is refused, never written into the page.
    account_id = created["stripe_account_id"]
    hostile = api.http.get(f"/dev/connect/accounts/{account_id}/onboarding?return_url=javascript:alert(1)")
    assert hostile.status_code == 400 and b"javascript" not in hostile.body.split(b'"fields"')[0]
