"""Refunds over the API: a shop refunds lines or all of its sub-order, the customer cancels before the goods
are ready, the no-show job cancels uncollected pickups. Each refund is decided in one transaction (refund,
units taken, ledger entry, stock, status, event), never exceeds what was paid, survives provider failures
as a retryable pending refund, and is settled exactly once by the provider's webhooks."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import stripe
from support import bakery_and_butcher, collect, customer_sub, make_product, move, place, send, vid

from chalicelib.core.clock import now

SECRET = "whsec_test_not_a_real_secret"
BAKERY, BUTCHER = 0, 1


@pytest.fixture
def mall(api, open_shop) -> dict[str, Any]:
    return bakery_and_butcher(api, open_shop)


def refund(api: Any, key: str, order_id: str, lines: Any = None, restock: bool = False) -> tuple[int, Any]:
    body = {"lines": lines, "restock": restock, "reason": "returned"}
    return api.call("POST", f"/retailer/orders/{order_id}/refunds", body, key=key)


def shop_sub(api: Any, key: str, order_id: str) -> dict[str, Any]:
    status, sub = api.call("GET", f"/retailer/orders/{order_id}", key=key)
    assert status == 200, sub
    return sub


def stock(api: Any, key: str, product: dict[str, Any]) -> int:
    status, body = api.call("GET", f"/retailer/products/{product['id']}", key=key)
    assert status == 200, body
    return int(body["variants"][0]["stock"])


def ledger(shop_id: str) -> list[tuple[str, int, str]]:
    from chalicelib.ledger.queries import entries_of

    return [(e.entry_type, int(e.amount_cents), e.source_id) for e in entries_of(shop_id)]


def line_total(sub: dict[str, Any], product: dict[str, Any]) -> int:
    return next(line["total_cents"] for line in sub["lines"] if line["variant_id"] == vid(product))


def deliver(api: Any, event: dict[str, Any]) -> tuple[int, Any]:
    payload = json.dumps(event)
    signature = stripe.WebhookSignature.generate_signature_header(payload, SECRET)
    response = api.http.post(
        "/webhooks/stripe",
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        body=payload.encode(),
    )
    return response.status_code, json.loads(response.body.decode())


def refund_event(event_id: str, refund: dict[str, Any], status: str, kind: str = "refund.updated") -> dict:
    obj = {
        "id": refund["provider_refund_id"],
        "object": "refund",
        "amount": refund["amount_cents"],
        "status": status,
        "metadata": {"order_id": refund["order_id"], "shop_id": refund["shop_id"], "refund_id": refund["id"]},
    }
    if kind == "charge.refunded":
        obj = {"id": "ch_1", "object": "charge", "refunds": {"object": "list", "data": [obj]}}
    return {"id": event_id, "object": "event", "type": kind, "data": {"object": obj}}


# --- whole and partial refunds ----------------------------------------------------------------------


def test_partial_then_rest_refunds_amounts_per_line_incl_vat_and_ledger(api, mall):
    placed = place(api, mall)
    order_id, key, shop_id = placed["order_id"], mall["key"], mall["bakery"]["id"]
    collect(api, mall, placed)
    sub = shop_sub(api, key, order_id)
    bread_total, cake_total = line_total(sub, mall["bread"]), line_total(sub, mall["cake"])
    assert (bread_total, cake_total) == (999, 3700)  # shown prices include VAT

    status, first = refund(api, key, order_id, [{"variant_id": vid(mall["bread"]), "quantity": 1}])

    assert status == 201, first
    assert (first["status"], first["amount_cents"], first["cancelled_sub_order"]) == ("succeeded", 333, False)
    assert first["lines"] == [{"variant_id": vid(mall["bread"]), "quantity": 1, "amount_cents": 333}]
    assert shop_sub(api, key, order_id)["status"] == "partially_refunded"

    status, rest = refund(api, key, order_id, None)  # everything left: 2 bread, 2 cake

    assert status == 201, rest
    assert rest["amount_cents"] == 999 - 333 + 3700
    assert sorted((x["quantity"], x["amount_cents"]) for x in rest["lines"]) == [(2, 666), (2, 3700)]
    sub = shop_sub(api, key, order_id)
    assert sub["status"] == "refunded"
    assert [h["to_status"] for h in sub["history"]][-2:] == ["partially_refunded", "refunded"]
    # The hand-over posted the sale; then one negative entry per refund: together exactly what was paid.
    assert sorted(ledger(shop_id)) == sorted(
        [("sale", 4699, order_id), ("refund", -333, first["id"]), ("refund", -4366, rest["id"])]
    )
    status, listed = api.call("GET", f"/retailer/orders/{order_id}/refunds", key=key)
    assert status == 200 and [r["id"] for r in listed["items"]] == [first["id"], rest["id"]]
    # Nothing left: a further refund is refused.
    status, error = refund(api, key, order_id, None)
    assert status == 409 and error["error"]["code"] == "refund_not_allowed", error
    assert shop_sub(api, mall["butcher_key"], order_id)["status"] == "paid"  # the other shop is untouched


def test_single_unit_refunds_add_up_to_the_line_total_whatever_the_rounding(api, mall):
    from chalicelib.ledger.commission import share as _share

    # 1000 cents over 3 units: 333 + 333 + 334, never 999 or 1002.
    assert [_share(1000, 3, before, 1) for before in range(3)] == [333, 333, 334]
    assert _share(1000, 3, 0, 3) == 1000


def test_restock_puts_units_back_only_when_asked(api, mall):
    placed = place(api, mall)
    order_id, key = placed["order_id"], mall["key"]
    collect(api, mall, placed)
    bread_stock, cake_stock = stock(api, key, mall["bread"]), stock(api, key, mall["cake"])

    assert (
        refund(api, key, order_id, [{"variant_id": vid(mall["bread"]), "quantity": 2}], restock=True)[0]
        == 201
    )
    assert (
        refund(api, key, order_id, [{"variant_id": vid(mall["cake"]), "quantity": 1}], restock=False)[0]
        == 201
    )

    assert stock(api, key, mall["bread"]) == bread_stock + 2
    assert stock(api, key, mall["cake"]) == cake_stock


# --- bad input and races ----------------------------------------------------------------------------


def test_over_refunds_and_bad_quantities_are_refused_and_change_nothing(api, mall):
    placed = place(api, mall)
    order_id, key, shop_id = placed["order_id"], mall["key"], mall["bakery"]["id"]
    collect(api, mall, placed)
    bread = vid(mall["bread"])
    assert refund(api, key, order_id, [{"variant_id": bread, "quantity": 2}])[0] == 201
    before = (shop_sub(api, key, order_id), ledger(shop_id), stock(api, key, mall["bread"]))

    status, error = refund(api, key, order_id, [{"variant_id": bread, "quantity": 2}])
    assert status == 422 and error["error"]["code"] == "refund_exceeds_paid", error
    assert error["error"]["details"]["refundable"] == 1
    for quantity in (0, -1):
        status, error = refund(api, key, order_id, [{"variant_id": bread, "quantity": quantity}])
        assert status == 400 and error["error"]["fields"][0]["field"].endswith("quantity"), error
    status, error = refund(api, key, order_id, [{"variant_id": vid(mall["steak"]), "quantity": 1}])
    assert status == 400 and error["error"]["fields"][0]["field"] == "lines[0].variant_id", error
    twice = [{"variant_id": bread, "quantity": 1}, {"variant_id": bread, "quantity": 1}]
    status, error = refund(api, key, order_id, twice)
    assert status == 400 and error["error"]["fields"][0]["message"] == "appears twice", error

    assert (shop_sub(api, key, order_id), ledger(shop_id), stock(api, key, mall["bread"])) == before


def test_two_refunds_of_the_same_line_decided_on_the_same_state_only_one_passes(api, mall):
    from chalicelib.order import refunds
    from chalicelib.order.errors import SubOrderChangedConcurrently
    from chalicelib.order.lifecycle import Actor
    from chalicelib.order.models import RefundItem
    from chalicelib.order.schemas import RefundIn, RefundLineIn
    from chalicelib.order.service import load_order

    placed = place(api, mall)
    order_id, shop_id = placed["order_id"], mall["bakery"]["id"]
    collect(api, mall, placed)
    body = RefundIn(lines=[RefundLineIn(vid(mall["bread"]), 3)], restock=True)
    # Both requests read the sub-order before either writes: each alone would be valid.
    stale = [load_order(order_id) for _ in range(2)]
    subs = [next(s for s in subs if s.shop_id == shop_id) for _, subs in stale]

    first = refunds._record(stale[0][0], subs[0], body, Actor.RETAILER, False, now())
    with pytest.raises(SubOrderChangedConcurrently):
        refunds._record(stale[1][0], subs[1], body, Actor.RETAILER, False, now())

    assert [
        r.refund_id for r in RefundItem.query(f"ORDER#{order_id}", RefundItem.sk.startswith("REFUND#"))
    ] == [first.refund_id]
    assert ledger(shop_id) == [("sale", 4699, order_id), ("refund", -999, first.refund_id)]
    assert stock(api, mall["key"], mall["bread"]) == 10 - 3 + 3


# --- cancelling ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("progress", [[], ["preparing"]])
def test_the_customer_cancels_a_paid_or_preparing_sub_order_refunded_in_full_and_restocked(
    api, mall, progress
):
    placed = place(api, mall)
    order_id, butcher = placed["order_id"], mall["butcher"]["id"]
    for to in progress:
        move(api, mall["butcher_key"], order_id, to)
    fee = customer_sub(api, placed, butcher)["delivery_fee_cents"]
    path = f"/orders/{order_id}/shops/{butcher}/cancel"

    status, error = send(api, "POST", path, headers={"X-Order-Token": "ot_wrong"})
    assert status == 401, error
    status, done = send(api, "POST", path, headers={"X-Order-Token": placed["order_token"]})

    assert status == 200, done
    assert (done["status"], done["amount_cents"], done["restock"]) == ("succeeded", 1290 + fee, True)
    assert done["requested_by"] == "customer" and done["cancelled_sub_order"] is True
    sub = customer_sub(api, placed, butcher)
    assert sub["status"] == "refunded"
    assert [(h["by"], h["to_status"]) for h in sub["history"]][-2:] == [
        ("customer", "cancelled"),
        ("system", "refunded"),
    ]
    assert stock(api, mall["butcher_key"], mall["steak"]) == 8
    assert ledger(butcher) == []  # the shop earns at hand-over: cancelled before it, nothing was posted
    status, error = send(api, "POST", path, headers={"X-Order-Token": placed["order_token"]})
    assert status == 409, error  # once
    assert customer_sub(api, placed, mall["bakery"]["id"])["status"] == "paid"


def test_the_customer_cannot_cancel_once_the_pickup_is_ready(api, mall):
    placed = place(api, mall)
    order_id, bakery = placed["order_id"], mall["bakery"]["id"]
    move(api, mall["key"], order_id, "preparing")
    move(api, mall["key"], order_id, "ready_for_pickup")

    status, error = send(
        api,
        "POST",
        f"/orders/{order_id}/shops/{bakery}/cancel",
        headers={"X-Order-Token": placed["order_token"]},
    )

    assert status == 409 and error["error"]["code"] == "illegal_transition", error
    assert customer_sub(api, placed, bakery)["status"] == "ready_for_pickup"
    assert ledger(bakery) == []


def test_before_hand_over_some_lines_are_refunded_and_the_rest_goes_on_everything_cancels(api, mall):
    placed = place(api, mall)
    order_id, key = placed["order_id"], mall["key"]

    status, part = refund(api, key, order_id, [{"variant_id": vid(mall["bread"]), "quantity": 1}])
    assert status == 201 and part["cancelled_sub_order"] is False, part
    assert part["amount_cents"] == 333
    assert shop_sub(api, key, order_id)["status"] == "paid"  # the rest is still to be prepared
    status, whole = refund(api, key, order_id, None, restock=True)

    assert status == 201 and whole["cancelled_sub_order"] is True, whole
    # Everything left (2 bread, 2 cake), never the unit already refunded.
    assert whole["amount_cents"] == 999 - 333 + 3700
    assert shop_sub(api, key, order_id)["status"] == "refunded"


# --- provider failures and webhooks -------------------------------------------------------------------


class SpyGateway:
    """The simulated gateway, recording each refund call; ``fail``/``answer`` script the next answers."""

    def __init__(self) -> None:
        from chalicelib.payment.simulated_gateway import SimulatedGateway

        self.inner = SimulatedGateway()
        self.calls: list[tuple[str, int, str, dict[str, str]]] = []
        self.fail = 0
        self.answer: str | None = None

    def create_refund(
        self, payment_intent_id: str, amount_cents: int, *, idempotency_key: str, metadata: Any
    ):
        from chalicelib.payment.gateway import PaymentProviderFailed, ProviderRefund

        self.calls.append((payment_intent_id, amount_cents, idempotency_key, dict(metadata)))
        if self.fail:
            self.fail -= 1
            raise PaymentProviderFailed("refund")
        result = self.inner.create_refund(
            payment_intent_id, amount_cents, idempotency_key=idempotency_key, metadata=metadata
        )
        return ProviderRefund(result.id, self.answer, result.amount) if self.answer else result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def spy(monkeypatch) -> SpyGateway:
    from chalicelib.payment import gateway as module

    double = SpyGateway()
    monkeypatch.setattr(module, "gateway", lambda: double)
    return double


def test_a_provider_failure_leaves_the_refund_pending_and_a_retry_uses_the_same_key(api, mall, spy):
    placed = place(api, mall)
    order_id, key, shop_id = placed["order_id"], mall["key"], mall["bakery"]["id"]
    collect(api, mall, placed)
    spy.fail = 1

    status, pending = refund(api, key, order_id, [{"variant_id": vid(mall["cake"]), "quantity": 1}])

    assert status == 201, pending
    assert (pending["status"], pending["last_error"]) == ("pending", "payment_provider_failed")
    assert shop_sub(api, key, order_id)["status"] == "collected"  # no claim that money moved
    assert ledger(shop_id) == [("sale", 4699, order_id), ("refund", -1850, pending["id"])]  # not lost
    # The units are taken: a second request for them is refused while this one is pending.
    status, error = refund(api, key, order_id, [{"variant_id": vid(mall["cake"]), "quantity": 2}])
    assert status == 422, error

    status, retried = api.call("POST", f"/retailer/orders/{order_id}/refunds/{pending['id']}/retry", key=key)

    assert status == 200 and retried["status"] == "succeeded" and retried["last_error"] is None, retried
    expected_key = f"refund:{pending['id']}"
    assert [(c[1], c[2]) for c in spy.calls] == [(1850, expected_key), (1850, expected_key)]
    assert spy.calls[0][0] == placed["payment_intent_id"]
    assert spy.calls[0][3] == {"order_id": order_id, "shop_id": shop_id, "refund_id": pending["id"]}
    assert shop_sub(api, key, order_id)["status"] == "partially_refunded"
    assert ledger(shop_id)[1:] == [("refund", -1850, pending["id"])]  # settling never touches the entry
    status, error = api.call("POST", f"/retailer/orders/{order_id}/refunds/{pending['id']}/retry", key=key)
    assert status == 409 and error["error"]["code"] == "refund_not_retryable", error


@pytest.mark.parametrize("kind", ["refund.updated", "charge.refunded"])
def test_webhooks_settle_a_pending_refund_exactly_once(api, mall, spy, kind):
    placed = place(api, mall)
    order_id, key = placed["order_id"], mall["key"]
    collect(api, mall, placed)
    spy.answer = "pending"  # accepted by the provider, final status later
    status, pending = refund(api, key, order_id, [{"variant_id": vid(mall["bread"]), "quantity": 3}])
    assert status == 201 and pending["status"] == "pending" and pending["provider_refund_id"], pending
    event = refund_event("evt_refund_1", pending, "succeeded", kind)

    assert deliver(api, event) == (200, {"received": True, "outcome": "succeeded"})
    assert deliver(api, event) == (200, {"received": True, "outcome": "duplicate"})
    late = refund_event("evt_refund_2", pending, "failed", kind)
    assert deliver(api, late) == (200, {"received": True, "outcome": "ignored_succeeded"})

    status, listed = api.call("GET", f"/retailer/orders/{order_id}/refunds", key=key)
    assert [r["status"] for r in listed["items"]] == ["succeeded"]
    sub = shop_sub(api, key, order_id)
    assert sub["status"] == "partially_refunded"
    assert [h["to_status"] for h in sub["history"]].count("partially_refunded") == 1


def test_a_failed_refund_frees_its_units_and_reverses_its_ledger_entry(api, mall, spy):
    placed = place(api, mall)
    order_id, key, shop_id = placed["order_id"], mall["key"], mall["bakery"]["id"]
    collect(api, mall, placed)
    spy.answer = "pending"
    status, pending = refund(api, key, order_id, [{"variant_id": vid(mall["bread"]), "quantity": 3}])
    assert status == 201, pending

    assert deliver(api, refund_event("evt_refund_f", pending, "failed"))[1]["outcome"] == "failed"

    assert sorted(ledger(shop_id)) == sorted(
        [("sale", 4699, order_id), ("refund", -999, pending["id"]), ("refund_reversal", 999, pending["id"])]
    )
    assert shop_sub(api, key, order_id)["status"] == "collected"
    spy.answer = None
    status, again = refund(api, key, order_id, [{"variant_id": vid(mall["bread"]), "quantity": 3}])
    assert status == 201 and again["status"] == "succeeded", again


def test_a_sub_order_is_refunded_only_when_no_refund_of_it_is_still_pending(api, mall, spy):
    placed = place(api, mall, steak=0)
    order_id, key = placed["order_id"], mall["key"]
    collect(api, mall, placed)
    spy.answer = "pending"
    _, bread = refund(api, key, order_id, [{"variant_id": vid(mall["bread"]), "quantity": 3}])
    _, cake = refund(api, key, order_id, [{"variant_id": vid(mall["cake"]), "quantity": 2}])

    assert deliver(api, refund_event("evt_pend_1", bread, "succeeded"))[1]["outcome"] == "succeeded"
    assert shop_sub(api, key, order_id)["status"] == "partially_refunded"  # the cake's money has not moved
    assert deliver(api, refund_event("evt_pend_2", cake, "failed"))[1]["outcome"] == "failed"
    assert shop_sub(api, key, order_id)["status"] == "partially_refunded"
    # The cake's units are free again: the shop can still refund them (it was refused as "refunded").
    status, again = refund(api, key, order_id, [{"variant_id": vid(mall["cake"]), "quantity": 2}])
    assert status == 201, again


# --- no-shows -----------------------------------------------------------------------------------------


def test_the_no_show_job_cancels_refunds_and_restocks_uncollected_pickups_once(api, mall):
    from chalicelib.order.no_shows import cancel_no_shows

    placed = place(api, mall, steak=0)
    order_id, key, shop_id = placed["order_id"], mall["key"], mall["bakery"]["id"]
    move(api, key, order_id, "preparing")
    move(api, key, order_id, "ready_for_pickup")
    ready = now()

    assert cancel_no_shows(ready + timedelta(days=2, hours=23)) == []  # the default: 3 days
    done = cancel_no_shows(ready + timedelta(days=3, minutes=1))

    assert [(r.order_id, r.shop_id, r.outcome) for r in done] == [(order_id, shop_id, "refund_succeeded")]
    sub = shop_sub(api, key, order_id)
    assert sub["status"] == "refunded"
    assert [(h["by"], h["to_status"]) for h in sub["history"]][-2:] == [
        ("system", "cancelled"),
        ("system", "refunded"),
    ]
    assert (stock(api, key, mall["bread"]), stock(api, key, mall["cake"])) == (10, 5)
    assert ledger(shop_id) == []  # never handed over: nothing was earned, nothing is taken back
    assert cancel_no_shows(ready + timedelta(days=4)) == []  # idempotent: out of the index


def test_no_show_days_are_per_shop_and_a_collected_pickup_is_never_cancelled(api, open_shop):
    from chalicelib.order.no_shows import cancel_no_shows
    from tools.demo_data import demo_shops

    pickup = {**demo_shops()[BAKERY]["pickup"], "no_show_days": 1}
    shop, key = open_shop(BAKERY, pickup=pickup)
    assert shop["profile"]["pickup"]["no_show_days"] == 1
    mall = {"bakery": shop, "key": key, "bread": make_product(api, key, "Sourdough", [(333, 10)])}
    mall["cake"] = make_product(api, key, "Cake", [(1850, 5)], vat=2100)
    placed, collected = place(api, mall, steak=0), place(api, mall, steak=0)
    for order in (placed, collected):
        move(api, key, order["order_id"], "preparing")
        move(api, key, order["order_id"], "ready_for_pickup")
    ready = now()
    code = customer_sub(api, collected, shop["id"])["fulfilment"]["pickup"]["code"]
    move(api, key, collected["order_id"], "collected", code)

    done = cancel_no_shows(ready + timedelta(days=1, minutes=1))

    assert [r.order_id for r in done] == [placed["order_id"]]
    assert shop_sub(api, key, collected["order_id"])["status"] == "collected"


def test_another_shops_order_and_refunds_are_not_found(api, mall):
    placed = place(api, mall)
    order_id = placed["order_id"]
    collect(api, mall, placed)
    status, mine = refund(api, mall["key"], order_id, [{"variant_id": vid(mall["bread"]), "quantity": 1}])
    assert status == 201, mine
    stranger = mall["butcher_key"]  # has a part in the order, but not this refund
    status, error = api.call("POST", f"/retailer/orders/{order_id}/refunds/{mine['id']}/retry", key=stranger)
    assert status == 404, error
    status, listed = api.call("GET", f"/retailer/orders/{order_id}/refunds", key=stranger)
    assert status == 200 and listed["items"] == []
    status, error = refund(api, stranger, "ord_doesnotexist1234", None)
    assert status == 404, error
    status, error = api.call("GET", "/retailer/orders/ord_doesnotexist1234/refunds", key=stranger)
    assert status == 404, error


# --- cost -------------------------------------------------------------------------------------------


def test_dynamodb_calls_per_refund(api, mall, spy):
    """The count reported for the issue's benchmark: a refund = 1 Query (order and sub-orders) + 1
    transaction (refund, units, ledger, stock, event), then settling the provider's answer = 2 GetItems +
    1 transaction. The simulated provider's own storage is not counted (it stands for Stripe's)."""
    from bench.catalog import CallCounter

    placed = place(api, mall)
    order_id = placed["order_id"]
    collect(api, mall, placed)
    counter = CallCounter()
    inner = spy.inner.create_refund

    def uncounted(*args: Any, **kwargs: Any) -> Any:
        counter._suspended = True
        try:
            return inner(*args, **kwargs)
        finally:
            counter._suspended = False

    spy.inner.create_refund = uncounted  # type: ignore[method-assign]
    from chalicelib.order import refunds
    from chalicelib.order.lifecycle import Actor
    from chalicelib.order.schemas import RefundIn, RefundLineIn

    body = RefundIn(lines=[RefundLineIn(vid(mall["bread"]), 1)], restock=True)
    with counter.installed():
        done = refunds.request_refund(order_id, mall["bakery"]["id"], body, Actor.RETAILER)

    assert done.status == "succeeded"
    assert Counter(call.operation for call in counter.calls) == {
        "Query": 1,
        "TransactWriteItems": 2,
        "GetItem": 2,
    }


def test_the_simulated_provider_refunds_once_per_key_and_never_more_than_was_charged(api, mall):
    from chalicelib.payment.gateway import PaymentProviderFailed
    from chalicelib.payment.simulated_gateway import SimulatedGateway

    placed = place(api, mall, cake=0, steak=0)  # 999 charged
    sim, intent = SimulatedGateway(), placed["payment_intent_id"]

    first = sim.create_refund(intent, 600, idempotency_key="refund:a", metadata={})
    again = sim.create_refund(intent, 600, idempotency_key="refund:a", metadata={})

    assert first == again and first.status == "succeeded"
    with pytest.raises(PaymentProviderFailed):
        sim.create_refund(intent, 400, idempotency_key="refund:b", metadata={})  # 600 + 400 > 999
    assert sim.create_refund(intent, 399, idempotency_key="refund:c", metadata={}).amount == 399
