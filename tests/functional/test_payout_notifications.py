"""A shop hears of its payouts as of its orders: payout.paid and payout.failed go through the outbox to the
shop's signed webhook and to the event channel, once each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import test_notifications
from payout_support import onboard, run_of, run_sweep, setup_mall, sold_and_collected
from support import send
from test_notifications import Receiver, Recorder, register, verify

from chalicelib.notify import relay


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from test_notifications.receiver.__wrapped__()  # the notification tests' endpoint on 127.0.0.1


@pytest.fixture
def mall(api, open_shop, operator_key) -> dict[str, Any]:
    return setup_mall(api, open_shop, operator_key)


def test_a_paid_then_returned_bank_payout_reaches_the_shops_webhook_and_the_channel(api, mall, receiver):
    key, shop = mall["key"], mall["bakery"]["id"]
    secret = register(api, key, receiver.url)["secret"]
    onboard(api, key)
    sold_and_collected(api, mall)
    (payout,) = run_of(run_sweep(api), shop)["payouts"]
    bank = payout["bank_payout_id"]
    assert send(api, "POST", f"/dev/connect/payouts/{bank}/paid")[1]["outcome"] == "paid"
    assert send(api, "POST", f"/dev/connect/payouts/{bank}/returned")[1]["outcome"] == "returned"
    channel = Recorder()

    relay.relay_notifications(grace=timedelta(0), publisher=channel)
    relay.relay_notifications(grace=timedelta(0), publisher=channel)  # nothing twice

    money = [b for b in receiver.bodies() if b["type"].startswith("payout.")]
    assert [(b["type"], b["data"]["to_status"]) for b in money] == [
        ("payout.paid", "paid"),
        ("payout.failed", "returned"),
    ]
    for body in money:
        assert body["data"]["payout_id"] == payout["id"] and body["data"]["shop_id"] == shop
        assert body["data"]["amount_cents"] == payout["amount_cents"]
    requests = [r for r, b in zip(receiver.requests, receiver.bodies(), strict=True) if b in money]
    assert all(verify(secret, request) for request in requests)
    assert [t for t in channel.types() if t.startswith("payout.")] == ["payout.paid", "payout.failed"]


def test_another_shops_payout_events_never_reach_a_shops_webhook(api, mall, receiver):
    register(api, mall["butcher_key"], receiver.url)
    onboard(api, mall["key"])
    sold_and_collected(api, mall)
    (payout,) = run_of(run_sweep(api), mall["bakery"]["id"])["payouts"]
    assert send(api, "POST", f"/dev/connect/payouts/{payout['bank_payout_id']}/paid")[0] == 200

    relay.relay_notifications(grace=timedelta(0), publisher=Recorder())

    assert receiver.bodies() == []
