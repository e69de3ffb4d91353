"""Random sequences of checkouts, hand-overs, refunds, disputes, payout runs, bank answers, duplicate and
late webhooks and Stripe failures; after every step the mall's books and Stripe's money agree to the cent.

Per shop, with L the sum of its ledger entries, C of its clawback entries (each one money a reversal took
back), U of its unsettled entries, the money moved to the shop M = its Stripe transfers less their
reversals (what Stripe holds, not what the mall believes), K the payouts claimed whose transfer Stripe
never made, and P the reversals Stripe made whose answer was lost (still pending at the mall):

    M + K + U + P == L - C        (each entry is unsettled, claimed, transferred or taken back)

Stripe is scripted to fail as it really can: a refusal only for a key it never answered with success
(a key that succeeded replays that success)."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from payout_support import FaultyGateway, connect_event, deliver_steak, onboard, platform_event, setup_mall
from support import collect, send

from chalicelib.core.clock import now
from chalicelib.core.db import MallItem
from chalicelib.core.errors import DomainError
from chalicelib.ledger.models import UNSETTLED, LedgerEntryItem
from chalicelib.order.models import SubOrderItem
from chalicelib.payment.models import SimulatedIntent, SimulatedObject
from chalicelib.payment.simulated_gateway import SimulatedGateway, _key_item
from chalicelib.payout.models import (
    CLAIMED,
    FAILED,
    IN_TRANSIT,
    NETTED,
    PAID,
    PAYOUT_STATUSES,
    RETURNED,
    REVERSED,
    TRANSFERRED,
    PayoutAccountItem,
    PayoutItem,
    ReversalItem,
)
from chalicelib.payout.rules import MINIMUM_PAYOUT_CENTS
from chalicelib.payout.worker import process_shop
from tools.demo_data import demo_shops

SHOPS = ("bakery", "butcher")
METHODS = ("create_transfer", "create_bank_payout", "reverse_transfer")
HANDED_OVER = ("collected", "delivered", "partially_refunded")


class RealisticStripe(FaultyGateway):
    """FaultyGateway, except that a scripted refusal of a key Stripe already answered with success is
    replayed as that success (Stripe's idempotency)."""

    def __getattr__(self, name: str) -> Any:
        call = super().__getattr__(name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            queue = self.faults.get(name)
            if queue and queue[0] == "refused" and _key_item(kwargs.get("idempotency_key", "")) is not None:
                queue[0] = "replayed"
            return call(*args, **kwargs)

        return guarded


@dataclass
class Order:
    placed: dict[str, Any]
    dispute: str | None = None  # open, won, lost
    disputed_cents: int = 0

    @property
    def id(self) -> str:
        return str(self.placed["order_id"])


def wipe_table() -> None:
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    scan: dict[str, Any] = {"ProjectionExpression": "pk, sk", "ConsistentRead": True}
    with table.batch_writer() as batch:
        while True:
            page = table.scan(**scan)
            for key in page["Items"]:
                batch.delete_item(Key=key)
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert table.scan(Select="COUNT", ConsistentRead=True)["Count"] == 0


def later() -> Any:
    return now() + timedelta(days=8)  # past the mall's 7-day hold


class PayoutMachine(RuleBasedStateMachine):
    def __init__(self, api: Any, stripe: RealisticStripe) -> None:
        super().__init__()
        from chalicelib.auth.service import create_operator_key

        self.api, self.stripe = api, stripe
        stripe.faults.clear()
        wipe_table()  # every example starts from an empty table
        operator = create_operator_key()

        def open_shop(index: int) -> tuple[dict[str, Any], str]:
            body = {k: v for k, v in demo_shops()[index].items() if k != "key"}
            status, created = api.call("POST", "/operator/shops", body, key=operator)
            assert status == 201, created
            return created["shop"], created["api_key"]

        self.mall = setup_mall(api, open_shop, operator)
        self.keys = {"bakery": self.mall["key"], "butcher": self.mall["butcher_key"]}
        self.ids = {name: self.mall[name]["id"] for name in SHOPS}
        self.accounts = {self.ids[name]: onboard(api, self.keys[name]) for name in SHOPS}
        self.orders: list[Order] = []
        self.dispute_events: list[tuple[str, dict[str, Any], str]] = []
        self.sent = 0
        self.checked = False

    # --- the customer, the shops and the bank -----------------------------------------------------------

    def sub(self, order: Order, shop: str) -> SubOrderItem | None:
        try:
            return SubOrderItem.get(*SubOrderItem.key_for(order.id, self.ids[shop]), consistent_read=True)
        except SubOrderItem.DoesNotExist:
            return None

    @precondition(lambda self: len(self.orders) < 5)
    @rule(units=st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 2)).filter(any))
    def checkout_and_pay(self, units: tuple[int, int, int]) -> None:
        self.checked = False
        from support import place

        bread, cake, steak = units
        self.orders.append(Order(place(self.api, self.mall, bread=bread, cake=cake, steak=steak)))

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 9), shop=st.sampled_from(SHOPS))
    def hand_over(self, pick: int, shop: str) -> None:
        self.checked = False
        order = self.orders[pick % len(self.orders)]
        sub = self.sub(order, shop)
        if sub is None or sub.status != "paid":
            return
        (collect if shop == "bakery" else deliver_steak)(self.api, self.mall, order.placed)

    @precondition(lambda self: self.orders)
    @rule(
        pick=st.integers(0, 9),
        shop=st.sampled_from(SHOPS),
        part=st.none() | st.tuples(st.integers(0, 1), st.integers(1, 3)),
    )
    def refund(self, pick: int, shop: str, part: tuple[int, int] | None) -> None:
        """Some units of a line, or everything left (None); Stripe refuses refunds of a disputed charge."""
        self.checked = False
        order = self.orders[pick % len(self.orders)]
        sub = self.sub(order, shop)
        if sub is None or sub.status not in ("paid", *HANDED_OVER) or order.dispute in ("open", "lost"):
            return
        lines = None
        if part is not None:
            line = sub.lines[part[0] % len(sub.lines)]
            left = int(line["quantity"]) - int((sub.refunded or {}).get(line["variant_id"], 0))
            if left <= 0:
                return
            lines = [{"variant_id": line["variant_id"], "quantity": min(part[1], left)}]
        body = {"lines": lines, "reason": "returned"}
        status, refund = self.api.call("POST", f"/retailer/orders/{order.id}/refunds", body, self.keys[shop])
        assert (status, refund["status"]) == (201, "succeeded"), refund

    @precondition(lambda self: any(o.dispute is None for o in self.orders))
    @rule(pick=st.integers(0, 9), percent=st.sampled_from([100, 40, 5]))
    def open_dispute(self, pick: int, percent: int) -> None:
        self.checked = False
        order = [o for o in self.orders if o.dispute is None][pick % sum(o.dispute is None for o in self.orders)]
        order.dispute, order.disputed_cents = "open", int(order.placed["total_cents"]) * percent // 100
        assert self.dispute_event(order, "charge.dispute.created", "needs_response") == "held"

    @precondition(lambda self: any(o.dispute == "open" for o in self.orders))
    @rule(pick=st.integers(0, 9), lost=st.booleans())
    def close_dispute(self, pick: int, lost: bool) -> None:
        self.checked = False
        disputed = [o for o in self.orders if o.dispute == "open"]
        order = disputed[pick % len(disputed)]
        order.dispute = "lost" if lost else "won"
        assert self.dispute_event(order, "charge.dispute.closed", order.dispute) == order.dispute

    def dispute_event(self, order: Order, kind: str, status: str) -> str:
        obj = {
            "id": f"dp_{order.id}",
            "object": "dispute",
            "amount": order.disputed_cents,
            "payment_intent": order.placed["payment_intent_id"],
            "reason": "fraudulent",
            "status": status,
        }
        self.dispute_events.append((kind, obj, f"evt_{kind}_{order.id}"))
        code, ack = platform_event(self.api, kind, obj, f"evt_{kind}_{order.id}")
        assert code == 200, ack
        return str(ack["outcome"])

    @precondition(lambda self: self.dispute_events)
    @rule(pick=st.integers(0, 9))
    def redeliver_dispute_event(self, pick: int) -> None:
        self.checked = False
        kind, obj, event_id = self.dispute_events[pick % len(self.dispute_events)]
        assert platform_event(self.api, kind, obj, event_id) == (200, {"received": True, "outcome": "duplicate"})

    # --- the payout runs ----------------------------------------------------------------------------------

    @rule(days=st.sampled_from([8, 16]))
    def sweep(self, days: int) -> None:
        """A provider failure (502) or a payout in progress (409): the queue would retry."""
        self.checked = False
        status, result = send(self.api, "POST", f"/dev/payouts/run?days_ahead={days}")
        assert status in (200, 409, 502), result

    @rule(shop=st.sampled_from(SHOPS), who=st.sampled_from(["schedule", "operator"]))
    def process(self, shop: str, who: str) -> None:
        self.checked = False
        try:
            process_shop(self.ids[shop], who, available_by=later())
        except DomainError:  # PaymentProviderFailed, PayoutInProgress: retried by the queue
            pass

    @rule(method=st.sampled_from(METHODS), fault=st.sampled_from(["refused", "unknown", "lost"]))
    def stripe_fails_next(self, method: str, fault: str) -> None:
        self.checked = False
        if len(self.stripe.faults.get(method, [])) < 2:
            self.stripe.fail(method, fault)

    def payouts(self, *statuses: str) -> list[PayoutItem]:
        return [
            p
            for shop_id in self.accounts
            for p in PayoutItem.gsi2.query(f"SHOP#{shop_id}#PAYOUTS")
            if isinstance(p, PayoutItem) and p.bank_payout_id and p.status in statuses
        ]

    @rule(pick=st.integers(0, 9), paid=st.booleans())
    def bank_answers(self, pick: int, paid: bool) -> None:
        """Paid, or sent back (also after it was paid: payout.failed after payout.paid)."""
        self.checked = False
        waiting = self.payouts(IN_TRANSIT) if paid else self.payouts(IN_TRANSIT, PAID)
        if waiting:
            bank = waiting[pick % len(waiting)].bank_payout_id
            status, ack = send(self.api, "POST", f"/dev/connect/payouts/{bank}/{'paid' if paid else 'returned'}")
            assert (status, ack["outcome"]) == (200, "paid" if paid else "returned"), ack

    @rule(pick=st.integers(0, 9), kind=st.sampled_from(["payout.paid", "payout.failed"]))
    def bank_event_twice(self, pick: int, kind: str) -> None:
        """A (possibly late or out-of-order) copy of a bank event, delivered twice: Stripe is read again."""
        self.checked = False
        known = self.payouts(IN_TRANSIT, PAID, RETURNED)
        if known:
            payout = known[pick % len(known)]
            obj = {"id": payout.bank_payout_id, "metadata": {"payout_id": payout.payout_id}}
            self.sent += 1
            account, event_id = str(payout.destination), f"evt_copy_{self.sent}"
            assert connect_event(self.api, kind, account, obj, event_id)[0] == 200
            assert connect_event(self.api, kind, account, obj, event_id)[1]["outcome"] == "duplicate"

    # --- the books ----------------------------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        items = list(MallItem.scan(consistent_read=True))
        of: dict[type, list[Any]] = defaultdict(list)
        for item in items:
            of[type(item)].append(item)
        sim = {o.pk: o for o in of[SimulatedObject]}
        for shop_id, account_id in self.accounts.items():
            self.check_shop(shop_id, account_id, of, sim)
        self.check_orders(of[LedgerEntryItem], {i.pk: i for i in of[SimulatedIntent]})
        self.checked = True

    def check_shop(self, shop_id: str, account_id: str, of: dict[type, list[Any]], sim: dict[str, Any]) -> None:
        entries = {e.sk: e for e in of[LedgerEntryItem] if e.shop_id == shop_id}
        mine = {p.payout_id: p for p in of[PayoutItem] if p.shop_id == shop_id}
        account = next(a for a in of[PayoutAccountItem] if a.shop_id == shop_id)
        total = sum(int(e.amount_cents) for e in entries.values())  # L
        unsettled = sum(int(e.amount_cents) for e in entries.values() if e.payout_id is None)  # U
        clawbacks = {e.source_id: int(e.amount_cents) for e in entries.values() if e.entry_type == "clawback"}
        # Each entry in at most one live payout, which adds up to its entries; the unsettled index agrees.
        claimed_by: dict[str, str] = {}
        for p in mine.values():
            assert p.status in PAYOUT_STATUSES, p.status
            assert int(p.amount_cents) == sum(int(entries[sk].amount_cents) for sk in p.entry_sks), p.payout_id
            assert (p.status == NETTED) == (int(p.amount_cents) == 0), (p.payout_id, p.status)
            for sk in p.entry_sks:
                if p.status == FAILED:
                    assert entries[sk].payout_id != p.payout_id, (p.payout_id, sk)
                else:
                    assert claimed_by.setdefault(sk, p.payout_id) == p.payout_id, ("claimed twice", sk)
                    assert entries[sk].payout_id == p.payout_id, (p.payout_id, sk)
        assert {sk for sk, e in entries.items() if e.payout_id} == set(claimed_by)
        for e in entries.values():
            assert (e.gsi1pk == UNSETTLED.format(shop=shop_id)) == (e.payout_id is None), e.sk
        # Stripe: one transfer per live payout, of its amount, to its shop; nothing else reaches the shop.
        transfers = {o.data["metadata"]["payout_id"]: o for o in sim.values() if o.pk.startswith("SIM#transfer#")}
        transfers = {pid: t for pid, t in transfers.items() if t.data["destination"] == account_id}
        for pid, t in transfers.items():
            assert pid in mine and mine[pid].status not in (FAILED, NETTED), (pid, mine.get(pid))
            assert int(t.data["amount"]) == int(mine[pid].amount_cents), pid
        for p in mine.values():
            if p.status in (TRANSFERRED, IN_TRANSIT, PAID, RETURNED, REVERSED):
                assert transfers[p.payout_id].object_id == p.transfer_id, p.payout_id
        moved = sum(int(t.data["amount"]) - int(t.amount_reversed or 0) for t in transfers.values())  # M
        untransferred = sum(
            int(p.amount_cents) for p in mine.values() if p.status == CLAIMED and p.payout_id not in transfers
        )  # K
        # Reversals: a clawback entry for each one that succeeded, of its amount; none for a refused one.
        reversals = [r for r in of[ReversalItem] if r.shop_id == shop_id]
        at_stripe = {id(r): f"SIMKEY#reversal:{r.payout_id}:{int(r.seq)}" in sim for r in reversals}
        done = {f"{r.payout_id}:{int(r.seq)}": int(r.amount_cents) for r in reversals if r.status == "succeeded"}
        assert clawbacks == done, (clawbacks, done)
        lost = sum(int(r.amount_cents) for r in reversals if r.status == "pending" and at_stripe[id(r)])  # P
        for r in reversals:
            assert at_stripe[id(r)] == (r.status == "succeeded") or r.status == "pending", (r.pk, r.status)
        assert sum(int(t.amount_reversed or 0) for t in transfers.values()) == sum(done.values()) + lost
        for p in mine.values():
            taken = sum(int(r.amount_cents) for r in reversals if r.payout_id == p.payout_id and r.status != FAILED)
            assert int(p.reversed_cents or 0) == taken, p.payout_id
        # The identity, and its consequence: never more than the earnings net of commission, refunds,
        # disputes and clawbacks, beyond the debts still owed back (a negative unsettled balance).
        earnings = total - sum(clawbacks.values())
        assert moved + untransferred + unsettled + lost == earnings, (moved, untransferred, unsettled, lost)
        assert moved + untransferred <= earnings + max(0, -unsettled)
        # The mall's counters and guards agree with its payouts.
        kept = {p.payout_id: int(p.amount_cents) - done_of(p, done) for p in mine.values()}
        assert int(account.paid_out_cents or 0) == sum(p.net_cents for p in mine.values() if p.status == PAID)
        moving = (CLAIMED, TRANSFERRED, IN_TRANSIT, RETURNED, REVERSED)
        assert int(account.in_transit_cents or 0) == sum(kept[p] for p in kept if mine[p].status in moving)
        assert int(account.in_transit_cents or 0) + int(account.paid_out_cents or 0) == total - unsettled - sum(
            done.values()
        )
        open_ids = {p.payout_id for p in mine.values() if p.status in (CLAIMED, TRANSFERRED)}
        assert open_ids == {account.open_payout_id} - {None}, (open_ids, account.open_payout_id)
        assert set(account.returned_payout_ids or ()) == {p.payout_id for p in mine.values() if p.status == RETURNED}
        pending = {f"{r.payout_id}#{int(r.seq)}" for r in reversals if r.status == "pending"}
        assert pending == {account.open_reversal} - {None}, (pending, account.open_reversal)
        # Stripe's own books: the shop's balance is what reached it less what left for its bank.
        banks = [o for o in sim.values() if o.pk.startswith("SIM#payout#") and o.data["account"] == account_id]
        out = sum(int(b.data["amount"]) for b in banks if b.status != "failed")
        assert SimulatedGateway().balance(account_id) == moved + lost - lost - out + 0 * len(banks)
        by_id = {b.object_id: b for b in banks}
        for p in mine.values():
            if p.status in (IN_TRANSIT, PAID, RETURNED):
                bank = by_id[p.bank_payout_id]
                assert bank.status == {IN_TRANSIT: "pending", PAID: "paid", RETURNED: "failed"}[p.status]
                assert p.status == RETURNED or int(bank.data["amount"]) == p.net_cents, p.payout_id

    def check_orders(self, ledger: list[LedgerEntryItem], intents: dict[str, Any]) -> None:
        """Per order, all shops: its entries (with what a lost dispute took back) never exceed what the
        customer paid less refunds, and what was settled never exceeds it beyond what is owed back."""
        for order in self.orders:
            intent = intents[f"SIMPI#{order.placed['payment_intent_id']}"]
            kept = int(intent.amount) - int(intent.refunded_amount or 0)
            mine = [e for e in ledger if e.order_id == order.id]
            lost = -sum(int(e.amount_cents) for e in mine if e.entry_type == "dispute")
            assert 0 <= lost <= (order.disputed_cents if order.dispute == "lost" else 0), (order.id, lost)
            settled = sum(int(e.amount_cents) for e in mine if e.payout_id)
            unsettled = sum(int(e.amount_cents) for e in mine if not e.payout_id)
            assert settled + unsettled + lost <= kept, (order.id, settled, unsettled, lost, kept)
            assert settled <= kept + max(0, -unsettled), (order.id, settled, unsettled, kept)

    # --- the end: a healthy Stripe, disputes closed, the worker run until nothing changes --------------------

    def teardown(self) -> None:
        if not self.checked:
            return  # a step or its check failed: that is the failure to report
        self.stripe.faults.clear()
        for order in self.orders:
            if order.dispute == "open":
                order.dispute = "won"
                assert self.dispute_event(order, "charge.dispute.closed", "won") == "won"
        for _ in range(6):
            before = self.snapshot()
            for shop_id in self.accounts:
                process_shop(shop_id, "operator", available_by=later())
            if self.snapshot() == before:
                break
        else:
            raise AssertionError("the worker never settles")
        self.books_balance()
        for shop_id, account_id in self.accounts.items():
            self.check_end(shop_id, account_id)

    def snapshot(self) -> list[tuple[str, ...]]:
        return sorted((str(i.pk), str(i.sk), str(getattr(i, "status", ""))) for i in MallItem.scan())

    def check_end(self, shop_id: str, account_id: str) -> None:
        account = PayoutAccountItem.get(*PayoutAccountItem.key_for(shop_id), consistent_read=True)
        assert not (account.open_payout_id or account.open_reversal or account.held_orders), account.shop_id
        mine = list(PayoutItem.gsi2.query(f"SHOP#{shop_id}#PAYOUTS"))
        assert all(p.status not in (CLAIMED, TRANSFERRED) for p in mine), [p.status for p in mine]
        entries = list(LedgerEntryItem.query(f"LEDGER#{shop_id}", consistent_read=True))
        earnings = sum(int(e.amount_cents) for e in entries if e.entry_type != "clawback")
        unsettled = sum(int(e.amount_cents) for e in entries if e.payout_id is None)
        transfers = [SimulatedObject.get(*SimulatedObject.key_for("transfer", p.transfer_id)) for p in mine if p.transfer_id]
        moved = sum(int(t.data["amount"]) - int(t.amount_reversed or 0) for t in transfers)
        if unsettled >= 0:  # no debt: everything earned was moved, but dust below the minimum payout
            assert unsettled < MINIMUM_PAYOUT_CENTS and moved == earnings - unsettled, (moved, earnings, unsettled)
        else:  # a debt: exactly what was moved beyond the earnings, with nothing left to claw back from
            assert moved - earnings == -unsettled, (moved, earnings, unsettled)
            assert not [p for p in mine if p.status in (TRANSFERRED, RETURNED) and p.net_cents > 0]


def done_of(payout: PayoutItem, done: dict[str, int]) -> int:
    return sum(cents for source, cents in done.items() if source.rsplit(":", 1)[0] == payout.payout_id)


def test_the_books_and_stripe_agree_to_the_cent_whatever_happens(api: Any, monkeypatch: Any) -> None:
    from chalicelib.payment import gateway as module

    stripe = RealisticStripe()
    monkeypatch.setattr(module, "gateway", lambda: stripe)
    run_state_machine_as_test(
        lambda: PayoutMachine(api, stripe),
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
