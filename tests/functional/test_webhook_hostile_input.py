"""Validly signed but malformed Stripe events, on both endpoints: each is answered 400 malformed_event in the
error shape, naming the field, with a log line, never a 500 (which Stripe retries for days), and changes
nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from payout_support import CONNECT_SECRET, signed_post
from test_webhooks import deliver, event, place_order, read_order, shops_with_stock

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    *parents, last = path.split(".")

    def mutate(body: dict[str, Any]) -> None:
        node = body
        for part in parents:
            node = node[part]
        node[last] = value

    return mutate


def _drop(path: str) -> Mutation:
    *parents, last = path.split(".")

    def mutate(body: dict[str, Any]) -> None:
        node = body
        for part in parents:
            node = node[part]
        node.pop(last)

    return mutate


# (event type, mutation, the field the 400 names)
PLATFORM_CASES = [
    ("payment_intent.succeeded", _set("type", ["payment_intent.succeeded"]), "type"),
    ("payment_intent.succeeded", _set("type", {"kind": "x"}), "type"),
    ("payment_intent.succeeded", _set("id", 42), "id"),
    ("payment_intent.succeeded", _drop("id"), "id"),
    ("payment_intent.succeeded", _set("data", ["x"]), "data"),
    ("payment_intent.succeeded", _drop("data.object"), "data.object"),
    ("payment_intent.succeeded", _set("data.object", "pi_123"), "data.object"),
    ("payment_intent.succeeded", _set("data.object", ["pi_123"]), "data.object"),
    ("payment_intent.succeeded", _set("data.object.metadata", "order"), "data.object.metadata"),
    ("payment_intent.payment_failed", _set("data.object.metadata", ["order"]), "data.object.metadata"),
    ("payment_intent.canceled", _set("data.object.metadata", 7), "data.object.metadata"),
    ("payment_intent.succeeded", _drop("data.object.id"), "data.object.id"),
    ("payment_intent.succeeded", _set("data.object.id", ["pi_123"]), "data.object.id"),
    ("charge.refunded", _set("data.object.refunds", "re_1"), "data.object.refunds"),
    ("charge.refunded", _set("data.object.refunds", ["re_1"]), "data.object.refunds"),
    ("charge.refunded", _set("data.object.refunds", {"data": "re_1"}), "data.object.refunds"),
    ("charge.refunded", _set("data.object.refunds", {"data": ["re_1"]}), "data.object.refunds.data"),
    ("charge.dispute.created", _set("data.object.amount", "12"), "data.object"),
]

CONNECT_CASES = [
    ("payout.paid", _set("type", ["payout.paid"]), "type"),
    ("payout.paid", _set("data", "po_1"), "data"),
    ("payout.paid", _set("data.object", "po_1"), "data.object"),
    ("account.updated", _set("data.object", ["acct_1"]), "data.object"),
    ("payout.paid", _set("account", ["acct_1"]), "account"),
    ("payout.failed", _set("data.object.id", {"id": "po_1"}), "data.object.id"),
]


def _assert_malformed(status: int, body: Any, field: str, caplog: pytest.LogCaptureFixture) -> None:
    assert status == 400, body
    assert body["error"]["code"] == "malformed_event", body
    assert [f["field"] for f in body["error"]["fields"]] == [field], body
    logged = [record.getMessage() for record in caplog.records]
    assert "malformed stripe event" in logged, logged
    caplog.clear()


def test_malformed_platform_events_are_400_naming_the_field(api, open_shop, caplog):
    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 2)])
    for number, (kind, mutate, field) in enumerate(PLATFORM_CASES):
        body = copy.deepcopy(event(kind, result, event_id=f"evt_malformed{number:04d}"))
        mutate(body)
        status, answer = deliver(api, body)
        _assert_malformed(status, answer, field, caplog)
    assert read_order(api, result)["status"] == "pending_payment"


def test_a_paid_intent_whose_charge_is_not_a_string_is_paid_without_a_fee(api, open_shop):
    s = shops_with_stock(api, open_shop)
    result = place_order(api, [(s["bread"], 2)])
    body = event("payment_intent.succeeded", result)
    body["data"]["object"]["latest_charge"] = ["ch_1"]
    status, ack = deliver(api, body)
    assert (status, ack) == (200, {"received": True, "outcome": "paid"})


def test_malformed_connect_events_are_400_naming_the_field(api, caplog):
    for number, (kind, mutate, field) in enumerate(CONNECT_CASES):
        body = {
            "id": f"evt_connect_malformed{number:04d}",
            "object": "event",
            "type": kind,
            "account": "acct_1",
            "created": 1767225600,
            "data": {"object": {"id": "po_1", "metadata": {"payout_id": "payout_1"}}},
        }
        mutate(body)
        status, answer = signed_post(api, "/webhooks/stripe-connect", json.dumps(body), CONNECT_SECRET)
        _assert_malformed(status, answer, field, caplog)
