"""Random sequences of checkouts, hand-overs, refunds, disputes, payout runs, bank answers, duplicate and
late webhooks and Stripe failures; after every step the mall's books and Stripe's money agree to the cent.

Per shop: L the sum of its ledger entries, C of its clawback entries (money a reversal took back), U of
its unsettled entries; M the money moved to it, as Stripe has it (its transfers less their reversals),
K the payouts claimed whose transfer Stripe never made, P the reversals Stripe made whose answer was lost
(still pending at the mall). Every entry is unsettled, or in a payout claimed, transferred or taken back:

    M + K + U + P == L - C

Stripe fails as it really can: a refusal only for a key it never answered with success (it replays a
success), "unknown" (nothing done, no answer) and "lost" (done, the answer lost)."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3
from hypothesis import HealthCheck, settings, stateful
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from payout_support import Pinned, connect_event, deliver_steak, onboard, platform_event, setup_mall
from support import collect, place, send

from chalicelib.core.clock import now
from chalicelib.core.db import MallItem
from chalicelib.core.errors import DomainError
from chalicelib.ledger.models import UNSETTLED, LedgerEntryItem
from chalicelib.order.models import SubOrderItem
from chalicelib.payment.models import SimulatedIntent, SimulatedObject
from chalicelib.payment.simulated_gateway import SimulatedGateway
from chalicelib.payout import models as po
from chalicelib.payout.models import PayoutAccountItem, PayoutItem, ReversalItem
from chalicelib.payout.rules import MINIMUM_PAYOUT_CENTS
from chalicelib.payout.worker import process_shop
from tools.demo_data import demo_shops

# Affordable: each step goes through the API and moto, and every check reads the books.
SLOW = [HealthCheck.too_slow, HealthCheck.filter_too_much]
SETTINGS = settings(
    max_examples=15, stateful_step_count=25, deadline=None, database=None, suppress_health_check=SLOW
)
SHOPS = ("bakery", "butcher")
METHODS = ("create_transfer", "create_bank_payout", "reverse_transfer")
FAULTS = st.sampled_from(["refused", "unknown", "lost"])
UNITS = st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 2)).filter(any)  # bread, cake, steak
MOVING = (po.CLAIMED, po.TRANSFERRED, po.IN_TRANSIT, po.RETURNED, po.REVERSED)  # in in_transit_cents
AT_THE_BANK = {po.IN_TRANSIT: "pending", po.PAID: "paid", po.RETURNED: "failed"}  # Stripe's bank payout


@dataclass
class Order:
    placed: dict[str, Any]
    shops: tuple[str, ...] = ()  # its parts not refunded in full
    waiting: list[str] = field(default_factory=list)  # its parts not handed over yet
    dispute: str | None = None  # open, won, lost
    disputed_cents: int = 0
    id: str = ""


def wipe_table() -> None:
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    with table.batch_writer() as batch:
        for key in table.scan(ProjectionExpression="pk, sk", ConsistentRead=True)["Items"]:
            batch.delete_item(Key=key)
    assert table.scan(Select="COUNT", ConsistentRead=True)["Count"] == 0  # that one page was all of it


def books() -> list[Any]:
    """The ledger, payout and Stripe items (moto serializes each item a scan returns: keep it small)."""
    wanted = MallItem.sk == "PAYOUT_ACCOUNT"
    for prefix in ("LEDGER#", "PAYOUT#", "SIM#", "SIMPI#", "SIMKEY#reversal:"):
        wanted = wanted | MallItem.pk.startswith(prefix)
    return list(MallItem.scan(wanted, consistent_read=True))


def later() -> datetime:
    return now() + timedelta(days=8)  # past the mall's 7-day hold


def cents(items: Any) -> int:
    return sum(int(item.amount_cents) for item in items)


def objects(sim: dict[str, Any], kind: str, owner: str, account_id: str) -> list[Any]:
    """The simulated Stripe's objects of a kind (transfer, payout) of one connected account."""
    return [o for pk, o in sim.items() if pk.startswith(f"SIM#{kind}#") and o.data[owner] == account_id]


class PayoutMachine(RuleBasedStateMachine):
    def __init__(self, api: Any, pinned: Pinned) -> None:
        super().__init__()
        from chalicelib.auth.service import create_operator_key

        # Every example starts from the same state (an empty table; the clock, ids and Stripe pinned), so
        # a replay of its steps reaches the same payouts and the same preconditions hold: Hypothesis can
        # replay and shrink what it found.
        wipe_table()
        self.api, self.stripe = api, pinned.reset()
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
        self.seen: list[PayoutItem] = []  # the payouts as of the last check
        self.sent, self.handed = 0, False  # copies of bank events sent; anything handed over yet

    @initialize(start=st.sampled_from(["empty", "paid out", "sent back"]))
    def start_from(self, start: str) -> None:
        """Some examples start with an order paid out to both shops, the bakery's bank payout maybe sent
        back (its money on the shop's Stripe balance: what a clawback can take)."""
        if start != "empty":
            self.checkout_and_pay((3, 2, 1), now=True)
            bank = process_shop(self.ids["bakery"], available_by=later()).payouts[0].bank_payout_id
            process_shop(self.ids["butcher"], available_by=later())
            if start == "sent back":
                assert send(self.api, "POST", f"/dev/connect/payouts/{bank}/returned")[0] == 200

    @precondition(lambda self: len(self.orders) < 5)
    @rule(units=UNITS, now=st.booleans())
    def checkout_and_pay(self, units: tuple[int, int, int], now: bool) -> None:
        """Bread and cake (bakery), steak (butcher), paid; with ``now`` all handed over at once."""
        bread, cake, steak = units
        placed = place(self.api, self.mall, bread=bread, cake=cake, steak=steak)
        order = Order(placed, id=placed["order_id"])
        order.waiting = ["bakery"] * bool(bread or cake) + ["butcher"] * bool(steak)
        order.shops = tuple(order.waiting)
        self.orders.append(order)
        for shop in list(order.waiting) if now else []:
            self.hand_over_part(order, shop)

    def hand_over_part(self, order: Order, shop: str) -> None:
        (collect if shop == "bakery" else deliver_steak)(self.api, self.mall, order.placed)
        order.waiting.remove(shop)
        self.handed = True

    @precondition(lambda self: any(o.waiting for o in self.orders))
    @rule(pick=st.integers(0, 9))
    def hand_over(self, pick: int) -> None:
        parts = [(o, shop) for o in self.orders for shop in o.waiting]
        self.hand_over_part(*parts[pick % len(parts)])

    def sub(self, order: Order, shop: str) -> SubOrderItem:
        return SubOrderItem.get(*SubOrderItem.key_for(order.id, self.ids[shop]), consistent_read=True)

    @precondition(lambda self: any(o.shops and o.dispute not in ("open", "lost") for o in self.orders))
    @rule(pick=st.integers(0, 9), part=st.none() | st.tuples(st.integers(0, 1), st.integers(1, 3)))
    def refund(self, pick: int, part: tuple[int, int] | None) -> None:
        """Some units of a line, or all that is left (None), before or after the hand-over or a payout.
        Stripe refuses to refund a disputed charge."""
        parts = [(o, s) for o in self.orders if o.dispute not in ("open", "lost") for s in o.shops]
        order, shop = parts[pick % len(parts)]
        sub, lines = self.sub(order, shop), None
        if part is not None:
            line = sub.lines[part[0] % len(sub.lines)]
            left = int(line["quantity"]) - int((sub.refunded or {}).get(line["variant_id"], 0))
            lines = [{"variant_id": line["variant_id"], "quantity": min(part[1], left)}] if left else None
        body = {"lines": lines, "reason": "returned"}
        status, refund = self.api.call("POST", f"/retailer/orders/{order.id}/refunds", body, self.keys[shop])
        assert (status, refund["status"]) == (201, "succeeded"), refund
        if self.sub(order, shop).status in ("refunded", "cancelled"):
            order.shops = tuple(s for s in order.shops if s != shop)
            order.waiting = [s for s in order.waiting if s != shop]

    @precondition(lambda self: any(o.dispute is None for o in self.orders))
    @rule(pick=st.integers(0, 9), percent=st.sampled_from([100, 40, 5]), twice=st.booleans())
    def open_dispute(self, pick: int, percent: int, twice: bool) -> None:
        undisputed = [o for o in self.orders if o.dispute is None]
        order = undisputed[pick % len(undisputed)]
        order.dispute, order.disputed_cents = "open", int(order.placed["total_cents"]) * percent // 100
        for outcome in ("held", "duplicate")[: 1 + twice]:
            assert self.dispute_event(order, "created", "needs_response") == outcome

    @precondition(lambda self: any(o.dispute == "open" for o in self.orders))
    @rule(pick=st.integers(0, 9), lost=st.booleans(), again=st.sampled_from(["", "created", "closed"]))
    def close_dispute(self, pick: int, lost: bool, again: str) -> None:
        """Won or lost; then maybe a copy of its opening or its closing event (a duplicate)."""
        disputed = [o for o in self.orders if o.dispute == "open"]
        order = disputed[pick % len(disputed)]
        order.dispute = "lost" if lost else "won"
        assert self.dispute_event(order, "closed", order.dispute) == order.dispute
        if again:
            status = order.dispute if again == "closed" else "needs_response"
            assert self.dispute_event(order, again, status) == "duplicate"

    def dispute_event(self, order: Order, kind: str, status: str) -> str:
        obj = {"id": f"dp_{order.id}", "object": "dispute", "amount": order.disputed_cents, "status": status}
        obj |= {"payment_intent": order.placed["payment_intent_id"], "reason": "fraudulent"}
        code, ack = platform_event(self.api, f"charge.dispute.{kind}", obj, f"evt_{kind}_{order.id}")
        assert code == 200, ack
        return str(ack["outcome"])

    @precondition(lambda self: self.handed)
    @rule(shop=st.sampled_from((None, *SHOPS)), who=st.sampled_from(["schedule", "operator"]))
    def pay(self, shop: str | None, who: str) -> None:
        """The sweep via the API 8 days on (shop None), or the worker for one shop past the hold. A provider
        failure (502) or a payout in progress (409) is fine: the queue would retry."""
        if shop is None:
            status, result = send(self.api, "POST", "/dev/payouts/run?days_ahead=8")
            assert status in (200, 409, 502), result
            return
        with suppress(DomainError):
            process_shop(self.ids[shop], who, available_by=later())

    @rule(method=st.sampled_from(METHODS), fault=FAULTS, shop=st.sampled_from((None, *SHOPS)))
    def stripe_fails(self, method: str, fault: str, shop: str | None) -> None:
        """Stripe's next answer to ``method`` is a failure (the run now, or a later one, meets it)."""
        if len(self.stripe.faults.get(method, [])) < 2:
            self.stripe.fail(method, fault)
        self.pay(shop, "schedule")

    def at_bank(self, *statuses: str) -> list[PayoutItem]:
        return [p for p in self.seen if p.bank_payout_id and p.status in statuses]

    @precondition(lambda self: self.at_bank(po.IN_TRANSIT, po.PAID))
    @rule(pick=st.integers(0, 9), paid=st.booleans())
    def bank_answers(self, pick: int, paid: bool) -> None:
        """Paid, or sent back (after it was paid too: payout.failed after payout.paid)."""
        waiting = self.at_bank(po.IN_TRANSIT) if paid else self.at_bank(po.IN_TRANSIT, po.PAID)
        if waiting:
            bank, answer = waiting[pick % len(waiting)].bank_payout_id, "paid" if paid else "returned"
            status, ack = send(self.api, "POST", f"/dev/connect/payouts/{bank}/{answer}")
            assert (status, ack["outcome"]) == (200, answer), ack

    @precondition(lambda self: self.at_bank(po.IN_TRANSIT, po.PAID, po.RETURNED))
    @rule(pick=st.integers(0, 9), kind=st.sampled_from(["payout.paid", "payout.failed"]))
    def bank_event_twice(self, pick: int, kind: str) -> None:
        """A copy of a bank event, maybe late or out of order, delivered twice: Stripe is read again."""
        known = self.at_bank(po.IN_TRANSIT, po.PAID, po.RETURNED)
        payout = known[pick % len(known)]
        obj = {"id": payout.bank_payout_id, "metadata": {"payout_id": payout.payout_id}}
        self.sent += 1
        account, event_id = str(payout.destination), f"evt_copy_{self.sent}"
        assert connect_event(self.api, kind, account, obj, event_id)[0] == 200
        assert connect_event(self.api, kind, account, obj, event_id)[1]["outcome"] == "duplicate"

    @invariant()
    def books_balance(self) -> None:
        self.check_all()

    def check_all(self) -> tuple[dict[type, list[Any]], dict[str, tuple[int, int, int]]]:
        of: dict[type, list[Any]] = defaultdict(list)
        for item in books():
            of[type(item)].append(item)
        self.seen, sim = of[PayoutItem], {o.pk: o for o in of[SimulatedObject]}
        self.check_orders(of[LedgerEntryItem], {i.pk: i for i in of[SimulatedIntent]})
        return of, {shop: self.check_shop(shop, acct, of, sim) for shop, acct in self.accounts.items()}

    def check_shop(self, shop_id: str, account_id: str, of: Any, sim: dict[str, Any]) -> tuple[int, int, int]:
        """Returns (money moved, earnings net of clawbacks, unsettled)."""
        entries = {e.sk: e for e in of[LedgerEntryItem] if e.shop_id == shop_id}
        mine = {p.payout_id: p for p in of[PayoutItem] if p.shop_id == shop_id}
        account = next(a for a in of[PayoutAccountItem] if a.shop_id == shop_id)
        total = cents(entries.values())  # L
        unsettled = cents(e for e in entries.values() if e.payout_id is None)  # U
        clawbacks = {e.source_id: int(e.amount_cents) for e in entries.values() if e.entry_type == "clawback"}
        # Every entry in at most one live payout, whose amount is its entries'; the unsettled index agrees.
        claimed_by: dict[str, str] = {}
        for p in mine.values():
            assert p.status in po.PAYOUT_STATUSES, p.status
            assert int(p.amount_cents) == cents(entries[sk] for sk in p.entry_sks), p.payout_id
            assert (p.status == po.NETTED) == (int(p.amount_cents) == 0), (p.payout_id, p.status)
            for sk in p.entry_sks:
                if p.status == po.FAILED:  # refused: its entries were released
                    assert entries[sk].payout_id != p.payout_id, (p.payout_id, sk)
                else:
                    assert claimed_by.setdefault(sk, p.payout_id) == p.payout_id, ("claimed twice", sk)
                    assert entries[sk].payout_id == p.payout_id, (p.payout_id, sk)
        assert {sk for sk, e in entries.items() if e.payout_id} == set(claimed_by)
        for e in entries.values():
            assert (e.gsi1pk == UNSETTLED.format(shop=shop_id)) == (e.payout_id is None), e.sk
        # Stripe: at most one transfer per payout, of its amount, never for a failed or netted one.
        made = objects(sim, "transfer", "destination", account_id)
        transfers = {t.data["metadata"]["payout_id"]: t for t in made}
        assert len(transfers) == len(made), "a payout transferred twice"
        for pid, t in transfers.items():
            assert pid in mine and mine[pid].status not in (po.FAILED, po.NETTED), (pid, mine.get(pid))
            assert int(t.data["amount"]) == int(mine[pid].amount_cents), pid
        for p in mine.values():
            if p.status not in (po.CLAIMED, po.FAILED, po.NETTED):
                assert transfers[p.payout_id].object_id == p.transfer_id, p.payout_id
        moved = sum(int(t.data["amount"]) - int(t.amount_reversed or 0) for t in made)  # M
        waiting = [p for p in mine.values() if p.status == po.CLAIMED and p.payout_id not in transfers]
        untransferred = cents(waiting)  # K
        # Reversals: one clawback entry of its amount per reversal that succeeded; Stripe made none of the
        # refused ones; a pending one it may have made (the answer was lost).
        reversals = [r for r in of[ReversalItem] if r.shop_id == shop_id]
        # Known by payout and number, as Stripe's key knows it: the sort key alone (REVERSAL#0001) repeats
        # in every payout reversed, so two payouts' first reversals would read each other's answer.
        at_stripe = {(r.pk, r.sk): f"SIMKEY#reversal:{r.payout_id}:{int(r.seq)}" in sim for r in reversals}
        ok = [r for r in reversals if r.status == "succeeded"]
        done = {f"{r.payout_id}:{int(r.seq)}": int(r.amount_cents) for r in ok}
        assert clawbacks == done, (clawbacks, done)
        for r in reversals:
            assert r.status == "pending" or at_stripe[r.pk, r.sk] == (r.status == "succeeded"), (r.pk, r.sk)
        lost = cents(r for r in reversals if r.status == "pending" and at_stripe[r.pk, r.sk])  # P
        assert sum(int(t.amount_reversed or 0) for t in made) == sum(done.values()) + lost
        for pid, p in mine.items():  # what its reversals took, or are taking
            taking = cents(r for r in reversals if r.payout_id == pid and r.status != po.FAILED)
            assert int(p.reversed_cents or 0) == taking, pid
        # The identity; so never more than the earnings net of commission, refunds, lost disputes and
        # clawbacks, beyond the debts the mall tracks (a negative unsettled balance).
        earnings = total - sum(clawbacks.values())
        assert moved + untransferred + unsettled + lost == earnings, (moved, untransferred, unsettled, lost)
        assert moved + untransferred <= earnings + max(0, -unsettled), (moved, earnings, unsettled)
        # The mall's counters and guards agree with its payouts and its ledger.
        back = {pid: cents(r for r in ok if r.payout_id == pid) for pid in mine}
        kept = sum(int(p.amount_cents) - back[pid] for pid, p in mine.items() if p.status in MOVING)
        in_transit, paid_out = int(account.in_transit_cents or 0), int(account.paid_out_cents or 0)
        assert paid_out == sum(p.net_cents for p in mine.values() if p.status == po.PAID), paid_out
        assert in_transit == kept, (in_transit, kept)
        assert in_transit + paid_out == total - unsettled - sum(done.values())
        open_ids = {p.payout_id for p in mine.values() if p.status in (po.CLAIMED, po.TRANSFERRED)}
        assert open_ids == {account.open_payout_id} - {None}, (open_ids, account.open_payout_id)
        returned = {p.payout_id for p in mine.values() if p.status == po.RETURNED}
        assert set(account.returned_payout_ids or ()) == returned
        pending = {f"{r.payout_id}#{int(r.seq)}" for r in reversals if r.status == "pending"}
        assert pending == {account.open_reversal} - {None}, (pending, account.open_reversal)
        # Stripe's own books: the shop's balance is what reached it less what left for its bank.
        banks = {o.object_id: o for o in objects(sim, "payout", "account", account_id)}
        out = sum(int(b.data["amount"]) for b in banks.values() if b.status != "failed")
        assert SimulatedGateway().balance(account_id) == moved - out, (moved, out)
        for p in mine.values():
            if p.status in (po.IN_TRANSIT, po.PAID, po.RETURNED):
                bank = banks[p.bank_payout_id]
                assert bank.status == AT_THE_BANK[p.status], (p.payout_id, bank.status)
                assert p.status == po.RETURNED or int(bank.data["amount"]) == p.net_cents, p.payout_id
        return moved, earnings, unsettled

    def check_orders(self, ledger: list[LedgerEntryItem], intents: dict[str, Any]) -> None:
        """Per order, all shops: its entries plus what a lost dispute took back never exceed what the
        customer paid less refunds; its settled entries never exceed that beyond what it owes back."""
        for order in self.orders:
            intent = intents[f"SIMPI#{order.placed['payment_intent_id']}"]
            kept = int(intent.amount) - int(intent.refunded_amount or 0)
            mine = [e for e in ledger if e.order_id == order.id]
            lost = -cents(e for e in mine if e.entry_type == "dispute")
            assert 0 <= lost <= (order.disputed_cents if order.dispute == "lost" else 0), (order.id, lost)
            settled = cents(e for e in mine if e.payout_id)
            unsettled = cents(e for e in mine if not e.payout_id)
            assert settled + unsettled + lost <= kept, (order.id, settled, unsettled, lost, kept)
            assert settled <= kept + max(0, -unsettled), (order.id, settled, unsettled, kept)

    def teardown(self) -> None:
        if sys.exc_info()[0] is not None:
            return  # a step or its check failed (or hypothesis stopped it): that is what to report
        self.stripe.faults.clear()
        for order in [o for o in self.orders if o.dispute == "open"]:
            order.dispute = "won"
            assert self.dispute_event(order, "closed", "won") == "won"
        for _ in range(6):
            before = self.snapshot()
            for shop_id in self.accounts:
                process_shop(shop_id, "operator", available_by=later())
            if self.snapshot() == before:
                break
        else:
            raise AssertionError("the worker never settles")
        of, shops = self.check_all()
        for shop_id, (moved, earnings, unsettled) in shops.items():
            account = next(a for a in of[PayoutAccountItem] if a.shop_id == shop_id)
            assert not (account.open_payout_id or account.open_reversal or account.held_orders), shop_id
            mine = [p for p in self.seen if p.shop_id == shop_id]
            assert all(p.status not in (po.CLAIMED, po.TRANSFERRED) for p in mine), [p.status for p in mine]
            if unsettled >= 0:  # no debt: all it earned was moved, but for dust below the minimum payout
                assert unsettled < MINIMUM_PAYOUT_CENTS, (shop_id, unsettled)
                assert moved == earnings - unsettled, (shop_id, moved, earnings, unsettled)
            else:  # a debt: exactly what was moved beyond its earnings, with nothing left to claw back
                assert moved - earnings == -unsettled, (shop_id, moved, earnings, unsettled)
                assert not [p for p in mine if p.status in (po.TRANSFERRED, po.RETURNED) and p.net_cents > 0]

    def snapshot(self) -> list[tuple[str, str, str]]:
        return sorted((str(i.pk), str(i.sk), str(getattr(i, "status", ""))) for i in books())


def test_the_books_and_stripe_agree_to_the_cent_whatever_happens(api: Any, monkeypatch: Any) -> None:
    pinned = Pinned(monkeypatch)
    stateful.run_state_machine_as_test(lambda: PayoutMachine(api, pinned), settings=SETTINGS)
